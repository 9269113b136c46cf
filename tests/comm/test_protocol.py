"""The MAC is checked before anything is unpickled; tampering and wrong tokens are refused."""

from __future__ import annotations

import numpy as np
import pytest

from graphflow.comm.protocol import AUTH_FAILED, MAC_SIZE, MAGIC, pack, unpack, verify
from graphflow.errors import AuthenticationError

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


@pytest.mark.parametrize("head", [b"", b"GF", b"GF2\x10" + b"0" * 40, b"\x80\x05garbage", AUTH_FAILED])
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


def test_buffer_contents_are_not_hashed():
    # Documented limit: the MAC covers lengths, not the bytes of big buffers.
    x = np.arange(100_000)
    head, buf = pack({"x": x}, TOKEN)
    changed = bytearray(buf)
    changed[:8] = (7).to_bytes(8, "little")
    assert unpack([head, changed], TOKEN)["x"][0] == 7


def test_long_tokens_work():
    token = b"t" * 200
    assert unpack(pack("hi", token), token) == "hi"
    with pytest.raises(AuthenticationError):
        unpack(pack("hi", token), b"t" * 199)


def test_auth_failed_reply_is_not_a_message():
    assert isinstance(AUTH_FAILED, bytes) and not AUTH_FAILED.startswith(MAGIC)
