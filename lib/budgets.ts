/**
 * Every default budget of a server in one place: what a server holds for its peers, per peer
 * and for the whole server, in bytes and counts. The core enforces the call budgets; each server
 * transport enforces the connection, queue and subscription budgets with these same defaults.
 * The README's "Limits and budgets" table lists them with what happens past each.
 *
 * The defaults keep a default server within a few hundred MiB whatever its peers do: every
 * per-peer budget is also capped for the whole server, so many peers cannot together do what
 * one may not.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_BUDGETS = {
  // --- calls (RpcServer) ---------------------------------------------------------------
  /** Largest frame accepted or sent. Decoding can take many times a frame's size. */
  maxMessageBytes: 4 * MiB,
  /** Calls one peer may have being handled; more are answered RESOURCE_EXHAUSTED. */
  maxInFlightPerPeer: 1_000,
  /** Request bytes one peer may have being handled; more are answered RESOURCE_EXHAUSTED. */
  maxInFlightBytesPerPeer: 16 * MiB,
  /** Calls being handled for all peers together. */
  maxInFlight: 10_000,
  /** Request bytes being handled for all peers together. */
  maxInFlightBytes: 64 * MiB,
  /** Arguments in one call; more are answered INVALID_ARGUMENT without running the handler. */
  maxArgs: 1_024,
  /** Nesting depth of arrays and maps in a call's arguments; deeper is INVALID_ARGUMENT. */
  maxDepth: 32,
  /** Log lines about one peer's bad frames per window; the rest are counted, not written. */
  logLinesPerPeer: 5,
  logWindowMs: 10_000,

  // --- connections and queues (server transports) ---------------------------------------
  /** Connections a server transport keeps open at once; more are refused. */
  maxConnections: 1_024,
  /** Connections from one network address (where the transport sees one); more are refused. */
  maxConnectionsPerAddress: 256,
  /** Reply bytes queued for one peer that is not reading; past it the peer is disconnected. */
  maxQueuedReplyBytesPerPeer: 8 * MiB,
  /** Reply bytes queued for all peers together; past it the peer being sent to is disconnected. */
  maxQueuedReplyBytes: 64 * MiB,
  /** Event bytes queued for one subscriber; past it that subscriber misses events (counted). */
  maxQueuedEventBytesPerSubscriber: 8 * MiB,
  /** Event bytes queued for all subscribers together; past it the slowest ones miss events (counted). */
  maxQueuedEventBytes: 64 * MiB,
  /**
   * Queued event bytes past which a subscriber is behind: its latest-value events (market data)
   * then replace the pending one of their topic instead of queueing (conflation).
   */
  conflateAboveBytes: 256 * KiB,
  /** Bytes of messages being received and not yet complete, for all connections together. */
  maxPartialBytes: 64 * MiB,
  /** A message must arrive whole within this time of its first byte; a peer that trickles is disconnected. */
  messageTimeoutMs: 30_000,
  /** Topic prefixes one subscriber may hold; more are refused. */
  maxSubscriptionsPerPeer: 1_000,
  /** Longest topic prefix, in UTF-8 bytes; longer ones are refused. */
  maxPrefixBytes: 1 * KiB,
} as const;

export type Budgets = typeof DEFAULT_BUDGETS;
