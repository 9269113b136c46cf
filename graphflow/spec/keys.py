"""Keys: the names of nodes in a task graph.

A key is a ``str`` (``"inc-4f1c..."``) or a tuple whose first element is a
``str`` name and whose other elements are ints or strs (``("x", 0, 3)``, the
block of a chunked array).  Keys are plain hashable data, so graphs pickle and
compare cheaply.

Collections and pure calls derive keys from `tokenize`, so the same computation
gets the same key; an impure call gets `unique_suffix()`, which is unique within
a process and, thanks to a random per-process prefix, across processes too.

    >>> key_split("inc-9f2c1a0b")
    'inc'
    >>> key_split(("sum-agg-0a1b2c3d", 3))
    'sum-agg'
    >>> validate_key(("x", 0, 1))
    ('x', 0, 1)
"""

from __future__ import annotations

import itertools
import os

from ..errors import InvalidKeyError

# A random prefix per process plus a counter: as unique as uuid4 for our needs
# and about ten times cheaper to make, which matters when building 1M tasks.
_PREFIX = os.urandom(6).hex()
_counter = itertools.count()


def unique_suffix() -> str:
    """A short string unique to this call, in this process and across processes.

    >>> unique_suffix() != unique_suffix()
    True
    """
    return f"{_PREFIX}{next(_counter):x}"


def _reset_after_fork() -> None:
    global _PREFIX, _counter
    _PREFIX = os.urandom(6).hex()
    _counter = itertools.count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def is_valid_key(key) -> bool:
    """True for ``str`` keys and ``(str, int|str, ...)`` tuple keys."""
    if type(key) is str:
        return True
    if type(key) is tuple and key and type(key[0]) is str:
        for part in key:
            # exact types: bool (an int subclass) and numpy ints are refused
            tp = type(part)
            if tp is not int and tp is not str:
                return False
        return True
    return False


def validate_key(key):
    """Return ``key`` unchanged, or raise `InvalidKeyError` saying what a key may be."""
    if is_valid_key(key):
        return key
    raise InvalidKeyError(
        f"{key!r} is not a valid key: use a str, or a tuple whose first element is a str "
        f"name and whose other elements are ints or strs, e.g. ('x', 0, 1)"
    )


def key_split(key) -> str:
    """The human-readable name inside a key: its prefix before the token.

    A trailing ``-<hex token>`` part (8+ hex characters) is dropped, so
    ``"inc-0123abcd4567"`` gives ``"inc"`` and ``"my-task"`` stays ``"my-task"``.
    """
    if type(key) is tuple:
        key = key[0]
    if type(key) is not str:
        return str(key)
    head, sep, tail = key.rpartition("-")
    if sep and len(tail) >= 8 and _is_hex(tail):
        return head
    return key


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def key_str(key) -> str:
    """A readable string form of a key, used in messages and drawings."""
    return key if type(key) is str else repr(key)
