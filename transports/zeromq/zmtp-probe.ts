/**
 * When a connection closes during the ZMTP handshake, libzmq says nothing about why. To tell the
 * user what is wrong (addresses swapped, CURVE required, wrong key), we open one plain socket to
 * the same address, send a NULL-mechanism greeting and read the peer's greeting and READY
 * command: the greeting names its security mechanism, READY its socket type. Used only on
 * failure; reads at most a few hundred bytes and never acts on them beyond this description.
 */
import { connect, type Socket } from "node:net";
import { decodeProperties, encodeGreeting } from "../zmtp/greeting.ts";

export interface PeerDescription {
  /** Whether the peer sent anything at all (false: refused, silent, or gone). */
  answered: boolean;
  /** "NULL", "PLAIN", "CURVE"…, or undefined when the peer did not send a ZMTP greeting. */
  mechanism: string | undefined;
  /** "ROUTER", "PUB"…, when the peer sent a NULL-mechanism READY. */
  socketType: string | undefined;
}

const MAX_READ = 512;

function socketTo(address: string): Socket | undefined {
  if (address.startsWith("ipc://")) {
    const path = address.slice(6);
    return connect(path.startsWith("@") ? `\0${path.slice(1)}` : path);
  }
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(address);
  if (!match) return undefined;
  const host = match[1]!.replace(/^\[(.*)\]$/, "$1");
  return connect({ host: host === "*" ? "127.0.0.1" : host, port: Number(match[2]) });
}

/** Parse a greeting and, if present, a READY command; undefined fields for what is missing. */
export function describeGreeting(data: Uint8Array): PeerDescription {
  const answered = data.length > 0;
  if (data.length < 64 || data[0] !== 0xff || data[9] !== 0x7f) return { answered, mechanism: undefined, socketType: undefined };
  const mechanism = new TextDecoder().decode(data.subarray(12, 32)).replace(/\0+$/, "");
  let socketType: string | undefined;
  let at = 64;
  if (data.length >= at + 2 && (data[at]! & 0x04) !== 0) {
    const long = (data[at]! & 0x02) !== 0;
    if (long && data.length < at + 9) return { answered, mechanism, socketType }; // size not all here yet
    const size = long ? Number(new DataView(data.buffer, data.byteOffset + at + 1, 8).getBigUint64(0)) : data[at + 1]!;
    at += long ? 9 : 2;
    const end = Math.min(data.length, at + size);
    const nameLength = data[at] ?? 0;
    const name = new TextDecoder().decode(data.subarray(at + 1, at + 1 + nameLength));
    at += 1 + nameLength;
    if (name === "READY") {
      try {
        const value = decodeProperties(data.subarray(at, end)).get("socket-type");
        if (value) socketType = new TextDecoder().decode(value);
      } catch {
        // cut short or malformed: the socket type stays unknown
      }
    }
  }
  return { answered, mechanism, socketType };
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const data = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return data;
}

/** Read what the peer at `address` says about itself, within `timeoutMs`. */
export function probePeer(address: string, timeoutMs = 1_000): Promise<PeerDescription> {
  return new Promise((resolve) => {
    const socket = socketTo(address);
    if (socket === undefined) return resolve({ answered: false, mechanism: undefined, socketType: undefined });
    const chunks: Uint8Array[] = [];
    let length = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(describeGreeting(concat(chunks, length)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.setNoDelay(true);
    // Like libzmq: signature and major version first, the rest once the peer's greeting is in.
    // (Sent whole at once, a mechanism mismatch makes libzmq close before its greeting is out.)
    const ours = encodeGreeting();
    let sentRest = false;
    socket.on("connect", () => socket.write(ours.subarray(0, 11)));
    socket.on("data", (chunk: Uint8Array) => {
      if (!sentRest && length + chunk.length >= 64) {
        sentRest = true;
        socket.write(ours.subarray(11));
      }
      chunks.push(chunk.subarray(0, Math.max(0, MAX_READ - length)));
      length = Math.min(MAX_READ, length + chunk.length);
      let partial: PeerDescription;
      try {
        partial = describeGreeting(concat(chunks, length));
      } catch {
        return finish(); // whatever the peer sent, it must not take this process down
      }
      if (length >= MAX_READ || partial.socketType !== undefined || (partial.mechanism !== undefined && partial.mechanism !== "NULL")) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
  });
}
