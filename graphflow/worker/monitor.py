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
pause       0.8     RSS passed this, or a spill failed: start no tasks and
                    tell the scheduler, until RSS drops back under it
terminate   0.95    RSS passed this: the worker exits, its parent starts a
                    fresh one and the scheduler recomputes its results
==========  ======  =====================================================

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

import os
import time
from dataclasses import dataclass

from .. import config

__all__ = ["MemoryPolicy", "MemoryDecision", "THRESHOLDS", "CpuMeter"]

THRESHOLDS = ("target", "spill", "pause", "terminate")


@dataclass(frozen=True)
class MemoryDecision:
    """What the shell does now: spill this many bytes, be paused or not, report over target, or exit."""

    spill_bytes: int = 0
    paused: bool = False
    over_target: bool = False
    terminate: bool = False


_NO_LIMIT = MemoryDecision()


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
        """The decision for one sample: process ``rss``, ``managed`` bytes in the store's memory tier."""
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
        paused = spill_failed or (pause_at is not None and rss > pause_at)
        over = target_at is not None and managed - spill > target_at
        return MemoryDecision(spill_bytes=max(0, spill), paused=paused, over_target=over)


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def return_freed_memory_promptly(threshold: int = 2 ** 20) -> bool:
    """Make glibc give large freed blocks back to the OS at once; True if it took effect.

    glibc raises its mmap threshold each time a big block is freed (up to
    32 MiB), after which blocks of that size come from the heap and stay
    resident when freed: a worker that makes and spills 16 MiB arrays would
    see its RSS climb with nothing in memory.  Setting the threshold
    explicitly turns that adjustment off (values above ``threshold`` are
    mapped and unmapped on their own), and trimming the heap top past the
    same size returns the rest.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, threshold))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False


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
