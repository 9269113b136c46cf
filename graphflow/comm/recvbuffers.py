"""Destination buffers for large same-host copies, kept faulted in between transfers.

A copy into fresh memory pays twice: the kernel zeroes every page on first
touch, then the copy writes it again.  For a 400 MB `graphflow.comm.vmcopy`
read that zeroing is about 40% of the work (measured on 2 cores, quiet, into
shmem pages: ~67 ms of CPU into fresh pages, ~40 ms into pages already touched).  So a process keeps the
buffers it received into, once their values are gone, for the next large
value of about the same size: the copy then runs at memory bandwidth.

Model: one anonymous private mapping per buffer (asking for transparent huge
pages, as numpy does for its large arrays), handed out as a ``uint8`` numpy
array whose base is a ctypes view of the mapping.  A ``weakref.finalize`` on
that view notices when the last array, view or pickle-rebuilt value over it
is gone, and puts the mapping back -- a buffer is never reused while anything
can still read it.  Free buffers are bounded (``limit`` bytes: a worker's
``worker.receive_buffers`` setting, `keep`; other processes keep none) and unmapped once idle for
``idle_seconds`` (`trim`, called from the worker's heartbeat) or when the
worker is short of memory (`clear`).

Private, not ``mmap(-1, n)``'s default shared mapping: a shared anonymous
mapping is shmem, which gets no huge pages where ``shmem_enabled`` is
``never``; copying 400 MB into a fresh one cost ~310 ms of CPU against ~90 ms
into fresh private huge pages (load ~10, 2 cores), and ~63 against ~57 ms
into pages already touched.

    >>> pool = ReceiveBuffers(limit=64 * 2**20)
    >>> a = pool.take(10 * 2**20)
    >>> a.nbytes, pool.free_bytes
    (10485760, 0)
    >>> del a                       # the value is gone: its mapping is kept
    >>> pool.free_bytes
    10485760
    >>> b = pool.take(9 * 2**20)    # the same pages again, already faulted in
    >>> pool.free_bytes, pool.reused
    (0, 1)
"""

from __future__ import annotations

import ctypes
import mmap
import threading
import time
import weakref

__all__ = ["ReceiveBuffers", "keep", "take", "trim", "clear", "default"]

_PAGE = 2 * 2**20  # capacities are whole huge pages
_SLACK = 2  # a free buffer serves a request at least 1/_SLACK of its size (no 1 GB buffer for 10 MB)


class ReceiveBuffers:
    """A bounded pool of large writeable buffers, reused once nothing refers to them."""

    def __init__(self, limit: int, idle_seconds: float = 30.0, clock=time.monotonic):
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._free: list = []  # [(capacity, freed at, mapping)], capacity ascending
        self.reused = 0  # takes served from the pool (tests and benchmarks read it)

    @property
    def free_bytes(self) -> int:
        """Bytes mapped and kept for reuse (not counted in any store: unmanaged memory)."""
        with self._lock:
            return sum(cap for cap, _, _ in self._free)

    def take(self, size: int):
        """A writeable ``uint8`` array of ``size`` bytes: a kept buffer when one fits, else a new mapping."""
        import numpy as np

        mapping = self._reuse(size)
        if mapping is None:
            capacity = -(-max(size, 1) // _PAGE) * _PAGE
            # Private: ``mmap(-1, n)`` alone is shared anonymous memory, i.e. shmem (see the module docstring).
            mapping = mmap.mmap(-1, capacity, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            if hasattr(mmap, "MADV_HUGEPAGE"):  # as numpy asks for its large arrays: 512x fewer page faults
                mapping.madvise(mmap.MADV_HUGEPAGE)
        view = (ctypes.c_char * len(mapping)).from_buffer(mapping)
        finalizer = weakref.finalize(view, self._give_back, mapping)
        finalizer.atexit = False
        return np.frombuffer(view, dtype=np.uint8, count=size)

    def _reuse(self, size: int):
        with self._lock:
            for i, (capacity, _, mapping) in enumerate(self._free):
                if size <= capacity <= size * _SLACK:
                    del self._free[i]
                    self.reused += 1
                    return mapping
        return None

    def _give_back(self, mapping) -> None:
        # Runs in whichever thread dropped the last reference; the view's export on the mapping is gone.
        capacity = len(mapping)
        with self._lock:
            if capacity + sum(cap for cap, _, _ in self._free) <= self.limit:
                self._free.append((capacity, self._clock(), mapping))
                self._free.sort(key=lambda item: item[0])
                return
        # Over the limit: dropped, not closed -- the dying view still holds its export until this returns,
        # and the mapping is unmapped as soon as that export and this reference are gone.

    def trim(self, now: float | None = None) -> int:
        """Unmap free buffers idle for ``idle_seconds``; returns the bytes given back to the system."""
        now = self._clock() if now is None else now
        with self._lock:
            old = [item for item in self._free if now - item[1] >= self.idle_seconds]
            self._free = [item for item in self._free if now - item[1] < self.idle_seconds]
        for _, _, mapping in old:
            mapping.close()
        return sum(cap for cap, _, _ in old)

    def clear(self) -> int:
        """Unmap every free buffer (the process is short of memory); returns the bytes freed."""
        return self.trim(now=float("inf"))


_default: ReceiveBuffers | None = None
_default_lock = threading.Lock()


def keep(limit, memory_limit: int | None = None) -> ReceiveBuffers:
    """Let this process keep up to ``limit`` bytes (an int or ``"1GiB"``) of receiving buffers.

    A worker calls it at start with its ``worker.receive_buffers`` setting and
    its ``memory_limit``: free buffers are memory no store counts, so they stay
    under a quarter of that limit; the worker trims the pool on its heartbeat.
    Any other process (a client fetching a large result once) keeps nothing:
    its pool's limit stays 0.
    """
    from ..units import parse_bytes

    pool = default()
    pool.limit = parse_bytes(limit) if not memory_limit else min(parse_bytes(limit), memory_limit // 4)
    return pool


def default() -> ReceiveBuffers:
    """This process's pool (limit 0 until `keep` is called)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ReceiveBuffers(0)
        return _default


def take(size: int):
    """`ReceiveBuffers.take` on this process's pool."""
    return default().take(size)


def trim() -> int:
    """`ReceiveBuffers.trim` on this process's pool (nothing to do if it was never used)."""
    return _default.trim() if _default is not None else 0


def clear() -> int:
    """`ReceiveBuffers.clear` on this process's pool."""
    return _default.clear() if _default is not None else 0
