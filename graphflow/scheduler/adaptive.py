"""How many workers a cluster should have, and which ones to let go: a pure policy.

An adapting cluster asks the scheduler every ``interval`` (the RPC
``adaptive_target``); the scheduler takes an `Observation` of its state
(`observe`) and this module turns it into a `Recommendation`.  No clock, no
I/O: tests feed hand-made observations, or a `SchedulerState` driven by
events, and check the numbers.

Compute.  Every ready task (queued for a slot, processing on a worker, or
waiting for a worker) is expected to run for its prefix's measured average;
a prefix never measured counts ``unknown_duration`` (0.5 s, so a fresh queue
asks for workers at once; the estimate corrects itself as soon as tasks of
the prefix finish).  The cluster wants enough threads to finish that work
within ``target_duration``, never more threads than there are ready tasks::

    threads = min(ready tasks, ceil(expected work / target_duration))
    workers = ceil(threads / threads per worker)

Worked example: 100 queued ``sleep`` tasks of 0.2 s, 1-thread workers,
target 5 s: 20 s of work -> 4 threads -> 4 workers.

Memory.  Held results must fit under the workers' target fraction (0.6 of
the limit), so the cluster never shrinks below ``ceil(managed bytes / (0.6 *
limit))``; and while work is pending, a paused worker or a majority of
workers over their target adds one worker per check (they take no new root
tasks: only a fresh worker can).

Who leaves.  `retire_order` ranks workers, best to retire first: those
holding no only-copy of data a pending task reads, then no actor, then the
fewest bytes (retirement copies a leaving worker's results to the others, so
small is quick), then the least work in hand.  A worker holding the only
copy of a pending task's input is picked only when every candidate does.

Hysteresis.  `ScaleDecider` applies the recommendation the way ``adapt``
promises: scale up at the first check that asks for it, scale down only
after ``wait_count`` consecutive checks asked for fewer workers.

    >>> w = [WorkerLoad("tcp://a", nbytes=10), WorkerLoad("tcp://b", nbytes=5)]
    >>> rec = recommend(Observation(tuple(w), ()), minimum=1, maximum=4)
    >>> rec.target, rec.retire
    (1, ('tcp://b',))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "WorkerLoad", "PrefixLoad", "Observation", "Recommendation", "ScaleDecider",
    "observe", "recommend", "cpu_target", "memory_target", "retire_order",
    "TARGET_DURATION", "UNKNOWN_DURATION", "MEMORY_TARGET",
]

TARGET_DURATION = 5.0  # seconds the cluster should need for the work it has ready
UNKNOWN_DURATION = 0.5  # seconds assumed for a task whose prefix never finished a task
MEMORY_TARGET = 0.6  # fraction of a worker's limit its held results should stay under (worker.memory.target)


@dataclass(frozen=True, slots=True)
class WorkerLoad:
    """One worker as the policy sees it.

    ``nbytes``: bytes of results it holds (in memory or spilled);
    ``pending_only``: bytes of those held by no other worker and read by a
    task not yet finished; ``managed`` / ``limit``: memory as last reported.
    """

    address: str
    nthreads: int = 1
    nbytes: int = 0
    pending_only: int = 0
    processing: int = 0
    actors: int = 0
    managed: int = 0
    limit: int | None = None
    paused: bool = False
    over_target: bool = False


@dataclass(frozen=True, slots=True)
class PrefixLoad:
    """Ready tasks of one key prefix and their measured average duration (None: never measured)."""

    name: str
    ready: int
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What the scheduler knows now: its workers and its ready work by prefix.

    Tasks waiting on inputs are left out: each waits, through its inputs, on
    some ready task, so "work is pending" is "some task is ready".
    """

    workers: tuple = ()
    prefixes: tuple = ()


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The worker count wanted (``target``) and, if that is fewer than ``current``, who should leave.

    ``order``: every worker, best to retire first (a launcher that owns only
    some of the workers picks its own from it); ``retire``: the first
    ``current - target`` of them.
    """

    target: int
    current: int
    retire: tuple = ()
    order: tuple = ()
    reasons: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain data for the wire."""
        return {"target": self.target, "current": self.current, "retire": list(self.retire),
                "order": list(self.order), "reasons": dict(self.reasons)}


def cpu_target(obs: Observation, target_duration: float = TARGET_DURATION,
               unknown_duration: float = UNKNOWN_DURATION) -> int:
    """Workers needed to run the ready work within ``target_duration`` (0 when nothing is ready)."""
    ready = 0
    work = 0.0
    for p in obs.prefixes:
        ready += p.ready
        work += p.ready * (unknown_duration if p.duration is None else p.duration)
    if not ready:
        return 0
    threads = min(ready, max(1, math.ceil(work / max(target_duration, 1e-9))))
    per_worker = _threads_per_worker(obs.workers)
    return math.ceil(threads / per_worker)


def memory_target(obs: Observation, target_fraction: float = MEMORY_TARGET) -> int:
    """Workers needed to hold the results under their memory target, plus one under pressure (see module doc)."""
    limits = [w.limit for w in obs.workers if w.limit]
    if not limits:
        return 0
    room = target_fraction * (sum(limits) / len(limits))
    need = math.ceil(sum(w.managed for w in obs.workers) / room) if room > 0 else 0
    pending = any(p.ready for p in obs.prefixes)
    over = sum(1 for w in obs.workers if w.over_target)
    if pending and (any(w.paused for w in obs.workers) or 2 * over > len(obs.workers)):
        need = max(need, len(obs.workers) + 1)
    return need


def retire_order(workers) -> list:
    """Addresses of ``workers``, best to retire first (see the module doc)."""
    def cost(w: WorkerLoad):
        return (w.pending_only > 0, w.pending_only, w.actors, w.nbytes, w.processing, w.address)

    return [w.address for w in sorted(workers, key=cost)]


def recommend(obs: Observation, minimum: int = 0, maximum: int | None = None,
              target_duration: float = TARGET_DURATION, *, unknown_duration: float = UNKNOWN_DURATION,
              target_fraction: float = MEMORY_TARGET) -> Recommendation:
    """The worker count for ``obs`` between ``minimum`` and ``maximum`` (None: no upper bound), and who leaves.

    >>> busy = Observation((WorkerLoad("tcp://a"),), (PrefixLoad("sleep", 100, 0.2),))
    >>> recommend(busy, 1, 8).target
    4
    """
    cpu = cpu_target(obs, target_duration, unknown_duration)
    memory = memory_target(obs, target_fraction)
    target = max(cpu, memory, minimum)
    if maximum is not None:
        target = min(target, max(maximum, minimum))
    current = len(obs.workers)
    order = tuple(retire_order(obs.workers))
    retire = order[:current - target] if target < current else ()
    return Recommendation(target, current, retire, order, {"cpu": cpu, "memory": memory})


class ScaleDecider:
    """Turns successive recommendations into actions: up at once, down after ``wait_count`` quiet checks.

    `decide` returns the worker count to scale to now, or None to stay.
    While scaling down is pending, the largest target seen in the streak
    wins, so a brief lull followed by a smaller dip does not overshoot.

    >>> d = ScaleDecider(wait_count=2)
    >>> d.decide(current=4, target=1), d.decide(current=4, target=1)
    (None, 1)
    """

    def __init__(self, wait_count: int = 3):
        self.wait_count = max(1, int(wait_count))
        self._quiet = 0
        self._streak_target = 0

    def decide(self, current: int, target: int):
        if target > current:
            self._quiet = 0
            return target
        if target == current:
            self._quiet = 0
            return None
        self._streak_target = target if self._quiet == 0 else max(self._streak_target, target)
        self._quiet += 1
        if self._quiet < self.wait_count:
            return None
        self._quiet = 0
        return self._streak_target


# ---------------------------------------------------------------- reading a SchedulerState


def observe(state) -> Observation:
    """An `Observation` of a `SchedulerState` (reads it, changes nothing).

    Costs one pass over the ready tasks and the workers' held results.
    Workers already retiring are left out.
    """
    from .model import MEMORY, QUEUED

    counts: dict = {}

    def count(ts):
        entry = counts.get(ts.prefix)
        counts[ts.prefix] = 1 if entry is None else entry + 1

    seen = set()
    for entry in state.queue:  # stale heap entries of tasks that left the queue are skipped
        ts = entry[2]
        if ts.state == QUEUED and ts not in seen:
            seen.add(ts)
            count(ts)
    for ts in state.no_worker:
        count(ts)
    hosts: dict = {}
    for rec in state.actors.records.values():
        if rec.host is not None:
            hosts[rec.host] = hosts.get(rec.host, 0) + 1
    leaving = getattr(getattr(state, "retiring", None), "closing", None) or {}
    workers = []
    for ws in state.workers.values():
        for ts in ws.processing:
            count(ts)
        if ws.address in leaving:  # already retiring: neither capacity nor a candidate
            continue
        pending_only = 0
        for ts in ws.has_what:
            if ts.state == MEMORY and len(ts.who_has) == 1 and ts.n_waiters:
                pending_only += ts.nbytes
        workers.append(WorkerLoad(ws.address, ws.nthreads, ws.nbytes, pending_only, len(ws.processing),
                                  hosts.get(ws.address, 0), ws.memory, ws.memory_limit, ws.paused,
                                  ws.over_target))
    prefixes = tuple(PrefixLoad(p.name, n, p.duration) for p, n in counts.items())
    return Observation(tuple(workers), prefixes)


def _threads_per_worker(workers) -> float:
    if not workers:
        return 1.0
    return max(1.0, sum(w.nthreads for w in workers) / len(workers))
