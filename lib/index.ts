export {
  RpcServer,
  type CallContext,
  type Handler,
  type RegisterOptions,
  type RpcServerOptions,
  type PublishOptions,
  type RpcServerStats,
} from "./server.ts";
export type { Gap } from "./gap-detector.ts";
export { DEFAULT_BUDGETS, type Budgets } from "./budgets.ts";
export {
  defineService,
  method,
  topic,
  type ArgumentsSchema,
  type HandlerArgs,
  type Method,
  type ServiceDefinition,
  type Topic,
  type TopicData,
  type TopicPrefix,
} from "./service.ts";
export {
  RpcClient,
  type CallOptions,
  type ConnectionState,
  type CallResult,
  type Remote,
  type RemoteFunction,
  type StreamItem,
  type StreamOptions,
  type RpcClientOptions,
  type TopicHandler,
} from "./client.ts";
export { RpcError, RPC_CODES, isRpcCode, type RpcCode } from "./errors.ts";
export { jsonCodec, msgpackCodec, type Codec, type DecodeLimits } from "./codec.ts";
export { withFaults, type FaultControls, type FaultOptions } from "./faults.ts";
export { tap, type TapFrame, type TapOptions } from "./tap.ts";
export { intercept, type Channel, type Direction, type FrameEvent, type FrameFilter } from "./intercept.ts";
export { consoleLogger, type Logger } from "./logger.ts";
export { HEARTBEAT_TOPIC, WIRE_VERSION, type Meta } from "./wire.ts";
export type {
  ClientSink,
  ClientTransport,
  DataClientSink,
  DataClientTransport,
  DataServerSink,
  DataServerTransport,
  PeerId,
  ServerSink,
  ServerTransport,
} from "./transport.ts";
export { DataFrame, type Frame } from "./data-frame.ts";
