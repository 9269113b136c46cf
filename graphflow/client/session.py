"""A client's session with the scheduler: the I/O thread, the socket, liveness, questions, reconnection.

One `SchedulerSession` per `graphflow.Client`.  It owns the background
tornado loop (`graphflow.client.loop.LoopThread`) every socket of the client
runs on, the DEALER connection to the scheduler, and the table of pending
requests -- questions to the scheduler (`ask`) and to workers
(`graphflow.client.transfer`) alike, keyed by one counter.  It answers
liveness itself (``Welcome``, ``Ping``/``HeartbeatAck``, request replies) and
hands every other message to the client's ``on_message``.

Liveness.  The scheduler is gone when its connection drops: a killed process
closes its socket at once, and a host that vanished stops answering the
transport's heartbeats, which libzmq's own I/O thread answers -- off the
scheduler's Python loop, so a scheduler busy for a minute taking in a graph
of a million tasks is still alive, and so is a client whose own loop is
busy.  Any message from the scheduler counts as a sign of life; a long
silence on a connection that is up is only logged (once), never taken for
death.  (``inproc://`` has no connection events: there, silence for
``5 * ping_interval`` (at least 5 s) is all we can go by.)

Losing the scheduler (the connection drops, the scheduler says it is
closing) is one `fail`: one log line, every pending request and every key
still waiting fails with one `CommClosedError`, and so does everything asked
while the scheduler is away -- no caller waits forever and nothing repeats in
the log.  Then the session quietly tries to reconnect, once a second: when a
scheduler answers at the same address, the session is running again (the
old results are gone; new work runs).  A refused token ends it for good.

    session = SchedulerSession("tcp://127.0.0.1:8786", token, client_id="client-1", on_message=handle)
    session.start()                                       # connected and welcomed, or CommClosedError
    session.ask(messages.SchedulerInfoRequest())           # a typed question, its answer
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import threading
import time

from ..comm import messages
from ..errors import AuthenticationError, CommClosedError
from .loop import LoopThread
from .unreadable import failed_requests, repair

__all__ = ["SchedulerSession"]

logger = logging.getLogger("graphflow.client")

RELEASE_INTERVAL = 0.05  # seconds between runs of the session's periodic job (batched key releases)
RECONNECT_INTERVAL = 1.0  # seconds between attempts to reach a scheduler that went away
ATTEMPT_TIMEOUT = 10.0  # seconds one reconnection attempt may wait for the scheduler's welcome
SILENCE_NOTICE = 30.0  # seconds of silence on a live connection after which the log says the scheduler is busy

RUNNING, RECONNECTING, CLOSED = "running", "reconnecting", "closed"


class SchedulerSession:
    """The connection of one client to its scheduler; see the module docstring.

    ``on_message(msg)``: what the session does not handle itself (key reports,
    actor answers).  ``on_fail(error)``: called once each time the scheduler
    is lost (I/O thread).  ``on_reconnect()``: called when a scheduler
    answers again after that.  ``periodic()``: run every `RELEASE_INTERVAL`
    on the I/O thread while connected.  ``status``: ``"connecting"``,
    ``"running"``, ``"reconnecting"`` or ``"closed"``.
    """

    def __init__(self, address: str, token: bytes | None, *, client_id: str, on_message, on_fail=None,
                 on_reconnect=None, periodic=None, curve_secret=None, timeout: float = 10.0,
                 ping_interval: float = 1.0, reconnect: bool = True):
        self.address = address
        self.token = token
        self.client_id = client_id
        self.curve_secret = curve_secret
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.reconnect = reconnect and not address.startswith("inproc://")
        self.on_message = on_message
        self.on_fail = on_fail
        self.on_reconnect = on_reconnect
        self.periodic = periodic
        self.status = "connecting"
        self.error: BaseException | None = None  # why the scheduler cannot be asked now (None: it can)
        self.outages = 0  # times the scheduler was lost
        self.attempts = 0  # reconnection attempts made
        self.requests: dict = {}  # request id -> concurrent.futures.Future
        self.request_ids = itertools.count(1)
        self.io: LoopThread | None = LoopThread(f"graphflow-{client_id}")
        self.conn = None
        self._welcome = threading.Event()
        self._last_heard = time.monotonic()
        self._noticed_silence = False
        self._timers: list = []
        self._attempt_started = 0.0
        self.close_peers = None  # the client's: close its worker connections (I/O thread) before ours
        self.log_level = logging.WARNING  # of the lines saying the scheduler was lost or is back

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

        self._open_connection(fail_if_unreachable=False)
        self._timers = [PeriodicCallback(self._ping, self.ping_interval * 1000),
                        PeriodicCallback(self._try_reconnect, RECONNECT_INTERVAL * 1000)]
        if self.periodic is not None:
            self._timers.append(PeriodicCallback(self._run_periodic, RELEASE_INTERVAL * 1000))
        for timer in self._timers:
            timer.start()

    def _open_connection(self, fail_if_unreachable: bool) -> None:
        from ..comm.transport import Connection

        self._last_heard = self._attempt_started = time.monotonic()
        conn = Connection(self.address, self.token, self.dispatch, loop=self.loop,
                          on_close=lambda exc: self._connection_closed(conn, exc), curve_secret=self.curve_secret,
                          fail_if_unreachable=fail_if_unreachable)
        conn.repair = repair
        self.conn = conn
        conn.send(messages.RegisterClient(self.client_id))

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
        self.status = CLOSED
        if self.error is None:
            self.error = CommClosedError("this Client was closed; open a new one")
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
            self.conn = None

    # ------------------------------------------------------------------ liveness and failure

    def _ping(self) -> None:
        if self.status != RUNNING or self.conn is None:
            return
        silent = time.monotonic() - self._last_heard
        if silent > max(5.0, 5 * self.ping_interval) and self.address.startswith("inproc://"):
            return self._lost(f"no answer for {silent:.1f} s")  # no connection events to go by
        if silent > SILENCE_NOTICE and not self._noticed_silence:
            self._noticed_silence = True
            logger.warning("client %s: the scheduler at %s has not answered for %.0f s; its connection is up, so "
                           "it is busy (taking in a large graph?); still waiting", self.client_id, self.address,
                           silent)
        self.conn.send(messages.Ping(time.time()))

    def _run_periodic(self) -> None:
        if self.status == RUNNING:
            self.periodic()

    def _connection_closed(self, conn, exc) -> None:
        """A connection of ours dropped (I/O thread): the live one means the scheduler is lost."""
        if conn is not self.conn:
            return  # an old attempt
        self.conn = None
        if isinstance(exc, AuthenticationError):
            return self._end(AuthenticationError(
                f"the scheduler at {self.address} refused this client: {exc} (this client needs the "
                f"cluster token, GRAPHFLOW_TOKEN or ~/.graphflow/token, and the cluster's comm.encrypt setting)"))
        if self.status == RECONNECTING:
            return  # nothing listens there yet; the next attempt comes within RECONNECT_INTERVAL
        self._lost(exc)

    def _lost(self, reason) -> None:
        """The scheduler went away: fail what waits on it once, then reconnect quietly (or end)."""
        if self.status in (RECONNECTING, CLOSED):
            return
        if not self._welcome.is_set():  # never connected: `start` raises this
            return self._end(CommClosedError(f"lost the scheduler at {self.address} before it answered: {reason}"))
        again = ("the client reconnects when a scheduler answers at that address again: submit the work again "
                 "then" if self.reconnect else "open a new Client")
        error = CommClosedError(f"lost the scheduler at {self.address}: {reason}; the results it held are "
                                f"gone ({again})")
        if not self.reconnect:
            return self._end(error)
        self.status = RECONNECTING
        self.outages += 1
        self._drop_connections()
        logger.log(self.log_level, "client %s: %s", self.client_id, error)
        self.fail(error)

    def _end(self, error: BaseException) -> None:
        """The session is over for good (a refused token, no reconnection): fail everything once."""
        if self.status == CLOSED:
            return
        if self.status != "connecting":
            logger.log(self.log_level, "client %s: %s", self.client_id, error)
        self.status = CLOSED
        self._drop_connections()
        for timer in self._timers:
            timer.stop()
        self.fail(error)

    def _drop_connections(self) -> None:
        if self.close_peers is not None:
            self.close_peers()
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close(linger=0)

    def _try_reconnect(self) -> None:
        """Every `RECONNECT_INTERVAL` while the scheduler is away: one attempt at a time (I/O thread)."""
        if self.status != RECONNECTING:
            return
        if self.conn is not None:
            if time.monotonic() - self._attempt_started < ATTEMPT_TIMEOUT:
                return  # connected or connecting, waiting for the welcome
            conn, self.conn = self.conn, None
            conn.close(linger=0)
        self._welcome.clear()
        self.attempts += 1
        self._open_connection(fail_if_unreachable=True)

    def _welcomed(self) -> None:
        self._welcome.set()
        if self.status == RECONNECTING:
            self.status = RUNNING
            self.error = None
            logger.log(self.log_level, "client %s: reconnected to the scheduler at %s", self.client_id,
                       self.address)
            if self.on_reconnect is not None:
                self.on_reconnect()
        elif self.status == "connecting":
            self.status = RUNNING

    def fail(self, error: BaseException) -> None:
        """Fail pending and later requests with ``error`` (until a reconnection) and tell ``on_fail``."""
        self.error = error
        for request_id in list(self.requests):
            request = self.requests.pop(request_id, None)
            if request is not None:
                _fail_request(request, error)
        if self.on_fail is not None:
            self.on_fail(error)

    def check_open(self) -> None:
        """Raise why the scheduler cannot be asked now, if it cannot (a fresh copy each time: the shared error
        would collect every raiser's traceback)."""
        error = self.error
        if error is not None:
            raise type(error)(*error.args)

    # ------------------------------------------------------------------ messages

    def dispatch(self, msg) -> None:
        """Handle a message from the scheduler or a worker (I/O thread); the rest goes to ``on_message``."""
        t = type(msg)
        if t is messages.RpcReply:
            request = self.requests.pop(msg.request_id, None)
            if request is not None:
                if msg.error is not None:
                    _fail_request(request, msg.error)
                else:
                    _answer_request(request, msg.value)
        elif t is messages.DataReply:
            request = self.requests.pop(msg.request_id, None)
            if request is not None:
                _answer_request(request, msg)
        elif t is messages.HeartbeatAck:
            pass
        elif t is messages.Unreadable:  # a scatter or question of ours could not be loaded (client.unreadable)
            for request_id, error in failed_requests(msg):
                request = self.requests.pop(request_id, None)
                if request is not None:
                    _fail_request(request, error)
            self.on_message(msg)
        elif t is messages.Welcome:
            self._welcomed()
        elif t is messages.SchedulerClosing:
            self._lost(f"it closed ({msg.reason})")
        else:
            self.on_message(msg)
        # Any message is a sign of life (worker replies come through here too, and are harmless).
        self._last_heard = time.monotonic()
        self._noticed_silence = False

    def send(self, msg) -> None:
        """Send ``msg`` to the scheduler (on the I/O thread); dropped while the scheduler is away."""
        conn = self.conn
        if self.error is None and conn is not None and not conn.closed:
            conn.send(msg)

    def send_threadsafe(self, msg) -> None:
        """Serialize here, in the caller's thread (a SerializationError reaches the caller), send on the loop."""
        self.check_open()
        conn = self.conn
        if conn is None:
            self.check_open()
            raise CommClosedError(f"not connected to the scheduler at {self.address}")
        conn.send_threadsafe(msg)

    def new_request(self) -> tuple:
        """``(request_id, future)``: a pending answer, failed at once if the scheduler is away or goes."""
        request: concurrent.futures.Future = concurrent.futures.Future()
        request_id = next(self.request_ids)
        self.requests[request_id] = request
        error = self.error  # read after the request is listed: a `fail` running meanwhile either sees it or set this
        if error is not None:
            self.requests.pop(request_id, None)
            _fail_request(request, error)
        return request_id, request

    def ask(self, request: messages.Request, timeout: float | None = None):
        """Ask the scheduler ``request`` (a `graphflow.comm.messages.Request`) and wait for its answer."""
        self.check_open()
        request_id, answer = self.new_request()
        self.loop.add_callback(self.send, messages.Rpc(request_id, request))
        limit = self.timeout if timeout is None else timeout
        # wait first: on 3.11 a TimeoutError the scheduler answered with is the same class as our wait's
        done, _ = concurrent.futures.wait([answer], limit)
        if done:
            return answer.result()
        self.loop.add_callback(self.requests.pop, request_id, None)
        raise CommClosedError(f"the scheduler at {self.address} did not answer {type(request).__name__} "
                              f"within {limit} s")


def _answer_request(request: concurrent.futures.Future, value) -> None:
    """Answer a pending request, unless it was failed (by another thread) meanwhile."""
    try:
        request.set_result(value)
    except concurrent.futures.InvalidStateError:
        pass


def _fail_request(request: concurrent.futures.Future, error: BaseException) -> None:
    """Fail a pending answer, unless it was answered (or failed by another thread) meanwhile."""
    try:
        request.set_exception(error)
    except concurrent.futures.InvalidStateError:
        pass
