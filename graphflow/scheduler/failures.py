"""The named errors the scheduler gives a task that cannot complete, each saying which key and what to do.

`SchedulerState` builds them when a task runs out of strikes or cannot fit
any worker; the client re-raises them unchanged.

    >>> killed_worker("x", 3, "tcp://127.0.0.1:4001").last_worker
    'tcp://127.0.0.1:4001'
"""

from __future__ import annotations

from ..errors import KilledWorkerError, MemoryLimitError
from ..units import format_bytes

__all__ = ["memory_limit_error", "out_of_memory", "killed_worker", "lost_scattered"]


def memory_limit_error(ts, need: int, cap: int) -> MemoryLimitError:
    return MemoryLimitError(
        f"task {ts.key!r} needs {format_bytes(need)} of inputs ({len(ts.dependencies)} of them) but the largest "
        f"worker memory limit is {format_bytes(cap)}; split the work into smaller pieces or give workers more "
        f"memory (memory_limit=)", key=ts.key, nbytes=need, limit=cap)


def out_of_memory(key, strikes: int, address: str, rss: int, limit: int) -> MemoryLimitError:
    return MemoryLimitError(
        f"task {key!r} was running on {strikes} workers that ran out of memory (the last, {address}, used "
        f"{format_bytes(rss)} of its {format_bytes(limit)} limit); it needs more memory than a worker has: split "
        f"the work into smaller pieces or give workers more memory (memory_limit=)", key=key, nbytes=rss,
        limit=limit)


def killed_worker(key, strikes: int, address: str) -> KilledWorkerError:
    return KilledWorkerError(
        f"task {key!r} was running on {strikes} workers that died while running it; the last one was "
        f"{address}.  The task itself may be killing them (segfault, running out of memory, os._exit): "
        f"read that worker's log, make the task use less memory, or allow more attempts: the setting "
        f"scheduler.allowed_failures (now {strikes}; gf.config.set({{'scheduler.allowed_failures': "
        f"{strikes + 2}}}) before starting the cluster, or GRAPHFLOW_SCHEDULER__ALLOWED_FAILURES={strikes + 2}), "
        f"`graphflow scheduler --allowed-failures {strikes + 2}` or LocalCluster(allowed_failures={strikes + 2})",
        key=key, last_worker=address)


def lost_scattered(key) -> KilledWorkerError:
    return KilledWorkerError(
        f"the data of key {key!r} was scattered by a client and every worker holding it left; it has no "
        f"lineage to recompute it from: scatter it again", key=key)
