import { describeDelivery } from "./delivery-suite.ts";
import { memoryLink, messagePortLink } from "./links.ts";

describeDelivery("memory", memoryLink);
describeDelivery("MessagePort", messagePortLink);
