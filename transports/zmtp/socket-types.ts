/** ZMTP socket types and which peers each may talk to (23/ZMTP "Socket type compatibility"). */

export type SocketType = "DEALER" | "ROUTER" | "PUB" | "SUB";

const COMPATIBLE: Record<SocketType, readonly string[]> = {
  DEALER: ["ROUTER", "DEALER", "REP"],
  ROUTER: ["DEALER", "REQ", "ROUTER"],
  PUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
};

const BROADCAST_TYPES = new Set(["PUB", "XPUB", "SUB", "XSUB"]);

/** Undefined if `ours` may talk to `peer`, else the reason, with a hint for the usual mistake. */
export function incompatibilityReason(ours: SocketType, peer: string): string | undefined {
  const expected = COMPATIBLE[ours];
  if (expected.includes(peer)) return undefined;
  const list = expected.length > 1 ? `${expected.slice(0, -1).join(", ")} or ${expected.at(-1)}` : expected[0];
  const swapped = BROADCAST_TYPES.has(peer) !== BROADCAST_TYPES.has(ours);
  const hint = swapped ? ": are the request and broadcast addresses swapped?" : "";
  return `peer is a ${peer || "(unnamed)"} socket, expected ${list}${hint}`;
}

/** Socket types that carry an Identity property in READY (libzmq sends it for these). */
export function sendsIdentity(type: SocketType): boolean {
  return type === "DEALER" || type === "ROUTER";
}
