/**
 * The playground page: builds the views, starts a session (exchange worker + client) and wires
 * the two together. Everything else lives in the modules it imports, one job each.
 */
import type { ConnectionState } from "../../lib/index.ts";
import { setClass, setText } from "./dom.ts";
import { BacktestPanel } from "./backtest-panel.ts";
import { ExperimentView } from "./experiment-view.ts";
import { FrameLoop } from "./frame-loop.ts";
import { LearnPanel } from "./learn-panel.ts";
import { MarketView } from "./market-view.ts";
import { Selection } from "./selection.ts";
import { SequenceView } from "./sequence-view.ts";
import { isMarker, Session, type DeploymentLogin, type WireEntry } from "./session.ts";
import { ColourSetting } from "./colours.ts";
import { Store } from "./store.ts";
import { TradeView } from "./trade-view.ts";
import { WireLog } from "./wire-log.ts";

const DEFAULT_SEED = 42;

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const loop = new FrameLoop();
const store = new Store();
const selection = new Selection();
const market = new MarketView(store, selection, loop);
const trade = new TradeView(store, selection, loop);
const wire = new WireLog(loop);
const sequence = new SequenceView(loop);
sequence.source(() => wire.frames);
wire.onSelect = (frame) => sequence.pin(frame);
market.onPrice = (price) => trade.usePrice(price);
const colours = new ColourSetting(byId<HTMLSelectElement>("colours"), (scheme) => market.setColours(scheme));

let session: Session | undefined;
let generation = 0;
let lastHeartbeat = 0;

const experiment = new ExperimentView(loop, { replay: (seed) => void restart(seed) }, initialSeed());
const learn = new LearnPanel(() =>
  session ? { client: session.client, gateway: session.gateway, gatewayName: session.info.gatewayName, symbol: selection.value } : undefined,
);

byId("market").append(market.element);
byId("ticket").append(trade.ticket);
byId("blotter").append(trade.blotter);
byId("experiment").append(experiment.element);
byId("wire").append(wire.element);
byId("sequence").append(sequence.element);
byId("learn-body").append(learn.element);
const backtest = new BacktestPanel();
byId("backtest-body").append(backtest.element);
market.mount();
colours.apply();
setUpLearnDrawer();
setUpBacktest();

// The instrument on show survives a replay; otherwise the first to arrive is shown.
let wantedSymbol = "";
store.onChange((part, data) => {
  if (part !== "contract" || !data) return;
  const { vtSymbol } = data as { vtSymbol: string };
  if (!selection.value || vtSymbol === wantedSymbol) selection.set(vtSymbol);
});

setInterval(() => loop.request(drawHeartbeat), 200);

/** A deployment to talk to through its web door; undefined: the exchange in this page's worker. */
let deployment: DeploymentLogin | undefined;
const PAGE_TAGLINE = byId("tagline").textContent ?? "";
setUpTransportSwitch();

/**
 * The switch between the exchange in this page and a deployment. `?door=URL[&user=NAME]` (as
 * `npm start` prints it) preselects the deployment; the password is always typed, never put in
 * the URL. The password is kept only in this page's memory, to log in again before the token expires.
 */
function setUpTransportSwitch(): void {
  const select = byId<HTMLSelectElement>("transport");
  const fields = byId("door-fields");
  const url = byId<HTMLInputElement>("door-url");
  const user = byId<HTMLInputElement>("door-user");
  const password = byId<HTMLInputElement>("door-password");
  const params = new URL(location.href).searchParams;
  const door = params.get("door");
  const show = () => {
    fields.hidden = select.value !== "deployment";
    url.required = user.required = password.required = select.value === "deployment";
  };
  select.addEventListener("change", () => {
    show();
    if (select.value === "page" && deployment) {
      deployment = undefined;
      void restart(initialSeed());
    } else if (select.value === "deployment") (url.value ? (user.value ? password : user) : url).focus();
  });
  byId<HTMLFormElement>("transport-form").addEventListener("submit", (event) => {
    event.preventDefault();
    deployment = { url: url.value.trim(), username: user.value.trim(), password: password.value };
    password.value = "";
    void restart(initialSeed());
  });
  if (door) {
    select.value = "deployment";
    url.value = door;
    user.value = params.get("user") ?? "";
    show();
    showState("idle");
    setText(byId("status-text"), "log in to the deployment");
    (user.value ? password : user).focus();
  } else {
    show();
    void restart(initialSeed());
  }
}

/** Stop the running session, if any, and start a fresh worker with `seed`. */
async function restart(seed: number): Promise<void> {
  const mine = ++generation;
  const target = deployment;
  byId("fatal").hidden = true;
  experiment.showTransport(target ? "web door" : "worker");
  setText(byId("tagline"), target ? `RpcClient + RpcGateway in this page · the web door at ${target.url} (WebSocket) · the deployment's RpcService behind it` : PAGE_TAGLINE);
  learn.stop();
  if (reloadShown) {
    reloadShown = undefined;
    byId("reload-banner").hidden = true;
    document.body.classList.remove("reloading");
  }
  trade.attach(undefined);
  experiment.attach(undefined);
  const previous = session;
  session = undefined;
  showState("connecting");
  await previous?.close();
  if (mine !== generation) return;
  wantedSymbol = selection.value || wantedSymbol;
  store.clear();
  market.clear();
  wire.clear();
  selection.set("");
  lastHeartbeat = 0;
  const url = new URL(location.href);
  url.searchParams.set("seed", String(seed));
  history.replaceState(null, "", url);

  const onFrame = (entry: WireEntry) => {
    if (mine !== generation) return;
    if (entry.kind === "heartbeat") lastHeartbeat = entry.at;
    wire.push(entry);
    sequence.update(entry);
    if (isMarker(entry) && entry.reloading && session) void showReload(session, "Some events were lost");
  };
  const onEvent = (type: string, data: unknown) => {
    if (mine === generation) store.apply(type, data);
  };
  let next: Session;
  try {
    next = await Session.open({ seed, onFrame, onEvent, ...(target ? { deployment: target } : {}) });
  } catch (error) {
    if (mine === generation) fatal(error);
    return;
  }
  if (mine !== generation) return void next.close();
  session = next;
  wire.setGatewayNames({ server: next.info.gatewayName, page: next.gateway.gatewayName });
  trade.setGatewayNames({ server: next.info.gatewayName, page: next.gateway.gatewayName });
  next.client.on("connected", () => {
    showState("connected");
    // The gateway reloads after an outage too: what was broadcast meanwhile is gone.
    if (next.gateway.stale) void showReload(next, "The link was down");
  });
  next.client.on("disconnected", (reason) => showState("disconnected", reason));
  showState(next.client.state);
  trade.attach({ sendOrder: (req) => next.gateway.sendOrder(req), cancelOrder: (req) => next.gateway.cancelOrder(req) });
  experiment.attach(next);
  document.body.dataset["ready"] = "true";
}

function showState(state: ConnectionState, reason?: string): void {
  const status = byId("status");
  status.dataset["state"] = state;
  const text: Record<ConnectionState, string> = {
    idle: "stopped",
    connecting: "connecting…",
    connected: "connected",
    disconnected: `disconnected${reason ? ` (${reason})` : ""}`,
  };
  setText(byId("status-text"), text[state]);
  experiment.state(state);
  trade.connection(state);
  market.connection(state);
}

let reloadShown: Session | undefined;

/**
 * The banner from a loss until RpcGateway's reload is done (`whenFresh()`): until then the Trade
 * panel may lack orders, trades, positions or account changes that the server has.
 */
async function showReload(of: Session, why: string): Promise<void> {
  setText(byId("reload-text"), `${why}: reloading orders, trades, positions and account…`);
  if (reloadShown === of) return; // already waiting; a newer reason replaces the text
  reloadShown = of;
  const banner = byId("reload-banner");
  banner.hidden = false;
  document.body.classList.add("reloading");
  // A loss noticed during a reload asks for another: wait until none is under way or asked for.
  while (session === of && of.gateway.stale) await of.gateway.whenFresh();
  if (reloadShown !== of) return;
  reloadShown = undefined;
  banner.hidden = true;
  document.body.classList.remove("reloading");
}

function drawHeartbeat(): void {
  const element = byId("heartbeat");
  if (!lastHeartbeat) return setText(element, "");
  const ago = (performance.now() - lastHeartbeat) / 1000;
  setText(element, `♥ ${ago.toFixed(1)} s ago`);
  setClass(element, "late", ago > 1.5);
}

function initialSeed(): number {
  const text = new URL(location.href).searchParams.get("seed");
  const value = Number(text);
  return text && Number.isInteger(value) && value >= 0 ? value : DEFAULT_SEED;
}

function setUpLearnDrawer(): void {
  const drawer = byId("learn");
  const toggle = byId<HTMLButtonElement>("learn-toggle");
  const open = (on: boolean) => {
    drawer.hidden = !on;
    toggle.setAttribute("aria-expanded", String(on));
    document.body.classList.toggle("learning", on);
    // In a narrow window the panel sits below the wire log, in the page: bring it into view.
    if (on) drawer.scrollIntoView({ block: "nearest" });
    if (on) drawer.querySelector<HTMLElement>("[role=tab][aria-selected=true]")?.focus({ preventScroll: true });
    else toggle.focus();
  };
  toggle.addEventListener("click", () => open(toggle.getAttribute("aria-expanded") !== "true"));
  byId("learn-close").addEventListener("click", () => open(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !drawer.hidden) open(false);
  });
}

/** The Backtest panel: over the page (it has its own worker; the live session keeps running). */
function setUpBacktest(): void {
  const panel = byId("backtest");
  const toggle = byId<HTMLButtonElement>("backtest-toggle");
  const open = (on: boolean) => {
    panel.hidden = !on;
    toggle.setAttribute("aria-expanded", String(on));
    if (on) panel.querySelector<HTMLElement>("#bt-run")?.focus();
    else toggle.focus();
  };
  toggle.addEventListener("click", () => open(toggle.getAttribute("aria-expanded") !== "true"));
  byId("backtest-close").addEventListener("click", () => open(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) open(false);
  });
}

function fatal(error: unknown): void {
  const element = byId("fatal");
  element.hidden = false;
  element.textContent = `The playground could not start: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
}
