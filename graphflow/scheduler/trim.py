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

Trimming returns free pages, not pages that something still lives in, and after a release the
survivors are scattered: Python's small-object allocator hands out 1 MiB arenas and gives one back
only once every object in it is gone, so one surviving 60-byte key pins a whole arena.  What
survives a release is what the scheduler remembers on purpose -- the transition log and the task
stream (the last 100k records each, made while the computation ran, between its tasks) -- and the
tables sized for the peak (a dict never shrinks when emptied).  Once the state holds no task,
`compact` empties those tables for real and copies each remembered record into fresh objects
(`fresh`): the copies are made together, so they fill a few pools, and the originals' arenas empty.

What still grows (three rounds of a released 100k-task map: 118/130/136 MiB) is arenas pinned by
survivors not found yet.  Starting the scheduler with ``PYTHONMALLOC=malloc`` (a `LocalCluster`
passes the environment on) takes small objects from glibc, whose trim returns any free page, and held
114/121/123 MiB; it was left out of the default because it made the same map ~10% slower.

    >>> rec = ("inc-" + "0" * 8, "memory", "released", ["a"])
    >>> copy = fresh(rec)
    >>> copy == rec, copy is rec, copy[0] is rec[0]
    (True, False, False)
"""

from __future__ import annotations

import gc

from ..utils import glibc

__all__ = ["Trimmer", "trim", "compact", "fresh", "refill", "tune_malloc"]

MMAP_FROM = 128 << 10  # bytes: glibc's default mmap threshold, fixed (see `tune_malloc`)
ARENAS = 2  # glibc malloc arenas: the loop's and one for every other thread (libzmq's I/O, the dashboard)


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


def tune_malloc() -> bool:
    """Set glibc's allocator up for a long-lived scheduler process; False where it is not glibc.

    glibc raises its mmap threshold to the size of each big block freed (up to 32 MiB), so after the
    first large graph its tables and messages come from the heap instead of from mmap, and freeing
    them leaves holes between live blocks that `trim` cannot return.  A fixed threshold keeps every
    block of ``MMAP_FROM`` or more on mmap (back to the OS when freed); and each extra thread arena
    (up to 8 per core by default) keeps memory of its own: two are enough for the loop and the rest.
    """
    return glibc.mallopt((glibc.M_MMAP_THRESHOLD, MMAP_FROM), (glibc.M_ARENA_MAX, ARENAS))


def trim() -> bool:
    """Collect cycles, then return free heap pages to the OS; True if the allocator released any."""
    gc.collect()
    return glibc.malloc_trim()


def fresh(value, memo: dict | None = None):
    """An equal copy of a record made of new objects (strings, floats, tuples, lists; others are shared).

    ``memo`` (old string -> its copy), shared by the records of one compaction, keeps a key that
    several records name one string, as it was."""
    kind = type(value)
    if kind is str:
        if len(value) < 2:  # the interpreter's own shared one-character strings
            return value
        if memo is None:
            return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        copy = memo.get(value)
        if copy is None:
            copy = memo[value] = value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        return copy
    if kind is tuple:
        return tuple([fresh(v, memo) for v in value])
    if kind is list:
        return [fresh(v, memo) for v in value]
    if kind is float:
        return value * 1.0  # a new float object, sign of zero and NaN kept
    return value


def refill(ring, memo: dict | None = None) -> None:
    """Replace every record of ``ring`` (a deque, or a list) by its `fresh` copy, in place."""
    copies = [fresh(rec, memo) for rec in ring]
    ring.clear()
    ring.extend(copies)


def compact(state, memo: dict | None = None) -> None:
    """After the last task of a big computation left ``state`` (a `SchedulerState`): give its emptied tables
    their small size again and move its transition log into fresh records (see the module docstring);
    pass the same ``memo`` to the other rings' `refill` so that a key stays one string.

    Only empty tables are cleared (``dict.clear`` and ``set.clear`` drop the grown table; rebuilding a
    table someone else may hold would split it in two)."""
    for table in (state.tasks, state.no_worker, state.steals, state.recommendations, state.queue,
                  state.dirty_workers):
        if not table:
            table.clear()
    for wanted in state.wants.values():
        if not wanted:
            wanted.clear()
    for ws in state.workers.values():
        for table in (ws.processing, ws.has_what):
            if not table:
                table.clear()
    refill(state.log, memo)
