"""`for_large_heaps`: collector thresholds for a process that holds a million small objects (the scheduler).

Python's cyclic collector runs a young pass every 700 allocations net of frees, and a full pass (over
every tracked object) when the objects promoted since the last one reach a quarter of those that
survived it.  A scheduler holding 100k tasks has ~1M tracked objects (tasks, their sets and tuples,
specs), and every graph it takes in, every report it sends and every release promotes its share: at
100k ``client.map`` tasks the collector took ~2 s of the scheduler's ~5 s of CPU, most of it full passes
finding nothing (the scheduler's records are freed by reference counts; they form no garbage cycles
worth finding sooner).

With a young pass every 50,000 allocations, objects that die young (messages, commands) are gone by
reference counting before any pass sees them, far fewer survivors are promoted, and so the full
passes come rarely; cyclic garbage still is collected, later (at most ~50k young objects wait).

    >>> import gc
    >>> old = gc.get_threshold()
    >>> for_large_heaps(); gc.get_threshold()[0]
    50000
    >>> gc.set_threshold(*old)
"""

from __future__ import annotations

import gc

__all__ = ["for_large_heaps", "for_task_runners", "YOUNG_THRESHOLD", "RUNNER_YOUNG_THRESHOLD"]

YOUNG_THRESHOLD = 50_000
RUNNER_YOUNG_THRESHOLD = 10_000  # a worker runs user code, whose cyclic garbage may hold big buffers: sooner


def for_large_heaps() -> None:
    """Make this process's collector pass rarely (for a process that serves, not a user's interpreter)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def for_task_runners() -> None:
    """For a worker: young passes every `RUNNER_YOUNG_THRESHOLD` allocations instead of 700.

    A worker running tiny tasks allocates a few message and event objects per task; with the default
    thresholds it made ~1,500 young passes and a dozen full ones (each over the objects numpy, pandas and
    graphflow leave at start-up) per 100k tasks, 10-15% of its CPU.  A task's cyclic garbage is still found
    soon (it may hold a large array, unlike the scheduler's records).  Start-up objects are not frozen out
    of the collector (`gc.freeze`): `gc.get_objects` would no longer list them, the worker among them.
    """
    _, middle, old = gc.get_threshold()
    gc.set_threshold(RUNNER_YOUNG_THRESHOLD, middle, old)
