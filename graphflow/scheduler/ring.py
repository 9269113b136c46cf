"""`Ring`: a bounded ring of records that, after a large release, keeps them packed in one buffer.

The scheduler remembers two rings on purpose: the transition log (`SchedulerState.log`) and the task
stream (`graphflow.scheduler.taskstream`), the last 100k records each.  Their records are made while a
computation runs, between its tasks' objects, as small tuples, strings and floats of Python's
small-object allocator, which hands out 1 MiB arenas and returns one to the system only once every object
in it is gone.  So when the computation is released, the surviving records pin a hundred-odd arenas that
are otherwise empty, and each round of a large ``client.map`` left the scheduler bigger (50 MiB of live
blocks in 96, 114, then 124 arenas; `sys._debugmallocstats`).

A `Ring` is a `collections.deque` with ``maxlen`` (the hot path, ``append``, is the deque's own), plus a
packed part: `pack` (called once the state holds no task, `graphflow.scheduler.trim.compact`) pickles every
record into one bytes object -- one large block, served by ``mmap`` (see `trim.tune_malloc`), outside the
small-object heap -- and empties the deque, so the arenas of the computation empty with it.  Iterating
and ``len`` see the packed records first, then the live ones, ``maxlen`` at most: as live records arrive,
the oldest packed ones drop out of view, and the packed part goes once the live one is full.  Reading the
packed part unpickles it (readers are diagnostics: ``story``, the task stream's views).

    >>> r = Ring(maxlen=3)
    >>> r.extend([("a", 1), ("b", 2)])
    >>> r.pack()
    >>> len(r), r.live(), list(r)
    (2, 0, [('a', 1), ('b', 2)])
    >>> r.extend([("c", 3), ("d", 4)])  # three fit: the oldest packed record drops out of view
    >>> list(r), list(reversed(r))[0]
    ([('b', 2), ('c', 3), ('d', 4)], ('d', 4))
"""

from __future__ import annotations

import pickle
from collections import deque

__all__ = ["Ring"]


class Ring(deque):
    """A `collections.deque` of records whose older part can be packed into one buffer (module docstring)."""

    __slots__ = ("_packed", "_n_packed")

    def __init__(self, iterable=(), maxlen: int | None = None):
        super().__init__(iterable, maxlen)
        self._packed = b""
        self._n_packed = 0

    def live(self) -> int:
        """How many records are held as objects (appended since the last `pack`)."""
        return deque.__len__(self)

    def newest_live(self):
        """The record appended last since the last `pack` (IndexError if none).  ``ring[-1]`` would be
        wrong: the deque counts back from the overridden ``len``, packed records included."""
        return deque.__getitem__(self, deque.__len__(self) - 1)

    def _n_visible(self) -> int:
        if self.maxlen is None:
            return self._n_packed
        return max(0, min(self._n_packed, self.maxlen - deque.__len__(self)))

    def packed(self) -> list:
        """The packed records still in view, oldest first (unpickled: a copy)."""
        n = self._n_visible()
        if not n:
            if self._n_packed:  # the live records filled the ring: the packed ones are gone for good
                self._packed, self._n_packed = b"", 0
            return []
        return pickle.loads(self._packed)[-n:]

    def pack(self) -> None:
        """Move every record in view into one pickled buffer and empty the deque.

        Records that do not pickle (a detail holding some object of a plugin's) stay as they are."""
        records = list(self)
        if not records:
            self.clear()
            return
        try:
            packed = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        deque.clear(self)
        self._packed, self._n_packed = packed, len(records)

    def clear(self) -> None:
        """Forget every record, packed or live."""
        deque.clear(self)
        self._packed, self._n_packed = b"", 0

    def __len__(self) -> int:
        return deque.__len__(self) + self._n_visible()

    def __iter__(self):
        if self._n_packed:
            yield from self.packed()
        yield from deque.__iter__(self)

    def __reversed__(self):
        yield from deque.__reversed__(self)
        if self._n_packed:
            yield from reversed(self.packed())

    def __reduce__(self):
        return type(self), (list(self), self.maxlen)
