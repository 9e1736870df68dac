/**
 * Money and position lots that orders hold back, and what fills do to positions and accounts:
 * the fund check an order must pass, its hold while active, what each fill may cost (`afford`),
 * and the release of what is left when it ends. Prices are ticks, volumes lots, money the
 * account currency.
 */
import type { OrderType, Offset } from "./constant.ts";
import type { AccountState, PositionState } from "./account.ts";
import type { Instrument } from "./instrument.ts";
import { isActive } from "./object.ts";
import type { OrderRecord } from "./order-record.ts";
import type { SimOrder } from "./matching.ts";
import { money } from "./reports.ts";

/**
 * The fund and position check of an order that passed the market checks: "" to accept, or the
 * reason to reject. Sets what the order will hold per lot (and, on a NET position, the lots it
 * closes).
 */
export function checkFunds(account: AccountState, inst: Instrument, o: SimOrder, type: OrderType, offset: Offset | undefined): string {
  const c = inst.contract;
  const estimate = type === "MARKET" ? inst.engine.bestOpposite(o.side) || inst.engine.lastPrice : o.price;
  const fee = inst.feePerLot(estimate);
  // Closing lots need their fee only; lots that open (or grow a NET position) need margin too.
  let closeLots = 0;
  if (!c.netPosition) {
    const off = offset ?? "NONE";
    if (off === "NONE") return "Offset is required: OPEN, CLOSE, CLOSETODAY or CLOSEYESTERDAY";
    if (off !== "OPEN") {
      const held = account.findPosition(c.vtSymbol, o.side === 1 ? "SHORT" : "LONG");
      const yd = held ? held.ydLots - held.frozenYd : 0;
      const td = held ? held.lots - held.ydLots - held.frozenTd : 0;
      const can = off === "CLOSETODAY" ? td : off === "CLOSEYESTERDAY" ? yd : yd + td;
      if (o.lots > can) return `Insufficient position to close: ${inst.volume(Math.max(0, can))} available`;
      closeLots = o.lots;
    }
  } else {
    closeLots = Math.min(o.lots, account.findPosition(c.vtSymbol, "NET")?.closable(o.side) ?? 0);
    o.closeTd = closeLots;
  }
  o.closeFeePerLot = fee;
  o.frozenPerLot = closeLots === o.lots ? 0 : estimate * inst.lotValue * c.marginRate + fee;
  const needed = o.frozenPerLot * (o.lots - closeLots) + fee * closeLots;
  const free = account.free();
  // A fee-less close goes through whatever the balance: reducing a position is always allowed.
  if (needed > 0 && needed > free + 1e-9) {
    return `Insufficient funds: needs ${money(needed)}, ${money(Math.max(0, free))} available`;
  }
  return "";
}

/**
 * Hold back what an accepted order needs: money for its opening lots (margin and fee) and its
 * closing lots (fee), and the position lots it will close.
 */
export function hold(account: AccountState, inst: Instrument, o: SimOrder): void {
  if (inst.netPosition) {
    if (o.closeTd > 0) account.position(inst, "NET").reserveClose(o.side, o.closeTd);
    account.orderFrozen += o.frozenPerLot * (o.lots - o.closeTd) + o.closeFeePerLot * o.closeTd;
    return;
  }
  if (o.offset !== "OPEN") {
    const p = account.position(inst, o.side === 1 ? "SHORT" : "LONG");
    const yd = p.ydLots - p.frozenYd;
    if (o.offset === "CLOSETODAY") o.closeTd = o.lots;
    else if (o.offset === "CLOSEYESTERDAY") o.closeYd = o.lots;
    else {
      o.closeYd = Math.min(yd, o.lots);
      o.closeTd = o.lots - o.closeYd;
    }
    p.frozenYd += o.closeYd;
    p.frozenTd += o.closeTd;
  }
  account.orderFrozen += heldFor(o, o.lots);
}

/** Money an order holds for its next `lots` lots: closing lots (fee only) come first. */
function heldFor(o: SimOrder, lots: number): number {
  const closing = Math.min(lots, o.closeYd + o.closeTd);
  return o.closeFeePerLot * closing + o.frozenPerLot * (lots - closing);
}

/** Take `amount` off what an order holds for its remaining lots, opening lots first. */
function shrinkHold(acc: AccountState, o: SimOrder, amount: number): void {
  const left = o.lots - o.traded;
  const closing = Math.min(left, o.closeYd + o.closeTd);
  const before = heldFor(o, left);
  if (left > closing) o.frozenPerLot = Math.max(0, o.frozenPerLot - amount / (left - closing));
  const rest = amount - (before - heldFor(o, left));
  if (rest > 0 && closing > 0) o.closeFeePerLot = Math.max(0, o.closeFeePerLot - rest / closing);
  acc.orderFrozen = Math.max(0, acc.orderFrozen - (before - heldFor(o, left)));
}

/** Give back what an order still holds (cancelled or rejected remainder). */
export function release(account: AccountState, inst: Instrument, o: SimOrder): void {
  const left = o.lots - o.traded;
  account.orderFrozen = Math.max(0, account.orderFrozen - heldFor(o, left));
  if (inst.netPosition) {
    if (o.closeTd) account.position(inst, "NET").reserveClose(o.side, -o.closeTd);
    o.closeTd = 0;
  } else if (o.closeYd || o.closeTd) {
    const p = account.position(inst, o.side === 1 ? "SHORT" : "LONG");
    p.frozenYd -= o.closeYd;
    p.frozenTd -= o.closeTd;
    o.closeYd = o.closeTd = 0;
  }
}

/** The position whose lots an active order holds back for closing, if any. */
export function closingPosition(acc: AccountState, inst: Instrument, o: SimOrder): PositionState | undefined {
  if (inst.netPosition) return o.closeTd > 0 ? acc.findPosition(inst.vtSymbol, "NET") : undefined;
  if (o.offset === "OPEN") return undefined;
  return acc.findPosition(inst.vtSymbol, o.side === 1 ? "SHORT" : "LONG");
}

/**
 * Lots of a fill (taker or maker) the account can pay for. A lot that opens costs its margin at
 * `price` plus its fee, one that closes its fee. A market order holds money at the best price
 * and a stop at its stop price, so a walk or a gap can cost more: everything the order still
 * holds and the account's free money pay, and what is left unpaid is cancelled. A limit order's
 * remainder may rest, so it keeps its own hold: only free money pays what a lot costs beyond
 * what it held (a short filled above its limit needs more margin; a resting lot whose closing
 * reservation another order used up now opens, and its hold may have been cut to what was free).
 */
export function afford(o: OrderRecord, lots: number, price: number): number {
  const acc = o.account;
  const inst = o.inst;
  const fee = inst.feePerLot(price);
  const open = price * inst.lotValue * inst.marginRate + fee;
  // Lots that really close: what the position is now, not what the order was sent against.
  const closes = inst.netPosition
    ? Math.min(lots, Math.max(0, -o.side * (acc.findPosition(inst.vtSymbol, "NET")?.lots ?? 0)))
    : o.offset === "OPEN" ? 0 : lots;
  const rests = o.type === "LIMIT";
  const reserved = rests ? Math.min(lots, o.closeYd + o.closeTd) : 0;
  let budget = acc.free() + (rests ? 0 : heldFor(o, o.lots - o.traded)) + 1e-9;
  // The cost of a lot, less what it held, is constant between these break points.
  let done = 0;
  const lo = Math.min(closes, reserved);
  const hi = Math.max(closes, reserved);
  for (let step = 0; step < 3; step++) {
    const end = step === 0 ? lo : step === 1 ? hi : lots;
    if (end <= done) continue;
    const held = rests ? (done < reserved ? o.closeFeePerLot : o.frozenPerLot) : 0;
    const extra = (done < closes ? fee : open) - held;
    const n = end - done;
    if (extra > 1e-12) {
      const can = Math.max(0, Math.floor(budget / extra));
      if (can < n) return done + can;
    }
    budget -= extra * n;
    done = end;
  }
  return lots;
}

/**
 * Book a fill of `lots` at `price` (costing `fee`) into the order's position and account: the
 * position changes, profit is realised, the fee is charged and the order's hold shrinks.
 * `active` lists an account's active orders, oldest first. Returns the position.
 */
export function applyFill(o: OrderRecord, lots: number, price: number, fee: number, active: (acc: AccountState) => Iterable<OrderRecord>): PositionState {
  const acc = o.account;
  const inst = o.inst;
  acc.orderFrozen = Math.max(0, acc.orderFrozen - heldFor(o, lots));
  let position: PositionState;
  if (inst.netPosition) {
    position = acc.position(inst, "NET");
    const reserved = Math.min(lots, o.closeTd);
    o.closeTd -= reserved;
    position.reserveClose(o.side, -reserved);
    acc.closeProfit += position.trade(o.side * lots, price);
    reconcileNet(acc, inst, position, active);
  } else if (o.offset === "OPEN") {
    position = acc.position(inst, o.side === 1 ? "LONG" : "SHORT");
    position.open(lots, price);
  } else {
    position = acc.position(inst, o.side === 1 ? "SHORT" : "LONG");
    const yd = Math.min(o.closeYd, lots);
    const td = lots - yd;
    o.closeYd -= yd;
    o.closeTd -= td;
    position.frozenYd -= yd;
    position.frozenTd -= td;
    acc.closeProfit += position.close(yd, td, price);
  }
  acc.commission += fee;
  // A walk or a gap paid with what the remainder held (see afford): that hold shrinks.
  if (o.type !== "LIMIT" && o.traded < o.lots && acc.free() < 0) shrinkHold(acc, o, -acc.free());
  return position;
}

/**
 * After a fill on a NET position, orders may not still hold back more lots for closing than the
 * position has: an order that fills first closes lots whatever another order reserved. The
 * newest reservations give way; those lots will open, so their order now holds their margin
 * (at its price) instead of a fee, as far as free money goes (its fills are checked again).
 */
function reconcileNet(acc: AccountState, inst: Instrument, position: PositionState, active: (acc: AccountState) => Iterable<OrderRecord>): void {
  for (const side of SIDES) {
    let excess = (side === 1 ? position.netCloseByBuys : position.netCloseBySells) - Math.max(0, -side * position.lots);
    if (excess <= 0) continue;
    const orders = [...active(acc)];
    for (let i = orders.length - 1; i >= 0 && excess > 0; i--) {
      const y = orders[i]!;
      if (y.side !== side || y.closeTd <= 0 || !isActive(y) || y.inst !== inst) continue;
      const k = Math.min(excess, y.closeTd);
      excess -= k;
      const left = y.lots - y.traded;
      const before = heldFor(y, left);
      y.closeTd -= k;
      position.reserveClose(side, -k);
      if (y.frozenPerLot === 0) {
        const estimate = y.type === "MARKET" ? inst.engine.bestOpposite(y.side) || inst.engine.lastPrice : y.price;
        y.frozenPerLot = estimate * inst.lotValue * inst.marginRate + inst.feePerLot(estimate);
      }
      const added = heldFor(y, left) - before;
      acc.orderFrozen += added;
      const short = Math.min(added, -acc.free());
      if (short > 0) shrinkHold(acc, y, short);
    }
  }
}

const SIDES = [1, -1] as const;
