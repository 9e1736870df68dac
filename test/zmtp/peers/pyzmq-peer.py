"""A pyzmq peer (Debian's libzmq) for the ZMTP interop suite: a second, independent libzmq.

Usage: python3 pyzmq-peer.py <mode> <address> [arg]
  router-echo ADDR   bind a ROUTER, echo every message to its sender
  dealer ADDR N      connect a DEALER, send N messages, expect N echoes in order, print "done N"
  pub ADDR           bind a PUB, publish on topics a.<n> and b.<n> every 5 ms
  sub ADDR PREFIX    connect a SUB, print "msg <topic> <body>" per message
  xsub ADDR PREFIX   the same with an XSUB, which does not filter: it prints what the publisher sent
Prints "ready <endpoint>" first. Exits when stdin closes.
"""
import os
import sys
import threading
import time

import zmq

mode, address = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
ctx = zmq.Context()


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def exit_on_stdin_end():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_on_stdin_end, daemon=True).start()

if mode == "router-echo":
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.bind(address)
    say("ready " + sock.getsockopt_string(zmq.LAST_ENDPOINT))
    while True:
        sock.send_multipart(sock.recv_multipart())
elif mode == "dealer":
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(address)
    say("ready " + address)
    count = int(arg)
    for i in range(count):
        sock.send_multipart([b"m", str(i).encode()])
    for i in range(count):
        _, body = sock.recv_multipart()
        if int(body) != i:
            raise SystemExit("out of order: %s at %d" % (body, i))
    say("done %d" % count)
    sys.stdin.read()
elif mode == "pub":
    sock = ctx.socket(zmq.PUB)
    sock.linger = 0
    sock.bind(address)
    say("ready " + sock.getsockopt_string(zmq.LAST_ENDPOINT))
    n = 0
    while True:
        n += 1
        body = ("%d:%d" % (os.getpid(), n)).encode()
        sock.send_multipart([b"a.%d" % n, body])
        sock.send_multipart([b"b.%d" % n, body])
        time.sleep(0.005)
elif mode in ("sub", "xsub"):
    sock = ctx.socket(zmq.SUB if mode == "sub" else zmq.XSUB)
    sock.linger = 0
    if mode == "sub":
        sock.setsockopt(zmq.SUBSCRIBE, (arg or "").encode())
    sock.connect(address)
    if mode == "xsub":
        # A subscription is a message: 1, then the prefix. XSUB sends it again to every new connection.
        sock.send(b"\x01" + (arg or "").encode())
    say("ready " + address)
    while True:
        frames = sock.recv_multipart()
        say("msg %s %s" % (frames[0].decode(), frames[1].decode() if len(frames) > 1 else ""))
else:
    say("unknown mode " + mode)
    sys.exit(2)
