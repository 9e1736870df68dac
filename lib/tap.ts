import { msgpackCodec, type Codec } from "./codec.ts";
import { intercept, type AnyTransport, type Channel, type Direction } from "./intercept.ts";
import { errorMessage, type RpcCode } from "./errors.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import type { PeerId } from "./transport.ts";
import { fromArray } from "./wire.ts";
import { messageOf } from "./data-frame.ts";

/** One frame as the wire tap reports it. */
export interface TapFrame {
  direction: Direction;
  channel: Channel;
  kind: "request" | "cancel" | "credit" | "result" | "item" | "end" | "error" | "event" | "heartbeat" | "malformed";
  /** Correlates a request with its result or error. */
  id?: number;
  /** Function name (requests). */
  name?: string;
  /** Broadcast topic. */
  topic?: string;
  /** Error code (errors). */
  code?: RpcCode;
  peer?: PeerId;
  /** Frame size; for a frame carried as data (MessagePort), the estimate of lib/data-frame.ts. */
  bytes: number;
  /** Milliseconds since the epoch. */
  time: number;
  /** The decoded payload: arguments, result value, error message or event data. */
  payload?: unknown;
}

export interface TapOptions {
  /** Must match the codec of the server and client. Default MessagePack. */
  codec?: Codec;
  /** Where a throwing `onFrame` is reported. Default the console. */
  logger?: Logger;
}

/** Report every frame passing through `transport`, both ways, then pass it on unchanged. */
export function tap<T extends AnyTransport>(transport: T, onFrame: (frame: TapFrame) => void, options: TapOptions = {}): T {
  const codec = options.codec ?? msgpackCodec();
  return intercept(transport, (event, forward) => {
    const report: TapFrame = { direction: event.direction, channel: event.channel, kind: "malformed", bytes: event.frame.byteLength, time: Date.now() };
    if (event.topic !== undefined) report.topic = event.topic;
    if (event.peer !== undefined) report.peer = event.peer;
    try {
      const message = fromArray(messageOf(event.frame, codec));
      report.kind = message.kind;
      if ("id" in message) report.id = message.id;
      if (message.kind === "request") Object.assign(report, { name: message.name, payload: message.args });
      else if (message.kind === "result" || message.kind === "item") report.payload = message.value;
      else if (message.kind === "error") Object.assign(report, { code: message.code, payload: message.message });
      else if (message.kind === "event") report.payload = message.data;
    } catch {
      // reported as "malformed"; the receiving side decides what to do with it
    }
    try {
      onFrame(report);
    } catch (error) {
      // An observer's bug must not change what happens on the wire.
      (options.logger ?? consoleLogger).error(`Wire tap callback threw: ${errorMessage(error)}`, error);
    }
    forward();
  });
}
