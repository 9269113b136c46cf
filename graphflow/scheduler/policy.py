"""Placement, root-task queuing and work stealing: pure functions over the scheduler's objects.

`SchedulerState` decides *when* a task may run; this module decides *where*.
Nothing here changes state: each function reads `SchedTask` / `SchedWorker`
objects and returns a worker, a number or a plan, so every rule can be tested
with a handful of hand-made objects.

Placement (`decide_worker`).  A ready task goes to the worker holding the most
bytes of its inputs; ties go to the worker with the least *occupancy*, the
expected seconds of work it has queued per thread.  Expected seconds come from
a running average of measured durations per key prefix (``"inc"`` for
``"inc-0a1b2c3d"``), 0.5 ms while a prefix has never been measured.

Root queuing (`is_rootish`, `task_slots`).  Tasks without inputs are not all
sent at once: the scheduler holds them in a priority queue and hands a worker
one more whenever it runs fewer than ``task_slots`` tasks.  The slot count
follows the task's duration, so trivial tasks travel in deep batches while
heavy ones (say 10,000 tasks that each make a 100 MB array) never flood a
worker's memory::

    slots = max(ceil(nthreads * saturation), min(cap, nthreads * budget / duration))

With the defaults (saturation 1.5, budget 5 ms, cap 1000) a 1-thread worker
gets 2 slots while the duration is unknown or above 2.5 ms, 5 slots for 1 ms
tasks and 500 for 10 us tasks.

Root queuing when disks are full (`short_of_room_only`).  A worker that cannot
spill reports itself paused and over its target, and stays so until memory is
freed, so root tasks would wait for it forever.  When no worker takes root
tasks and every worker is short of room, those do: they run what fits and
fail with `SpillError` the tasks that need room, so every future ends.

Stealing (`steal_plan`).  A worker running fewer tasks than it has threads,
with nothing left in the queue for it, takes work from the busiest workers.
Only tasks beyond a victim's first ``nthreads`` by priority are candidates
(the first ones have most likely started), and only when fetching their
missing inputs costs no more than running them; cheap transfers go first.
Example: victim V (1 thread) processes a, b, c, d of 1 s each and thief T
is idle.  b, c and d are candidates; taking d leaves T done at about 1 s and
V at 3 s, taking c as well gives about 2 s each, and taking b would make T
finish last, so the plan is ``[(d, V), (c, V)]``.
"""

from __future__ import annotations

import heapq
import math
from operator import attrgetter

__all__ = [
    "BANDWIDTH", "DEFAULT_DURATION", "SATURATION", "SLOT_BUDGET", "SLOT_CAP", "TRANSFER_LATENCY",
    "expected_duration", "transfer_cost", "task_slots", "is_rootish", "valid_workers",
    "decide_worker", "steal_plan", "choose_worker_for_data", "order_heap",
]

BANDWIDTH = 1e9  # bytes per second assumed between workers
DEFAULT_DURATION = 0.0005  # seconds, for a prefix never measured
TRANSFER_LATENCY = 0.001  # seconds a fetch from a peer costs on top of the bytes (round trip)
SATURATION = 1.5  # base slots per thread for queued root tasks
SLOT_BUDGET = 0.005  # seconds of known-short work a thread may have queued
SLOT_CAP = 1000  # most queued root tasks one worker holds at once
STEAL_RATIO = 1.0  # steal only when transfer cost <= STEAL_RATIO * expected duration
STEAL_SCAN = 100  # victim tasks examined per steal attempt (the lowest-priority ones)

_priority = attrgetter("priority")


def expected_duration(prefix, default: float = DEFAULT_DURATION) -> float:
    """Seconds a task of this `SchedPrefix` is expected to run."""
    d = prefix.duration
    return default if d is None else d


def transfer_cost(ts, ws, bandwidth: float = BANDWIDTH) -> float:
    """Seconds to copy the inputs of ``ts`` that ``ws`` does not hold (bytes only, no latency)."""
    missing = 0
    for dep in ts.dependencies:
        if ws not in dep.who_has:
            missing += dep.nbytes
    return missing / bandwidth if missing else 0.0


def task_slots(nthreads: int, duration, *, saturation: float = SATURATION, budget: float = SLOT_BUDGET,
               cap: int = SLOT_CAP) -> int:
    """How many tasks a worker may be processing before queued root tasks wait.

    ``duration`` is the expected seconds of the next queued task, or None when
    its prefix was never measured: unknown tasks may be heavy, so they only get
    the base ``ceil(nthreads * saturation)``.
    """
    base = math.ceil(nthreads * saturation)
    if duration is None:
        return base
    # the epsilon keeps 5 ms / 10 us at 500, not 499.99999 -> 499
    deep = int(nthreads * budget / duration + 1e-6) if duration > 0 else cap
    return max(base, min(cap, deep))


def order_heap(heap: list, start: int) -> None:
    """Put ``heap[start:]``, entries appended after its heap-ordered head, in heap order: all at once
    (``heapify``, linear) when they are many, else pushed one by one (logarithmic each).

        >>> heap = [1, 5, 9, 7, 0, 3]; order_heap(heap, 3); [heapq.heappop(heap) for _ in range(6)]
        [0, 1, 3, 5, 7, 9]
    """
    if len(heap) - start > start // 8:
        heapq.heapify(heap)
        return
    arrived = heap[start:]
    del heap[start:]
    for entry in arrived:
        heapq.heappush(heap, entry)


def is_rootish(ts, total_nthreads: int) -> bool:
    """True for tasks that go through the root queue instead of direct placement.

    A task with no inputs is root-ish; so is one with at most 4 inputs that
    are each shared by many tasks (more than twice the cluster's threads, and
    more than 4): placing those by input bytes would pile every one of them on
    the worker holding the shared input.  Restricted tasks never are: the
    queue hands tasks to whichever worker has a free slot; tasks with resources
    wait in `graphflow.scheduler.resources` instead.
    """
    if ts.restrictions is not None or ts.resources is not None:
        return False
    deps = ts.dependencies
    if not deps:
        return True
    if len(deps) > 4:
        return False
    threshold = max(4, 2 * total_nthreads)
    for dep in deps:
        if len(dep.dependents) <= threshold:
            return False
    return True


def valid_workers(ts, workers: dict):
    """Workers ``ts`` may run on: all of them, or those its restrictions name."""
    if ts.restrictions is None:
        return workers.values()
    return [workers[a] for a in ts.restrictions if a in workers]


def _load(ws) -> float:
    return ws.occupancy / ws.nthreads


def decide_worker(ts, workers: dict):
    """The worker for a ready task, or None when no valid worker exists.

    Candidates are the valid workers holding some of its inputs (all valid
    workers when none does); the one holding most input bytes wins, then the
    least occupied per thread, then the one with fewest tasks.
    """
    deps = ts.dependencies
    restrictions = ts.restrictions
    held = {}
    for dep in deps:
        nb = dep.nbytes
        for ws in dep.who_has:
            if restrictions is None or ws.address in restrictions:
                held[ws] = held.get(ws, 0) + nb
    if not held:
        best = None
        best_key = None
        for ws in valid_workers(ts, workers):
            # a paused worker starts nothing: last resort only
            k = (ws.paused, ws.occupancy / ws.nthreads, len(ws.processing))
            if best is None or k < best_key:
                best, best_key = ws, k
        return best
    if len(held) == 1:
        for ws in held:
            if not ws.paused:
                return ws
    best = None
    best_key = None
    for ws, nbytes in held.items():
        k = (ws.paused, -nbytes, ws.occupancy / ws.nthreads, len(ws.processing))
        if best is None or k < best_key:
            best, best_key = ws, k
    if best.paused:  # every holder is paused: a running worker fetches the inputs instead
        for ws in valid_workers(ts, workers):
            k = (ws.paused, 0, ws.occupancy / ws.nthreads, len(ws.processing))
            if k < best_key:
                best, best_key = ws, k
    return best


def _fetch_cost(ts, ws, bandwidth):
    """Seconds before ``ws`` could start ``ts``: missing bytes plus one round trip if anything is missing."""
    missing = False
    nbytes = 0
    for dep in ts.dependencies:
        if ws not in dep.who_has:
            missing = True
            nbytes += dep.nbytes
    return nbytes / bandwidth + TRANSFER_LATENCY if missing else 0.0


def _steal_candidates(victim, thief, steals, bandwidth, default_duration):
    """(ratio, ts, cost, duration) for the victim's tasks the thief could take, cheapest first."""
    procs = victim.processing
    spare = len(procs) - victim.nthreads
    if spare <= 0:
        return []
    # nlargest by priority = the tasks the victim would run last, least likely started;
    # never more than len - nthreads, so the first nthreads are always left alone
    tail = heapq.nlargest(min(STEAL_SCAN, spare), procs, key=_priority)
    found = []
    for ts in tail:
        if ts in steals or ts.resources is not None or (
                ts.restrictions is not None and thief.address not in ts.restrictions):
            continue  # resources stay where they were granted
        d = expected_duration(ts.prefix, default_duration)
        c = _fetch_cost(ts, thief, bandwidth)
        if c > STEAL_RATIO * d:
            continue
        found.append((c / d if d else 0.0, ts, c, d))
    found.sort(key=lambda item: item[0])  # stable: equal ratios keep latest-priority-first
    return found


def steal_plan(thief, workers, steals: dict, *, bandwidth: float = BANDWIDTH,
               default_duration: float = DEFAULT_DURATION) -> list:
    """``[(task, victim), ...]`` to ask back for ``thief``.

    ``steals`` maps tasks with a steal already in flight to ``(victim,
    thief)``.  The thief asks for at most ``2 * nthreads`` tasks counting what
    it runs and what is in flight.  A task moves only if the thief, with it
    (transfer included), would still finish before the victim would without
    the moves planned so far: each move shortens the pair's expected finish.
    """
    inflight = 0
    for _, t in steals.values():
        inflight += t is thief
    budget = 2 * thief.nthreads - len(thief.processing) - inflight
    if budget <= 0:
        return []
    tload = _load(thief)
    victims = [ws for ws in workers
               if ws is not thief and len(ws.processing) > ws.nthreads and _load(ws) > tload]
    victims.sort(key=_load, reverse=True)
    plan = []
    for victim in victims:
        vload = _load(victim)
        for _, ts, cost, d in _steal_candidates(victim, thief, steals, bandwidth, default_duration):
            if tload + (cost + d) / thief.nthreads >= vload:
                continue  # the thief would finish no sooner than the victim does now
            plan.append((ts, victim))
            tload += (cost + d) / thief.nthreads
            vload -= d / victim.nthreads
            budget -= 1
            if budget == 0:
                return plan
    return plan


def short_of_room_only(workers: dict, closing=()) -> list:
    """The workers that take root tasks, although paused and over their target, because none can spill.

    For when no worker takes root tasks normally.  Empty while any worker
    (``closing``: retiring, not counted) can still spill: that one gets back
    under its target by spilling, and the root tasks wait for it as always.
    """
    if any(not ws.spill_error and a not in closing for a, ws in workers.items()):
        return []
    return [ws for a, ws in workers.items() if a not in closing]


def choose_worker_for_data(workers, nbytes: int):
    """The worker that should receive ``nbytes`` of scattered data, or None without workers.

    Workers that can take the data under their memory limit come first; among
    those, the one holding fewest bytes, then the least occupied.
    """
    best = None
    best_key = None
    for ws in workers:
        fits = ws.memory_limit is None or ws.nbytes + nbytes <= ws.memory_limit
        k = (not fits, ws.nbytes, _load(ws))
        if best is None or k < best_key:
            best, best_key = ws, k
    return best
