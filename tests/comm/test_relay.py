"""Real zmq endpoints with a TCP relay between them: a byte changed on the wire is refused, and encryption hides
what travels.

    Connection ---tcp---> Relay ---tcp---> Listener
                 (records every byte; may flip one)
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from graphflow import config
from graphflow.comm.security import derived_curve_secret
from graphflow.comm.serialize import SerializedValue, dumps
from graphflow.comm.transport import Connection, Listener
from graphflow.errors import AuthenticationError
from graphflow.testing.wait import wait_for_async

from .relay import FlipInRun, Relay, host_port

TOKEN = b"relay test token, long enough .."
MARKER = b"plaintext-marker-7f3a9c"

UNPICKLED: list = []


def _record_unpickling(tag):
    UNPICKLED.append(tag)
    return tag


class Sentinel:
    def __init__(self, tag):
        self.tag = tag

    def __reduce__(self):
        return (_record_unpickling, (self.tag,))


@pytest.fixture(autouse=True)
def _clear_record():
    UNPICKLED.clear()


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def spilled_result():
    """What a worker sends for a spilled result: a pickle in an out-of-band buffer, unpickled on arrival,
    holding 1 MiB of 0xAB (where the relay flips a byte) and a sentinel."""
    return SerializedValue(dumps([np.full(2**20, 0xAB, dtype=np.uint8), Sentinel("spilled result")]))


async def _tampered_upwards():
    got, closed = [], []
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    flip = FlipInRun(b"\xab", "up")
    relay = Relay(host_port(listener.address), tamper=flip)
    conn = Connection(relay.address, TOKEN, lambda msg: None, on_close=closed.append)
    try:
        conn.send({"op": "data", "value": spilled_result()})
        await wait_for_async(lambda: closed, timeout=30, what="the sender hearing that its message was refused")
        return got, closed, listener.rejected, flip.flipped
    finally:
        conn.close()
        listener.close()
        relay.close()


def test_a_byte_flipped_in_a_big_buffer_on_the_way_is_refused_and_never_runs(caplog):
    caplog.set_level(logging.WARNING, "graphflow.comm.transport")
    got, closed, rejected, flipped = run(_tampered_upwards())
    assert flipped == 1, "the relay did not find the buffer to tamper with"
    assert got == [] and rejected == 1
    assert UNPICKLED == [], "the receiver unpickled a tampered message"
    assert isinstance(closed[0], AuthenticationError) and "altered on the way" in str(closed[0])
    assert any("bad MAC" in r.getMessage() for r in caplog.records)


async def _untampered():
    got = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    relay = Relay(host_port(listener.address))
    conn = Connection(relay.address, TOKEN, lambda msg: None)
    try:
        conn.send({"op": "data", "value": spilled_result()})
        await wait_for_async(lambda: got, timeout=30, what="the message through the relay")
        return got
    finally:
        conn.close()
        listener.close()
        relay.close()


def test_control_the_same_message_through_an_honest_relay_arrives():
    got = run(_untampered())
    assert got[0]["value"][1] == "spilled result" and UNPICKLED == ["spilled result"]
    assert got[0]["value"][0].nbytes == 2**20 and (got[0]["value"][0] == 0xAB).all()


async def _tampered_downwards():
    replies = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN,
                        lambda peer, msg: listener.send(peer, {"op": "data", "value": spilled_result()}))
    flip = FlipInRun(b"\xab", "down")
    relay = Relay(host_port(listener.address), tamper=flip)
    conn = Connection(relay.address, TOKEN, replies.append)
    try:
        conn.send({"op": "get"})
        await wait_for_async(lambda: conn.rejected, timeout=30, what="the tampered reply")
        conn.send({"op": "get"})  # the connection still works: the next reply is intact
        await wait_for_async(lambda: replies, timeout=30, what="an intact reply")
        return replies, conn.rejected, flip.flipped
    finally:
        conn.close()
        listener.close()
        relay.close()


def test_a_reply_tampered_on_the_way_back_is_dropped_with_a_log_line(caplog):
    caplog.set_level(logging.WARNING, "graphflow.comm.transport")
    replies, rejected, flipped = run(_tampered_downwards())
    assert flipped == 1 and rejected == 1
    assert len(replies) == 1 and UNPICKLED == ["spilled result"]  # only the intact one was unpickled
    assert [r.getMessage() for r in caplog.records if "bad MAC" in r.getMessage()]


# ------------------------------------------------------------------ encryption


async def _exchange_through_a_recording_relay():
    got = []
    listener = Listener("tcp://127.0.0.1:0", TOKEN,
                        lambda peer, msg: (got.append(msg), listener.send(peer, {"echo": msg})))
    replies = []
    relay = Relay(host_port(listener.address))
    conn = Connection(relay.address, TOKEN, replies.append)
    try:
        big = np.frombuffer(MARKER * 10_000, dtype=np.uint8)  # also in an out-of-band buffer
        conn.send({"text": MARKER.decode(), "big": big})
        await wait_for_async(lambda: replies, timeout=30, what="the echo through the relay")
        assert got[0]["text"] == MARKER.decode() and bytes(replies[0]["echo"]["big"][:len(MARKER)]) == MARKER
        return relay.sent("up"), relay.sent("down")
    finally:
        conn.close()
        listener.close()
        relay.close()


@pytest.mark.parametrize("encrypt", [False, True])
def test_with_comm_encrypt_no_plaintext_crosses_the_wire(encrypt):
    with config.set({"comm.encrypt": encrypt}):
        up, down = run(_exchange_through_a_recording_relay())
    assert len(up) > 100_000 and len(down) > 100_000
    seen = MARKER in up or MARKER in down
    assert seen is not encrypt, "encrypted traffic shows the marker" if encrypt else "the relay saw nothing"


async def _connect_to_encrypted_listener(**conn_kwargs):
    got, closed = [], []
    with config.set({"comm.encrypt": True}):
        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: got.append(msg))
    token = conn_kwargs.pop("token", TOKEN)
    conn = Connection(listener.address, token, lambda msg: None, on_close=closed.append, **conn_kwargs)
    try:
        conn.send({"op": "hello", "s": Sentinel("from a peer without the key")})
        await wait_for_async(lambda: closed, timeout=30, what="the handshake failure")
        return got, closed
    finally:
        conn.close()
        listener.close()


@pytest.mark.parametrize("peer", ["plaintext", "another token", "another key"])
def test_a_peer_without_the_key_cannot_talk_to_an_encrypted_listener(peer):
    kwargs = {"plaintext": {"curve_secret": False},
              "another token": {"curve_secret": derived_curve_secret(b"another token"), "token": b"another token"},
              "another key": {"curve_secret": derived_curve_secret(b"x" * 40)}}[peer]
    got, closed = run(_connect_to_encrypted_listener(**kwargs))
    assert got == [] and UNPICKLED == []
    assert isinstance(closed[0], AuthenticationError) and "encryption handshake" in str(closed[0])
    assert "comm.encrypt" in str(closed[0])


def test_the_derived_key_needs_a_token():
    from graphflow.comm.security import curve_secret
    from graphflow.errors import ConfigError

    with config.set({"comm.encrypt": True}):
        assert curve_secret(None, TOKEN, environ={}) == derived_curve_secret(TOKEN)
        assert curve_secret(False, TOKEN, environ={}) is None
        assert curve_secret(None, TOKEN, environ={"GRAPHFLOW_CURVE_SECRET": "k" * 40}) == b"k" * 40
        with pytest.raises(ConfigError, match="no cluster token"):
            curve_secret(None, None, environ={})
    assert curve_secret(None, TOKEN, environ={}) is None
