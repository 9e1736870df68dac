// Compiled with tsc against the installed package's declarations (no @types/node, no
// skipLibCheck): every entry point's types resolve, and the typed surface still catches mistakes.
import { RpcClient, RpcError, RpcServer, withFaults, type CallContext, type RpcCode } from "tradewire";
import { memoryPair } from "tradewire/memory";
import { messagePortClient } from "tradewire/message-port";
import { workerClient } from "tradewire/worker";
import { websocketClient } from "tradewire/websocket";
import { zmqClient, type ZmqClientOptions } from "tradewire/zeromq";
import { Direction, OrderRequestSchema, type OrderRequest } from "tradewire/sim";

const [serverSide, clientSide] = memoryPair();
const server = new RpcServer({ transport: serverSide });
server.register("add", (a: number, b: number, ctx: CallContext) => (ctx.signal.aborted ? 0 : a + b));
const client = new RpcClient({ transport: withFaults(clientSide, { latencyMs: 1 }) });
const api = client.proxy<{ add(a: number, b: number): number }>();
export const sum: Promise<number> = api.add(1, 2);
// @ts-expect-error: add takes numbers
void api.add("1", 2);

const code: RpcCode = new RpcError("NOT_FOUND", "No such function").code;
// @ts-expect-error: not a code
export const wrong: RpcCode = "NOPE";

const order: OrderRequest = { symbol: "IF2512", exchange: "CFFEX", direction: Direction.LONG, type: "LIMIT", price: 4000.2, volume: 1 };
// @ts-expect-error: not a direction
export const bad: OrderRequest = { ...order, direction: "UP" };
export const validated: Promise<unknown> = Promise.resolve(OrderRequestSchema["~standard"].validate(order));

const options: ZmqClientOptions = { req: "tcp://127.0.0.1:2014", sub: "tcp://127.0.0.1:4102" };
export const transports: unknown[] = [zmqClient(options), websocketClient("ws://127.0.0.1:8080"), messagePortClient, workerClient, code];
