import { afterAll } from "vitest";
import { describeDelivery } from "../core/delivery-suite.ts";
import { removeTempDirs } from "./helpers.ts";
import { zmqLink } from "./link.ts";

afterAll(removeTempDirs);

for (const engine of ["zmtp", "native"] as const) describeDelivery(`ZeroMQ tcp (${engine} engine)`, zmqLink(engine, "tcp"));
