/**
 * The Learn panel's examples. Each runs as the body of an async function with these in scope:
 *   client        the page's RpcClient (call, proxy, subscribe)
 *   gateway       the page's RpcGateway (VeighNa's client-side gateway, named "RPC")
 *   gatewayName   the server-side gateway raw calls are routed to ("SIM")
 *   symbol        the instrument chosen in the Market panel, e.g. "IF2512.CFFEX"
 *   print(…)      write a line below the editor
 *   subscribe(prefix, handler)   client.subscribe, undone by Stop or the next Run
 *   onStop(fn)    run fn on Stop (and keep the run going until then)
 *   sleep(ms)     a promise that resolves after ms (rejects on Stop)
 *   stop()        end the run (as the Stop button)
 *   signal        an AbortSignal aborted by Stop
 *   StrategyContext   sim's strategy runner (buy/sell/short/cover, pos, onTick/onBar/onTrade)
 */
export interface Snippet {
  id: string;
  title: string;
  blurb: string;
  code: string;
}

export const SNIPPETS: Snippet[] = [
  {
    id: "call",
    title: "Call a function",
    blurb: "Requests go page → worker and come back as a result or an RpcError with a code. Watch them in the wire log.",
    code: `const contracts = await client.call("getAllContracts");
for (const c of contracts) {
  print(c.vtSymbol, c.name, "tick", c.pricetick, "size", c.size);
}

// A typed stub: api.getTick(x) is client.call("getTick", [x]).
const api = client.proxy();
const tick = await api.getTick(symbol);
print(symbol, "bid", tick?.bidPrice1, "ask", tick?.askPrice1);

// Failures are RpcErrors with a code:
try {
  await client.call("noSuchFunction");
} catch (error) {
  print(error.name, error.code, error.rawMessage);
}`,
  },
  {
    id: "subscribe",
    title: "Subscribe to a topic",
    blurb: "Broadcasts are prefix-matched topics, as ZeroMQ PUB/SUB: \"eTick.\" is every instrument, \"eTick.\" + symbol is one.",
    code: `let seen = 0;
subscribe("eTick." + symbol, (topic, tick) => {
  print(topic, tick.bidVolume1, "x", tick.bidPrice1,
        "|", tick.askPrice1, "x", tick.askVolume1);
  if (++seen === 5) stop();
});`,
  },
  {
    id: "order",
    title: "Send an order",
    blurb: "sendOrder returns the order id at once; the order's fate arrives later on eOrder., its fills on eTrade. These raw calls name the server's gateway (gatewayName).",
    code: `subscribe("eOrder.", (topic, o) =>
  print(topic, o.status, o.traded + "/" + o.volume, o.statusMsg));
subscribe("eTrade.", (topic, t) =>
  print(topic, "filled", t.volume, "@", t.price));

const dot = symbol.lastIndexOf(".");
const tick = await client.call("getTick", [symbol]);
const order = {
  symbol: symbol.slice(0, dot),
  exchange: symbol.slice(dot + 1),
  direction: "LONG",
  offset: "OPEN",
  type: "LIMIT",
  price: tick.askPrice1,
  volume: 1,
  reference: "learn",
};
const id = await client.call("sendOrder", [order, gatewayName]);
print("sent", id);
await sleep(3000);
stop();`,
  },
  {
    id: "strategy",
    title: "Write a strategy",
    blurb: "A strategy is plain callbacks. The same object runs on SimGateway in a unit test (virtual time, deterministic) and here on the page's RpcGateway. This one buys after three rising ticks and sells after three falling ones. Stop ends it.",
    code: `let last = 0, run = 0;
const momentum = {
  onTick(tick, ctx) {
    const p = tick.lastPrice;
    if (last && p > last) run = Math.max(1, run + 1);
    if (last && p < last) run = Math.min(-1, run - 1);
    last = p;
    if (ctx.activeOrders().length) return; // one at a time
    const { askPrice1: ask, bidPrice1: bid } = tick;
    if (run >= 3 && ctx.pos < 0) ctx.cover(ask, 1);
    else if (run >= 3 && ctx.pos === 0) ctx.buy(ask, 1);
    else if (run <= -3 && ctx.pos > 0) ctx.sell(bid, 1);
    else if (run <= -3 && ctx.pos === 0) ctx.short(bid, 1);
  },
  onTrade(trade, ctx) {
    print(trade.direction, trade.offset, trade.volume,
          "@", trade.price, "→ position", ctx.pos);
  },
};

const ctx = new StrategyContext(gateway, symbol,
                                { reference: "momentum" });
await ctx.start(momentum);
onStop(() => {
  ctx.stop();
  ctx.cancelAll();
  print("stopped with position", ctx.pos,
        "after", ctx.trades.length, "trades");
});
print("momentum running on", symbol, "— press Stop to end");`,
  },
];
