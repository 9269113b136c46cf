"""`MemoryHistory`: each worker's memory samples, a bounded ring kept in flat number columns.

The scheduler samples every worker's memory each dashboard interval (0.5 s), running or idle, for
hours.  Kept as one tuple of six Python objects per sample, every sample was a handful of small
objects allocated wherever the allocator had room at that moment -- in the middle of a computation,
between the records of 100k tasks.  When those tasks were released, each surviving sample pinned the
1 MiB block of the small-object allocator it sat in: a few dozen samples per round of
``client.map`` held tens of MiB that no trim can return.  Here a sample is six numbers written into
``array`` columns (one buffer each, outside the small-object heap): taking a sample allocates nothing
once the ring is full, and nothing it keeps sits between a computation's records.

    >>> h = MemoryHistory(capacity=2)
    >>> for t in (1.0, 2.0, 3.0):
    ...     h.append(t, "tcp://w:1", 10, 0, 5, 15)
    >>> [(s["time"], s["rss"]) for s in h.by_worker()["tcp://w:1"]], len(h)
    ([(2.0, 15), (3.0, 15)], 2)
    >>> h.by_worker(since=2.5)["tcp://w:1"][0]["time"]
    3.0
"""

from __future__ import annotations

from array import array

__all__ = ["MemoryHistory", "samples_by_worker"]

_FIELDS = ("managed", "spilled", "unmanaged", "rss")


class MemoryHistory:
    """The last ``capacity`` samples ``(time, worker, managed, spilled, unmanaged, rss)``, oldest dropped first."""

    __slots__ = ("capacity", "_times", "_workers", "_numbers", "_names", "_index", "_next")

    def __init__(self, capacity: int):
        if not isinstance(capacity, int) or capacity < 0:
            raise ValueError(f"memory history size must be a non-negative int, not {capacity!r}")
        self.capacity = capacity
        self._times = array("d")
        self._workers = array("I")  # index into _names
        self._numbers = {name: array("q") for name in _FIELDS}
        self._names: list = []  # worker addresses, each stored once
        self._index: dict = {}  # address -> its index in _names
        self._next = 0  # where the next sample goes once the ring is full

    def __len__(self) -> int:
        return len(self._times)

    def append(self, t: float, address: str, managed: int, spilled: int, unmanaged: int, rss: int) -> None:
        """Add one sample; once ``capacity`` are held, it replaces the oldest."""
        if not self.capacity:
            return
        worker = self._index.get(address)
        if worker is None:
            worker = self._index[address] = len(self._names)
            self._names.append(address)
        values = (managed, spilled, unmanaged, rss)
        if len(self._times) < self.capacity:
            self._times.append(t)
            self._workers.append(worker)
            for name, value in zip(_FIELDS, values):
                self._numbers[name].append(value)
            return
        i = self._next
        self._times[i], self._workers[i] = t, worker
        for name, value in zip(_FIELDS, values):
            self._numbers[name][i] = value
        self._next = (i + 1) % self.capacity

    def snapshot(self) -> tuple:
        """The samples as they are now, oldest first, as copied columns (a few buffer copies, fit for
        taking under a lock): ``(times, workers, {field: column}, names)``; `samples_by_worker` formats it."""
        n, cut = len(self._times), self._next

        def ordered(column):
            return column[cut:n] + column[:cut] if n == self.capacity else column[:]
        numbers = {name: ordered(column) for name, column in self._numbers.items()}
        return ordered(self._times), ordered(self._workers), numbers, list(self._names)

    def by_worker(self, since: float | None = None) -> dict:
        """``{address: [{"time", "managed", "spilled", "unmanaged", "rss"}, ...]}``, oldest first, ``time >= since``."""
        return samples_by_worker(self.snapshot(), since)


def samples_by_worker(snapshot: tuple, since: float | None = None) -> dict:
    """A `MemoryHistory.snapshot` as ``{address: [sample dict, ...]}``, keeping ``time >= since``."""
    times, workers, numbers, names = snapshot
    out: dict = {}
    for i, t in enumerate(times):
        if since is None or t >= since:
            sample = {"time": t}
            for name in _FIELDS:
                sample[name] = numbers[name][i]
            out.setdefault(names[workers[i]], []).append(sample)
    return out
