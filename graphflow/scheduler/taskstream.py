"""The task stream: a bounded ring of what ran where, from the scheduler's point of view.

Every `TaskFinished` and `TaskErred` a worker sends carries the wall-clock
``start`` and ``stop`` of the run and the index of the worker thread that ran
it.  The scheduler shell hands each one to `TaskStream.add` as it arrives;
the ring keeps the last ``scheduler.task_stream_size`` (gf.config, default
100,000) runs, dropping the oldest.  The dashboard, the performance report
and ``client.get_task_stream()`` read it.

Cost model.  ``add`` runs on the scheduler's loop once per finished task, so
it stores a plain tuple (no dict, no key formatting, no prefix split): a
tuple and a deque append, well under a microsecond.  Readers pay instead:
`records` copies the ring under a lock and turns the tuples it returns into
the records of the diagnostics contract::

    {"key": "inc-0a1b2c3d4e", "prefix": "inc", "worker": "tcp://127.0.0.1:40123",
     "thread": 0, "start": 1700000000.01, "stop": 1700000000.02, "nbytes": 28,
     "status": "finished"}

Worked example::

    >>> from graphflow.testing.events import finished
    >>> ring = TaskStream(maxlen=2)
    >>> for i in range(3):
    ...     ev = finished("tcp://w:1", f"inc-{i}", duration=1.0)
    ...     ev.start, ev.stop = 100.0 + i, 101.0 + i
    ...     ring.add(ev)
    >>> [(r["key"], r["stop"]) for r in ring.records()]
    [('inc-1', 102.0), ('inc-2', 103.0)]
    >>> [r["key"] for r in ring.records(since=102.5)], [r["key"] for r in ring.records(count=1)]
    (['inc-2'], ['inc-2'])
"""

from __future__ import annotations

import itertools
import threading
import time

from .events import TaskErred
from .ring import Ring
from ..spec.keys import key_split

__all__ = ["TaskStream", "DEFAULT_SIZE"]

DEFAULT_SIZE = 100_000

# Records arrive in the order workers report them, which is nearly but not exactly the order of their
# ``stop`` times (clocks of other hosts, batching).  A reader asking for ``stop >= since`` scans back
# from the newest record until records *arrived* this long before ``since``.
_ARRIVAL_SLACK = 30.0


class TaskStream:
    """A bounded ring of task runs; `add` on the scheduler loop, `records` from any thread."""

    __slots__ = ("_ring", "_lock", "maxlen", "added", "_packed_arrival")

    def __init__(self, maxlen: int = DEFAULT_SIZE):
        if not isinstance(maxlen, int) or maxlen < 0:
            raise ValueError(f"task stream size must be a non-negative int, not {maxlen!r} "
                             f"(config 'scheduler.task_stream_size')")
        self.maxlen = maxlen
        self._ring = Ring(maxlen=maxlen)
        self._lock = threading.Lock()
        self.added = 0  # runs seen in total, dropped ones included
        self._packed_arrival = 0.0  # when the newest packed record arrived (see `compact`)

    def __len__(self) -> int:
        return len(self._ring)

    def add(self, ev) -> None:
        """Record one `TaskFinished` or `TaskErred` event (``worker`` already set by the shell).

        Reports of results that were not run here (a result already in
        memory re-announced, with no start or stop) are skipped.
        """
        stop = ev.stop
        if not stop:
            return
        erred = type(ev) is TaskErred
        rec = (ev.key, ev.worker, ev.thread, ev.start, stop,
               0 if erred else ev.nbytes, erred, time.time())
        with self._lock:
            self._ring.append(rec)
        self.added += 1

    def add_many(self, events: list) -> None:
        """`add` for a batch of `TaskFinished` events that ran (``stop`` set): one lock and one clock read."""
        if not events:
            return
        now = time.time()
        recs = [(ev.key, ev.worker, ev.thread, ev.start, ev.stop, ev.nbytes, False, now) for ev in events]
        with self._lock:
            self._ring.extend(recs)
        self.added += len(recs)

    def records(self, since: float | None = None, count: int | None = None, sample: int | None = None) -> list:
        """Records with ``stop >= since`` (all when None), the last ``count`` of them when given, oldest first.

        ``sample``: at most this many of those, evenly spaced (the dashboard's
        view of a busy second).  Only the records returned are formatted, and
        with ``since`` or ``count`` only the newest end of the ring is read: a
        reader holds the lock (and the GIL) for what it asked for, not for
        the whole ring, since the scheduler's loop waits on both.
        """
        with self._lock:
            if since is None and count is None:
                raw = list(self._ring)
            else:
                raw = self._newest(since, count)
        if sample is not None and len(raw) > max(1, sample):
            step = len(raw) / max(1, sample)
            raw = [raw[int(i * step)] for i in range(max(1, sample))]
        return [_record(rec) for rec in raw]

    def _newest(self, since, count) -> list:
        limit = len(self._ring) if count is None else max(0, count)
        floor = None if since is None else since - _ARRIVAL_SLACK
        picked = []
        if self._pick(picked, itertools.islice(reversed(self._ring), self._ring.live()), since, limit, floor):
            # the packed part is unpickled only when the live records do not reach back far enough
            if self._ring.live() < len(self._ring) and (floor is None or self._packed_arrival >= floor):
                self._pick(picked, reversed(self._ring.packed()), since, limit, floor)
        picked.reverse()
        return picked

    @staticmethod
    def _pick(picked: list, newest_first, since, limit: int, floor) -> bool:
        """Append to ``picked`` the records of ``newest_first`` that match; False once older ones cannot."""
        for rec in newest_first:
            if len(picked) >= limit or (floor is not None and rec[7] < floor):
                return False
            if since is None or rec[4] >= since:
                picked.append(rec)
        return True

    def compact(self) -> None:
        """Pack every record into one buffer, after a big release (`graphflow.scheduler.ring`): records made
        while a computation ran sit between its freed tasks and keep their memory in use."""
        with self._lock:
            if self._ring.live():
                self._packed_arrival = self._ring.newest_live()[7]
            self._ring.pack()

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._ring.clear()


def _record(rec: tuple) -> dict:
    key, worker, thread, start, stop, nbytes, erred, _ = rec
    return {"key": str(key), "prefix": key_split(key), "worker": worker, "thread": thread, "start": start,
            "stop": stop, "nbytes": nbytes, "status": "erred" if erred else "finished"}
