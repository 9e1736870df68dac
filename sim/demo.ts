/**
 * A ready-made simulated exchange for `tradewire serve`, the playground's WebWorker and examples:
 * IF2512.CFFEX, rb2601.SHFE and BTCUSDT.GLOBAL ticking on the given clock (real time by default),
 * one or more trading accounts, and optional noise-trading bots so the book has other participants.
 */
import type { RpcServer } from "../lib/index.ts";
import { DEFAULT_INSTRUMENTS } from "./backtest.ts";
import { RealTimeClock, type Clock, type TimerId } from "./clock.ts";
import { EventEngine } from "./event.ts";
import { SimExchange, type InstrumentSpec } from "./exchange.ts";
import { SimGateway } from "./gateway.ts";
import { Random } from "./random.ts";
import { RpcService } from "./rpc-service.ts";
import type { Direction, Offset } from "./constant.ts";
import type { ContractData } from "./object.ts";

export interface DemoExchangeOptions {
  /** Default 1. */
  seed?: number;
  /** Default a `RealTimeClock`. */
  clock?: Clock;
  /** Default `DEFAULT_INSTRUMENTS`. */
  instruments?: InstrumentSpec[];
  /** Accounts served, one gateway each. Default ["SIM"]. */
  gatewayNames?: string[];
  /** Starting balance of each account. Default 1 000 000. */
  balance?: number;
  /** Noise-trading bot accounts (named BOT1, BOT2, …). Default 1. */
  bots?: number;
  /** Milliseconds between a bot's actions. Default 1000. */
  botIntervalMs?: number;
  eventEngine?: EventEngine;
}

export interface DemoExchange {
  readonly clock: Clock;
  readonly exchange: SimExchange;
  readonly eventEngine: EventEngine;
  /** The served accounts' gateways (bots are not among them). */
  readonly gateways: SimGateway[];
  /** Connect the gateways, start the market and the bots. */
  start(): Promise<void>;
  /** Stop the market and the bots, and close the gateways. */
  close(): Promise<void>;
}

export function createDemoExchange(options: DemoExchangeOptions = {}): DemoExchange {
  const clock = options.clock ?? new RealTimeClock();
  const seed = options.seed ?? 1;
  const exchange = new SimExchange({ clock, seed, instruments: options.instruments ?? DEFAULT_INSTRUMENTS });
  // A failing listener must not stop a served exchange: report it and go on.
  const eventEngine = options.eventEngine ?? new EventEngine({
    onError: (error, event) => console.error(`Event handler failed on ${event.type}:`, error),
  });
  const balance = options.balance ?? 1_000_000;
  const gateways = (options.gatewayNames ?? ["SIM"]).map((gatewayName) =>
    new SimGateway({ exchange, eventEngine, gatewayName, balance }));
  const bots = Array.from({ length: options.bots ?? 1 }, (_, i) =>
    new NoiseBot(exchange, `BOT${i + 1}`, new Random(seed * 7919 + i + 1), options.botIntervalMs ?? 1000));
  return {
    clock,
    exchange,
    eventEngine,
    gateways,
    async start() {
      for (const g of gateways) await g.connect();
      exchange.start();
      for (const b of bots) b.start();
    },
    async close() {
      for (const b of bots) b.stop();
      exchange.stop();
      for (const g of gateways) await g.close();
      if (clock instanceof RealTimeClock) clock.close();
    },
  };
}

/**
 * Serve a demo exchange on `server` (which the caller built on the transport of its choice).
 * Returns a function that stops the service and the exchange.
 */
export async function serveDemoExchange(server: RpcServer, options: DemoExchangeOptions = {}): Promise<{
  demo: DemoExchange;
  service: RpcService;
  stop: () => Promise<void>;
}> {
  const demo = createDemoExchange(options);
  const service = new RpcService({ server, eventEngine: demo.eventEngine, gateways: demo.gateways });
  await service.start();
  await demo.start();
  return {
    demo,
    service,
    async stop() {
      await demo.close();
      await service.stop();
    },
  };
}

/**
 * Places small random limit orders near the touch and cancels its old ones, on the exchange's
 * clock. It closes against an opposite position before opening, and never holds more than
 * `MAX_BOT_LOTS` a side, so its margin stays bounded and a demo can run for days.
 */
class NoiseBot {
  readonly #gateway: SimGateway;
  #timer: TimerId | undefined;
  #open: string[] = [];

  constructor(
    private readonly exchange: SimExchange,
    name: string,
    private readonly random: Random,
    private readonly intervalMs: number,
  ) {
    this.#gateway = new SimGateway({ exchange, eventEngine: new EventEngine({ onError: () => {} }), gatewayName: name, balance: 1e9 });
  }

  start(): void {
    void this.#gateway.connect();
    this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) this.exchange.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const delay = this.intervalMs * (0.5 + this.random.next());
    this.#timer = this.exchange.clock.setTimer(this.exchange.clock.now() + delay, () => {
      this.#act();
      this.#schedule();
    });
  }

  #act(): void {
    while (this.#open.length > 6) {
      const orderid = this.#open.shift()!;
      const [symbol, exchange, id] = orderid.split("|") as [string, string, string];
      this.#gateway.cancelOrderNow({ orderid: id, symbol, exchange: exchange as never });
    }
    const contracts = this.exchange.contracts();
    const c = contracts[this.random.int(0, contracts.length - 1)]!;
    const tick = this.exchange.lastTick(c.vtSymbol);
    if (!tick || !tick.bidPrice1 || !tick.askPrice1) return;
    let long = this.random.next() < 0.5;
    const away = this.random.int(-1, 3) * c.pricetick;
    const lots = this.random.int(1, 3);
    const decided = this.#sideAndOffset(c, long, lots);
    if (!decided) return;
    long = decided.long;
    const price = long ? tick.bidPrice1 - away : tick.askPrice1 + away;
    const id = this.#gateway.sendOrderNow({
      symbol: c.symbol, exchange: c.exchange, direction: long ? "LONG" : "SHORT", type: "LIMIT",
      price: Number(price.toFixed(6)), volume: Number((lots * c.minVolume).toFixed(6)), offset: decided.offset,
    });
    this.#open.push(`${c.symbol}|${c.exchange}|${id.slice(id.lastIndexOf(".") + 1)}`);
  }

  /** Close what it can; open only below the cap; else turn round and close the side that is full. */
  #sideAndOffset(c: ContractData, long: boolean, lots: number): { long: boolean; offset: Offset } | undefined {
    const held = (direction: Direction) => {
      const p = this.exchange.positionsData(this.#gateway.account).find((x) => x.vtSymbol === c.vtSymbol && x.direction === direction);
      return { lots: Math.round((p?.volume ?? 0) / c.minVolume), free: Math.round(((p?.volume ?? 0) - (p?.frozen ?? 0)) / c.minVolume) };
    };
    if (c.netPosition) {
      const net = held("NET").lots;
      if (Math.abs(net + (long ? lots : -lots)) > MAX_BOT_LOTS) long = !long;
      return { long, offset: "NONE" };
    }
    if (held(long ? "SHORT" : "LONG").free >= lots) return { long, offset: "CLOSE" };
    if (held(long ? "LONG" : "SHORT").lots + lots <= MAX_BOT_LOTS) return { long, offset: "OPEN" };
    return held(long ? "LONG" : "SHORT").free >= lots ? { long: !long, offset: "CLOSE" } : undefined;
  }
}

/** Largest position a noise bot holds in one instrument and direction, in lots. */
const MAX_BOT_LOTS = 10;
