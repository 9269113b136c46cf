"""The worker's result store: a mapping key -> value that knows how many bytes it holds.

`WorkerStore` is a `MutableMapping`, so the worker's state machine and the
shell read and write results like a dict, and a later disk tier can slide in
underneath without either of them noticing (DESIGN: "the spill store is a
mapping").  Besides the values it keeps each key's size and the exact sum,
``total_bytes``, which the worker reports in heartbeats and the scheduler uses
for placement.

Sizes come from one of two places:

* ``store.set(key, value, nbytes)`` -- the size is already known (a task's
  thread measured its result, a peer sent the size along with the data);
  measuring again on the event loop would be wasted work.
* ``store[key] = value`` -- the store measures with its ``sizer``
  (default `nbytes_of`, a small local estimate that a later issue replaces
  with ``graphflow.sizeof``; pass ``sizer=`` to change it now).

Worked example::

    >>> s = WorkerStore(sizer=len)
    >>> s["a"] = b"xyz"
    >>> s.set("b", object(), 100)
    >>> s.total_bytes, s.nbytes("a")
    (103, 3)
    >>> s["a"] = b"x"             # overwrite: the old size is subtracted
    >>> del s["b"]
    >>> s.total_bytes
    1

Where spilling plugs in: every write ends in `_maybe_evict`, which does
nothing yet.  The disk tier will override it to move least-recently-used
values to Arrow blocks once the fast tier passes ``memory_limit``, and
``__getitem__`` will read them back; ``total_bytes`` will stay the sum over
both tiers (what the scheduler's placement needs), with a separate figure for
the fast tier.  Callers use only the mapping methods, `set`, `nbytes` and
``total_bytes``, so none of them changes.

Threads: the store is not locked.  Only the worker's event-loop thread touches
it: executor threads hand their results to the loop (as `ExecuteSuccess`
events), and the loop reads a task's inputs out of the store (via
``WorkerState.execution_inputs``) *before* handing them to a thread.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping

__all__ = ["WorkerStore", "nbytes_of"]

# Containers are measured by sampling: at most this many items per container
# and this many levels deep, so sizing a million-element list stays cheap.
_SAMPLE_ITEMS = 64
_MAX_DEPTH = 3
_SEQUENCES = (list, tuple, set, frozenset)


def nbytes_of(obj, _depth: int = 0) -> int:
    """A cheap estimate of the bytes ``obj`` holds.

    Numpy arrays and pyarrow objects report their buffers (``.nbytes``),
    ``bytes``/``str`` their length, containers their own size plus their items
    (sampled past 64 items, 3 levels deep), anything else ``sys.getsizeof``.

    >>> nbytes_of(b"abcd"), nbytes_of("ab")
    (4, 2)
    """
    tp = type(obj)
    if tp is bytes or tp is str or tp is bytearray:
        return len(obj)
    if tp is memoryview:
        return obj.nbytes
    module = tp.__module__
    if module.startswith("numpy") or module.startswith("pyarrow"):
        nbytes = getattr(obj, "nbytes", None)
        if isinstance(nbytes, int):
            return nbytes
    if _depth < _MAX_DEPTH:
        if tp is dict:
            keys = _first(obj, _SAMPLE_ITEMS)
            return (sys.getsizeof(obj) + _sampled(keys, len(obj), _depth)
                    + _sampled([obj[k] for k in keys], len(obj), _depth))
        if isinstance(obj, _SEQUENCES):
            items = obj[:_SAMPLE_ITEMS] if isinstance(obj, (list, tuple)) else _first(obj, _SAMPLE_ITEMS)
            return sys.getsizeof(obj) + _sampled(items, len(obj), _depth)
    try:
        return sys.getsizeof(obj)
    except TypeError:  # some extension types refuse; any small positive figure will do
        return 64


def _first(iterable, n: int) -> list:
    out = []
    for item in iterable:
        if len(out) == n:
            break
        out.append(item)
    return out


def _sampled(items, total: int, depth: int) -> int:
    """Size of ``items`` scaled up to ``total`` items."""
    if not items:
        return 0
    size = 0
    for item in items:
        size += nbytes_of(item, depth + 1)
    return size * total // len(items)


class WorkerStore(MutableMapping):
    """Results held by one worker, with exact byte accounting.

    ``memory_limit``: bytes the fast tier should stay under (``None``: no
    limit); nothing enforces it until the disk tier exists.  ``sizer``: a
    function ``value -> int`` used by ``store[key] = value``.
    """

    def __init__(self, memory_limit: int | None = None, sizer=nbytes_of):
        self.memory_limit = memory_limit
        self.sizer = sizer
        self._data: dict = {}
        self._nbytes: dict = {}
        self._total = 0

    @property
    def total_bytes(self) -> int:
        """Sum of the sizes of all values held (exact: kept up to date on every write and delete)."""
        return self._total

    def set(self, key, value, nbytes: int) -> None:
        """Store ``value`` under ``key`` with a size the caller already knows."""
        old = self._nbytes.get(key)
        if old is not None:
            self._total -= old
        self._data[key] = value
        self._nbytes[key] = nbytes
        self._total += nbytes
        self._maybe_evict()

    def nbytes(self, key) -> int:
        """The recorded size of ``key``'s value (``KeyError`` if absent)."""
        return self._nbytes[key]

    def _maybe_evict(self) -> None:
        """Called after every write.  The disk tier overrides this to spill past ``memory_limit``."""

    def __setitem__(self, key, value) -> None:
        self.set(key, value, int(self.sizer(value)))

    def __getitem__(self, key):
        return self._data[key]

    def __delitem__(self, key) -> None:
        del self._data[key]
        self._total -= self._nbytes.pop(key)

    def __contains__(self, key) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        limit = "" if self.memory_limit is None else f", memory_limit={self.memory_limit}"
        return f"<WorkerStore: {len(self._data)} keys, {self._total} bytes{limit}>"

    def validate(self) -> None:
        """Check the byte accounting (for tests and ``WorkerState.validate_state``)."""
        assert self._data.keys() == self._nbytes.keys(), "values and sizes disagree on keys"
        assert self._total == sum(self._nbytes.values()), f"total_bytes {self._total} is not the sum of sizes"
