// Baseline half of bench/zmtp.ts: zeromq.js (native libzmq) measured in its own Node process,
// so the same figures are available when the benchmark itself runs under Deno.
// Usage: node zmtp-native-client.mjs rtt ENDPOINT N WARMUP | inflight ENDPOINT WINDOW TOTAL | pubsub ADDRESS N
// Prints one JSON line with the result. `node zmtp-native-client.mjs serve` reads such commands
// from stdin, one a line, and prints one JSON line for each (one process for the whole run:
// starting Node with the addon per measurement cost more than the measurements).
import * as zmq from "zeromq";

const body = new Uint8Array(64);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function run(mode, endpoint, a, b) {
  if (mode === "rtt") {
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(endpoint);
    const n = Number(a);
    const warmup = Number(b);
    const samples = [];
    for (let i = 0; i < n + warmup; i++) {
      const start = performance.now();
      await dealer.send(body);
      await dealer.receive();
      if (i >= warmup) samples.push((performance.now() - start) * 1000);
    }
    samples.sort((x, y) => x - y);
    dealer.close();
    return JSON.stringify({ p50: percentile(samples, 50), p99: percentile(samples, 99) });
  } else if (mode === "inflight") {
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(endpoint);
    const window = Number(a);
    const total = Number(b);
    // Warm up the connection first.
    await dealer.send(body);
    await dealer.receive();
    const start = performance.now();
    let sent = 0;
    for (; sent < window; sent++) await dealer.send(body);
    for (let received = 0; received < total; received++) {
      await dealer.receive();
      if (sent < total) {
        await dealer.send(body);
        sent++;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    dealer.close();
    return JSON.stringify({ msgsPerSec: total / seconds });
  } else if (mode === "pubsub") {
    const n = Number(a);
    const pub = new zmq.Publisher({ linger: 0 });
    await pub.bind(endpoint);
    const sub = new zmq.Subscriber({ linger: 0 });
    sub.subscribe("");
    sub.connect(pub.lastEndpoint);
    // Wait until the subscription has reached the publisher.
    const probe = sub.receive();
    let joined = false;
    void probe.then(() => (joined = true));
    while (!joined) {
      await pub.send(["probe"]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    let received = 0;
    let last = 0;
    const done = (async () => {
      for await (const [topic] of sub) {
        if (topic.toString() === "end") break;
        if (topic.toString() === "tick") {
          received++;
          last = performance.now();
        }
      }
    })();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      await pub.send(["tick", body]);
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    // Repeat the end marker until the subscriber has seen it (it may itself be dropped).
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      await pub.send(["end"]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    pub.close();
    sub.close();
    return JSON.stringify({ msgsPerSec: received / ((last - start) / 1000), delivered: received / n });
  }
  throw new Error(`unknown mode ${mode}`);
}

if (process.argv[2] === "serve") {
  const { createInterface } = await import("node:readline");
  // One command at a time, in order: measurements must not overlap.
  let queue = Promise.resolve();
  createInterface({ input: process.stdin }).on("line", (line) => {
    queue = queue.then(async () => console.log(await run(...line.split(" "))));
  });
} else {
  console.log(await run(...process.argv.slice(2)));
}
