import { describeDelivery } from "../core/delivery-suite.ts";
import { websocketLink } from "./link.ts";

describeDelivery("WebSocket", websocketLink);
