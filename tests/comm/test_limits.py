"""What a peer can make a process read (comm.max_message_size) and how often bad peers are logged."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import zmq

from graphflow import config
from graphflow.comm.limits import RateLimitedLog, max_message_size, physical_memory
from graphflow.comm.protocol import AUTH_FAILED, MAC_SIZE, MAGIC, pack
from graphflow.comm.transport import Connection, Listener
from graphflow.errors import ConfigError, MessageTooLargeError
from graphflow.store.rss import process_rss
from graphflow.testing.wait import wait_for_async

TOKEN = b"limits test token, 32 bytes ...."
TRANSPORT_LOG = "graphflow.comm.transport"


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def warnings_from(caplog, text: str) -> list:
    return [r.getMessage() for r in caplog.records
            if r.name == TRANSPORT_LOG and r.levelno == logging.WARNING and text in r.getMessage()]


# ------------------------------------------------------------------ the setting


def test_max_message_size_setting():
    assert max_message_size() == physical_memory() > 2**28  # "auto": this host's memory
    with config.set({"comm.max_message_size": "64MiB"}):
        assert max_message_size() == 64 * 2**20
    with config.set({"comm.max_message_size": 1000}):
        assert max_message_size() == 1000
    for bad in (0, -5, "lots", True, None):
        with pytest.raises(ConfigError, match="comm.max_message_size"):
            config.set({"comm.max_message_size": bad})


# ------------------------------------------------------------------ one oversized frame


class PeakRSS:
    """The peak RSS of this process from now on: the kernel's high-water mark, reset (Linux clear_refs)."""

    def __init__(self):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        self.start = process_rss()

    def growth(self) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 - self.start
        raise AssertionError("no VmHWM in /proc/self/status")


SEND_ONE_FRAME = textwrap.dedent("""
    import sys, time, zmq
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.connect(sys.argv[1])
    sock.send(bytes(int(sys.argv[2])))  # not even a graphflow header: nobody authenticated this
    print("sent", flush=True)
    time.sleep(600)
""")


async def _oversized_frame(nbytes: int, caplog):
    got = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    peak = PeakRSS()
    sender = subprocess.Popen([sys.executable, "-c", SEND_ONE_FRAME, listener.address, str(nbytes)],
                              stdout=subprocess.PIPE, text=True)
    try:
        await wait_for_async(lambda: warnings_from(caplog, "closed before it delivered a whole message"),
                             timeout=60, what="the listener noticing the cut connection")
        growth = peak.growth()
        # The listener keeps serving good peers.
        replies = []
        good = Connection(listener.address, TOKEN, replies.append)
        good.send({"op": "hello"})
        await wait_for_async(lambda: got, timeout=30, what="a good peer's message")
        good.close()
        return growth, got
    finally:
        sender.kill()
        sender.wait()
        listener.close()


def test_an_oversized_unauthenticated_frame_is_cut_off_before_it_is_read(caplog):
    """A 200 MB frame to a listener that accepts 32 MiB: zmq reads its length, drops the peer, reads nothing more
    (before the limit, a 200 MB unauthenticated frame cost the receiver 241 MB)."""
    caplog.set_level(logging.WARNING, TRANSPORT_LOG)
    nbytes = 200 * 2**20
    with config.set({"comm.max_message_size": "32MiB"}):
        growth, got = run(_oversized_frame(nbytes, caplog))
    print(f"peak RSS growth of the receiver: {growth / 2**20:.1f} MiB for a {nbytes / 2**20:.0f} MiB frame")
    assert growth < 40 * 2**20, f"the receiver's peak RSS grew by {growth / 2**20:.0f} MiB for a refused frame"
    assert got == [{"op": "hello"}]
    lines = warnings_from(caplog, "closed before it delivered a whole message")
    assert len(lines) == 1, lines  # one clear line, whatever the sender's reconnections do
    assert "comm.max_message_size (32.00 MiB)" in lines[0] and "127.0.0.1" in lines[0]


# ------------------------------------------------------------------ many frames, each under the limit


async def _many_frames(caplog):
    got = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(listener.address)
    try:
        # zmq checks each frame (600 kB < 1 MiB) and passes the message; the total (1.2 MB) is checked on arrival.
        sock.send_multipart([MAGIC + bytes([MAC_SIZE]) + bytes(MAC_SIZE) + b"x", bytes(600_000), bytes(600_000)])
        await wait_for_async(lambda: listener.oversized, timeout=30, what="the oversized message")
        sock.send_multipart(pack([{"op": "still here"}], TOKEN))
        await wait_for_async(lambda: got, timeout=30, what="the next, good message on the same connection")
        return got, listener.rejected
    finally:
        sock.close()
        listener.close()


def test_a_message_of_many_frames_over_the_limit_in_all_is_dropped_unread(caplog):
    caplog.set_level(logging.WARNING, TRANSPORT_LOG)
    with config.set({"comm.max_message_size": "1MiB"}):
        got, rejected = run(_many_frames(caplog))
    assert got == [[{"op": "still here"}]] or got == [{"op": "still here"}]
    assert rejected == 0  # not even looked at for a MAC
    lines = warnings_from(caplog, "message dropped unread: 3 frames")
    assert len(lines) == 1 and "over comm.max_message_size (1.00 MiB)" in lines[0]


async def _send_too_much():
    got = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    conn = Connection(listener.address, TOKEN, lambda msg: None)
    try:
        with pytest.raises(MessageTooLargeError, match="comm.max_message_size") as info:
            conn.send({"x": np.zeros(2**21, dtype=np.uint8)})
        conn.send({"op": "small"})  # the connection is still usable
        await wait_for_async(lambda: got, timeout=30, what="the small message")
        return got, info.value
    finally:
        conn.close()
        listener.close()


def test_the_sender_refuses_a_message_over_the_limit_by_name():
    with config.set({"comm.max_message_size": "1MiB"}):
        got, error = run(_send_too_much())
    assert got == [{"op": "small"}]
    assert error.size > 2**21 and error.limit == 2**20 and "dict" in str(error)


# ------------------------------------------------------------------ rate-limited rejection logs


async def _bad_messages(n: int, caplog, now):
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: None)
    listener.complaints.clock = lambda: now[0]
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(listener.address)
    try:
        frames = pack([{"op": "let me in"}], b"a wrong token")
        for _ in range(n):
            sock.send_multipart(frames)
        answers = 0
        while answers < n:
            await wait_for_async(lambda: sock.poll(0), timeout=30, what=f"AUTH_FAILED answers ({answers} of {n})")
            assert sock.recv_multipart() == [AUTH_FAILED]
            answers += 1
        during = len(warnings_from(caplog, "bad MAC"))
        now[0] += listener.complaints.interval + 1
        sock.send_multipart(frames)
        await wait_for_async(lambda: sock.poll(0), timeout=30, what="the last answer")
        return during, listener.rejected
    finally:
        sock.close()
        listener.close()


def test_many_rejected_messages_make_one_line_per_peer_per_interval(caplog):
    caplog.set_level(logging.DEBUG)
    now = [1000.0]
    during, rejected = run(_bad_messages(200, caplog, now))
    assert rejected == 201
    assert during == 1, "200 bad messages within one interval must log one line"
    lines = warnings_from(caplog, "bad MAC")
    assert len(lines) == 2 and "199 more like it from 127.0.0.1 suppressed" in lines[1]


def test_rate_limited_log_by_source_with_a_cap_on_sources(caplog):
    caplog.set_level(logging.WARNING, "test.limits")
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("test.limits"), interval=10, max_sources=3, clock=lambda: now[0])
    assert [log.warning("a", "bad") for _ in range(3)] == [True, False, False]
    assert log.warning("b", "bad") and not log.warning("b", "bad")
    assert log.warning("c", "bad")
    # a peer rotating its identity: every new source beyond the cap shares one budget
    assert [log.warning(f"rotating-{i}", "bad") for i in range(50)] == [True] + [False] * 49
    assert log.pending("other peers") == 49 and log.pending("a") == 2
    now[0] = 10.5
    assert log.warning("c", "bad again")
    messages = [r.getMessage() for r in caplog.records]
    # The quiet sources' counts come out once their interval is over, not lost.
    assert "bad (2 like it from a in the 10 s before)" in messages
    assert "bad (49 like it from other peers in the 10 s before)" in messages
    assert messages[-1] == "bad again"
    assert "bad (1 like it from b in the 10 s before)" in messages
    assert len(messages) == 4 + 3 + 1  # a, b, c, other peers; then the counts of a, b, other peers; c again
