/**
 * The strategy harness: a seeded simulated exchange on a virtual clock, one account, one
 * strategy. A test runs it in a few lines and asserts on the trades and the PnL; the same seed
 * always gives the same run.
 *
 *   const bt = new Backtest({ seed: 7 });
 *   const result = await bt.run(new MaCrossStrategy(), { vtSymbol: "IF2512.CFFEX", durationMs: 2 * HOUR });
 *   expect(result.trades.length).toBeGreaterThan(0);
 */
import { VirtualClock } from "./clock.ts";
import { EventEngine } from "./event.ts";
import { SimExchange, type InstrumentSpec } from "./exchange.ts";
import { SimGateway } from "./gateway.ts";
import type {
  AccountData, BarData, CancelRequest, CancelResult, HistoryRequest, OrderData, OrderRequest, SubscribeRequest, TickData, TradeData,
} from "./object.ts";
import {
  calculateDailyResults, calculateStatistics, tradingDay, type BacktestStatistics, type DailyClose, type DailyResult,
} from "./statistics.ts";
import { StrategyContext, type Strategy } from "./strategy.ts";

export const DEFAULT_INSTRUMENTS: InstrumentSpec[] = [
  {
    symbol: "IF2512", exchange: "CFFEX", name: "CSI 300 index futures 2512", product: "FUTURES", size: 300, pricetick: 0.2,
    marginRate: 0.12, commissionRate: 0.000023, slippage: 0.2,
    walk: { startPrice: 4000, volatility: 2, drift: 0, intervalMs: 500 },
  },
  {
    symbol: "rb2601", exchange: "SHFE", name: "Rebar 2601", product: "FUTURES", size: 10, pricetick: 1,
    marginRate: 0.1, commissionRate: 0.0001, slippage: 1,
    walk: { startPrice: 3100, volatility: 1, intervalMs: 500 },
  },
  {
    symbol: "BTCUSDT", exchange: "GLOBAL", name: "Bitcoin / Tether", product: "SPOT", size: 1, pricetick: 0.01,
    minVolume: 0.001, marginRate: 1, netPosition: true, commissionRate: 0.001,
    walk: { startPrice: 90_000, volatility: 400, intervalMs: 250, maxLevelVolume: 2000, maxTradeVolume: 500 },
  },
];

export interface BacktestOptions {
  /** Default 1. */
  seed?: number;
  /** Default `DEFAULT_INSTRUMENTS`. */
  instruments?: InstrumentSpec[];
  /** Starting balance. Default 1 000 000. */
  balance?: number;
  /** Virtual start time. Default 2025-01-02T01:30:00Z. */
  start?: number;
  /** Order latency on the virtual clock. Default 0 (the next market event). */
  latencyMs?: number;
  /** Default "SIM". */
  gatewayName?: string;
  /** Offset of the trading day's time zone from UTC, for the daily results. Default 480 (China, +8 h). */
  utcOffsetMinutes?: number;
  /** Trading days in a year, for the annual return and the Sharpe ratio. Default 240 (VeighNa's). */
  annualDays?: number;
  /** VeighNa's `risk_free`, for the Sharpe ratio. Default 0. */
  riskFree?: number;
}

export interface RunOptions {
  vtSymbol: string;
  /** Virtual time to run for. */
  durationMs: number;
  /** Cancel the strategy's open orders at the end. Default true. */
  cancelAtEnd?: boolean;
  /** Called with the fraction of virtual time done (0…1), about a hundred times a run. */
  onProgress?: (fraction: number) => void;
}

/** One point of the equity curve: the account marked to the last price at the end of a minute. */
export interface EquityPoint {
  /** Epoch milliseconds (the minute's last tick). */
  time: number;
  /** Last price. */
  price: number;
  /** capital + realised and unrealised PnL − commission and slippage. */
  balance: number;
  /** balance − the highest balance so far (the capital to begin with): 0 or negative. */
  drawdown: number;
}

export interface BacktestResult {
  trades: TradeData[];
  orders: OrderData[];
  /** The account at the end, marked to the last price. */
  account: AccountData;
  /** balance − starting balance: profit after commission and slippage. */
  pnl: number;
  /** The strategy's net position at the end. */
  pos: number;
  /** Ticks the strategy received. */
  ticks: number;
  /** VeighNa's daily results, one per day with market data (see statistics.ts for each formula). */
  daily: DailyResult[];
  /** VeighNa's statistics over the daily results. */
  statistics: BacktestStatistics;
  /** The balance minute by minute, for charts. */
  equity: EquityPoint[];
}

export class Backtest {
  readonly clock: VirtualClock;
  readonly exchange: SimExchange;
  readonly eventEngine: EventEngine = new EventEngine();
  readonly gateway: SimGateway;
  readonly #balance: number;
  readonly #instruments: InstrumentSpec[];
  readonly #options: BacktestOptions;

  constructor(options: BacktestOptions = {}) {
    this.#options = options;
    this.clock = new VirtualClock(options.start === undefined ? {} : { start: options.start });
    this.#instruments = options.instruments ?? DEFAULT_INSTRUMENTS;
    this.exchange = new SimExchange({
      clock: this.clock,
      seed: options.seed ?? 1,
      instruments: this.#instruments,
      latencyMs: options.latencyMs ?? 0,
    });
    this.#balance = options.balance ?? 1_000_000;
    this.gateway = new BacktestGateway({
      exchange: this.exchange, eventEngine: this.eventEngine, gatewayName: options.gatewayName ?? "SIM", balance: this.#balance,
    });
  }

  /**
   * True once anything that code could await was handed out since the last call (a gateway
   * promise, or a strategy callback that returned one); reading it clears it. The clock lets
   * promise callbacks run after such an event only: awaiting code still continues before the
   * next event, and a run that awaits nothing goes at the speed of the engine.
   */
  #awaitable(): boolean {
    const gateway = this.gateway as BacktestGateway;
    const any = gateway.promised || this.#returnedPromise;
    gateway.promised = this.#returnedPromise = false;
    return any;
  }

  #returnedPromise = false;

  /** Notes a strategy callback's result that is a promise (an async callback). */
  #note(result: unknown): void {
    if (result !== undefined && typeof (result as { then?: unknown }).then === "function") this.#returnedPromise = true;
  }

  /** Run `strategy` on one instrument for `durationMs` of virtual time. */
  async run(strategy: Strategy, options: RunOptions): Promise<BacktestResult> {
    const contract = this.exchange.contract(options.vtSymbol);
    if (!contract) throw new RangeError(`Unknown symbol: ${options.vtSymbol}`);
    await this.gateway.connect();
    // Only the traded instrument's market runs (connecting starts them all): the others would
    // cost time and change nothing.
    this.exchange.stop();
    this.exchange.start([options.vtSymbol]);
    const ctx = new StrategyContext(this.gateway, options.vtSymbol, { netPosition: contract.netPosition });
    const spec = this.#instruments.find((i) => `${i.symbol}.${i.exchange}` === options.vtSymbol)!;
    const costs = { size: contract.size, rate: spec.commissionRate ?? 0, slippage: spec.slippage ?? 0 };
    const record = new RunRecorder(this.#balance, costs.size, this.#options.utcOffsetMinutes ?? 480);
    let ticks = 0;
    const note = (r: unknown): void => this.#note(r);
    const counted: Strategy = {
      onTick: (tick, c) => {
        ticks++;
        record.tick(tick);
        if (strategy.onTick) note(strategy.onTick(tick, c));
      },
      onTrade: (trade, c) => {
        record.trade(trade);
        if (strategy.onTrade) note(strategy.onTrade(trade, c));
      },
    };
    if (strategy.onStart) counted.onStart = (c) => strategy.onStart!(c);
    if (strategy.onBar) counted.onBar = (bar, c) => note(strategy.onBar!(bar, c));
    if (strategy.onOrder) counted.onOrder = (order, c) => note(strategy.onOrder!(order, c));
    await ctx.start(counted);
    const start = this.clock.now();
    const end = start + options.durationMs;
    const onProgress = options.onProgress;
    // Run in slices so the caller hears how far it got; one slice without a listener.
    const slices = onProgress ? 100 : 1;
    for (let i = 1; i <= slices; i++) {
      await this.clock.runUntil(i === slices ? end : start + Math.floor((options.durationMs * i) / slices), {
        shouldYield: () => this.#awaitable(),
      });
      onProgress?.(i / slices);
    }
    if (options.cancelAtEnd ?? true) await ctx.cancelAll();
    ctx.stop();
    const account = this.exchange.accountData(this.gateway.account);
    const trades = [...ctx.trades];
    const daily = calculateDailyResults(record.closes(), trades, costs, this.#balance, record.dayOf);
    const statOptions: Parameters<typeof calculateStatistics>[1] = { capital: this.#balance };
    if (this.#options.annualDays !== undefined) statOptions.annualDays = this.#options.annualDays;
    if (this.#options.riskFree !== undefined) statOptions.riskFree = this.#options.riskFree;
    return {
      trades,
      orders: [...ctx.orders.values()],
      account,
      pnl: Math.round((account.balance - this.#balance) * 100) / 100,
      pos: ctx.pos,
      ticks,
      daily,
      statistics: calculateStatistics(daily, statOptions),
      equity: record.equity(),
    };
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * What a run keeps as it goes, cheaply per tick: each trading day's close, and the balance at the
 * end of each minute (cash from the strategy's trades plus its position at the last price).
 */
class RunRecorder {
  readonly #dates: string[] = [];
  readonly #closes: number[] = [];
  #day = NaN;
  readonly #points: EquityPoint[] = [];
  #minute = NaN;
  #last: TickData | undefined;
  #cash = 0;
  #pos = 0;
  #high: number;
  readonly #offset: number;

  constructor(readonly capital: number, readonly size: number, utcOffsetMinutes: number) {
    this.#high = capital;
    this.#offset = utcOffsetMinutes * MINUTE;
  }

  readonly dayOf = (time: number): string => tradingDay(time, this.#offset / MINUTE);

  tick(tick: TickData): void {
    const t = tick.datetime;
    const day = Math.floor((t + this.#offset) / DAY);
    if (day !== this.#day) {
      this.#day = day;
      this.#dates.push(this.dayOf(t));
      this.#closes.push(tick.lastPrice);
    } else this.#closes[this.#closes.length - 1] = tick.lastPrice;
    const minute = Math.floor(t / MINUTE);
    if (minute !== this.#minute && this.#last) this.#point(this.#last);
    this.#minute = minute;
    this.#last = tick;
  }

  trade(trade: TradeData): void {
    const change = trade.direction === "LONG" ? trade.volume : -trade.volume;
    this.#pos += change;
    this.#cash -= change * trade.price * this.size + trade.commission;
  }

  closes(): DailyClose[] {
    return this.#dates.map((date, i) => ({ date, closePrice: this.#closes[i]! }));
  }

  equity(): EquityPoint[] {
    if (this.#last && this.#points[this.#points.length - 1]?.time !== this.#last.datetime) this.#point(this.#last);
    return this.#points;
  }

  #point(tick: TickData): void {
    const balance = this.capital + this.#cash + this.#pos * tick.lastPrice * this.size;
    if (balance > this.#high) this.#high = balance;
    this.#points.push({ time: tick.datetime, price: tick.lastPrice, balance, drawdown: balance - this.#high });
  }
}

/** The simulator's gateway, noting when it hands out a promise (see `Backtest.#awaitable`). */
class BacktestGateway extends SimGateway {
  promised = false;

  override sendOrder(req: OrderRequest): Promise<string> {
    this.promised = true;
    return super.sendOrder(req);
  }

  override cancelOrder(req: CancelRequest): Promise<CancelResult> {
    this.promised = true;
    return super.cancelOrder(req);
  }

  override subscribe(req: SubscribeRequest): Promise<void> {
    this.promised = true;
    return super.subscribe(req);
  }

  override queryAccount(): Promise<void> {
    this.promised = true;
    return super.queryAccount();
  }

  override queryPosition(): Promise<void> {
    this.promised = true;
    return super.queryPosition();
  }

  override queryHistory(req: HistoryRequest): Promise<BarData[]> {
    this.promised = true;
    return super.queryHistory(req);
  }

  override connect(setting?: Record<string, unknown>): Promise<void> {
    this.promised = true;
    return super.connect(setting);
  }

  override close(): Promise<void> {
    this.promised = true;
    return super.close();
  }
}
