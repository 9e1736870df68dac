"""
A Python client for tradewire's own wire: call a tradewire service and follow its broadcasts
from any Python process, without pickle. Needs only pyzmq and msgpack (Debian:
``apt install python3-zmq python3-msgpack``; pip: ``pip install pyzmq msgpack``).

    from tradewire_client import TradewireClient, RpcError

    with TradewireClient("tcp://127.0.0.1:2014", "tcp://127.0.0.1:4102") as client:
        print(client.call("getAllContracts"))
        client.subscribe("eTick.", lambda topic, tick: print(topic, tick["lastPrice"]))
        try:
            client.call("sendOrder", {"symbol": "IF2512", "exchange": "CFFEX", "direction": "LONG",
                                      "type": "LIMIT", "volume": 1, "price": 3999.2}, timeout=2.0)
        except RpcError as error:
            print(error.code, error)

The wire (tradewire lib/wire.ts, version 1): every frame is a MessagePack array.
A request is one frame ``[1, 0, id, name, args, timeoutMs, meta]`` on a DEALER; the answer is
``[1, 2, id, value]`` or ``[1, 3, id, code, message]``. Broadcasts arrive on a SUB as two frames,
``[topic, [1, 4, data, seq, epoch, ...]]``; the server's heartbeat is the topic ``$tw.heartbeat``
with ``[1, 5, state, epoch, recent, beat]`` (every second by default).

Threads: one I/O thread owns both sockets (ZeroMQ sockets are not thread-safe). ``call`` may be
used from any thread, many calls in flight at once (``submit`` returns a Future). Broadcast
handlers and the connected/disconnected callbacks run on the I/O thread: keep them short.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable

import msgpack
import zmq

__all__ = ["TradewireClient", "RpcError", "RPC_CODES"]

WIRE_VERSION = 1
KIND_REQUEST, KIND_CANCEL, KIND_RESULT, KIND_ERROR, KIND_EVENT, KIND_HEARTBEAT = 0, 1, 2, 3, 4, 5
HEARTBEAT_TOPIC = "$tw.heartbeat"

#: The codes a failed call carries (tradewire's ``RpcCode``); there are no others.
RPC_CODES = (
    "TIMEOUT", "NOT_FOUND", "INVALID_ARGUMENT", "INTERNAL", "UNAVAILABLE", "CANCELLED",
    "RESOURCE_EXHAUSTED", "UNAUTHENTICATED", "PERMISSION_DENIED",
)


class RpcError(Exception):
    """A failed call: ``code`` is one of ``RPC_CODES``, ``message`` the server's or ours."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


TopicHandler = Callable[[str, Any], None]


class TradewireClient:
    """A DEALER to the server's request address and a SUB to its broadcast address."""

    def __init__(
        self,
        req: str = "tcp://127.0.0.1:2014",
        sub: str = "tcp://127.0.0.1:4102",
        timeout: float = 5.0,
        heartbeat_tolerance: float = 3.0,
        on_connected: Callable[[], None] | None = None,
        on_disconnected: Callable[[str], None] | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        self.req = req
        self.sub = sub
        self.timeout = timeout
        self.heartbeat_tolerance = heartbeat_tolerance
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        #: The server's epoch (a new number after each restart); 0 until the first heartbeat.
        self.epoch = 0
        self._context = context or zmq.Context.instance()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._outbox: deque[tuple[str, Any]] = deque()
        self._pending: dict[int, tuple[Future, float]] = {}
        self._handlers: dict[str, list[TopicHandler]] = {}
        self._connected = False
        self._heard = False
        self._last_beat = 0.0
        self._thread: threading.Thread | None = None
        self._running = False
        self._wake_address = f"inproc://tradewire-wake-{id(self)}"
        self._wake_send: zmq.Socket | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "TradewireClient":
        if self._running:
            return self
        self._running = True
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="tradewire-client", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        """Close the sockets; calls still in flight fail with UNAVAILABLE."""
        if not self._running:
            return
        self._running = False
        self._wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "TradewireClient":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        """True while the server's heartbeats arrive."""
        return self._connected

    # --- calls -------------------------------------------------------------------------------

    def submit(self, name: str, *args: Any, timeout: float | None = None, meta: dict[str, str] | None = None) -> Future:
        """Send a call; the Future's result is the value, or it raises ``RpcError``."""
        if not self._running:
            raise RpcError("UNAVAILABLE", "The client is not started")
        limit = self.timeout if timeout is None else timeout
        if not limit > 0:
            raise ValueError("timeout must be a positive number of seconds")
        future: Future = Future()
        call_id = next(self._ids)
        frame = msgpack.packb(
            [WIRE_VERSION, KIND_REQUEST, call_id, name, list(args), int(limit * 1000), meta or None], use_bin_type=True
        )
        with self._lock:
            self._pending[call_id] = (future, time.monotonic() + limit)
            self._outbox.append(("send", frame))
        self._wake()
        return future

    def call(self, name: str, *args: Any, timeout: float | None = None, meta: dict[str, str] | None = None) -> Any:
        """Call ``name(*args)`` on the server and wait for the result (raises ``RpcError``)."""
        return self.submit(name, *args, timeout=timeout, meta=meta).result()

    # --- broadcasts --------------------------------------------------------------------------

    def subscribe(self, prefix: str, handler: TopicHandler) -> None:
        """Call ``handler(topic, data)`` for each broadcast whose topic starts with ``prefix``."""
        if prefix.startswith("$"):
            raise ValueError("Topics starting with $ are tradewire's own")
        with self._lock:
            first = prefix not in self._handlers
            self._handlers.setdefault(prefix, []).append(handler)
            if first:
                self._outbox.append(("subscribe", prefix))
        self._wake()

    def unsubscribe(self, prefix: str) -> None:
        with self._lock:
            if self._handlers.pop(prefix, None) is not None:
                self._outbox.append(("unsubscribe", prefix))
        self._wake()

    # --- the I/O thread ----------------------------------------------------------------------

    def _wake(self) -> None:
        with self._lock:
            if self._wake_send is not None:
                try:
                    self._wake_send.send(b"", zmq.NOBLOCK)
                except zmq.Again:
                    pass  # wake-ups already queued: the thread will look at everything

    def _run(self, ready: threading.Event) -> None:
        ctx = self._context
        dealer = ctx.socket(zmq.DEALER)
        subscriber = ctx.socket(zmq.SUB)
        wake_recv = ctx.socket(zmq.PAIR)
        wake_recv.bind(self._wake_address)
        with self._lock:
            self._wake_send = ctx.socket(zmq.PAIR)
            self._wake_send.connect(self._wake_address)
        for s in (dealer, subscriber, wake_recv):
            s.setsockopt(zmq.LINGER, 0)
        dealer.connect(self.req)
        subscriber.setsockopt_string(zmq.SUBSCRIBE, HEARTBEAT_TOPIC)
        subscriber.connect(self.sub)
        poller = zmq.Poller()
        for s in (dealer, subscriber, wake_recv):
            poller.register(s, zmq.POLLIN)
        ready.set()
        try:
            while self._running:
                for s, _ in poller.poll(self._poll_ms()):
                    if s is wake_recv:
                        while wake_recv.poll(0):
                            wake_recv.recv()
                    elif s is dealer:
                        while dealer.poll(0):
                            self._on_reply(dealer.recv())
                    else:
                        while subscriber.poll(0):
                            self._on_broadcast(subscriber.recv_multipart())
                self._flush(dealer, subscriber)
                self._check_deadlines(dealer)
                self._check_liveness()
        finally:
            with self._lock:
                self._wake_send.close()
                self._wake_send = None
                pending = list(self._pending.values())
                self._pending.clear()
            for future, _ in pending:
                _fail(future, "UNAVAILABLE", "The client stopped")
            for s in (dealer, subscriber, wake_recv):
                s.close()

    def _poll_ms(self) -> int:
        now = time.monotonic()
        with self._lock:
            soonest = min((deadline for _, deadline in self._pending.values()), default=now + 0.25)
        return max(0, min(250, int((soonest - now) * 1000) + 1))

    def _flush(self, dealer: zmq.Socket, subscriber: zmq.Socket) -> None:
        while True:
            with self._lock:
                if not self._outbox:
                    return
                what, value = self._outbox.popleft()
            if what == "send":
                dealer.send(value)
            elif what == "subscribe":
                subscriber.setsockopt_string(zmq.SUBSCRIBE, value)
            else:
                subscriber.setsockopt_string(zmq.UNSUBSCRIBE, value)

    def _check_deadlines(self, dealer: zmq.Socket) -> None:
        now = time.monotonic()
        with self._lock:
            late = [(i, f) for i, (f, deadline) in self._pending.items() if deadline <= now]
            for i, _ in late:
                del self._pending[i]
        for call_id, future in late:
            # Tell the server to stop working on it, as tradewire's own client does.
            dealer.send(msgpack.packb([WIRE_VERSION, KIND_CANCEL, call_id]))
            if self._heard:
                _fail(future, "TIMEOUT", "The call's deadline passed")
            else:
                _fail(future, "UNAVAILABLE", f"No heartbeat from a server (is a tradewire server running at {self.req}?)")

    def _check_liveness(self) -> None:
        if self._connected and time.monotonic() - self._last_beat > self.heartbeat_tolerance:
            self._lose(f"No heartbeat for {self.heartbeat_tolerance:g} s")

    def _lose(self, reason: str) -> None:
        self._connected = False
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for future, _ in pending:
            _fail(future, "UNAVAILABLE", f"Connection lost: {reason}")
        if self.on_disconnected:
            _quietly(self.on_disconnected, reason)

    def _on_reply(self, frame: bytes) -> None:
        try:
            message = msgpack.unpackb(frame, raw=False, strict_map_key=False)
            version, kind, call_id = message[0], message[1], message[2]
        except Exception:  # noqa: BLE001 - a malformed frame is dropped
            return
        if version != WIRE_VERSION:
            return
        with self._lock:
            entry = self._pending.pop(call_id, None)
        if entry is None:
            return  # late, after its deadline
        future, _ = entry
        if kind == KIND_RESULT:
            future.set_result(message[3] if len(message) > 3 else None)
        elif kind == KIND_ERROR:
            _fail(future, str(message[3]), str(message[4]))
        else:
            _fail(future, "INTERNAL", f"Unexpected reply kind {kind}")

    def _on_broadcast(self, frames: list[bytes]) -> None:
        if len(frames) != 2:
            return
        try:
            topic = frames[0].decode("utf-8")
            message = msgpack.unpackb(frames[1], raw=False, strict_map_key=False)
        except Exception:  # noqa: BLE001
            return
        if not isinstance(message, list) or len(message) < 3 or message[0] != WIRE_VERSION:
            return
        if topic == HEARTBEAT_TOPIC and message[1] == KIND_HEARTBEAT:
            self._heartbeat(message)
            return
        if message[1] != KIND_EVENT:
            return
        with self._lock:
            handlers = [h for prefix, hs in self._handlers.items() if topic.startswith(prefix) for h in hs]
        for handler in handlers:
            _quietly(handler, topic, message[2])

    def _heartbeat(self, message: list) -> None:
        state = message[2]
        epoch = message[3] if len(message) > 3 and isinstance(message[3], int) else 0
        self._heard = True
        if state == "stopping":
            if self._connected:
                self._lose("The server is stopping")
            return
        self._last_beat = time.monotonic()
        self.epoch = epoch
        if not self._connected:
            self._connected = True
            if self.on_connected:
                _quietly(self.on_connected)


def _fail(future: Future, code: str, message: str) -> None:
    if not future.done():
        future.set_exception(RpcError(code, message))


def _quietly(fn: Callable, *args: Any) -> None:
    try:
        fn(*args)
    except Exception as error:  # noqa: BLE001 - a user's handler must not stop the I/O thread
        print(f"tradewire_client: handler failed: {error!r}")
