import { afterAll } from "vitest";
import { describeStreams } from "../core/stream-suite.ts";
import { removeTempDirs } from "./helpers.ts";
import { zmqLink } from "./link.ts";

afterAll(removeTempDirs);

for (const [engine, protocol] of [["zmtp", "tcp"], ["zmtp", "ipc"], ["native", "tcp"]] as const) {
  describeStreams(`ZeroMQ ${protocol} (${engine} engine)`, zmqLink(engine, protocol));
}
