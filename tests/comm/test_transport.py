"""Listener and Connection over real zmq sockets (inproc, ipc, tcp on 127.0.0.1) and real IOLoops."""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import threading
import uuid

import numpy as np
import pytest
import zmq
from tornado.ioloop import IOLoop

from graphflow.comm import transport
from graphflow.comm.protocol import AUTH_FAILED, pack, unpack
from graphflow.comm.transport import Connection, Listener, monitor
from graphflow.errors import AuthenticationError, CommClosedError, SerializationError
from graphflow.testing.wait import wait_for, wait_for_async

TOKEN = b"test token"


def run(coro, timeout=30):
    """Run ``coro`` on a fresh event loop (tornado's IOLoop wraps it)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(params=["inproc", "ipc", "tcp"])
def address(request, tmp_path):
    return {
        "inproc": f"inproc://test-{uuid.uuid4().hex}",
        "ipc": f"ipc://{tmp_path}/sock",
        "tcp": "tcp://127.0.0.1:0",
    }[request.param]


class Echo:
    """A listener that answers every message with ``{"echo": msg}`` and keeps what it saw."""

    def __init__(self, address, token=TOKEN, **kwargs):
        self.seen = []
        self.listener = Listener(address, token, self.handle, **kwargs)

    def handle(self, peer, msg):
        self.seen.append((peer, msg))
        self.listener.send(peer, {"echo": msg})


def test_request_reply(address):
    async def main():
        echo = Echo(address)
        replies = []
        conn = Connection(echo.listener.address, TOKEN, replies.append)
        try:
            if address.startswith("tcp"):
                assert not echo.listener.address.endswith(":0")
            conn.send({"op": "ping"})
            await wait_for_async(lambda: replies)
            assert replies == [{"echo": {"op": "ping"}}]
            assert echo.seen == [(conn.peer_id, {"op": "ping"})]
        finally:
            conn.close()
            echo.listener.close()

    run(main())


def test_send_many_is_one_zmq_message_and_many_handler_calls():
    async def main():
        raw = zmq.Context.instance().socket(zmq.ROUTER)
        port = raw.bind_to_random_port("tcp://127.0.0.1")
        conn = Connection(f"tcp://127.0.0.1:{port}", TOKEN, print)
        try:
            conn.send_many([{"i": i} for i in range(5)])
            await wait_for_async(lambda: raw.poll(0))
            frames = raw.recv_multipart(copy=False)
            assert unpack(frames[1:], TOKEN) == [{"i": i} for i in range(5)]
            assert not raw.poll(50)  # nothing else was sent
        finally:
            conn.close()
            raw.close(linger=0)

        echo = Echo("tcp://127.0.0.1:0")
        replies = []
        conn = Connection(echo.listener.address, TOKEN, replies.append)
        try:
            conn.send_many(["a", "b", "c"])
            await wait_for_async(lambda: len(replies) == 3)
            assert [m for _, m in echo.seen] == ["a", "b", "c"]
            assert echo.listener.send_many(conn.peer_id, [1, 2]) is True
            await wait_for_async(lambda: len(replies) == 5)
            assert replies == [{"echo": "a"}, {"echo": "b"}, {"echo": "c"}, 1, 2]
        finally:
            conn.close()
            echo.listener.close()

    run(main())


def test_many_messages_keep_their_order(address):
    async def main():
        echo = Echo(address)
        replies = []
        conn = Connection(echo.listener.address, TOKEN, replies.append)
        try:
            for i in range(3000):  # more than one drain's worth
                conn.send(i)
            await wait_for_async(lambda: len(replies) == 3000)
            assert replies == [{"echo": i} for i in range(3000)]
        finally:
            conn.close()
            echo.listener.close()

    run(main())


def test_100_mb_array_over_tcp_arrives_intact_without_copies():
    x = np.random.default_rng(1).random(100 * 2**20 // 8)
    received = []

    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: received.append(msg))
        conn = Connection(listener.address, TOKEN, print)
        try:
            conn.send({"x": x, "small": np.arange(3)})
            await wait_for_async(lambda: received)
        finally:
            conn.close()
            listener.close()

    run(main())
    y = received[0]["x"]
    np.testing.assert_array_equal(y, x)
    assert y.flags.writeable  # a view over the zmq frame, which is writable
    base = y
    while getattr(base, "base", None) is not None:
        base = base.base
    assert isinstance(base.obj, zmq.Frame)  # a memoryview of the frame: no copy in between


def test_inproc_receivers_do_not_share_the_senders_memory():
    x = np.zeros(100_000)
    received = []

    async def main():
        listener = Listener(f"inproc://{uuid.uuid4().hex}", None, lambda p, m: received.append(m))
        conn = Connection(listener.address, None, print)
        try:
            conn.send(x)
            await wait_for_async(lambda: received)
            received[0][0] = 1.0
        finally:
            conn.close()
            listener.close()

    run(main())
    assert x[0] == 0.0


@pytest.mark.parametrize("client_token", [b"wrong token", None])
def test_auth_failure_reaches_the_connector_and_is_counted(client_token):
    closed, failures, handled = [], [], []

    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda p, m: handled.append(m),
                            on_auth_failure=lambda peer, reason: failures.append((peer, reason)))
        conn = Connection(listener.address, client_token, print, on_close=closed.append)
        try:
            conn.send({"op": "register"})
            await wait_for_async(lambda: closed)
            assert conn.closed
            assert listener.rejected == 1
            with pytest.raises(CommClosedError):
                conn.send("again")
        finally:
            conn.close()
            listener.close()
        return conn.peer_id

    peer_id = run(main())
    assert handled == []
    assert isinstance(closed[0], AuthenticationError) and "token" in str(closed[0])
    assert failures[0][0] == peer_id and "rejected" in failures[0][1]


def test_connection_refuses_unauthenticated_replies():
    handled = []

    async def main():
        raw = zmq.Context.instance().socket(zmq.ROUTER)
        port = raw.bind_to_random_port("tcp://127.0.0.1")
        conn = Connection(f"tcp://127.0.0.1:{port}", TOKEN, handled.append)
        try:
            conn.send("hello")
            await wait_for_async(lambda: raw.poll(0))
            peer = raw.recv_multipart()[0]
            raw.send_multipart([peer, *pack(["forged"], b"other token")])
            raw.send_multipart([peer, *pack(["genuine"], TOKEN)])
            await wait_for_async(lambda: handled)
            assert handled == ["genuine"] and conn.rejected == 1 and not conn.closed
        finally:
            conn.close()
            raw.close(linger=0)

    run(main())


def test_listener_answers_garbage_with_auth_failed():
    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, print)
        raw = zmq.Context.instance().socket(zmq.DEALER)
        raw.connect(listener.address)
        try:
            raw.send_multipart([b"not graphflow", b"at all"])
            await wait_for_async(lambda: raw.poll(0))
            assert raw.recv_multipart() == [AUTH_FAILED]
            assert listener.rejected == 1
        finally:
            raw.close(linger=0)
            listener.close()

    run(main())


def test_send_to_departed_peer_returns_false():
    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, print)
        try:
            assert listener.send(b"nobody", {"op": "hello"}) is False
        finally:
            listener.close()

    run(main())


def test_unpicklable_message_raises_at_the_sender_and_the_connection_survives():
    replies = []

    async def main():
        echo = Echo("tcp://127.0.0.1:0")
        conn = Connection(echo.listener.address, TOKEN, replies.append)
        try:
            with pytest.raises(SerializationError):
                conn.send({"lock": threading.Lock()})
            conn.send("fine")
            await wait_for_async(lambda: replies)
        finally:
            conn.close()
            echo.listener.close()

    run(main())
    assert replies == [{"echo": "fine"}]


def test_handler_errors_are_logged_and_do_not_stop_the_listener(caplog):
    seen = []

    def handler(peer, msg):
        seen.append(msg)
        if msg == "boom":
            raise RuntimeError("handler bug")

    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, handler)
        conn = Connection(listener.address, TOKEN, print)
        try:
            conn.send_many(["boom", "after"])
            conn.send("later")
            await wait_for_async(lambda: len(seen) == 3)
        finally:
            conn.close()
            listener.close()

    run(main())
    assert seen == ["boom", "after", "later"]
    assert "handler bug" in caplog.text


def test_connection_on_close_when_listener_goes_away(tmp_path):
    for address in ("tcp://127.0.0.1:0", f"ipc://{tmp_path}/gone"):
        closed = []

        async def main():
            echo = Echo(address)
            replies = []
            conn = Connection(echo.listener.address, TOKEN, replies.append, on_close=closed.append)
            try:
                conn.send("hi")
                await wait_for_async(lambda: replies)
                echo.listener.close(linger=0)
                await wait_for_async(lambda: closed)
                assert conn.closed
            finally:
                conn.close()

        run(main())
        assert isinstance(closed[0], CommClosedError) and "lost the connection" in str(closed[0])


def test_listener_on_disconnect_names_the_peer():
    lost = []

    async def main():
        echo = Echo("tcp://127.0.0.1:0", on_disconnect=lost.append)
        conns = [Connection(echo.listener.address, TOKEN, print) for _ in range(3)]
        try:
            for c in conns:
                c.send("hello")
            await wait_for_async(lambda: len(echo.seen) == 3)
            conns[1].close(linger=0)
            await wait_for_async(lambda: lost)
            for c in (conns[0], conns[2]):  # the others are still connected, and not reported lost
                c.send("still here")
            await wait_for_async(lambda: len(echo.seen) == 5)
            assert lost == [conns[1].peer_id]
            for c in (conns[0], conns[2]):
                c.close(linger=0)
            await wait_for_async(lambda: len(lost) == 3)
            assert set(lost) == {c.peer_id for c in conns}
        finally:
            for c in conns:
                c.close()
            echo.listener.close()

    run(main())


def test_monitor_reports_accept_and_disconnect():
    events = []

    async def main():
        sock = zmq.Context.instance().socket(zmq.ROUTER)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        mon = monitor(sock, lambda event, endpoint, value: events.append((event, endpoint)))
        peer = zmq.Context.instance().socket(zmq.DEALER)
        try:
            peer.connect(f"tcp://127.0.0.1:{port}")
            await wait_for_async(lambda: any(e == zmq.EVENT_ACCEPTED for e, _ in events))
            peer.close(linger=0)
            await wait_for_async(lambda: any(e == zmq.EVENT_DISCONNECTED for e, _ in events))
            assert events[0][1] == f"tcp://127.0.0.1:{port}"
        finally:
            mon.close()
            sock.close(linger=0)
            peer.close(linger=0)

    run(main())


PEER_SCRIPT = """
import asyncio, sys
from graphflow.comm.transport import Connection, Listener

async def main(role, address):
    if role == "listener":
        listener = Listener(address, b"test token", lambda peer, msg: listener.send(peer, msg))
        print(listener.address, flush=True)
    else:
        conn = Connection(address, b"test token", print)
        conn.send("hello from a process")
    await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:]))
"""


def _peer_process(role, address):
    return subprocess.Popen([sys.executable, "-c", PEER_SCRIPT, role, address], stdout=subprocess.PIPE, text=True)


def test_killed_listener_process_closes_the_connection():
    proc = _peer_process("listener", "tcp://127.0.0.1:0")
    closed, replies = [], []

    async def main():
        conn = Connection(proc.stdout.readline().strip(), TOKEN, replies.append, on_close=closed.append)
        try:
            conn.send("ping")
            await wait_for_async(lambda: replies)
            proc.kill()
            await wait_for_async(lambda: closed)
        finally:
            conn.close()

    try:
        run(main())
    finally:
        proc.kill()
        proc.communicate()
    assert replies == ["ping"] and isinstance(closed[0], CommClosedError)


def test_killed_connecting_process_is_reported_by_the_listener():
    lost, seen = [], []

    async def main():
        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: seen.append(peer),
                            on_disconnect=lost.append)
        proc = _peer_process("connection", listener.address)
        try:
            await wait_for_async(lambda: seen)
            proc.kill()
            await wait_for_async(lambda: lost)
        finally:
            proc.kill()
            proc.communicate()
            listener.close()

    run(main())
    assert lost == seen


class LoopThread:
    """A tornado IOLoop running in a background thread."""

    def __init__(self):
        self._started = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        self._started.wait()

    async def _main(self):
        self.loop = IOLoop.current()
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the loop thread and return its result."""
        result: queue.Queue = queue.Queue()

        def call():
            try:
                result.put((True, fn(*args)))
            except BaseException as exc:
                result.put((False, exc))

        self.loop.add_callback(call)
        ok, value = result.get(timeout=10)
        if not ok:
            raise value
        return value

    def stop(self):
        self.loop.add_callback(self._stop.set)
        self._thread.join(10)


def test_two_loops_in_two_threads_and_send_threadsafe():
    server, client = LoopThread(), LoopThread()
    replies: queue.Queue = queue.Queue()
    try:
        def make_listener():
            echo = Echo("tcp://127.0.0.1:0")
            return echo.listener

        listener = server.call(make_listener)
        conn = client.call(lambda: Connection(listener.address, TOKEN, replies.put))
        senders = [threading.Thread(target=lambda i=i: conn.send_threadsafe({"from": i})) for i in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        got = sorted(replies.get(timeout=10)["echo"]["from"] for _ in range(4))
        assert got == [0, 1, 2, 3]
        with pytest.raises(SerializationError):  # raised in the calling thread
            conn.send_threadsafe(threading.Lock())
        client.call(conn.close)
        server.call(listener.close)
    finally:
        client.stop()
        server.stop()


def test_a_peer_on_the_descriptor_of_one_that_just_left_is_not_reported_lost():
    """Peer A leaves and peer B connects at once; the OS gives B's connection A's file descriptor, and the
    listener reads B's first message before the monitor events of A leaving and B arriving.  Before: B was
    tracked on that descriptor, then A's disconnect was reported as B's (the scheduler forgot a live client,
    which then waited for answers to questions the scheduler ignored)."""
    server, client = LoopThread(), LoopThread()
    seen, lost = [], []
    try:
        listener = server.call(lambda: Listener("tcp://127.0.0.1:0", TOKEN, lambda p, m: seen.append(p),
                                                on_disconnect=lost.append))
        a = client.call(lambda: Connection(listener.address, TOKEN, print))
        client.call(a.send, "from a")
        wait_for(lambda: seen == [a.peer_id], timeout=10)
        gate = threading.Event()

        def stall_then_read():  # the listener's loop is busy while A leaves and B speaks
            gate.wait(30)
            listener._drain()  # B's message first, as a loop may pick the socket before its monitor,
            listener._monitor.drain()  # then the events (whose wake-up our polls below may have taken)

        server.loop.add_callback(stall_then_read)
        monitor_pair, sock = listener._monitor._pair, listener._socket  # idle while their loop is stalled
        client.call(lambda: a.close(linger=0))
        wait_for(lambda: monitor_pair.poll(0), timeout=10, what="A's disconnect queued on the monitor")
        b = client.call(lambda: Connection(listener.address, TOKEN, print))
        client.call(b.send, "from b")
        wait_for(lambda: sock.poll(0), timeout=10, what="B's message waiting at the listener")
        gate.set()
        wait_for(lambda: seen == [a.peer_id, b.peer_id] and lost, timeout=10)
        assert lost == [a.peer_id]
        client.call(b.send, "still here")
        wait_for(lambda: len(seen) == 3, timeout=10)
        assert lost == [a.peer_id]
        client.call(lambda: b.close(linger=0))
        wait_for(lambda: lost == [a.peer_id, b.peer_id], timeout=10, what="B's own disconnect reported")
        server.call(listener.close)
    finally:
        client.stop()
        server.stop()


def test_messages_zmq_refuses_are_queued_and_sent_in_order(monkeypatch):
    replies = []

    async def main():
        echo = Echo("tcp://127.0.0.1:0")
        conn = Connection(echo.listener.address, TOKEN, replies.append)
        real = conn._send_parts
        refusals = [zmq.Again()]

        def flaky(parts):
            if refusals:
                raise refusals.pop()
            real(parts)

        monkeypatch.setattr(conn, "_send_parts", flaky)
        try:
            conn.send(1)  # refused: queued and retried
            conn.send(2)  # queued behind it
            await wait_for_async(lambda: len(replies) == 2)
            assert replies == [{"echo": 1}, {"echo": 2}]
        finally:
            conn.close()
            echo.listener.close()

    run(main())


def test_closed_endpoints_refuse_to_send_and_close_twice():
    async def main():
        listener = Listener("tcp://127.0.0.1:0", None, print)
        conn = Connection(listener.address, None, print)
        conn.close()
        conn.close()
        listener.close()
        with pytest.raises(CommClosedError):
            conn.send("x")
        with pytest.raises(CommClosedError):
            listener.send(b"peer", "x")

    run(main())


def test_bind_errors_say_which_address():
    async def main():
        listener = Listener("tcp://127.0.0.1:0", None, print)
        try:
            with pytest.raises(OSError, match=listener.address):
                Listener(listener.address, None, print)
        finally:
            listener.close()

    run(main())


def test_module_constants_are_sane():
    assert transport.HEARTBEAT_INTERVAL < transport.HEARTBEAT_TIMEOUT
    assert transport.MAX_BATCHES_PER_WAKEUP >= 100
