"""The MAC is checked before anything is unpickled; tampering and wrong tokens are refused."""

from __future__ import annotations

import numpy as np
import pytest

from graphflow.comm import protocol
from graphflow.comm.protocol import AUTH_FAILED, MAC_SIZE, MAGIC, pack, unpack, verify
from graphflow.errors import AuthenticationError, MessageTooLargeError, SerializationError

TOKEN = b"a" * 32

UNPICKLED = []


def _record_unpickling(tag):
    UNPICKLED.append(tag)
    return tag


class Sentinel:
    """Unpickling one calls `_record_unpickling`: a stand-in for a malicious payload."""

    def __init__(self, tag):
        self.tag = tag

    def __reduce__(self):
        return (_record_unpickling, (self.tag,))


@pytest.fixture(autouse=True)
def _clear_record():
    UNPICKLED.clear()


def test_roundtrip_with_and_without_token():
    msg = {"op": "ping", "key": ("x", 1)}
    assert unpack(pack(msg, TOKEN), TOKEN) == msg
    assert unpack(pack(msg, None), None) == msg
    assert unpack(pack(msg, TOKEN), None) == msg  # an open endpoint ignores the MAC


def test_layout_is_header_plus_pickle_then_buffers():
    x = np.arange(100_000)
    frames = pack({"x": x}, TOKEN)
    assert len(frames) == 2
    assert frames[0][:3] == MAGIC and frames[0][3] == MAC_SIZE
    assert np.shares_memory(np.frombuffer(frames[1], np.uint8), x)
    np.testing.assert_array_equal(unpack([frames[0], bytearray(frames[1])], TOKEN)["x"], x)


def test_control_sentinel_is_unpickled_when_the_message_is_intact():
    unpack(pack([Sentinel("intact")], TOKEN), TOKEN)
    assert UNPICKLED == ["intact"]


def test_tampered_pickle_is_refused_before_unpickling():
    frames = pack([Sentinel("abcd")], TOKEN)
    head = bytearray(frames[0])
    i = head.index(b"abcd")
    head[i] = ord("X")  # still a valid pickle: only the MAC can catch this
    with pytest.raises(AuthenticationError, match="bad MAC"):
        unpack([bytes(head)], TOKEN)
    assert UNPICKLED == []


@pytest.mark.parametrize("position", [3, 4, 10, 19, 20, -2, -1])
def test_any_flipped_header_or_pickle_byte_is_refused(position):
    frames = pack([Sentinel("x")], TOKEN)
    head = bytearray(frames[0])
    head[position] ^= 0x01
    with pytest.raises(AuthenticationError):
        unpack([bytes(head)], TOKEN)
    assert UNPICKLED == []


def test_wrong_token_is_refused():
    with pytest.raises(AuthenticationError, match="different token"):
        unpack(pack([Sentinel("x")], TOKEN), b"b" * 32)
    assert UNPICKLED == []


def test_endpoint_with_token_refuses_messages_without_mac():
    with pytest.raises(AuthenticationError, match="no MAC"):
        unpack(pack([Sentinel("x")], None), TOKEN)
    assert UNPICKLED == []


@pytest.mark.parametrize("head", [b"", b"GF", b"GF1\x10" + b"0" * 40, b"\x80\x05garbage", AUTH_FAILED])
def test_wrong_magic_is_refused(head):
    with pytest.raises(AuthenticationError):
        verify([head], TOKEN)
    with pytest.raises(AuthenticationError):
        verify([head], None)


def test_no_frames_is_refused():
    with pytest.raises(AuthenticationError):
        unpack([], None)


def test_buffer_count_and_lengths_are_authenticated():
    x = np.arange(100_000)
    head, buf = pack({"x": x, "s": Sentinel("x")}, TOKEN)
    for frames in ([head], [head, buf, b"extra"], [head, bytes(buf)[:-8]], [head, bytes(buf) + b"\0" * 8]):
        with pytest.raises(AuthenticationError):
            unpack(frames, TOKEN)
    assert UNPICKLED == []


def test_buffer_contents_are_authenticated():
    """A same-length change to a buffer (an array's bytes) is refused: before protocol 2 it got through."""
    x = np.arange(100_000)
    head, buf = pack({"x": x}, TOKEN)
    changed = bytearray(buf)
    changed[:8] = (7).to_bytes(8, "little")
    with pytest.raises(AuthenticationError, match="bad MAC"):
        unpack([head, changed], TOKEN)
    assert unpack([head, bytearray(buf)], TOKEN)["x"][0] == 0


def test_a_swapped_pickle_in_a_buffer_is_refused_before_it_runs():
    """The attack of issue 17: a `SerializedValue` (a spilled result) travels as a pickle in a buffer from 2 KB
    on, and loading the message unpickles it.  Swapping in a same-length pickle must not run it."""
    from graphflow.comm.serialize import SerializedValue, dumps

    honest = dumps(["x" * 3000, Sentinel("honest")])
    evil = dumps(["y" * 3000, Sentinel("evil!!")])
    assert len(honest) == len(evil) == 1 and len(honest[0]) == len(evil[0]) >= 2048
    head, *buffers = pack({"data": SerializedValue(honest)}, TOKEN)
    i = next(i for i, b in enumerate(buffers) if bytes(b) == honest[0])
    buffers[i] = evil[0]
    with pytest.raises(AuthenticationError, match="bad MAC"):
        unpack([head, *buffers], TOKEN)
    assert UNPICKLED == []
    buffers[i] = honest[0]
    assert unpack([head, *buffers], TOKEN)["data"][1] == "honest"


@pytest.mark.parametrize("nbytes", [2048, protocol.PIECE_BYTES, protocol.PIECE_BYTES + 1,
                                    protocol.PARALLEL_MIN_BYTES + 3 * protocol.PIECE_BYTES // 2])
def test_every_piece_of_a_large_buffer_is_covered(nbytes):
    """Buffers are hashed in pieces (by several threads when large): a flip in any piece is caught."""
    x = np.zeros(nbytes, dtype=np.uint8)
    head, buf = pack({"x": x}, TOKEN)
    for position in sorted({0, protocol.PIECE_BYTES - 1, protocol.PIECE_BYTES, nbytes // 2, nbytes - 1}):
        if position >= nbytes:
            continue
        changed = bytearray(buf)
        changed[position] ^= 0x80
        with pytest.raises(AuthenticationError):
            unpack([head, changed], TOKEN)
    assert unpack([head, bytearray(buf)], TOKEN)["x"].nbytes == nbytes


def test_the_digest_does_not_depend_on_threads(monkeypatch):
    x = np.random.default_rng(0).integers(0, 255, protocol.PARALLEL_MIN_BYTES + 5, dtype=np.uint8)
    parallel = protocol.buffer_digests([x.data])
    monkeypatch.setattr(protocol, "PARALLEL_MIN_BYTES", 2**62)
    assert protocol.buffer_digests([x.data]) == parallel


def test_two_buffers_swapped_are_refused():
    a, b = np.zeros(10_000, np.uint8), np.ones(10_000, np.uint8)
    head, buf_a, buf_b = pack({"a": a, "b": b, "s": Sentinel("x")}, TOKEN)
    with pytest.raises(AuthenticationError):
        unpack([head, buf_b, buf_a], TOKEN)
    assert UNPICKLED == []


def test_a_message_over_max_size_is_refused_at_the_sender():
    x = np.zeros(10_000, np.uint8)
    with pytest.raises(MessageTooLargeError, match="comm.max_message_size") as info:
        pack([{"x": x}], TOKEN, max_size=5_000)
    assert isinstance(info.value, SerializationError) and info.value.size > 10_000 and info.value.limit == 5_000
    assert len(pack([{"x": x}], TOKEN, max_size=20_000)) == 2


def test_long_tokens_work():
    token = b"t" * 200
    assert unpack(pack("hi", token), token) == "hi"
    with pytest.raises(AuthenticationError):
        unpack(pack("hi", token), b"t" * 199)


def test_auth_failed_reply_is_not_a_message():
    assert isinstance(AUTH_FAILED, bytes) and not AUTH_FAILED.startswith(MAGIC)


def test_a_forked_child_hashes_large_buffers_with_threads_of_its_own():
    """The hashing pool's threads do not survive fork(); a child must not wait on them forever."""
    import multiprocessing

    x = np.ones(protocol.PARALLEL_MIN_BYTES + 10, dtype=np.uint8)
    frames = pack({"x": x}, TOKEN)  # the parent's pool now exists
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        result = pool.apply_async(_pack_and_check, (protocol.PARALLEL_MIN_BYTES + 10,))
        assert result.get(timeout=60) == len(frames)


def _pack_and_check(nbytes):
    frames = pack({"x": np.ones(nbytes, dtype=np.uint8)}, TOKEN)
    assert unpack(frames, TOKEN)["x"].nbytes == nbytes
    return len(frames)
