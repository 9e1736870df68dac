/**
 * Account and position keeping, futures-style: two-sided long/short positions with today and
 * yesterday volumes (or one NET position for net-position contracts), margin on the average
 * open price, profit marked to the last price. Volumes are lots; prices are ticks; money is the
 * account currency.
 *
 *   balance   = preBalance + closeProfit + holdingProfit − commission
 *   frozen    = margin + money held back by active opening orders
 *   available = balance − frozen
 *   free      = available − unrealised profit (what new orders may use: floating profit is not
 *               lent, as on China's futures exchanges, so an order never spends money that a
 *               price move can take back)
 */
import type { Direction } from "./constant.ts";

/** What the keeping needs to know about an instrument. */
export interface InstrumentTerms {
  readonly vtSymbol: string;
  /** Money per tick per lot: pricetick × size × minVolume. */
  readonly lotValue: number;
  readonly marginRate: number;
  readonly netPosition: boolean;
  /** Last price, ticks (for marking). */
  lastPrice(): number;
}

export class PositionState {
  /** Lots held: signed for NET (negative is short), non-negative otherwise. */
  lots = 0;
  /** Of `lots`, those held since before the last settlement (two-sided positions). */
  ydLots = 0;
  frozenYd = 0;
  frozenTd = 0;
  /** NET positions: lots that active buy orders (closing a short) and sell orders (closing a long) will close. */
  netCloseByBuys = 0;
  netCloseBySells = 0;
  /** Average open price, ticks (may be fractional). */
  avgPrice = 0;
  /** The P&L (money) this position was last reported with: marking reports only those that moved. */
  reportedPnl = NaN;
  /** Changed in the current exchange operation: reported once when it is over. */
  reportDue = false;

  constructor(
    readonly terms: InstrumentTerms,
    readonly direction: Direction,
    /** `gatewayName.vtSymbol.direction`, made once. */
    readonly vtPositionId = "",
  ) {}

  get frozen(): number {
    return this.frozenYd + this.frozenTd + this.netCloseByBuys + this.netCloseBySells;
  }

  /** NET positions: lots that an order of `side` (+1 buy, −1 sell) may still close. */
  closable(side: 1 | -1): number {
    const reserved = side === 1 ? this.netCloseByBuys : this.netCloseBySells;
    return Math.max(0, -side * this.lots - reserved);
  }

  /** NET positions: reserve (positive) or give back (negative) lots an order of `side` will close. */
  reserveClose(side: 1 | -1, lots: number): void {
    if (side === 1) this.netCloseByBuys = Math.max(0, this.netCloseByBuys + lots);
    else this.netCloseBySells = Math.max(0, this.netCloseBySells + lots);
  }

  /** +1 for LONG, −1 for SHORT, sign of `lots` for NET. */
  get sign(): number {
    if (this.direction === "LONG") return 1;
    if (this.direction === "SHORT") return -1;
    return Math.sign(this.lots);
  }

  holdingProfit(): number {
    if (this.lots === 0) return 0;
    const mark = this.terms.lastPrice() || this.avgPrice;
    const held = this.direction === "NET" ? this.lots : this.lots * this.sign;
    return (mark - this.avgPrice) * held * this.terms.lotValue;
  }

  margin(): number {
    return Math.abs(this.lots) * this.avgPrice * this.terms.lotValue * this.terms.marginRate;
  }

  /** Add lots at `price` (ticks) to a two-sided position. */
  open(lots: number, price: number): void {
    this.avgPrice = (this.avgPrice * this.lots + price * lots) / (this.lots + lots);
    this.lots += lots;
  }

  /** Remove lots (yesterday's `yd`, today's `td`) at `price`; returns the realised profit. */
  close(yd: number, td: number, price: number): number {
    const lots = yd + td;
    const profit = (price - this.avgPrice) * lots * this.sign * this.terms.lotValue;
    this.lots -= lots;
    this.ydLots -= yd;
    if (this.lots === 0) this.avgPrice = 0;
    return profit;
  }

  /** A signed fill on a NET position; returns the realised profit. */
  trade(signedLots: number, price: number): number {
    let profit = 0;
    let left = signedLots;
    if (this.lots !== 0 && Math.sign(left) !== Math.sign(this.lots)) {
      const closing = Math.min(Math.abs(left), Math.abs(this.lots)) * Math.sign(left);
      profit = (price - this.avgPrice) * -closing * this.terms.lotValue;
      this.lots += closing;
      left -= closing;
      if (this.lots === 0) this.avgPrice = 0;
    }
    if (left !== 0) {
      this.avgPrice = (this.avgPrice * Math.abs(this.lots) + price * Math.abs(left)) / (Math.abs(this.lots) + Math.abs(left));
      this.lots += left;
    }
    return profit;
  }

  /** Daily settlement: today's lots become yesterday's; profit is marked into the balance. */
  settle(): number {
    const profit = this.holdingProfit();
    if (this.lots !== 0) this.avgPrice = this.terms.lastPrice() || this.avgPrice;
    this.ydLots = Math.abs(this.lots);
    return profit;
  }
}

export class AccountState {
  preBalance: number;
  closeProfit = 0;
  commission = 0;
  /** Money held back by active opening orders. */
  orderFrozen = 0;
  readonly positions: Map<string, PositionState> = new Map();
  /** `gatewayName.accountid`. */
  readonly vtAccountId: string;
  /** The positions again, by vtSymbol then direction (LONG, SHORT, NET): no key string is built per lookup. */
  readonly #bySymbol = new Map<string, Array<PositionState | undefined>>();
  /** The positions in opening order, for the sums (an array loop, no iterator). */
  readonly #list: PositionState[] = [];
  /**
   * The exchange's report of the current operation: the positions that changed (in the order
   * they first changed) and whether the account did, each reported once when it is over.
   */
  readonly duePositions: Array<PositionState | undefined> = [];
  dueCount = 0;
  reportDue = false;

  constructor(
    /** Owner index used by the matching engine (self-trade prevention). */
    readonly index: number,
    readonly accountid: string,
    readonly gatewayName: string,
    balance: number,
    readonly currency: string,
  ) {
    this.preBalance = balance;
    this.vtAccountId = `${gatewayName}.${accountid}`;
  }

  position(terms: InstrumentTerms, direction: Direction): PositionState {
    let slots = this.#bySymbol.get(terms.vtSymbol);
    if (!slots) this.#bySymbol.set(terms.vtSymbol, (slots = [undefined, undefined, undefined]));
    const k = slotOf(direction);
    let p = slots[k];
    if (!p) {
      p = new PositionState(terms, direction, `${this.gatewayName}.${terms.vtSymbol}.${direction}`);
      slots[k] = p;
      this.positions.set(`${terms.vtSymbol}.${direction}`, p);
      this.#list.push(p);
    }
    return p;
  }

  findPosition(vtSymbol: string, direction: Direction): PositionState | undefined {
    return this.#bySymbol.get(vtSymbol)?.[slotOf(direction)];
  }

  /** The positions in opening order (the same objects as `positions` holds). */
  get positionList(): readonly PositionState[] {
    return this.#list;
  }

  holdingProfit(): number {
    let sum = 0;
    for (const p of this.#list) sum += p.holdingProfit();
    return sum;
  }

  margin(): number {
    let sum = 0;
    for (const p of this.#list) sum += p.margin();
    return sum;
  }

  balance(): number {
    return this.preBalance + this.closeProfit + this.holdingProfit() - this.commission;
  }

  frozen(): number {
    return this.margin() + this.orderFrozen;
  }

  available(): number {
    return this.balance() - this.frozen();
  }

  /** Money new orders may use: available without unrealised profit (losses still count). */
  free(): number {
    // As available() − max(0, holdingProfit()), summing the positions once.
    let holding = 0;
    let margin = 0;
    for (const p of this.#list) {
      holding += p.holdingProfit();
      margin += p.margin();
    }
    const balance = this.preBalance + this.closeProfit + holding - this.commission;
    return balance - (margin + this.orderFrozen) - Math.max(0, holding);
  }

  /** Daily settlement: the balance becomes the new pre-balance. */
  settle(): void {
    let marked = 0;
    for (const p of this.#list) marked += p.settle();
    this.preBalance += this.closeProfit + marked - this.commission;
    this.closeProfit = 0;
    this.commission = 0;
  }
}

function slotOf(direction: Direction): number {
  return direction === "LONG" ? 0 : direction === "SHORT" ? 1 : 2;
}
