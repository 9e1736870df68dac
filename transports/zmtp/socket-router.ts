/**
 * ROUTER: each received message is prefixed with the sending peer's routing id; `send` routes
 * by the first frame. An unknown id or a peer at its high-water mark drops the message, as
 * libzmq's ROUTER does by default (counted in `droppedMessages`).
 */
import type { Connection } from "./connection.ts";
import { closedError, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey } from "./subscriptions.ts";

export class Router extends ZmtpSocket {
  readonly #byId = new Map<string, Connection>();
  readonly #ids = new WeakMap<Connection, Uint8Array>();
  /** libzmq starts generated ids at a random 32-bit number and prefixes a zero byte. */
  #nextId = Math.floor(Math.random() * 0xffff_ffff);
  droppedMessages = 0;

  constructor(options: SocketOptions = {}) {
    super("ROUTER", options);
  }

  send(message: MessageLike): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const frames = toFrames(message);
    const peer = this.#byId.get(bytesToKey(frames[0]!));
    if (!peer || frames.length < 2 || peer.pendingWrites >= this.sendHighWaterMark) {
      this.droppedMessages++;
      return Promise.resolve();
    }
    peer.send(frames.slice(1));
    return Promise.resolve();
  }

  protected override admitPeer(connection: Connection): string | undefined {
    const id = connection.peerIdentity;
    if (id.length > 0 && id[0] !== 0 && this.#byId.has(bytesToKey(id))) {
      return `duplicate routing id ${JSON.stringify(bytesToKey(id))}, peer rejected`;
    }
    return undefined;
  }

  protected override onPeerReady(connection: Connection): void {
    // An empty id, or one starting with a zero byte (reserved for generated ids), gets a new one.
    const announced = connection.peerIdentity;
    const id = announced.length > 0 && announced[0] !== 0 ? announced : this.#generateId();
    const key = bytesToKey(id);
    connection.routingKey = key;
    this.#byId.set(key, connection);
    this.#ids.set(connection, id);
  }

  #generateId(): Uint8Array {
    this.#nextId = (this.#nextId + 1) >>> 0;
    const id = new Uint8Array(5);
    new DataView(id.buffer).setUint32(1, this.#nextId);
    return id;
  }

  protected override onPeerMessage(connection: Connection, frames: Uint8Array[]): void {
    const id = this.#ids.get(connection);
    if (!id) return;
    frames.unshift(id.slice());
    this.deliver(connection, frames);
  }

  protected override onPeerGone(connection: Connection): void {
    if (this.#byId.get(connection.routingKey) === connection) this.#byId.delete(connection.routingKey);
  }
}
