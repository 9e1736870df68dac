/**
 * VeighNa's RPC wire (vnpy.rpc): serve any RpcServer to VeighNa's unchanged RpcClient and
 * RpcGateway (`vnpyServer`, usually beside tradewire's own wire with `fanInServer`), reach a
 * VeighNa RpcServer from tradewire's RpcClient and RpcGateway (`vnpyClient`), read and
 * write the pickles it carries with our own restricted reader, and map VeighNa's names and enums.
 */
export { VnpyServerTransport, type VnpyServerOptions } from "./server.ts";
export { VnpyClientTransport, type VnpyClientOptions } from "./client.ts";
export { fanInServer } from "./fan-in.ts";
export { readPickle, PickleRefused, DEFAULT_PICKLE_LIMITS, type PickleLimits } from "./pickle-reader.ts";
export { writePickle } from "./pickle-writer.ts";
export { fromVnpy, toVnpy, toCamel, toSnake, classOf, VNPY_FIELDS, type ModelOptions, type Plain } from "./model.ts";
export { VNPY_ENUM_VALUES, toMemberName, enumMemberByValue } from "./enums.ts";

import { VnpyClientTransport, type VnpyClientOptions } from "./client.ts";
import { VnpyServerTransport, type VnpyServerOptions } from "./server.ts";

/** A server transport on VeighNa's wire: ROUTER (for REQ clients) at `rep`, PUB at `pub`. */
export function vnpyServer(options: VnpyServerOptions): VnpyServerTransport {
  return new VnpyServerTransport(options);
}

/** A client transport to a VeighNa RpcServer: DEALER (standing in for REQ) to `req`, SUB to `sub`. */
export function vnpyClient(options: VnpyClientOptions): VnpyClientTransport {
  return new VnpyClientTransport(options);
}
