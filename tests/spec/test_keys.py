import pytest

from graphflow.errors import InvalidKeyError
from graphflow.spec.keys import is_valid_key, key_split, key_str, unique_suffix, validate_key


@pytest.mark.parametrize("key", ["x", "inc-abc", ("x", 0), ("x", 0, 3), ("x", "a", 1)])
def test_valid_keys(key):
    assert is_valid_key(key)
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [1, 1.5, None, (), (1, 2), ("x", 1.5), ("x", None), ("x", True), b"x", ["x"]])
def test_invalid_keys_raise_named_error(key):
    assert not is_valid_key(key)
    with pytest.raises(InvalidKeyError, match="not a valid key"):
        validate_key(key)


def test_key_split_drops_hex_tokens_only():
    assert key_split("inc-0123456789abcdef") == "inc"
    assert key_split("my-task") == "my-task"
    assert key_split(("sum-agg-deadbeef00", 3)) == "sum-agg"
    assert key_split("x") == "x"


def test_unique_suffix_is_unique_and_compact():
    seen = {unique_suffix() for _ in range(10_000)}
    assert len(seen) == 10_000
    assert all(len(s) < 24 for s in seen)


def test_key_str():
    assert key_str("a") == "a"
    assert key_str(("a", 1)) == "('a', 1)"
