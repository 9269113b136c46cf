"""Abstract resources: tasks that ask for ``{"GPU": 1}`` run only where that much is free.

Model.  A worker offers resources (``graphflow worker --resources "GPU=2,MEM=8e9"``,
``LocalCluster(resources=...)``): ``SchedWorker.resources`` is what it offers
and ``SchedWorker.used`` what the tasks it processes hold.  A task that asks
(``submit(f, resources={"GPU": 1})``, ``SchedTask.resources``) holds its
request from `acquire` (it is assigned) to `release` (it leaves processing:
finished, erred, stolen back or its worker died).  Resources are counts the
scheduler keeps; nothing on the worker enforces them.

A ready task with resources never goes straight to a worker: it enters
no-worker and waits in `ResourcePool`, one priority heap per kind of request
(the same amounts and the same restrictions).  Once per
`SchedulerState.handle` call, after anything freed or offered resources (or
a worker's slot freed while tasks are held), `ResourcePool.fill` hands each
heap's best tasks to workers where they fit and that run fewer tasks than
their slots (as for queued root tasks: `policy.task_slots`), until its best
task fits nowhere.  Requests of one kind are interchangeable,
so when the best one fits nowhere none of its heap does: a fill costs
(kinds of request) x (workers), not (held tasks).  Between kinds there is no
order beyond this: the kinds are served by their best tasks' priorities, so a
task asking for 2 GPUs may wait while later tasks asking for 1 keep fitting.

A request no connected worker could satisfy even when idle errs at once with
`NoWorkerError` naming the request and what every worker offers, unless the
cluster is adaptive (a worker that offers it may still come) or the task was
already running somewhere (its worker died; a replacement may come): those
wait, and `graphflow.scheduler.restrictions` errs them after
``scheduler.no_worker_timeout``.  Tasks without resources never reach this
module: the state machine tests ``ts.resources is not None`` and nothing else.

Worked example, worker W offers ``{"GPU": 1}``; a, b ask for ``{"GPU": 1}``::

    a, b ready      -> no-worker, held          heap[(GPU,1)] = [a, b]
    fill            -> a processing on W        W.used = {GPU: 1}; b does not fit
    a finishes      -> release: W.used = {GPU: 0}; fill -> b processing on W
    c asks {"GPU": 2} -> NoWorkerError at once (W offers GPU=1 at most)
"""

from __future__ import annotations

import heapq
import itertools

from ..errors import NoWorkerError
from . import policy
from .model import ERRED, NO_WORKER, PROCESSING

__all__ = ["ResourcePool", "acquire", "release", "fits", "could_fit", "offers"]


def fits(request: dict, ws) -> bool:
    """True when ``ws`` has ``request`` free now."""
    offered = ws.resources
    if offered is None:
        return False
    used = ws.used
    for name, amount in request.items():
        if offered.get(name, 0.0) - used.get(name, 0.0) < amount - 1e-9:
            return False
    return True


def could_fit(request: dict, ws) -> bool:
    """True when ``ws`` offers at least ``request`` (it could run the task once idle)."""
    offered = ws.resources
    if offered is None:
        return not request
    for name, amount in request.items():
        if offered.get(name, 0.0) < amount - 1e-9:
            return False
    return True


def acquire(ts, ws) -> None:
    used = ws.used
    for name, amount in ts.resources.items():
        used[name] = used.get(name, 0.0) + amount


def release(ts, ws) -> None:
    used = ws.used
    for name, amount in ts.resources.items():
        left = used.get(name, 0.0) - amount
        used[name] = left if left > 1e-9 else 0.0


def offers(workers) -> dict:
    """``{worker name: resources offered}``, for error messages."""
    return {ws.name: dict(ws.resources or {}) for ws in workers}


def _allowed(ts, workers: dict):
    if ts.restrictions is None:
        return workers.values()
    return [workers[a] for a in ts.restrictions if a in workers]


def _choose(s, ts, workers: dict):
    """The worker with ``ts``'s request free and a free slot: most input bytes held, then least occupied.

    Slots as for queued root tasks (`policy.task_slots`): a request that binds
    nothing (``MEM=1`` of ``1e9``) must not send 10,000 tasks to the workers
    at once, where nothing could move them again (tasks holding resources are
    never stolen).
    """
    best = None
    best_key = None
    request = ts.resources
    duration = ts.prefix.duration
    for ws in _allowed(ts, workers):
        n = len(ws.processing)
        if n >= ws.nthreads and n >= policy.task_slots(ws.nthreads, duration, saturation=s.saturation,
                                                       budget=s.slot_budget, cap=s.slot_cap):
            continue
        if ws.paused or not fits(request, ws):
            continue
        held = 0
        for dep in ts.dependencies:
            if ws in dep.who_has:
                held += dep.nbytes
        k = (-held, ws.occupancy / ws.nthreads, n)
        if best is None or k < best_key:
            best, best_key = ws, k
    return best


class ResourcePool:
    """The ready tasks of one `SchedulerState` that wait for resources, by kind of request."""

    def __init__(self):
        self.heaps = {}  # (request items, restrictions) -> heap of (priority, seq, SchedTask)
        self.changed = False  # resources were freed or offered, or tasks arrived: `fill` may place some
        self.adaptive = False  # an adaptive cluster may add workers: unsatisfiable requests wait
        self._seq = itertools.count()

    def ready_target(self, s, ts):
        """Where a ready task with resources goes: no-worker (held here), or erred if no worker ever fits."""
        workers = s.workers
        if workers and not self.adaptive and not ts.suspicious:
            allowed = _allowed(ts, workers)
            if not any(could_fit(ts.resources, ws) for ws in allowed):
                where = ("" if ts.restrictions is None
                         else f" among the workers it is restricted to ({sorted(ts.restrictions)})")
                error = NoWorkerError(
                    f"task {ts.key!r} asks for resources {ts.resources}, which no worker offers{where}; the "
                    f"workers offer {offers(workers.values())}. Start a worker that offers them "
                    "(graphflow worker --resources 'NAME=AMOUNT', LocalCluster(resources=...)) or ask for less.",
                    key=ts.key, request=dict(ts.resources), workers=offers(workers.values()))
                return (ERRED, (error, "", ts.key))
        return NO_WORKER

    def hold(self, ts) -> None:
        """``ts`` entered no-worker: wait for its request to be free somewhere."""
        kind = (tuple(sorted(ts.resources.items())), ts.restrictions)
        heap = self.heaps.get(kind)
        if heap is None:
            heap = self.heaps[kind] = []
        heapq.heappush(heap, (ts.priority, next(self._seq), ts))
        self.changed = True

    def fill(self, s, stim: str) -> None:
        """Assign held tasks, best priority first per kind of request, wherever their request is free."""
        self.changed = False
        workers = s.workers
        # kinds whose best task comes first go first (heaps are never left empty)
        for kind, heap in sorted(self.heaps.items(), key=lambda item: item[1][0][:2]):
            while heap:
                ts = heap[0][2]
                if ts.state != NO_WORKER or ts.resources is None:
                    heapq.heappop(heap)  # placed, released or forgotten meanwhile
                    continue
                ws = _choose(s, ts, workers)
                if ws is None:
                    break
                heapq.heappop(heap)
                s.transition(ts, PROCESSING, stim, ws)
            if not heap:
                del self.heaps[kind]

    def release(self, ts, ws) -> None:
        """``ts`` left processing on ``ws``: its request is free again there."""
        release(ts, ws)
        self.changed = True

    def waiting(self) -> int:
        """Tasks held for resources (entries of tasks that left no-worker may be counted until a fill)."""
        return sum(len(h) for h in self.heaps.values())
