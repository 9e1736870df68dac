/**
 * tradewire/sim: a simulated exchange with VeighNa's data model, served over RPC.
 */
export * from "./constant.ts";
export type * from "./object.ts";
export { vtSymbolOf, splitVtSymbol, isActive, createCancelRequest, withGatewayName } from "./object.ts";
export {
  EventEngine, baseType, EVENT_TICK, EVENT_TRADE, EVENT_ORDER, EVENT_POSITION, EVENT_ACCOUNT, EVENT_CONTRACT,
  EVENT_LOG, type Event, type EventHandler, type EventEngineOptions,
} from "./event.ts";
export { VirtualClock, RealTimeClock, type Clock, type TimerId, type VirtualClockOptions, type RealTimeClockOptions } from "./clock.ts";
export { Random } from "./random.ts";
export { OrderBook, type BookEntry, type Side, type TakeResult } from "./book.ts";
export { MatchingEngine, REASON, type SimOrder, type MatchHooks } from "./matching.ts";
export {
  randomWalkFeed, parseTickCsv, replayFeed, type MarketFeed, type MarketSnapshot, type RandomWalkOptions, type RecordedTick,
} from "./market-data.ts";
export { AccountState, PositionState } from "./account.ts";
export {
  SimExchange, type SimExchangeOptions, type InstrumentSpec, type RandomWalkSpec, type AccountListener, type OpenAccountOptions,
} from "./exchange.ts";
export { SimGateway, GatewayEvents, LogLevel, type Gateway, type SimGatewayOptions } from "./gateway.ts";
export { OmsEngine } from "./oms.ts";
export { RpcService, RPC_SERVICE_FUNCTIONS, type RpcServiceOptions, type RpcServiceApi } from "./rpc-service.ts";
export { RpcGateway, type RpcGatewayOptions } from "./rpc-gateway.ts";
export {
  OrderRequestSchema, CancelRequestSchema, SubscribeRequestSchema, HistoryRequestSchema,
} from "./schema.ts";
export { BarGenerator, StrategyContext, type Strategy, type StrategyContextOptions } from "./strategy.ts";
export {
  Backtest, DEFAULT_INSTRUMENTS, type BacktestOptions, type BacktestResult, type EquityPoint, type RunOptions,
} from "./backtest.ts";
export {
  calculateDailyResults, calculateStatistics, tradingDay,
  type BacktestStatistics, type ContractCosts, type DailyClose, type DailyResult, type DailyTrade, type StatisticName,
  type StatisticsOptions,
} from "./statistics.ts";
export { MaCrossStrategy, type MaCrossOptions } from "./ma-cross.ts";
export { createDemoExchange, serveDemoExchange, type DemoExchange, type DemoExchangeOptions } from "./demo.ts";
