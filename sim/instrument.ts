/**
 * One traded instrument as the exchange keeps it: its contract and terms, its matching engine,
 * its market-data feed and timer, its minute bars, and the conversion between the engine's
 * integers (ticks, lots) and prices and volumes.
 */
import type { Exchange, Product } from "./constant.ts";
import { isMember, Exchange as ExchangeEnum } from "./constant.ts";
import type { ContractData, OrderRequest, TickData } from "./object.ts";
import type { TimerId } from "./clock.ts";
import type { Random } from "./random.ts";
import { MatchingEngine, newDepth, type Depth, type MatchHooks } from "./matching.ts";
import { randomWalkFeed, type MarketFeed, type MarketSnapshot } from "./market-data.ts";
import type { InstrumentTerms } from "./account.ts";
import { BarSeries } from "./bars.ts";

export interface RandomWalkSpec {
  /** First bid price, in price units. */
  startPrice: number;
  /** Standard deviation of each step, ticks. Default 1. */
  volatility?: number;
  /** Mean of each step, ticks. Default 0. */
  drift?: number;
  /** Default 500. */
  intervalMs?: number;
  jitterMs?: number;
  maxLevelVolume?: number;
  maxTradeVolume?: number;
}

export interface InstrumentSpec {
  symbol: string;
  exchange: Exchange;
  name?: string;
  product?: Product;
  /** Contract multiplier. */
  size: number;
  pricetick: number;
  /** Default 1. */
  minVolume?: number;
  /** Default 0.1 (1 for SPOT). */
  marginRate?: number;
  /** One NET position instead of long and short. Default: true for SPOT, else false. */
  netPosition?: boolean;
  /** Fraction of turnover charged per fill. Default 0. */
  commissionRate?: number;
  /** Slippage cost per unit of volume, in price units (as VeighNa's backtester). Default 0. */
  slippage?: number;
  /** Market data: a seeded random walk (the default, from `walk`) or any feed, e.g. `replayFeed`. */
  walk?: RandomWalkSpec;
  feed?: MarketFeed;
  /** Trading hours; orders are rejected with "Market closed" outside them. Default: always open. */
  isOpen?: (time: number) => boolean;
}

export class Instrument implements InstrumentTerms {
  readonly vtSymbol: string;
  readonly lotValue: number;
  readonly marginRate: number;
  readonly netPosition: boolean;
  /** Commission per unit of turnover, and slippage cost per lot (money). */
  readonly commissionRate: number;
  readonly slippagePerLot: number;
  readonly engine: MatchingEngine;
  readonly bars: BarSeries;
  readonly priceDigits: number;
  readonly volumeDigits: number;
  /** Average prices are reported to four more decimals than the tick has. */
  readonly avgPriceScale: number;
  readonly #priceScale: number;
  readonly #volumeScale: number;
  readonly #priceUnit: number;
  readonly #volumeUnit: number;
  /** Lots traded in the latest market event (market and accounts), for `lastVolume`. */
  lastVolumeLots = 0;
  readonly subscribers = new Set<(tick: TickData) => void>();
  timer: TimerId | undefined;
  /** The clock callback that applies `pending` (see SimExchange.#schedule). */
  fire: (() => void) | undefined;
  /** The feed is on the clock (started and not stopped). */
  running = false;
  /** The snapshot the timer waits for, kept across stop() and start(). */
  pending: MarketSnapshot | undefined;
  halted = false;
  /** Reused by every tick this instrument publishes. */
  readonly depth: Depth = newDepth();
  /** A market event has been applied (there is a tick to report). */
  hasMarket = false;
  #barVolume = 0;

  /** The feed; a random walk is made when the instrument first starts, so it begins then. */
  feed: MarketFeed | undefined;

  constructor(
    readonly contract: ContractData,
    readonly spec: InstrumentSpec,
    /** Given a feed, or the random walk's maker (which starts it at the given time). */
    readonly source: MarketFeed | ((start: number) => MarketFeed),
    hooks: (terms: Instrument) => MatchHooks,
    maxBars: number,
  ) {
    this.vtSymbol = contract.vtSymbol;
    this.feed = typeof source === "function" ? undefined : source;
    this.lotValue = contract.pricetick * contract.size * contract.minVolume;
    this.marginRate = contract.marginRate;
    this.netPosition = contract.netPosition;
    this.commissionRate = spec.commissionRate ?? 0;
    this.slippagePerLot = (spec.slippage ?? 0) * contract.size * contract.minVolume;
    this.priceDigits = digits(contract.pricetick);
    this.volumeDigits = digits(contract.minVolume);
    this.avgPriceScale = 10 ** (this.priceDigits + 4);
    this.#priceScale = 10 ** this.priceDigits;
    this.#volumeScale = 10 ** this.volumeDigits;
    // A tick (a lot) in units of the last decimal: a whole number, so a conversion is one multiply.
    this.#priceUnit = Math.round(contract.pricetick * this.#priceScale);
    this.#volumeUnit = Math.round(contract.minVolume * this.#volumeScale);
    this.engine = new MatchingEngine(hooks(this));
    this.bars = new BarSeries(contract.symbol, contract.exchange, maxBars);
  }

  lastPrice(): number {
    return this.engine.lastPrice;
  }

  price(ticks: number): number {
    return Math.round(ticks * this.#priceUnit) / this.#priceScale;
  }

  volume(lots: number): number {
    return Math.round(lots * this.#volumeUnit) / this.#volumeScale;
  }

  /** Fee of one lot traded at `priceTicks`: commission on its turnover plus slippage. */
  feePerLot(priceTicks: number): number {
    return priceTicks * this.lotValue * this.commissionRate + this.slippagePerLot;
  }

  /** Trading is open at `time` (not halted, within trading hours). */
  isOpen(time: number): boolean {
    return !this.halted && (!this.spec.isOpen || this.spec.isOpen(time));
  }

  /** Record market activity into the minute bars. */
  recordBar(time: number): void {
    const e = this.engine;
    const delta = e.volume - this.#barVolume;
    this.#barVolume = e.volume;
    if (e.lastPrice > 0) this.bars.add(time, this.price(e.lastPrice), this.volume(delta));
  }
}

/** Make an instrument from its spec; its random walk (when it has no feed) draws from `random`. */
export function makeInstrument(
  spec: InstrumentSpec, random: Random, hooks: (terms: Instrument) => MatchHooks, maxBars: number,
): Instrument {
  const feed = spec.feed ?? ((start: number) => walkFeed(spec, random, start));
  return new Instrument(contractOf(spec), spec, feed, hooks, maxBars);
}

/** An instrument stand-in for orders on unknown symbols (so they can still be reported). */
export function placeholderInstrument(req: OrderRequest): Instrument {
  const exchange = isMember(ExchangeEnum, req.exchange) ? req.exchange : "LOCAL";
  const spec: InstrumentSpec = { symbol: String(req.symbol ?? ""), exchange, size: 1, pricetick: 1 };
  const contract = { ...contractOf(spec), vtSymbol: `${String(req.symbol)}.${String(req.exchange)}` };
  return new Instrument(contract, spec, { next: () => undefined }, () => ({ fill() {}, update() {} }), 0);
}

function contractOf(spec: InstrumentSpec): ContractData {
  if (!(spec.pricetick > 0) || !(spec.size > 0)) throw new RangeError(`Bad pricetick or size for ${spec.symbol}`);
  const product = spec.product ?? "FUTURES";
  const minVolume = spec.minVolume ?? 1;
  if (!(minVolume > 0)) throw new RangeError(`Bad minVolume for ${spec.symbol}`);
  return {
    gatewayName: "",
    symbol: spec.symbol,
    exchange: spec.exchange,
    name: spec.name ?? spec.symbol,
    product,
    size: spec.size,
    pricetick: spec.pricetick,
    minVolume,
    marginRate: spec.marginRate ?? (product === "SPOT" ? 1 : 0.1),
    stopSupported: true,
    netPosition: spec.netPosition ?? product === "SPOT",
    historyData: true,
    vtSymbol: `${spec.symbol}.${spec.exchange}`,
  };
}

function walkFeed(spec: InstrumentSpec, random: Random, start: number): MarketFeed {
  const w = spec.walk ?? { startPrice: 100 * spec.pricetick };
  const opts: Parameters<typeof randomWalkFeed>[0] = {
    random,
    startTicks: Math.max(1, Math.round(w.startPrice / spec.pricetick)),
    start,
  };
  if (w.intervalMs !== undefined) opts.intervalMs = w.intervalMs;
  if (w.jitterMs !== undefined) opts.jitterMs = w.jitterMs;
  if (w.volatility !== undefined) opts.volatility = w.volatility;
  if (w.drift !== undefined) opts.drift = w.drift;
  if (w.maxLevelVolume !== undefined) opts.maxLevelVolume = w.maxLevelVolume;
  if (w.maxTradeVolume !== undefined) opts.maxTradeVolume = w.maxTradeVolume;
  return randomWalkFeed(opts);
}

/** Decimal places of a step such as 0.2 (1) or 0.001 (3). */
function digits(step: number): number {
  for (let d = 0; d < 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 12;
}
