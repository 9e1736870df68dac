/**
 * Whose data is whose at the web door. A user holds accounts, named as the service names them:
 * by the gateway that trades for them (VeighNa: one gateway, one account connection; the sim's
 * `vtAccountId` is `GATEWAY.accountid`, and every order, trade, position, account and log
 * carries its `gatewayName`). `"*"` holds every account; no accounts at all is market data only.
 *
 * Market data (ticks, contracts, history) is everyone's. Orders, trades, positions, accounts and
 * logs are their gateway's owners' only; a log naming no gateway is the service's, and only for
 * users holding every account.
 */
import { RpcError } from "../lib/index.ts";
import { EVENT_ACCOUNT, EVENT_LOG, EVENT_ORDER, EVENT_POSITION, EVENT_TRADE } from "../sim/event.ts";

/** Holds every account of the deployment. */
export const EVERY_ACCOUNT = "*";

/** What an `accounts` entry may be: a gateway name (no spaces or control characters) or `*`. */
export const ACCOUNT_NAME = /^[^\s\x00-\x1f\x7f*]{1,64}$/;

const OWNED_EVENTS = [EVENT_ORDER, EVENT_TRADE, EVENT_POSITION, EVENT_ACCOUNT, EVENT_LOG];

function gatewayOf(data: unknown): string | undefined {
  const name = (data as { gatewayName?: unknown } | null | undefined)?.gatewayName;
  return typeof name === "string" ? name : undefined;
}

/** Whether a topic's events belong to accounts (false: market data, everyone's). */
export function isAccountTopic(topic: string): boolean {
  return OWNED_EVENTS.some((prefix) => topic.startsWith(prefix));
}

export class Holdings {
  readonly all: boolean;
  /** The gateway names held, sorted; empty when `all`. */
  readonly names: readonly string[];
  readonly #names: ReadonlySet<string>;

  constructor(accounts: readonly string[] = []) {
    this.all = accounts.includes(EVERY_ACCOUNT);
    this.names = this.all ? [] : [...new Set(accounts)].sort();
    this.#names = new Set(this.names);
  }

  /** Users with the same holdings see the same events: one key per such group. */
  get key(): string {
    return this.all ? EVERY_ACCOUNT : this.names.join("\n");
  }

  get none(): boolean {
    return !this.all && this.names.length === 0;
  }

  /** For messages: `SIM, SIM2`, `every account`, `no account`. */
  get label(): string {
    return this.all ? "every account" : this.none ? "no account" : this.names.join(", ");
  }

  holds(gatewayName: string | undefined): boolean {
    return gatewayName !== undefined && (this.all || this.#names.has(gatewayName));
  }

  /** Whether a piece of account data (an order, trade, position, account, log) is ours. */
  owns(data: unknown): boolean {
    if (this.all) return true;
    const name = gatewayOf(data);
    return name !== undefined && name !== "" && this.#names.has(name);
  }

  /** Whether an event on `topic` may reach us: market data always, account data when ours. */
  sees(topic: string, data: unknown): boolean {
    return !isAccountTopic(topic) || this.owns(data);
  }

  /**
   * Whether events of an account stream (`eOrder.SIM.`, `eTrade.`) may reach us: a
   * per-gateway stream when we hold that gateway; a shared one when we hold any account.
   */
  mayFollow(stream: string): boolean {
    if (this.all || !isAccountTopic(stream)) return true;
    if (this.none) return false;
    for (const prefix of ["eOrder.", "eAccount."]) {
      if (stream.startsWith(prefix) && stream.length > prefix.length) {
        const rest = stream.slice(prefix.length);
        return this.names.some((name) => rest === name || rest.startsWith(`${name}.`));
      }
    }
    return true;
  }

  /**
   * The gateway a request of ours goes to: the one named, if we hold it; else the only one we
   * hold (the service would otherwise route by symbol, perhaps to someone else's account); ""
   * (the service routes) when we hold every account.
   */
  gatewayFor(named: string | undefined): string {
    if (named) {
      if (!this.holds(named)) throw new RpcError("PERMISSION_DENIED", `Account ${named} is not yours (you hold ${this.label})`);
      return named;
    }
    if (this.all) return "";
    if (this.names.length === 1) return this.names[0]!;
    if (this.none) throw new RpcError("PERMISSION_DENIED", "You hold no account: ask the door's operator for one (tradewire web adduser NAME --account GATEWAY)");
    throw new RpcError("INVALID_ARGUMENT", `Name the account (gatewayName): you hold ${this.label}`);
  }
}
