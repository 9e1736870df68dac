/**
 * The exchange's state as VeighNa's data objects: each call makes a fresh object from the
 * integers (ticks, lots) and money the exchange keeps.
 */
import type { AccountData, OrderData, PositionData, TickData } from "./object.ts";
import type { AccountState, PositionState } from "./account.ts";
import type { Instrument } from "./instrument.ts";
import { orderId, vtOrderId, type OrderRecord } from "./order-record.ts";

export function orderData(o: OrderRecord): OrderData {
  const inst = o.inst;
  const c = inst.contract;
  return {
    gatewayName: o.account.gatewayName,
    symbol: c.symbol,
    exchange: c.exchange,
    orderid: orderId(o),
    type: o.type,
    direction: o.direction,
    offset: o.offset,
    price: o.sentPrice !== undefined ? o.sentPrice : o.type !== "MARKET" ? inst.price(o.price) : 0,
    volume: inst.volume(o.lots),
    traded: inst.volume(o.traded),
    status: o.status,
    datetime: o.datetime,
    reference: o.reference,
    statusMsg: o.statusMsg,
    vtSymbol: inst.vtSymbol,
    vtOrderId: vtOrderId(o),
  };
}

export function positionData(account: AccountState, p: PositionState, inst: Instrument): PositionData {
  return {
    gatewayName: account.gatewayName,
    symbol: inst.contract.symbol,
    exchange: inst.contract.exchange,
    direction: p.direction,
    volume: inst.volume(p.lots),
    frozen: inst.volume(p.frozen),
    price: Math.round(p.avgPrice * inst.contract.pricetick * inst.avgPriceScale) / inst.avgPriceScale,
    pnl: money(p.holdingProfit()),
    ydVolume: inst.volume(p.ydLots),
    vtSymbol: inst.vtSymbol,
    vtPositionId: p.vtPositionId,
  };
}

export function accountData(account: AccountState): AccountData {
  // The sums of AccountState's balance(), frozen(), margin() and holdingProfit(), in one pass.
  let holding = 0;
  let margin = 0;
  const list = account.positionList;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    holding += p.holdingProfit();
    margin += p.margin();
  }
  const balance = account.preBalance + account.closeProfit + holding - account.commission;
  const frozen = margin + account.orderFrozen;
  return {
    gatewayName: account.gatewayName,
    accountid: account.accountid,
    preBalance: money(account.preBalance),
    balance: money(balance),
    frozen: money(frozen),
    available: money(balance - frozen),
    margin: money(margin),
    closeProfit: money(account.closeProfit),
    holdingProfit: money(holding),
    commission: money(account.commission),
    currency: account.currency,
    vtAccountId: account.vtAccountId,
  };
}

/** The instrument's tick after its latest market event, gatewayName empty for the receiver to set. */
export function tickData(inst: Instrument): TickData {
  const e = inst.engine;
  const c = inst.contract;
  let bp: number[], bv: number[], ap: number[], av: number[];
  if (e.book.size === 0 && fiveLeft(e.bidVolumes) && fiveLeft(e.askVolumes)) {
    // The usual tick: five synthetic levels a side, none taken, no account orders to merge.
    bp = e.bidPrices;
    bv = e.bidVolumes;
    ap = e.askPrices;
    av = e.askVolumes;
  } else {
    const d = inst.depth;
    e.depthInto(d, 5);
    // Always five entries (0 for an empty level), so no read goes past an array's end.
    bp = padTo5(d.bidPrices);
    bv = padTo5(d.bidVolumes);
    ap = padTo5(d.askPrices);
    av = padTo5(d.askVolumes);
  }
  return {
    gatewayName: "",
    symbol: c.symbol,
    exchange: c.exchange,
    datetime: e.datetime,
    name: c.name,
    volume: inst.volume(e.volume),
    turnover: 0,
    openInterest: 0,
    lastPrice: inst.price(e.lastPrice),
    lastVolume: inst.volume(inst.lastVolumeLots),
    limitUp: 0,
    limitDown: 0,
    openPrice: inst.price(e.openPrice),
    highPrice: inst.price(e.highPrice),
    lowPrice: inst.price(e.lowPrice),
    preClose: 0,
    bidPrice1: inst.price(bp[0]!), bidPrice2: inst.price(bp[1]!), bidPrice3: inst.price(bp[2]!),
    bidPrice4: inst.price(bp[3]!), bidPrice5: inst.price(bp[4]!),
    askPrice1: inst.price(ap[0]!), askPrice2: inst.price(ap[1]!), askPrice3: inst.price(ap[2]!),
    askPrice4: inst.price(ap[3]!), askPrice5: inst.price(ap[4]!),
    bidVolume1: inst.volume(bv[0]!), bidVolume2: inst.volume(bv[1]!), bidVolume3: inst.volume(bv[2]!),
    bidVolume4: inst.volume(bv[3]!), bidVolume5: inst.volume(bv[4]!),
    askVolume1: inst.volume(av[0]!), askVolume2: inst.volume(av[1]!), askVolume3: inst.volume(av[2]!),
    askVolume4: inst.volume(av[3]!), askVolume5: inst.volume(av[4]!),
    vtSymbol: inst.vtSymbol,
  };
}

/** Exactly five levels, each with lots left. */
function fiveLeft(vols: number[]): boolean {
  return vols.length === 5 && vols[0]! > 0 && vols[1]! > 0 && vols[2]! > 0 && vols[3]! > 0 && vols[4]! > 0;
}

function padTo5(a: number[]): number[] {
  while (a.length < 5) a.push(0);
  return a;
}

/** Money is reported to the cent's hundredth, so sums balance to the cent. */
export function money(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
