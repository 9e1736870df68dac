/**
 * libzmq removes an existing ipc socket file before binding, so a second server on the same
 * ipc path would silently steal it from a running one. Probe first: if something accepts a
 * connection on the path, the address is in use; a stale file (connection refused) is fine.
 */
import { connect } from "node:net";
import { existsSync } from "node:fs";

export async function assertIpcFree(address: string): Promise<void> {
  if (!address.startsWith("ipc://")) return;
  const path = address.slice("ipc://".length);
  if (path.startsWith("@") || !existsSync(path)) return;
  const inUse = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (inUse) throw Object.assign(new Error(`Address already in use: ${address}`), { code: "EADDRINUSE" });
}
