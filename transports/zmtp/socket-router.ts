/**
 * ROUTER: each received message is prefixed with the sending peer's routing id; `send` routes
 * by the first frame. An unknown id or a peer at its high-water mark drops the message, as
 * libzmq's ROUTER does by default (counted in `droppedMessages`).
 *
 * Byte budgets (beyond libzmq, which counts messages only): a peer that does not read is
 * disconnected when a reply would take its queued bytes past `maxQueuedBytesPerPeer`, or when
 * the socket's queued bytes are past `maxQueuedBytes` and the peer holds at least its fair share
 * of them (counted in `disconnectedSlowReaders`; the reply is dropped). A peer with nothing
 * queued always gets its message, so one large reply never costs a reading peer its connection.
 *
 * `notify` (libzmq's ZMQ_ROUTER_NOTIFY with connect and disconnect): a `[routingId, <empty>]`
 * message is received when a peer completes its handshake and again when it is gone. So that
 * a notification cannot be forged, an empty one-frame message from a peer is then dropped
 * (counted in `droppedIncoming`); libzmq delivers those, so there the two look the same.
 */
import type { Connection } from "./connection.ts";
import { closedError, limitOr, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey } from "./subscriptions.ts";

export interface RouterOptions extends SocketOptions {
  /** Receive `[routingId, <empty>]` when a peer connects and when it is gone. Default false. */
  notify?: boolean;
  /** Reply bytes queued for one peer; past it the peer is disconnected. Default: no limit. */
  maxQueuedBytesPerPeer?: number;
  /** Reply bytes queued for all peers; past it a peer holding its fair share or more is disconnected. Default: no limit. */
  maxQueuedBytes?: number;
}

export class Router extends ZmtpSocket {
  readonly #byId = new Map<string, Connection>();
  readonly #ids = new WeakMap<Connection, Uint8Array>();
  /** libzmq starts generated ids at a random 32-bit number and prefixes a zero byte. */
  #nextId = Math.floor(Math.random() * 0xffff_ffff);
  readonly #notify: boolean;
  readonly #maxQueuedPerPeer: number;
  readonly #maxQueued: number;
  /** Messages given to `send` and not sent: unknown peer, high-water mark, or a slow reader's. */
  droppedMessages = 0;
  /** Peers disconnected because their unread replies exceeded a byte budget. */
  disconnectedSlowReaders = 0;
  /** Messages from peers dropped on receipt (empty one-frame messages while `notify` is on). */
  droppedIncoming = 0;

  constructor(options: RouterOptions = {}) {
    super("ROUTER", options);
    this.#notify = options.notify ?? false;
    this.#maxQueuedPerPeer = limitOr("maxQueuedBytesPerPeer", options.maxQueuedBytesPerPeer);
    this.#maxQueued = limitOr("maxQueuedBytes", options.maxQueuedBytes);
  }

  send(message: MessageLike): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const frames = toFrames(message);
    const peer = this.#byId.get(bytesToKey(frames[0]!));
    if (!peer || frames.length < 2 || peer.pendingWrites >= this.sendHighWaterMark) {
      this.droppedMessages++;
      return Promise.resolve();
    }
    const queued = peer.queuedBytes;
    if (queued > 0 && this.#overBudget(queued, frames)) {
      this.droppedMessages++;
      this.disconnectedSlowReaders++;
      this.log(`${peer.address}: ${queued} reply bytes not read, peer disconnected (reply byte budget)`);
      peer.close(0);
      return Promise.resolve();
    }
    peer.send(frames.slice(1));
    return Promise.resolve();
  }

  /** Would these frames take a peer that already has `queued` bytes waiting past a budget? */
  #overBudget(queued: number, frames: Uint8Array[]): boolean {
    let size = 0;
    for (let i = 1; i < frames.length; i++) size += frames[i]!.length;
    if (queued + size > this.#maxQueuedPerPeer) return true;
    // Over the socket's budget: the peers holding at least their fair share make room.
    return this.budget.queuedBytes + size > this.#maxQueued && queued * this.peers.size >= this.#maxQueued;
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
    if (this.#notify) this.deliver(undefined, [id.slice(), new Uint8Array(0)]);
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
    if (this.#notify && frames.length === 1 && frames[0]!.length === 0) {
      this.droppedIncoming++;
      return;
    }
    frames.unshift(id.slice());
    this.deliver(connection, frames);
  }

  protected override onPeerGone(connection: Connection): void {
    if (this.#byId.get(connection.routingKey) === connection) this.#byId.delete(connection.routingKey);
    // At close the application has stopped reading: nothing to tell.
    const id = this.#ids.get(connection);
    if (this.#notify && id && !this.closed) this.deliver(undefined, [id.slice(), new Uint8Array(0)]);
  }
}
