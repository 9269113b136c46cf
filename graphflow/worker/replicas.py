"""Copies a worker makes because the scheduler asks: results of a worker that is retiring.

When a worker leaves gracefully (`graphflow.scheduler.retire`), each result
only it holds is copied by a running worker.  The scheduler sends that
worker `FetchReplicas` (key -> holders); `WorkerState` treats each key like an
input it must fetch, through the same queues, peers and limits, except that
the copy is *assigned* (kept until the scheduler frees it) and has no task to
run (``run`` is None).  When it lands it is reported with `TaskDone`
(``start == stop == 0``: no task ran), which adds this worker to the key's
``who_has``.  If no holder delivers it, the worker reports `DepMissing` for
the key, so the scheduler stops counting on that copy.

Worked example, ``x`` (128 MiB) only on retiring worker ``R``::

    FetchReplicas({x: [R]})     x: released -> fetch -> flight   -> GatherDep(R, [x])
    GatherDepSuccess(R, {x})    x: flight -> memory               -> TaskDone(x, nbytes=134217728)

`fetch_replicas` is listed in `WorkerState`'s event table (in
``graphflow/worker/state.py``), like every handler; this module adds nothing
to it.  It uses the public members of `WorkerState` meant for its handlers
(`WorkerState.transition`, `WorkerState.report_finished`,
`WorkerState.add_holders`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import WorkerEvent
from .model import WorkerTask

__all__ = ["FetchReplicas", "fetch_replicas", "REPLICA_PRIORITY"]

REPLICA_PRIORITY = (-1,)  # before every task's inputs: a retiring worker is waiting for these


@dataclass(slots=True)
class FetchReplicas(WorkerEvent):
    """Fetch ``who_has`` (key -> holder addresses) and keep the copies; ``nbytes``: key -> expected size."""

    who_has: dict
    nbytes: dict


def fetch_replicas(ws, ev: FetchReplicas) -> None:
    """Start fetching each key not held here; a key already here (or on its way) is just kept and reported.

    ``ws``: the `graphflow.worker.state.WorkerState` whose table lists this handler.
    """
    tasks = ws.tasks
    for key, holders in ev.who_has.items():
        holders = [h for h in holders if h != ws.address]
        ts = tasks.get(key)
        ws.log.append((key, "fetch-replica", holders, ev.stimulus_id))
        if ts is None:
            if not holders:
                continue
            ts = tasks[key] = WorkerTask(key, priority=REPLICA_PRIORITY, assigned=True,
                                         nbytes=ev.nbytes.get(key, 0), who_has=holders)
            ws.transition(ts, "fetch")
        elif ts.state == "memory":
            ts.assigned = True
            ws.report_finished(ts, None, ts.nbytes, 0.0, 0.0)  # the scheduler may not count this copy yet
        elif ts.state in ("fetch", "flight"):
            ts.assigned = True
            ws.add_holders(ts, holders)
        elif ts.state == "cancelled" and ts.previous == "flight":
            ts.assigned = True
            ws.transition(ts, "flight")
        # waiting, ready, executing: computed here, and reported when done
