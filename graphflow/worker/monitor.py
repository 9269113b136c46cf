"""What a worker does about its memory: a pure decision from a few numbers.

The worker shell samples its process's resident memory every
``interval`` seconds and asks `MemoryPolicy.decide` what to do.  Thresholds
are fractions of the worker's memory limit (``gf.config``
``worker.memory.{target,spill,pause,terminate}``, or the ``--memory-*``
flags of ``graphflow worker``):

==========  ======  =====================================================
target      0.6     the store spills least-recently-used values once the
                    bytes it manages pass this (done by the store on write)
spill       0.7     the process's RSS passed this: spill until managed
                    bytes are back under target
pause       0.8     RSS passed this: start no tasks and tell the scheduler,
                    until RSS drops back under it
terminate   0.95    RSS passed this: the worker exits, its parent starts a
                    fresh one and the scheduler recomputes its results
==========  ======  =====================================================

When a spill fails (disk full, ``max_spill`` reached) spilling cannot bring
memory down, so pausing would wait forever: the worker is *short of room*
instead.  Tasks keep starting, but one whose output is known to need room
(more than fits under the pause threshold, `fits_without_spilling`) fails
with `graphflow.errors.SpillError` rather than run; small results (within
`small_results_budget`), and tasks never seen before (a sum of a large input
frees memory), still run.  The scheduler is told (it sends such a worker
new work only when no other worker can take it).  It lasts until memory is
back under the target or a spill succeeds.

Worked example, limit 1000 bytes, RSS 750, the store manages 650::

    >>> p = MemoryPolicy(1000, target=0.6, spill=0.7, pause=0.8, terminate=0.95)
    >>> d = p.decide(rss=750, managed=650, spill_failed=False)
    >>> d.spill_bytes, d.paused, d.terminate
    (150, False, False)

RSS is past 0.7, so values go to disk until RSS would be back at the target,
750 - 0.6 * 1000 = 150 bytes; the store can never give more than it manages
(unmanaged memory -- interpreter, libraries, temporaries -- cannot be spilled).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from .. import config
from ..errors import SpillError
from ..units import format_bytes
from ..utils import glibc

__all__ = ["MemoryPolicy", "MemoryDecision", "THRESHOLDS", "CpuMeter", "RoomLog", "no_room_error", "trim_freed_memory",
           "malloc_threshold",
           "SMALL_RESULT"]

logger = logging.getLogger("graphflow.worker")

THRESHOLDS = ("target", "spill", "pause", "terminate")


@dataclass(frozen=True)
class MemoryDecision:
    """What the shell does now: spill this many bytes, be paused or short of room or neither, report over
    target, or exit."""

    spill_bytes: int = 0
    paused: bool = False
    over_target: bool = False
    terminate: bool = False
    short_of_room: bool = False


_NO_LIMIT = MemoryDecision()
SMALL_RESULT = 64 * 2**10  # bytes: results under this are "small" to a worker short of room


class MemoryPolicy:
    """Thresholds of one worker; `decide` maps a memory sample to a `MemoryDecision`.

    ``memory_limit``: bytes, or None (no limit: never spills, pauses or
    terminates on memory).  A threshold given as None comes from
    ``gf.config``; ``False`` (or 0) turns that step off, as in Dask.
    """

    def __init__(self, memory_limit: int | None, *, target=None, spill=None, pause=None, terminate=None):
        self.memory_limit = memory_limit
        given = {"target": target, "spill": spill, "pause": pause, "terminate": terminate}
        for name in THRESHOLDS:
            value = given[name]
            if value is None:
                value = config.get(f"worker.memory.{name}")
            if value is not False and value and not 0 < value <= 1:
                raise ValueError(f"worker memory threshold {name}={value!r} must be a fraction in (0, 1] or False")
            setattr(self, name, value or None)

    def bytes_at(self, name: str) -> int | None:
        """The threshold ``name`` in bytes (None when it or the limit is off)."""
        fraction = getattr(self, name)
        if fraction is None or not self.memory_limit:
            return None
        return int(fraction * self.memory_limit)

    def decide(self, *, rss: int, managed: int, spill_failed: bool) -> MemoryDecision:
        """The decision for one sample: process ``rss``, ``managed`` bytes in the store's memory tier,
        ``spill_failed``: the store is in a spill failure episode (then short of room, never paused)."""
        if not self.memory_limit:
            return _NO_LIMIT
        terminate_at = self.bytes_at("terminate")
        if terminate_at is not None and rss > terminate_at:
            return MemoryDecision(terminate=True, paused=True)
        target_at = self.bytes_at("target")
        spill_at = self.bytes_at("spill")
        spill = 0
        if spill_at is not None and rss > spill_at:
            floor = target_at if target_at is not None else spill_at
            spill = min(managed, rss - floor)
        pause_at = self.bytes_at("pause")
        paused = not spill_failed and pause_at is not None and rss > pause_at
        over = target_at is not None and managed - spill > target_at
        return MemoryDecision(spill_bytes=max(0, spill), paused=paused, over_target=over, short_of_room=spill_failed)

    def fits_without_spilling(self, *, rss: int, incoming: int) -> bool:
        """While nothing can be spilled: may ``incoming`` more bytes come into memory?

        Yes while the process stays at or under the pause threshold (else the
        terminate threshold, else the limit): over its target, but clear of a
        restart.  Always yes without a limit.

        >>> p = MemoryPolicy(1000, target=0.6, spill=0.7, pause=0.8, terminate=0.95)
        >>> p.fits_without_spilling(rss=700, incoming=100), p.fits_without_spilling(rss=700, incoming=101)
        (True, False)
        """
        if not self.memory_limit:
            return True
        ceiling = self.bytes_at("pause") or self.bytes_at("terminate") or self.memory_limit
        return rss + incoming <= ceiling

    def small_results_budget(self) -> int:
        """Bytes of small results a worker short of room still takes in when nothing fits any more.

        A worker whose memory is full of what it could not spill must still
        answer a ``len`` or a ``sum``: results under `SMALL_RESULT` run until
        they added this much in one episode -- half the way from the pause to
        the terminate threshold (5% of the limit when either is off) -- so
        even a flood of them stops well short of a restart.

        >>> MemoryPolicy(1000, target=0.6, spill=0.7, pause=0.8, terminate=0.95).small_results_budget()
        75
        """
        if not self.memory_limit:
            return 0
        pause, terminate = self.bytes_at("pause"), self.bytes_at("terminate")
        if pause is None or terminate is None or terminate <= pause:
            return self.memory_limit // 20
        return (terminate - pause) // 2


def no_room_error(key, worker: str, output: int, needed: int, rss: int, limit: int, last: SpillError | None,
                  free: int | None, directory: str | None) -> SpillError:
    """The `SpillError` a task gets instead of running on a worker short of room.

    ``output``: the bytes the task is expected to make; ``needed``: what would
    have to be spilled to make room for them; ``free``: what the spill
    directory (or ``max_spill``) still takes; ``last``: the store's last
    spill failure (its reason is quoted).

    >>> e = no_room_error("x-1", "tcp://w", 10 * 2**20, 8 * 2**20, 78 * 2**20, 100 * 2**20, None, 2**20, "/d")
    >>> (e.key, e.needed, e.free, e.directory)
    ('x-1', 8388608, 1048576, '/d')
    >>> print(str(e).split(". ")[0])
    task 'x-1' on worker tcp://w needs room for about 10.00 MiB and none is left: memory is at 78.00 MiB \
of the 100.00 MiB limit, and spilling to /d cannot make room (it needs 8.00 MiB, 1.00 MiB are free)
    """
    directory = directory or (last.directory if last is not None else None) or "the spill directory"
    reason = f"; {last.reason}" if last is not None and last.reason else ""
    free_text = "unknown" if free is None else format_bytes(free)
    return SpillError(
        f"task {key!r} on worker {worker} needs room for about {format_bytes(output)} and none is left: memory is "
        f"at {format_bytes(rss)} of the {format_bytes(limit)} limit, and spilling to {directory} cannot make room "
        f"(it needs {format_bytes(needed)}, {free_text} are free{reason}). The task did not run. Free disk space, "
        "release results you no longer need, point --local-directory at a larger disk, or raise max_spill.",
        key=key, directory=directory, needed=needed, free=free, reason=last.reason if last is not None else None)


def malloc_threshold(memory_limit: int) -> int:
    """The glibc threshold for a worker of ``memory_limit`` bytes: 1/64 of it, between 1 and 32 MiB.

    A block under the threshold comes from the heap, and once freed it stays resident until a trim: a
    small limit wants a small threshold (a 128 MiB worker spilling 10 MiB arrays must see its RSS
    drop), a large one can afford glibc's own ceiling (4 GiB: 32 MiB)."""
    return int(min(32 * 2 ** 20, max(2 ** 20, memory_limit // 64)))


def return_freed_memory_promptly(threshold: int = 32 * 2 ** 20) -> bool:
    """Fix glibc's mmap and trim thresholds at ``threshold`` (see `malloc_threshold`); True if it took effect.

    glibc raises its mmap threshold each time a big block is freed (up to
    32 MiB), so blocks it once mapped come from the heap later and may stay
    resident when freed.  Fixing both thresholds makes that predictable:
    blocks of ``threshold`` and more are mapped and unmapped on their own,
    smaller ones are reused from the heap, and the heap top is returned past
    the same size; holes below it go back when the worker's memory is high
    (`trim_freed_memory`, when the worker is paused).  The threshold
    was always 1 MiB: every numpy array over 1 MiB was then a fresh mapping
    whose pages the kernel zeroed on first touch, and TPC-H on a 4 GiB
    LocalCluster spent a third of its worker CPU in the kernel (q18 at SF1:
    0.9 s of system time against 0.25 s with 32 MiB).
    """
    return glibc.mallopt((glibc.M_MMAP_THRESHOLD, threshold), (glibc.M_TRIM_THRESHOLD, threshold))


def trim_freed_memory() -> bool:
    """Give the heap's free pages back to the OS (glibc ``malloc_trim(0)``); True if some were.

    Values under the mmap threshold (`return_freed_memory_promptly`) come
    from the heap, and freeing thousands of them leaves holes that only a
    trim returns: a worker that released every result would otherwise keep
    the RSS of its busiest moment, and stay paused.  Takes a few ms.
    """
    return glibc.malloc_trim()


class CpuMeter:
    """CPU use of this process since the previous `sample`, in percent of one core (200.0: two cores busy).

    Reads ``os.times()`` (user + system time of all threads): two system calls'
    worth of work, cheap enough for every heartbeat.  Samples closer together
    than ``min_interval`` return the previous value (too noisy otherwise).

    >>> meter = CpuMeter()
    >>> 0.0 <= meter.sample(now=meter.last_wall + 1.0)
    True
    """

    def __init__(self, min_interval: float = 0.05):
        self.min_interval = min_interval
        self.last_wall = time.monotonic()
        self.last_cpu = _process_cpu_seconds()
        self.value = 0.0

    def sample(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        elapsed = now - self.last_wall
        if elapsed < self.min_interval:
            return self.value
        cpu = _process_cpu_seconds()
        self.value = max(0.0, 100.0 * (cpu - self.last_cpu) / elapsed)
        self.last_wall, self.last_cpu = now, cpu
        return self.value


def _process_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class RoomLog:
    """The log lines of a worker's episodes of failed spills: one when one starts (a warning at most once
    a ``interval`` seconds, else debug), one when it ends."""

    def __init__(self, interval: float = 60.0):
        self.interval, self.warned_at = interval, None

    def note(self, short: bool, worker: str, store, rss: int, limit: int) -> None:
        """Log that ``worker`` went short of room (``short``) or has room again."""
        if short:
            now = time.monotonic()
            quiet = self.warned_at is not None and now - self.warned_at < self.interval
            logger.log(logging.DEBUG if quiet else logging.WARNING,
                       "worker %s: short of room, tasks that need room fail with SpillError and smaller ones keep "
                       "running until memory or disk space is freed: %s", worker, store.last_spill_error)
            if not quiet:
                self.warned_at = now
        else:
            logger.info("worker %s: room again (process memory %s of %s, %s spilled)", worker, format_bytes(rss),
                        format_bytes(limit), format_bytes(store.spilled_bytes))
