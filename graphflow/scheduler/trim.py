"""`Trimmer`: after a large release, hand the freed memory back to the operating system.

Freeing 100k tasks frees their Python objects, but the process keeps the memory: the allocator keeps
emptied heap pages for reuse, pieces still in use pin the pages around them, and large buffers (a
graph's message, the tasks table) come back to glibc's heap rather than to the OS.  Round after round
of ``client.map`` of 100k tasks, each released, the scheduler held 154, 159, then 171 MiB.

The shell tells a `Trimmer` how many tasks the state holds after each pass; when that falls to half
of a peak of at least ``threshold`` tasks, `due` says `TRIM` and the shell runs `trim` on its next loop
pass: one full collection (cycles among the released records), then glibc's ``malloc_trim(0)``, which
returns the free pages of every arena.  Each halving trims once, so a release of 1M tasks costs a
handful of trims, and a scheduler that never holds ``threshold`` tasks never trims.

    >>> t = Trimmer(threshold=1000)
    >>> [t.due(n) for n in (500, 2000, 1500, 900, 400)]  # 900 <= 2000 / 2; then below the threshold
    [None, None, None, 'trim', None]

Trimming returns free pages, not pages that something still lives in, and after a release the
survivors are scattered: Python's small-object allocator hands out 1 MiB arenas and gives one back
only once every object in it is gone, so one surviving 60-byte key pins a whole arena.  What
survives a release is what the scheduler remembers on purpose -- the transition log and the task
stream (the last 100k records each, made while the computation ran, between its tasks) -- and the
tables sized for the peak (a dict never shrinks when emptied).  Once the state holds no task (the
`Trimmer` says `COMPACT`), `compact` empties those tables for real and packs both rings into one
buffer each (`graphflow.scheduler.ring.Ring.pack`): no record is left among the freed tasks.

Measured on three rounds of a released 100k-task map (``sys._debugmallocstats`` in the scheduler):
the live small objects stayed at 50 MiB each round, in 96, 114, then 124 arenas, while the rings'
records were copied into fresh objects (the copies landed in whichever arenas had room; RSS 120/139/150
MiB).  Packed, the rings hold no small object: 12 MiB live in 52/54/57 arenas, RSS 89/91/94 MiB; the
benchmark (``scale-map-100k``, ``scale-list-100k``, load 8-18 on 2 cores) read 90/93/84 and 82/83/86.
What is left: tracemalloc (started after round 1) finds ~1.7k small blocks from rounds 2-3 alive after
round 3 -- the records since the compaction, lines ``linecache`` kept for a formatted traceback, a few
received messages -- and the arenas they pin stay resident with their free pools (~40 MiB of free pools
in ~50 arenas: the small-object allocator does not hand free pools of a live arena back).
``PYTHONMALLOC=malloc`` (small objects from glibc, whose trim returns any free page) also met the
target, but made the map ~10% slower: not used.

    >>> [t.due(n) for n in (0, 5, 0)]  # the high since it last held no task was 2000; then 5
    ['compact', None, None]
"""

from __future__ import annotations

import gc

from ..utils import glibc

__all__ = ["Trimmer", "TRIM", "COMPACT", "trim", "compact", "tune_malloc"]

MMAP_FROM = 128 << 10  # bytes: glibc's default mmap threshold, fixed (see `tune_malloc`)
ARENAS = 2  # glibc malloc arenas: the loop's and one for every other thread (libzmq's I/O, the dashboard)


TRIM = "trim"
COMPACT = "compact"


class Trimmer:
    """Decides when a release was large enough to trim or compact after (see the module docstring).

    ``peak``: most tasks held since the last trim; ``high``: most since the state last held none."""

    __slots__ = ("threshold", "peak", "high")

    def __init__(self, threshold: int = 10_000):
        self.threshold = threshold
        self.peak = 0
        self.high = 0

    def due(self, n_tasks: int) -> str | None:
        """Note the state's task count: `COMPACT` when it is 0 after a high of at least ``threshold``,
        `TRIM` when it fell to half of a peak of at least ``threshold``, else None."""
        if n_tasks > self.high:
            self.high = n_tasks
        if n_tasks == 0 and self.high >= self.threshold:
            self.high = self.peak = 0
            return COMPACT
        if n_tasks > self.peak:
            self.peak = n_tasks
            return None
        if self.peak >= self.threshold and n_tasks <= self.peak // 2:
            self.peak = n_tasks
            return TRIM
        return None


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


def compact(state) -> None:
    """After the last task of a big computation left ``state`` (a `SchedulerState`): give its emptied tables
    their small size again and pack its transition log (see the module docstring).

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
    state.log.pack()
