/** Parse `tcp://host:port` and `ipc:///path` addresses into `node:net` options. */

export type Endpoint =
  | { kind: "tcp"; host: string; port: number; address: string }
  | { kind: "ipc"; path: string; address: string };

export function parseEndpoint(address: string): Endpoint {
  if (typeof address !== "string") throw new TypeError("Address must be a string");
  if (address.startsWith("ipc://")) {
    const rest = address.slice("ipc://".length);
    if (rest.length === 0) throw new TypeError(`Invalid ipc address: ${address}`);
    // `ipc://@name` is a Linux abstract socket, which node:net spells with a leading NUL. Node's
    // libuv pads the name to the full sun_path (libzmq does not), so only Deno reaches libzmq.
    if (rest.startsWith("@") && !("Deno" in globalThis)) {
      throw new TypeError(
        `Abstract ipc addresses (${address}) do not interoperate with libzmq under Node (it pads the name): use an ipc:// file path or Deno`,
      );
    }
    const path = rest.startsWith("@") ? `\0${rest.slice(1)}` : rest;
    return { kind: "ipc", path, address };
  }
  if (address.startsWith("tcp://")) {
    const rest = address.slice("tcp://".length);
    const colon = rest.lastIndexOf(":");
    if (colon <= 0) throw new TypeError(`Invalid tcp address (expected tcp://host:port): ${address}`);
    let host = rest.slice(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    if (host === "*") host = "0.0.0.0";
    const portText = rest.slice(colon + 1);
    const port = portText === "*" ? 0 : Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`Invalid tcp port in address: ${address}`);
    return { kind: "tcp", host, port, address };
  }
  throw new TypeError(`Unsupported address (use tcp:// or ipc://): ${address}`);
}

export function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}
