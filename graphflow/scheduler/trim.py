"""`Trimmer`: after a large release, hand the freed memory back to the operating system.

Freeing 100k tasks frees their Python objects, but the process keeps the memory: the allocator keeps
emptied heap pages for reuse, pieces still in use pin the pages around them, and large buffers (a
graph's message, the tasks table) come back to glibc's heap rather than to the OS.  Round after round
of ``client.map`` of 100k tasks, each released, the scheduler held 154, 159, then 171 MiB.

The shell tells a `Trimmer` how many tasks the state holds after each pass; when that falls to half
of a peak of at least ``threshold`` tasks, `due` says so and the shell runs `trim` on its next loop
pass: one full collection (cycles among the released records), then glibc's ``malloc_trim(0)``, which
returns the free pages of every arena.  Each halving trims once, so a release of 1M tasks costs a
handful of trims, and a scheduler that never holds ``threshold`` tasks never trims.

    >>> t = Trimmer(threshold=1000)
    >>> [t.due(n) for n in (500, 2000, 1500, 900, 400)]  # 900 <= 2000 / 2; then below the threshold
    [False, False, False, True, False]
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

__all__ = ["Trimmer", "trim"]


class Trimmer:
    """Decides when a release was large enough to trim after (see the module docstring)."""

    __slots__ = ("threshold", "peak")

    def __init__(self, threshold: int = 10_000):
        self.threshold = threshold
        self.peak = 0

    def due(self, n_tasks: int) -> bool:
        """Note the state's task count; True when it fell to half of a peak of at least ``threshold``."""
        if n_tasks > self.peak:
            self.peak = n_tasks
            return False
        if self.peak >= self.threshold and n_tasks <= self.peak // 2:
            self.peak = n_tasks
            return True
        return False


def _load_malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): collecting is all we can do
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


_malloc_trim = _load_malloc_trim()


def trim() -> bool:
    """Collect cycles, then return free heap pages to the OS; True if the allocator released any."""
    gc.collect()
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False
