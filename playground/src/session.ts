/**
 * One run of the playground: the exchange and its RpcService in a WebWorker, an RpcClient in the
 * page. The client's transport is the worker's MessagePort, wrapped twice:
 *
 *   RpcClient → tap (wire log) → withFaults (latency, loss, cut) → workerClient(worker)
 *
 * so the log shows what the client really sent and received: a request dropped by the fault
 * injector is in the log, its reply is not. Above the client sits an RpcGateway, VeighNa's
 * client-side gateway: it loads the account's state, then follows the broadcast and puts every
 * event on an EventEngine, which the page's store listens to. A new seed is a new session.
 *
 * Or, pointed at a deployment (`deployment`: the web door's URL and a login), the same client
 * and gateway talk to a real RpcService through the door's WebSocket instead of the worker:
 *
 *   RpcClient → tap → withFaults → webDoorTransport(door) ⇢ tradewire web ⇢ ZeroMQ ⇢ RpcService
 */
import { RpcClient, tap, withFaults, type ClientTransport, type FaultControls, type Gap, type TapFrame } from "../../lib/index.ts";
import { workerClient } from "../../transports/worker.ts";
import { EVENT_ACCOUNT, EVENT_ORDER, EVENT_POSITION, EVENT_TRADE, EventEngine, RpcGateway, type AccountData, type ContractData } from "../../sim/index.ts";
import { loginToWebDoor, webDoorTransport, type WebDoorSession } from "../../web/client.ts";
import type { WorkerReady, WorkerRequest, WorkerResponse } from "./worker-protocol.ts";

/** The page's gateway name: order ids it hands out read "RPC.7". */
export const PAGE_GATEWAY = "RPC";

/** A tapped frame with the page's own clock, a sequence number and, for replies, the round trip. */
export interface WireFrame extends TapFrame {
  seq: number;
  /** performance.now() when the frame passed the tap. */
  at: number;
  /** Replies: milliseconds since the request with the same id went out. */
  rttMs?: number;
  /** Replies: the function the request called. */
  replyTo?: string;
}

/**
 * Not a frame: the client noticed that events did not arrive (a `gap`: their numbers jumped) or
 * that the server restarted (a new epoch). Shown in the wire log where it was noticed.
 */
export interface WireMarker {
  kind: "gap" | "restart";
  seq: number;
  at: number;
  /** Gaps noticed together (one heartbeat may reveal several streams); empty for a restart. */
  gaps: Gap[];
  /** True when it makes RpcGateway reload orders, trades, positions and account (lost ticks do not). */
  reloading: boolean;
}

/** What the wire log records: frames as they passed, and markers of what the client noticed. */
export type WireEntry = WireFrame | WireMarker;

export function isMarker(entry: WireEntry): entry is WireMarker {
  return entry.kind === "gap" || entry.kind === "restart";
}

export interface SessionOptions {
  seed: number;
  onFrame: (entry: WireEntry) => void;
  /** Every event the gateway reports, by VeighNa type (`eTick.IF2512.CFFEX`, `eOrder.RPC.3`). */
  onEvent: (type: string, data: unknown) => void;
  /** Heartbeat silence after which the client reports "disconnected". */
  heartbeatToleranceMs?: number;
  /** Talk to a deployment through its web door instead of an exchange in a worker. */
  deployment?: DeploymentLogin;
}

/** Where a deployment's web door is (`http://127.0.0.1:8080`) and who logs in. */
export interface DeploymentLogin {
  url: string;
  username: string;
  password: string;
}

export class Session {
  readonly client: RpcClient;
  readonly gateway: RpcGateway;
  readonly faults: FaultControls;
  readonly info: WorkerReady;
  readonly #worker: Worker | undefined;
  readonly #off: Array<() => void> = [];

  private constructor(worker: Worker | undefined, client: RpcClient, gateway: RpcGateway, faults: FaultControls, info: WorkerReady) {
    this.#worker = worker;
    this.client = client;
    this.gateway = gateway;
    this.faults = faults;
    this.info = info;
  }

  static async open(options: SessionOptions): Promise<Session> {
    const worker = options.deployment ? undefined : new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "tradewire-exchange" });
    let client: RpcClient | undefined;
    let door: DoorLogin | undefined;
    try {
      let info: WorkerReady;
      let link: ClientTransport;
      if (options.deployment) {
        door = await DoorLogin.open(options.deployment);
        link = door.transport();
        // The service's account is learnt once connected (below).
        info = { playground: "ready", seed: options.seed, gatewayName: "", functions: [] };
      } else {
        info = await initialise(worker!, { playground: "init", seed: options.seed });
        link = workerClient(worker!);
      }
      const faulty = withFaults(link);
      const recorder = wireRecorder(options.onFrame);
      client = new RpcClient({
        transport: tap(faulty, recorder.frame),
        timeoutMs: 5_000,
        heartbeatToleranceMs: options.heartbeatToleranceMs ?? 3_000,
      });
      const eventEngine = new EventEngine({ onError: (error) => console.error("A page event handler threw", error) });
      eventEngine.registerGeneral((event) => options.onEvent(event.type, event.data));
      const gateway = new RpcGateway({ client, eventEngine, gatewayName: PAGE_GATEWAY, ...(info.gatewayName ? { remoteGateway: info.gatewayName } : {}) });
      await gateway.connect(); // starts the client, loads contracts, account, positions, orders, trades
      await waitConnected(client);
      if (door) info.gatewayName = (await client.call<AccountData[]>("getAllAccounts"))[0]?.gatewayName ?? "";
      const session = new Session(worker, client, gateway, faulty.faults, info);
      if (door) {
        const login = door;
        session.#off.push(() => login.close());
      }
      session.#watch();
      session.#markLosses(recorder.marker);
      // Ticks of every instrument: the chart keeps bars for all, so switching is instant.
      for (const contract of await client.call<ContractData[]>("getAllContracts")) {
        await gateway.subscribe({ symbol: contract.symbol, exchange: contract.exchange });
      }
      return session;
    } catch (error) {
      await client?.stop();
      door?.close();
      worker?.terminate();
      throw error;
    }
  }

  /** Report worker crashes. (After an outage RpcGateway reloads the state by itself.) */
  #watch(): void {
    if (!this.#worker) return;
    const worker = this.#worker;
    // An exception inside the worker would otherwise only show as a silent server.
    const onWorkerError = (event: ErrorEvent) => console.error(`The exchange worker threw: ${event.message}`);
    worker.addEventListener("error", onWorkerError);
    this.#off.push(() => worker.removeEventListener("error", onWorkerError));
  }

  /**
   * Put a marker in the wire log at each gap and restart the client reports. The gateway hears
   * them first (it subscribed first), so `gateway.stale` already says whether it reloads; a gap
   * on ticks only does not make it reload, whatever else does. Gaps reported in one go (a
   * heartbeat naming several streams) make one marker.
   */
  #markLosses(mark: (marker: Omit<WireMarker, "seq" | "at">) => void): void {
    let pending: Gap[] | undefined;
    this.#off.push(
      this.client.on("gap", (gap) => {
        if (pending) return void pending.push(gap);
        pending = [gap];
        queueMicrotask(() => {
          const gaps = pending ?? [];
          pending = undefined;
          mark({ kind: "gap", gaps, reloading: this.gateway.stale && gaps.some((gap) => affectsState(gap.stream)) });
        });
      }),
      this.client.on("restart", () => mark({ kind: "restart", gaps: [], reloading: this.gateway.stale })),
    );
  }

  async close(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    try {
      await this.gateway.close();
      await this.client.stop();
    } finally {
      this.#worker?.terminate();
    }
  }
}

/**
 * A login to a web door, kept fresh: a minute before the token expires the page logs in again,
 * so the WebSocket's reconnect (the door closes it when the old token expires) carries a live one.
 */
class DoorLogin {
  #session: WebDoorSession;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(
    private readonly login: DeploymentLogin,
    session: WebDoorSession,
  ) {
    this.#session = session;
    this.#schedule();
  }

  static async open(login: DeploymentLogin): Promise<DoorLogin> {
    return new DoorLogin(login, await loginToWebDoor(login.url, login.username, login.password));
  }

  transport(): ClientTransport {
    return webDoorTransport(this.#session, { token: () => this.#session.token });
  }

  #schedule(delayMs = Math.max(this.#session.expiresAt - Date.now() - 60_000, 5_000)): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      loginToWebDoor(this.login.url, this.login.username, this.login.password).then(
        (next) => {
          this.#session = next;
          this.#schedule();
        },
        (error: unknown) => {
          console.error("Logging in to the web door again failed; trying again in 30 s", error);
          this.#schedule(30_000);
        },
      );
    }, delayMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

/** Streams whose loss leaves the gateway's orders, trades, positions or account wrong (as RpcGateway judges). */
const STATE_STREAMS = [EVENT_ORDER, EVENT_TRADE, EVENT_POSITION, EVENT_ACCOUNT];

function affectsState(stream: string): boolean {
  return STATE_STREAMS.some((prefix) => stream.startsWith(prefix) || prefix.startsWith(stream));
}

/** Send the seed; resolve when the worker's RpcServer listens. */
function initialise(worker: Worker, request: WorkerRequest): Promise<WorkerReady> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent) => {
      const data = event.data as WorkerResponse | undefined;
      if (data?.playground === "ready") finish(() => resolve(data));
      else if (data?.playground === "failed") finish(() => reject(new Error(`The exchange worker failed to start: ${data.message}`)));
    };
    const onError = (event: ErrorEvent) => finish(() => reject(new Error(`The exchange worker failed to load: ${event.message || "unknown error"}`)));
    const finish = (settle: () => void) => {
      worker.removeEventListener("message", onMessage);
      worker.removeEventListener("error", onError);
      settle();
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    worker.postMessage(request);
  });
}

function waitConnected(client: RpcClient): Promise<void> {
  if (client.state === "connected") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const offs = [
      client.on("connected", () => settle(resolve)),
      client.on("disconnected", (reason) => settle(() => reject(new Error(`The exchange did not answer: ${reason}`)))),
    ];
    const settle = (fn: () => void) => {
      for (const off of offs) off();
      fn();
    };
  });
}

/**
 * Number frames, stamp them with the page clock and pair replies with their requests. Markers
 * share the numbering, so a marker sits between the frames it was noticed between.
 */
function wireRecorder(onFrame: (entry: WireEntry) => void): {
  frame: (frame: TapFrame) => void;
  marker: (marker: Omit<WireMarker, "seq" | "at">) => void;
} {
  let seq = 0;
  const outstanding = new Map<number, { at: number; name: string }>();
  const marker = (m: Omit<WireMarker, "seq" | "at">) => onFrame({ ...m, seq: ++seq, at: performance.now() });
  const frame = (tapped: TapFrame) => {
    const frame: WireFrame = { ...tapped, seq: ++seq, at: performance.now() };
    if (frame.kind === "request" && frame.id !== undefined) {
      outstanding.set(frame.id, { at: frame.at, name: frame.name ?? "" });
      // Requests whose reply was lost never settle here: keep the map bounded.
      if (outstanding.size > 1_000) outstanding.delete(outstanding.keys().next().value!);
    } else if ((frame.kind === "result" || frame.kind === "error") && frame.id !== undefined) {
      const request = outstanding.get(frame.id);
      if (request) {
        outstanding.delete(frame.id);
        frame.rttMs = frame.at - request.at;
        frame.replyTo = request.name;
      }
    }
    onFrame(frame);
  };
  return { frame, marker };
}
