/**
 * ZeroMQ without a native addon: ZMTP 3.1 over `node:net` (Node and Deno). The API is a
 * subset of zeromq.js v6 (Dealer, Router, Publisher, Subscriber; bind/connect/send/receive,
 * async iteration, `events`), so code can swap engines with a small adapter.
 */
export { Dealer } from "./socket-dealer.ts";
export { Router, type RouterOptions } from "./socket-router.ts";
export { CONFLATE_ABOVE_BYTES, Publisher, type PublisherOptions, type PublishSendOptions } from "./socket-publisher.ts";
export { Subscriber } from "./socket-subscriber.ts";
export type { MessageLike, SocketOptions, ZmtpSocket } from "./socket-base.ts";
export type { SocketEvent, SocketEventType, SocketEvents } from "./events.ts";
