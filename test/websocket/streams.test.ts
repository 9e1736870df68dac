import { describeStreams } from "../core/stream-suite.ts";
import { websocketLink } from "./link.ts";

describeStreams("WebSocket", websocketLink);
