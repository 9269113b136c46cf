"""A client's session with the scheduler: the I/O thread, the socket, liveness and questions.

One `SchedulerSession` per `graphflow.Client`.  It owns the background
tornado loop (`graphflow.client.loop.LoopThread`) every socket of the client
runs on, the DEALER connection to the scheduler, and the table of pending
requests -- questions to the scheduler (`ask`) and to workers
(`graphflow.client.transfer`) alike, keyed by one counter.  It answers
liveness itself (``Welcome``, ``Ping``/``HeartbeatAck``, request replies) and
hands every other message to the client's ``on_message``.

When the scheduler goes away (the socket closes, a ping goes unanswered, the
token is refused, the scheduler says it is closing), `fail` records one error;
every pending request fails with it at once, and so does everything asked
later, so no caller waits forever.

    session = SchedulerSession("tcp://127.0.0.1:8786", token, client_id="client-1", on_message=handle)
    session.start(timeout=10)                             # connected and welcomed, or CommClosedError
    session.ask(messages.SchedulerInfoRequest())           # a typed question, its answer
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
import time

from ..comm import messages
from ..errors import AuthenticationError, CommClosedError
from .loop import LoopThread

__all__ = ["SchedulerSession"]

RELEASE_INTERVAL = 0.05  # seconds between runs of the session's periodic job (batched key releases)


class SchedulerSession:
    """The connection of one client to its scheduler; see the module docstring.

    ``on_message(msg)``: what the session does not handle itself (key reports,
    actor answers).  ``on_fail(error)``: called once when the session fails.
    ``periodic()``: run every `RELEASE_INTERVAL` on the I/O thread.
    """

    def __init__(self, address: str, token: bytes | None, *, client_id: str, on_message, on_fail=None,
                 periodic=None, curve_secret=None, timeout: float = 10.0, ping_interval: float = 1.0):
        self.address = address
        self.token = token
        self.client_id = client_id
        self.curve_secret = curve_secret
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.on_message = on_message
        self.on_fail = on_fail
        self.periodic = periodic
        self.error: BaseException | None = None  # why the session ended, once it has
        self.requests: dict = {}  # request id -> concurrent.futures.Future
        self.request_ids = itertools.count(1)
        self.io: LoopThread | None = LoopThread(f"graphflow-{client_id}")
        self.conn = None
        self._welcome = threading.Event()
        self._last_ack = time.monotonic()
        self._timers: list = []
        self.close_peers = None  # the client's: close its worker connections (I/O thread) before ours

    @property
    def loop(self):
        """The tornado IOLoop every socket of this client runs on."""
        return self.io.loop

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "SchedulerSession":
        """Connect and wait for the scheduler's welcome (`CommClosedError` after ``timeout``)."""
        self.io.call(self._connect)
        deadline = time.monotonic() + self.timeout
        while not self._welcome.wait(0.05):
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                raise CommClosedError(
                    f"could not reach a graphflow scheduler at {self.address} within {self.timeout} s; "
                    f"is it running, and is the address right?")
        return self

    def _connect(self) -> None:
        from tornado.ioloop import PeriodicCallback

        from ..comm.transport import Connection

        self.conn = Connection(self.address, self.token, self.dispatch, loop=self.loop, on_close=self._lost,
                               curve_secret=self.curve_secret)
        self.conn.send(messages.RegisterClient(self.client_id))
        self._timers = [PeriodicCallback(self._ping, self.ping_interval * 1000)]
        if self.periodic is not None:
            self._timers.append(PeriodicCallback(self.periodic, RELEASE_INTERVAL * 1000))
        for timer in self._timers:
            timer.start()

    def close(self, say_goodbye: bool) -> None:
        """Tell the scheduler we are leaving (when ``say_goodbye``), close the sockets and stop the I/O thread."""
        io, self.io = self.io, None
        if io is None:
            return
        if say_goodbye and self.error is None:
            try:
                io.call(self.send, messages.Goodbye("client closed"), timeout=2)  # the scheduler releases our keys
            except Exception:
                pass
        try:
            io.call(self._close_sockets, timeout=2)
        except Exception:
            pass
        io.stop()

    def _close_sockets(self) -> None:
        for timer in self._timers:
            timer.stop()
        if self.close_peers is not None:
            self.close_peers()
        if self.conn is not None:
            self.conn.close()

    # ------------------------------------------------------------------ liveness and failure

    def _ping(self) -> None:
        silent = time.monotonic() - self._last_ack
        if self._welcome.is_set() and silent > max(5.0, 5 * self.ping_interval):
            return self._lost(f"no answer for {silent:.1f} s")
        self.conn.send(messages.Ping(time.time()))

    def _lost(self, exc=None) -> None:
        if isinstance(exc, AuthenticationError):
            error = AuthenticationError(f"the scheduler at {self.address} refused this client: the cluster token "
                                        f"does not match (set GRAPHFLOW_TOKEN or ~/.graphflow/token)")
        else:
            error = CommClosedError(f"lost the scheduler at {self.address}: {exc}; its results are gone - start "
                                    f"a new cluster and Client")
        self.fail(error)

    def fail(self, error: BaseException) -> None:
        """End the session with ``error``: pending and later requests raise it (the first error wins)."""
        if self.error is not None:
            return
        self.error = error
        for request in list(self.requests.values()):
            if not request.done():
                request.set_exception(error)
        if self.on_fail is not None:
            self.on_fail(error)

    def check_open(self) -> None:
        """Raise the session's error if it has ended."""
        if self.error is not None:
            raise self.error

    # ------------------------------------------------------------------ messages

    def dispatch(self, msg) -> None:
        """Handle a message from the scheduler or a worker (I/O thread); the rest goes to ``on_message``."""
        t = type(msg)
        if t is messages.RpcReply:
            request = self.requests.pop(msg.request_id, None)
            if request is not None and not request.done():
                if msg.error is not None:
                    request.set_exception(msg.error)
                else:
                    request.set_result(msg.value)
        elif t is messages.DataReply:
            request = self.requests.pop(msg.request_id, None)
            if request is not None and not request.done():
                request.set_result(msg)
        elif t is messages.HeartbeatAck:
            self._last_ack = time.monotonic()
        elif t is messages.Welcome:
            self._last_ack = time.monotonic()
            self._welcome.set()
        elif t is messages.SchedulerClosing:
            self.fail(CommClosedError(f"the scheduler at {self.address} closed: {msg.reason}"))
        else:
            self.on_message(msg)

    def send(self, msg) -> None:
        """Send ``msg`` to the scheduler (on the I/O thread)."""
        self.conn.send(msg)

    def send_threadsafe(self, msg) -> None:
        """Serialize here, in the caller's thread (a SerializationError reaches the caller), send on the loop."""
        self.check_open()
        self.conn.send_threadsafe(msg)

    def new_request(self) -> tuple:
        """``(request_id, future)``: a pending answer, failed at once if the session ends."""
        request: concurrent.futures.Future = concurrent.futures.Future()
        request_id = next(self.request_ids)
        self.requests[request_id] = request
        return request_id, request

    def ask(self, request: messages.Request, timeout: float | None = None):
        """Ask the scheduler ``request`` (a `graphflow.comm.messages.Request`) and wait for its answer."""
        self.check_open()
        request_id, answer = self.new_request()
        self.loop.add_callback(self.conn.send, messages.Rpc(request_id, request))
        try:
            return answer.result(self.timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            self.requests.pop(request_id, None)
            raise CommClosedError(f"the scheduler at {self.address} did not answer {type(request).__name__} "
                                  f"within {self.timeout if timeout is None else timeout} s") from None
