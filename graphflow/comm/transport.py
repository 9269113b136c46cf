"""zmq sockets on a tornado IOLoop: a `Listener` (ROUTER) and a `Connection` (DEALER).

The shells (scheduler, worker, client) talk through these two classes only.
Every wire message is a *batch*: a list of messages packed by `protocol.pack`
into one zmq multipart message, so ``send_many`` costs one pickle, one MAC
and one zmq send however many messages it carries, and ``send(m)`` is simply
``send_many([m])``.  The receiver calls its handler once per message.

    listener = Listener("tcp://127.0.0.1:0", token, on_msg)    # on_msg(peer_id, msg)
    conn = Connection(listener.address, token, on_reply)       # on_reply(msg)
    conn.send({"op": "ping"})        # on_msg(conn.peer_id, {"op": "ping"}) runs on the loop
    listener.send(peer_id, {"op": "pong"})

Addresses: ``tcp://HOST:PORT`` (port 0 picks a free port; ``.address`` then
tells the real one), ``ipc:///path`` and ``inproc://name`` (one process; all
sockets share ``zmq.Context.instance()``; frames are copied there so the two
sides never share an array's memory, as they would not across processes).

Event-loop integration: the socket's edge-triggered FD is registered with
``loop.add_handler``; each wakeup drains every waiting message with
``NOBLOCK`` receives (up to `MAX_BATCHES_PER_WAKEUP`, then yields to other
callbacks).  A send can swallow the FD's edge for input that arrived
meanwhile, so a send made outside a drain schedules one drain for the next
loop iteration (one per iteration, however many sends).  Against pyzmq's
``ZMQStream`` (a callback per message, its own send queue) this cuts the
round trip of a tiny message between two processes by about a third, and a
``send`` costs ~4 us (``tests/comm/bench_transport.py`` measures both).
Small parts (ids, header + pickle) are sent and received as bytes; buffer
parts are sent with ``copy=False`` (pyzmq still copies those under its 64 KiB
``copy_threshold``) and received as zero-copy ``zmq.Frame`` objects.

Socket options: no high-water mark (zmq never drops or blocks; memory is the
limit), ``MAXMSGSIZE`` from ``comm.max_message_size`` (libzmq drops a peer
whose frame is larger before reading it; a message's total is checked once
it has arrived -- see `graphflow.comm.limits`), ``ROUTER_MANDATORY`` so a
send to a peer that is gone fails at once -- `Listener.send` returns False
instead of raising into the loop or silently dropping -- and
``ROUTER_HANDOVER`` with a fixed routing id per `Connection` so a
reconnecting peer keeps its ``peer_id``.  TCP keepalive and ZMTP heartbeats
detect a peer whose host vanished; a killed process closes its sockets and is
noticed at once.

Encryption: with ``comm.encrypt`` on (or a ``curve_secret``, or
``GRAPHFLOW_CURVE_SECRET``), every tcp/ipc socket speaks zmq CURVE under the
key `graphflow.comm.security.curve_secret` picks -- by default one derived
from the token, so a peer without the token cannot even finish the handshake.
A handshake that fails (one side encrypts, the other does not, or their keys
differ) is reported by name: ``on_close(AuthenticationError)`` on a
`Connection`, one rate-limited warning on a `Listener`.

Messages that pass authentication but name a module this process cannot
import are read as far as they can be (`graphflow.comm.salvage`): the rest of
their batch is delivered, the owner may ``repair`` them, and their sender is
answered with `graphflow.comm.messages.Unreadable` so it can fail what they
were for.

Bad peers: a message that fails authentication or is over the size limit is
dropped without being deserialized, and logged at most once per peer per
`graphflow.comm.limits.REJECTION_LOG_INTERVAL` seconds, with the count of
those held back.  A tcp connection that zmq cut before it delivered one whole
message (a frame over ``MAXMSGSIZE``, or a peer that does not speak ZMTP) is
logged the same way.

Losing the peer: `Connection(on_close=...)` watches its socket with a zmq
monitor and calls ``on_close(CommClosedError)`` when the connection drops
(and ``on_close(AuthenticationError)`` if the listener refused our token or
the encryption handshake failed), then closes itself.
`Listener(on_disconnect=...)` learns each peer's file descriptor from its
messages (``zmq.SRCFD``) and reports ``peer_id`` when the monitor sees that
descriptor disconnect.  Both need tcp or ipc: zmq emits no
connection events for inproc.  `monitor` is the raw helper.

Threads: zmq sockets are not thread-safe.  A constructor may run on any
thread if it is given ``loop`` (it registers with the loop through
``add_callback``); send and close on the loop's thread.  From any other
thread use ``send_threadsafe`` -- it serializes in the calling thread, so a
`SerializationError` reaches the caller, then hands the frames to the loop --
and ``loop.add_callback(obj.close)``.  Do not mutate an array after sending
it until the send is done: big buffers are sent zero-copy.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections import deque
from typing import Callable

import zmq
from tornado.ioloop import IOLoop
from zmq.utils.monitor import parse_monitor_message

from graphflow.comm.limits import RateLimitedLog, max_message_size
from graphflow.comm.protocol import AUTH_FAILED, pack, verify, wire_size
from graphflow.comm.salvage import salvage
from graphflow.comm import security
from graphflow.comm.serialize import loads
from graphflow.errors import AuthenticationError, CommClosedError, SerializationError
from graphflow.units import format_bytes

logger = logging.getLogger(__name__)

#: Wire messages handled per loop wakeup before other callbacks get a turn.
MAX_BATCHES_PER_WAKEUP = 1000

#: ZMTP heartbeats (ms): a silent peer is dropped after HEARTBEAT_TIMEOUT.
HEARTBEAT_INTERVAL = 2_000
HEARTBEAT_TIMEOUT = 10_000

#: Seconds between retries of messages zmq refused (it should never: no high-water mark).
RETRY_INTERVAL = 0.01

#: How long (seconds) ``close()`` lets zmq keep sending queued messages.
DEFAULT_LINGER = 0.1


_HANDSHAKE_FAILED = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | \
    zmq.EVENT_HANDSHAKE_FAILED_AUTH

_ENCRYPTION_HINT = ("set comm.encrypt the same way on every process of the cluster (graphflow scheduler/worker "
                    "--encrypt, GRAPHFLOW_COMM__ENCRYPT=1 or gf.config.set({'comm.encrypt': True}) for a client), "
                    "with the same token")


def _apply_curve(sock: zmq.Socket, address: str, secret: bytes | None, server: bool) -> None:
    """Encrypt with zmq CURVE: every listener uses the cluster key; connectors use throwaway keys.

    Authentication stays the token's job (see `graphflow.comm.security`); CURVE adds
    secrecy on networks that are not trusted.
    """
    if secret is None or address.startswith("inproc://"):
        return
    public = zmq.curve_public(secret)
    if server:
        sock.curve_server = True
        sock.curve_secretkey = secret
        sock.curve_publickey = public
    else:
        own_public, own_secret = zmq.curve_keypair()
        sock.curve_serverkey = public
        sock.curve_publickey = own_public
        sock.curve_secretkey = own_secret


def _make_socket(kind: int, address: str, curve_secret: bytes | None, max_size: int) -> zmq.Socket:
    sock = zmq.Context.instance().socket(kind)
    _apply_curve(sock, address, curve_secret, server=kind == zmq.ROUTER)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.LINGER, int(DEFAULT_LINGER * 1000))
    # libzmq checks each frame's length as its header arrives, before reading the frame (limits.py).
    sock.setsockopt(zmq.MAXMSGSIZE, max_size)
    if address.startswith("tcp://"):
        sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
        sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 30)
        sock.setsockopt(zmq.TCP_KEEPALIVE_INTVL, 10)
        sock.setsockopt(zmq.TCP_KEEPALIVE_CNT, 3)
        if "[" in address:  # tcp://[::1]:port
            sock.setsockopt(zmq.IPV6, 1)
    if not address.startswith("inproc://"):
        sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_INTERVAL)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT)
    return sock


class SocketMonitor:
    """Calls ``callback(event, endpoint, value)`` on the loop for zmq socket events.

    ``event`` is a ``zmq.Event`` (``EVENT_ACCEPTED``, ``EVENT_DISCONNECTED``...),
    ``endpoint`` the socket's endpoint as a str (for a bound socket: its own
    address, not the peer's) and ``value`` the event's integer (the peer's file
    descriptor for ACCEPTED and DISCONNECTED).  Events are recorded from the
    moment it is made, so make it before ``bind``/``connect`` to miss none;
    the loop starts delivering them on its next iteration.
    """

    def __init__(self, socket: zmq.Socket, callback: Callable, events: int, loop: IOLoop | None = None):
        self._socket = socket
        self._callback = callback
        self._loop = loop or IOLoop.current()
        self._pair = socket.get_monitor_socket(events)
        self.closed = False
        self._started = False
        self._loop.add_callback(self._start)

    def _start(self) -> None:
        if not self.closed:
            self._loop.add_handler(self._pair, self._on_events, IOLoop.READ)
            self._started = True
            self.drain()

    def _on_events(self, fd, events):
        self.drain()

    def drain(self) -> None:
        """Deliver every event already queued (also called directly to catch up)."""
        while not self.closed:
            try:
                frames = self._pair.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            event = parse_monitor_message(frames)
            try:
                self._callback(zmq.Event(event["event"]), event["endpoint"].decode(), int(event["value"]))
            except Exception:
                logger.exception("error in socket monitor callback")

    def close(self) -> None:
        """Stop monitoring (on the loop thread); the monitored socket stays open."""
        if self.closed:
            return
        self.closed = True
        if self._started:
            self._loop.remove_handler(self._pair)
        try:
            self._socket.disable_monitor()
        except zmq.ZMQError:  # the monitored socket is already closed
            pass
        self._pair.close(linger=0)


def monitor(socket: zmq.Socket, callback: Callable, events: int | None = None, loop: IOLoop | None = None):
    """Watch ``socket`` for connection events; returns a `SocketMonitor` (call ``.close()``).

    ``events`` defaults to ``EVENT_ACCEPTED | EVENT_CONNECTED | EVENT_DISCONNECTED``.
    """
    if events is None:
        events = zmq.EVENT_ACCEPTED | zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED
    return SocketMonitor(socket, callback, events, loop)


class _Endpoint:
    """What both socket kinds share: loop registration, draining, sending, closing."""

    _monitor: SocketMonitor | None = None
    #: called (on the loop) after each burst of received messages has been handed to the handler
    on_drained: Callable[[], None] | None = None
    #: ``repair(msg, error)``: a message that could not be loaded whole, fixed to deliver, or None (see `_salvage`)
    repair: Callable | None = None

    def __init__(self, sock: zmq.Socket, address: str, token: bytes | None, loop: IOLoop, max_size: int):
        self._socket = sock
        self._token = token
        self._loop = loop
        self.max_message_size = max_size
        self.complaints = RateLimitedLog(logger)  # rejected messages and cut connections, per peer
        self._copy = address.startswith("inproc://")  # see the module notes
        self._pending: deque = deque()  # frames zmq would not take yet, in order
        self._retry_handle = None
        self._in_drain = False
        self._drain_scheduled = False
        self._started = False
        self.closed = False
        self.rejected = 0
        self.address = address
        # Registration happens on the loop, so construction is safe from any
        # thread; subclasses set their attributes before calling this.
        self._loop.add_callback(self._start)

    # ------------------------------------------------------------ receiving

    def _start(self) -> None:
        if self.closed:
            return
        self._loop.add_handler(self._socket, self._on_events, IOLoop.READ)
        self._started = True
        self._drain()

    def _on_events(self, fd, events) -> None:
        self._drain()

    def _drain(self) -> None:
        self._drain_scheduled = False
        self._in_drain = True
        received = 0
        try:
            for _ in range(MAX_BATCHES_PER_WAKEUP):
                if self.closed:
                    return
                try:
                    self._receive_one()
                except zmq.Again:
                    break
                received += 1
            else:
                self._schedule_drain()  # more waiting: let other callbacks run first
        finally:
            self._in_drain = False
        if received and self.on_drained is not None and not self.closed:
            # The owner handles the whole burst at once.  Outside the drain, so that
            # its sends schedule the re-read that catches input a send hid from us.
            self.on_drained()
        if self._pending and not self.closed:
            self._flush()

    @property
    def receiving(self) -> bool:
        """True while handlers run for a burst of messages (``on_drained`` follows it)."""
        return self._in_drain

    def _schedule_drain(self) -> None:
        if not self._drain_scheduled and self._started:
            self._drain_scheduled = True
            self._loop.add_callback(self._drain)

    def _receive_one(self) -> None:
        """Receive and handle one wire message; raises ``zmq.Again`` if none is waiting."""
        raise NotImplementedError

    def _recv_buffers(self) -> list:
        # Buffers are big by construction: keep them as zero-copy zmq.Frames.
        sock, buffers = self._socket, []
        while sock.getsockopt(zmq.RCVMORE):
            buffers.append(sock.recv(zmq.NOBLOCK, copy=False))
        return buffers

    def _too_large(self, head, buffers: list) -> str | None:
        """Why a received message is refused for its size (zmq checked each frame; this is the total), or None."""
        if not buffers:
            return None  # one frame: zmq already held it to the limit
        size = wire_size([head, *buffers])
        if size <= self.max_message_size:
            return None
        return (f"message dropped unread: {len(buffers) + 1} frames of {format_bytes(size)} in all, over "
                f"comm.max_message_size ({format_bytes(self.max_message_size)})")

    def _pack(self, msgs: list) -> list:
        return pack(msgs, self._token, self.max_message_size)

    def _deliver(self, pickled, buffers: list, deliver: Callable, answer: Callable) -> None:
        """Deserialize an authenticated batch and hand each message to ``deliver``; ``answer(msg)`` replies."""
        try:
            batch = loads([pickled, *buffers])
        except SerializationError:
            batch = self._salvage([pickled, *buffers], answer)
        for msg in batch:
            try:
                deliver(msg)
            except Exception:
                logger.exception("error in message handler on %s", self.address)
            if self.closed:
                return

    def _salvage(self, frames: list, answer: Callable) -> list:
        """The messages of a batch that did not load that can be delivered; the sender hears of the rest."""
        where = f"from {self.address}" if isinstance(self, Connection) else f"to {self.address}"
        batch, unreadable = salvage(frames, self.repair, where)
        if unreadable is not None:
            kinds = ", ".join(sorted({m[0] for m in unreadable.messages}))
            self.complaints.warning("unreadable", f"{self.address}: could not load {len(unreadable.messages)} "
                                    f"message(s) ({kinds}); told the sender: {unreadable.messages[0][3]}")
            try:
                answer(unreadable)
            except Exception:
                logger.exception("%s: cannot tell the sender of an unreadable message", self.address)
        return batch

    # ------------------------------------------------------------ sending

    def _send_frames(self, parts: list) -> bool:
        """Queue one wire message with zmq; False if the peer is unknown (ROUTER)."""
        if self.closed:
            return False
        if self._pending:
            self._pending.append(parts)
            return True
        try:
            self._send_parts(parts)
        except zmq.Again:
            self._pending.append(parts)
            self._retry_later()
            return True
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            logger.debug("%s: message to unknown or departed peer %r dropped", self.address, parts[0])
            return False
        if not self._in_drain:
            # A send can swallow the FD's edge for input that arrived meanwhile.
            self._schedule_drain()
        return True

    def _send_parts(self, parts: list) -> None:
        # pyzmq's send_multipart costs twice as much per part as this loop.
        # bytes parts (ids, header + pickle) are small: copying beats zero-copy
        # bookkeeping; pyzmq copies small buffers anyway (copy_threshold).
        sock, copy_all, last = self._socket, self._copy, len(parts) - 1
        for i, part in enumerate(parts):
            flags = zmq.NOBLOCK if i == last else zmq.NOBLOCK | zmq.SNDMORE
            sock.send(part, flags, copy=copy_all or type(part) is bytes)

    def _flush(self) -> None:
        while self._pending:
            parts = self._pending[0]
            try:
                self._send_parts(parts)
            except zmq.Again:
                self._retry_later()
                return
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EHOSTUNREACH:
                    raise
                logger.debug("%s: queued message to departed peer %r dropped", self.address, parts[0])
            self._pending.popleft()

    def _retry_later(self) -> None:
        # zmq signals the FD when it can take more; the timer is a safety net.
        if self._retry_handle is None:
            self._retry_handle = self._loop.call_later(RETRY_INTERVAL, self._retry)

    def _retry(self) -> None:
        self._retry_handle = None
        if not self.closed:
            self._drain()

    def _check_open(self) -> None:
        if self.closed:
            raise CommClosedError(f"{type(self).__name__} on {self.address} is closed")

    # ------------------------------------------------------------ closing

    def close(self, linger: float = DEFAULT_LINGER) -> None:
        """Close the socket (on the loop thread); zmq keeps sending for ``linger`` seconds."""
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        if self._retry_handle is not None:
            self._loop.remove_timeout(self._retry_handle)
        if self._monitor is not None:
            self._monitor.close()
        if self._started:
            self._loop.remove_handler(self._socket)
        self._socket.close(linger=int(linger * 1000))


class Listener(_Endpoint):
    """A bound ROUTER socket: many peers send to it; it answers each by ``peer_id``.

    ``handler(peer_id, msg)`` runs on the loop for every message that passed
    authentication.  A message that fails is never deserialized: it is counted
    in ``rejected``, reported to ``on_auth_failure(peer_id, reason)`` and
    answered with the raw `AUTH_FAILED` frame.  One over the size limit is
    counted in ``oversized`` and dropped.  ``on_disconnect(peer_id)``
    (tcp/ipc only) runs when a peer that has sent something loses its
    connection.  ``curve_secret``: the CURVE secret key (False: no
    encryption whatever ``comm.encrypt`` says; None: as
    `graphflow.comm.security.curve_secret` decides).
    """

    def __init__(
        self,
        address: str,
        token: bytes | None,
        handler: Callable[[bytes, object], None],
        loop: IOLoop | None = None,
        on_auth_failure: Callable[[bytes, str], None] | None = None,
        on_disconnect: Callable[[bytes], None] | None = None,
        curve_secret: bytes | str | bool | None = None,
    ):
        loop = loop or IOLoop.current()
        max_size = max_message_size()
        sock = _make_socket(zmq.ROUTER, address, security.curve_secret(curve_secret, token), max_size)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self._handler = handler
        self._on_auth_failure = on_auth_failure
        self._on_disconnect = on_disconnect
        self.oversized = 0
        self._fd_peer: dict[int, bytes] = {}  # connections of peers that passed authentication
        self._peer_fd: dict[bytes, int] = {}
        self._fd_spoke: set = set()  # connections that delivered a whole message (good or bad)
        self._fd_from: dict[int, str] = {}  # connection -> the peer's address, for log lines
        self._handshake_failures = 0  # reported, not yet matched with their DISCONNECTED event
        self._monitor = None
        if not address.startswith("inproc://"):  # zmq has no connection events for inproc
            events = zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | _HANDSHAKE_FAILED
            self._monitor = SocketMonitor(sock, self._on_monitor_event, events, loop)
        try:
            sock.bind(address)
        except zmq.ZMQError as exc:
            if self._monitor is not None:
                self._monitor.close()
            sock.close(linger=0)
            raise OSError(exc.errno, f"cannot listen on {address}: {exc}") from exc
        super().__init__(sock, sock.getsockopt_string(zmq.LAST_ENDPOINT), token, loop, max_size)

    def send(self, peer_id: bytes, msg) -> bool:
        """Send ``msg`` to ``peer_id``; False (never an exception) if that peer is gone or not yet connected.

        True means zmq queued it: a peer that disconnects later loses what
        was still queued for it (watch ``on_disconnect``).  Raises
        `SerializationError` (`MessageTooLargeError` over ``comm.max_message_size``).
        """
        return self.send_many(peer_id, [msg])

    def send_many(self, peer_id: bytes, msgs: list) -> bool:
        """Send several messages as one wire message (one pickle, one MAC, one zmq send)."""
        self._check_open()
        return self._send_frames([peer_id, *self._pack(list(msgs))])

    def send_threadsafe(self, peer_id: bytes, msg) -> None:
        """`send` from any thread: serialize here, send on the loop."""
        self._check_open()
        frames = [peer_id, *self._pack([msg])]
        self._loop.add_callback(self._send_frames, frames)

    def _receive_one(self) -> None:
        sock = self._socket
        peer = sock.recv(zmq.NOBLOCK)
        monitored = self._monitor is not None
        head = sock.recv(zmq.NOBLOCK, copy=not monitored)  # a Frame knows its connection's fd and address
        buffers = self._recv_buffers()
        fd = self._spoke(head, peer) if monitored else None
        too_large = self._too_large(head, buffers)
        if too_large is not None:
            self.oversized += 1
            self._complain(head, peer, too_large)
            return
        try:
            pickled = verify([head, *buffers], self._token)
        except AuthenticationError as exc:
            self._reject(head, peer, str(exc))
            return
        if fd is not None and self._on_disconnect is not None:
            self._track(peer, fd)
        self._deliver(pickled, buffers, lambda msg: self._handler(peer, msg), lambda msg: self.send(peer, msg))

    def _spoke(self, head, peer: bytes) -> int | None:
        """Note that ``head``'s connection (``peer``'s) delivered a message; its file descriptor (None if zmq
        cannot tell)."""
        try:
            fd = head.get(zmq.SRCFD)
        except zmq.ZMQError:  # a libzmq without ZMQ_SRCFD (deprecated upstream): no tracking
            logger.warning("%s: cannot tell peers' connections apart; on_disconnect is off", self.address)
            self._monitor.close()
            self._monitor = None
            return None
        known = self._fd_peer.get(fd)
        if fd not in self._fd_spoke or (known is not None and known != peer):
            # A new connection, maybe on the descriptor of one that just left (whose events may not be
            # handled yet: it is still listed there): handle the events zmq queued before it (that one's
            # DISCONNECTED, this one's ACCEPTED) first, or that one's departure would be taken for this one's.
            self._monitor.drain()
            self._fd_spoke.add(fd)
        return fd

    def _complain(self, head, peer: bytes, reason: str) -> None:
        source = _peer_address(head) or repr(peer)
        self.complaints.warning(source, f"{self.address}: {reason} (peer {source})")

    def _reject(self, head, peer: bytes, reason: str) -> None:
        self.rejected += 1
        self._complain(head, peer, reason)
        try:
            self._socket.send_multipart([peer, AUTH_FAILED], zmq.NOBLOCK)
        except zmq.ZMQError:  # the peer already left; nothing to tell
            pass
        if self._on_auth_failure is not None:
            try:
                self._on_auth_failure(peer, reason)
            except Exception:
                logger.exception("error in on_auth_failure")

    # ------------------------------------------------------------ connections

    def _track(self, peer: bytes, fd: int) -> None:
        if self._peer_fd.get(peer) == fd:
            return
        old = self._peer_fd.get(peer)
        if old is not None and self._fd_peer.get(old) == peer:
            del self._fd_peer[old]
        self._fd_peer[fd] = peer
        self._peer_fd[peer] = fd

    def _on_monitor_event(self, event: int, endpoint: str, value: int) -> None:
        if event == zmq.EVENT_ACCEPTED:
            self._fd_spoke.discard(value)
            self._fd_from[value] = _remote_address(value)
        elif event & _HANDSHAKE_FAILED:
            self._handshake_failures += 1
            self.complaints.warning(
                "handshake", f"{self.address}: a peer failed the encryption handshake "
                f"({_handshake_detail(event, value, listening=True)}); {_ENCRYPTION_HINT}")
        elif event == zmq.EVENT_DISCONNECTED:
            self._disconnected(value)

    def _disconnected(self, fd: int) -> None:
        source = self._fd_from.pop(fd, None)
        if fd not in self._fd_spoke:
            if self._handshake_failures:
                self._handshake_failures -= 1  # already reported
            else:
                self._loop.add_callback(self._check_cut_off, fd, source)
            return
        self._fd_spoke.discard(fd)
        peer = self._fd_peer.pop(fd, None)
        if peer is None or self._peer_fd.get(peer) != fd:
            return  # a peer that never passed authentication, or one that already reconnected
        del self._peer_fd[peer]
        self._on_disconnect(peer)

    def _check_cut_off(self, fd: int, source: str | None) -> None:
        """A connection closed before any whole message of it was read: was it cut by zmq?"""
        if self.closed:
            return
        if not self._in_drain:
            self._drain()  # its message may still be waiting behind the event
        if fd in self._fd_spoke:
            self._fd_spoke.discard(fd)
            return
        source = source or "a peer"
        self.complaints.warning(
            source, f"{self.address}: the connection from {source} closed before it delivered a whole message: "
            f"zmq cuts off a peer that sends a frame over comm.max_message_size "
            f"({format_bytes(self.max_message_size)}) or does not speak graphflow's protocol")


def _peer_address(frame) -> str | None:
    """The sending peer's address as zmq saw it (tcp: its IP), or None for a frame received as bytes."""
    if isinstance(frame, bytes):
        return None
    try:
        return frame.get("Peer-Address") or None
    except zmq.ZMQError:
        return None


def _remote_address(fd: int) -> str | None:
    """``host:port`` of the peer of a socket descriptor zmq just accepted, or None (ipc, or already gone)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        host, port = sock.getpeername()[:2]
        return f"{host}:{port}"
    except (OSError, ValueError, TypeError):
        return None
    finally:
        sock.detach()  # the descriptor is zmq's: never close it


def _handshake_detail(event: int, value: int, listening: bool = False) -> str:
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "one side encrypts and the other does not"
        if value == zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "the keys differ"
        return f"protocol error {value:#x}"
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return f"refused, status {value}"
    if listening:  # the peer hung up mid-handshake: it found out first
        return "the peer gave up: it does not encrypt, or holds another key"
    return "the listener's key is not the one we expect, or it does not encrypt"


class Connection(_Endpoint):
    """A DEALER socket connected to one `Listener`.

    ``handler(msg)`` runs on the loop for each authenticated message.
    ``on_close(exc)`` runs once if the connection is lost (`CommClosedError`,
    tcp/ipc only) or the listener refused our token or our encryption
    (`AuthenticationError`); the connection is closed by then.  It is not
    called for ``close()``.  ``peer_id`` is the routing id the listener sees
    for us.  With ``fail_if_unreachable``, a refused first connection attempt
    also calls ``on_close`` (for peers that may be dead already; zmq would
    retry forever).  ``curve_secret``: the listener's CURVE secret key, as for
    `Listener` (False: no encryption).
    """

    def __init__(
        self,
        address: str,
        token: bytes | None,
        handler: Callable[[object], None],
        loop: IOLoop | None = None,
        on_close: Callable[[Exception], None] | None = None,
        curve_secret: bytes | str | bool | None = None,
        fail_if_unreachable: bool = False,
    ):
        loop = loop or IOLoop.current()
        max_size = max_message_size()
        sock = _make_socket(zmq.DEALER, address, security.curve_secret(curve_secret, token), max_size)
        self._fail_if_unreachable = fail_if_unreachable
        self._connected = False
        self.peer_id = b"gf-" + uuid.uuid4().bytes
        sock.setsockopt(zmq.ROUTING_ID, self.peer_id)
        self._handler = handler
        self._on_close = on_close
        self._monitor = None
        if not address.startswith("inproc://"):
            events = zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECTED | zmq.EVENT_CONNECT_RETRIED | _HANDSHAKE_FAILED
            self._monitor = SocketMonitor(sock, self._on_monitor_event, events, loop)
        try:
            sock.connect(address)
        except zmq.ZMQError as exc:
            if self._monitor is not None:
                self._monitor.close()
            sock.close(linger=0)
            raise CommClosedError(f"cannot connect to {address}: {exc}") from exc
        super().__init__(sock, address, token, loop, max_size)

    def send(self, msg) -> None:
        """Send ``msg`` to the listener (queued by zmq until connected).

        Raises `SerializationError` (`MessageTooLargeError` over ``comm.max_message_size``).
        """
        self.send_many([msg])

    def send_many(self, msgs: list) -> None:
        """Send several messages as one wire message (one pickle, one MAC, one zmq send)."""
        self._check_open()
        self._send_frames(self._pack(list(msgs)))

    def send_threadsafe(self, msg) -> None:
        """`send` from any thread: serialize here (errors raise here), send on the loop."""
        self._check_open()
        frames = self._pack([msg])
        self._loop.add_callback(self._send_frames, frames)

    def _receive_one(self) -> None:
        sock = self._socket
        head = sock.recv(zmq.NOBLOCK)
        buffers = self._recv_buffers()
        if head == AUTH_FAILED and not buffers:
            self._fail(close=True, exc=AuthenticationError(
                f"{self.address} refused our messages: authentication failed. This process does not hold "
                "the cluster's token (set GRAPHFLOW_TOKEN, pass --token-file, or copy the scheduler's "
                "~/.graphflow/token here), or our messages were altered on the way"
            ))
            return
        too_large = self._too_large(head, buffers)
        if too_large is not None:
            self.complaints.warning(self.address, f"{self.address}: {too_large}")
            return
        try:
            pickled = verify([head, *buffers], self._token)
        except AuthenticationError as exc:
            self.rejected += 1
            self.complaints.warning(self.address, f"{self.address}: {exc}")
            return
        self._deliver(pickled, buffers, self._handler, self.send)

    def _on_monitor_event(self, event: int, endpoint: str, value: int) -> None:
        if event == zmq.EVENT_CONNECTED:
            self._connected = True
        elif event & _HANDSHAKE_FAILED:
            error = AuthenticationError(
                f"the encryption handshake with {self.address} failed ({_handshake_detail(event, value)}): "
                f"{_ENCRYPTION_HINT}")
            if self._on_close is None:
                self.complaints.warning(self.address, str(error))
            self._fail(error)
        elif event == zmq.EVENT_DISCONNECTED:
            self._fail(CommClosedError(f"lost the connection to {self.address}"))
        elif event == zmq.EVENT_CONNECT_RETRIED and self._fail_if_unreachable and not self._connected:
            self._fail(CommClosedError(f"cannot connect to {self.address}: nothing listens there"))

    def _fail(self, exc: Exception, close: bool = False) -> None:
        """Close and tell ``on_close``; without one, only a refusal (``close``) closes, after a log line --
        zmq keeps reconnecting after anything else, as it does with no monitor."""
        if self.closed:
            return
        if self._on_close is None:
            if close:
                self.complaints.warning(self.address, str(exc))
                self.close(linger=0)
            return
        self.close(linger=0)
        try:
            self._on_close(exc)
        except Exception:
            logger.exception("error in on_close")
