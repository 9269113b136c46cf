"""Tasks that run without holding a thread slot: a worker's seceded tasks, as it reports them.

A task waiting on tasks it submitted (``future.result()`` inside a task,
``gf.worker_client()``) secedes on its worker (`graphflow.worker.secession`)
and the worker reports the set of such tasks (`comm.messages.LongRunning`).
Root-ish tasks wait in the scheduler's queue until a worker has a free slot
(`SchedulerState._fill_slots`); there a seceded task must not count, or two
one-thread workers each running two waiting parents would get none of the
children those parents wait for.  ``SchedWorker.seceded`` is how many of
the worker's processing tasks seceded; it is recomputed from each report, and a
task that finishes is dropped by the worker's next report (sent with its
result), so the count never drifts.

Worked example, worker ``W`` (1 thread, 2 slots for root tasks) runs ``p1``, ``p2``::

    LongRunning(W, [p1, p2])    W.seceded = 2: processing 2 - 2 < 2 slots
    -> the queued children c1.. go to W
    TaskFinished(W, p1); LongRunning(W, [p2])    W.seceded = 1
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import SchedulerEvent

__all__ = ["TasksLongRunning", "tasks_long_running"]


@dataclass(slots=True)
class TasksLongRunning(SchedulerEvent):
    """``worker``'s tasks ``keys`` run without holding a thread slot (the whole set, as it last reported)."""

    worker: str
    keys: list


def tasks_long_running(s, ev: TasksLongRunning) -> None:
    """Count the reported tasks still processing on that worker; its freed slots may take queued tasks."""
    ws = s.workers.get(ev.worker)
    if ws is None:
        return
    tasks = s.tasks
    n = 0
    for key in ev.keys:
        ts = tasks.get(key)
        if ts is not None and ts.processing_on is ws:
            n += 1
    if n != ws.seceded:
        s.note(ev.worker, "long-running", n, ev.stimulus_id)
        ws.seceded = n
        s.dirty_workers.add(ws)  # may take queued work again
