// A native libzmq peer (zeromq.js) run as a child *Node* process, so the ZMTP suites can talk
// to real libzmq from Deno too (native zeromq does not work inside Deno).
// Usage: node native-peer.mjs <mode> <address> [arg]
//   router-echo ADDR      bind a ROUTER, echo every message to its sender
//   pub ADDR              bind a PUB, publish "<topic>.<n>" / "<pid>:<n>" on topics a and b every 5 ms
//   dealer ADDR N         connect a DEALER, send N messages, expect N echoes, print "done N"
//   sub ADDR PREFIX       connect a SUB, print "msg <topic> <body>" for each message
//   xsub ADDR PREFIX      the same with an XSUB, which does not filter: it prints what the publisher sent
//   dealer-to-pub ADDR    connect a DEALER (to a PUB: the handshake must fail)
// Prints "ready <endpoint>" once bound or connecting. Exits on stdin end or SIGTERM.
import * as zmq from "zeromq";

const [mode, address, arg] = process.argv.slice(2);
const print = (line) => process.stdout.write(`${line}\n`);
const sockets = [];
const quit = () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
};
process.stdin.on("end", quit);
process.stdin.resume();
process.on("SIGTERM", quit);

if (mode === "router-echo") {
  const router = new zmq.Router({ linger: 0 });
  sockets.push(router);
  await router.bind(address);
  print(`ready ${router.lastEndpoint}`);
  for await (const message of router) await router.send(message);
} else if (mode === "pub") {
  const pub = new zmq.Publisher({ linger: 0 });
  sockets.push(pub);
  await pub.bind(address);
  print(`ready ${pub.lastEndpoint}`);
  let n = 0;
  setInterval(() => {
    n++;
    void pub.send([`a.${n}`, `${process.pid}:${n}`]);
    void pub.send([`b.${n}`, `${process.pid}:${n}`]);
  }, 5);
} else if (mode === "dealer") {
  const dealer = new zmq.Dealer({ linger: 0 });
  sockets.push(dealer);
  dealer.connect(address);
  print(`ready ${address}`);
  const count = Number(arg);
  for (let i = 0; i < count; i++) await dealer.send(["m", String(i)]);
  let got = 0;
  for await (const [, body] of dealer) {
    if (Number(body.toString()) !== got) throw new Error(`out of order: ${body} at ${got}`);
    if (++got === count) break;
  }
  print(`done ${got}`);
} else if (mode === "sub") {
  const sub = new zmq.Subscriber({ linger: 0 });
  sockets.push(sub);
  sub.subscribe(arg ?? "");
  sub.connect(address);
  print(`ready ${address}`);
  for await (const [topic, body] of sub) print(`msg ${topic} ${body ?? ""}`);
} else if (mode === "xsub") {
  const xsub = new zmq.XSubscriber({ linger: 0 });
  sockets.push(xsub);
  xsub.connect(address);
  // A subscription is a message: 1, then the prefix. XSUB sends it again to every new connection.
  await xsub.send(Buffer.concat([Buffer.from([1]), Buffer.from(arg ?? "")]));
  print(`ready ${address}`);
  for await (const [topic, body] of xsub) print(`msg ${topic} ${body ?? ""}`);
} else {
  print(`unknown mode ${mode}`);
  process.exit(2);
}
