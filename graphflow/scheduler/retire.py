"""Graceful retirement: a worker leaves only after everything it alone holds lives somewhere else.

`client.retire_workers`, ``Cluster.scale`` down and ``graphflow worker
--lifetime`` all end here, as a `RetireWorkers` event (or `WorkerAsksToRetire`
from a worker whose lifetime is up).  Each leaving worker becomes *closing*
and stays registered -- it still serves its data to peers -- while
`SchedRetirements.progress`, run by `SchedulerState.handle` after every batch
of events, drives it out in four steps:

1. no new work: it counts as paused and over its memory target, so neither
   placement, the root queue nor stealing gives it tasks, and it is never a
   receiver of data or a new actor;
2. its queued tasks are rerouted: each task it processes is asked back with
   the stealing protocol (`RequestSteal`), so one it has not started moves to
   a running worker and one it is executing finishes where it is (nothing
   runs twice);
3. its actors move: the worker freezes each (`FreezeActors`: later calls are
   held back unanswered, the instance checkpoints once idle); when the
   checkpoint arrives the actor's task gets the restore spec that recovery
   after a death uses, and is recreated on another worker, whose callers
   resend their unanswered calls to it;
4. every result whose only copies are on closing workers is copied by a
   running worker (`ReplicateKeys`: that worker fetches it through the usual
   peer path -- shared memory, ``process_vm_readv`` or the spill file on one
   host -- and reports it with `TaskFinished`, which adds it to ``who_has``).
   Receivers are chosen by room under their memory target
   (`choose_receiver`); when none has room the least full one is picked, and
   it spills before the fetch.

When none of its tasks, results or actors is left only on it, the worker is
removed (nothing is lost, so nothing is recomputed) and told to stop
(`RetireWorker`), and each request whose workers are all done is answered
(`RetireDone`).  A retirement that cannot finish -- no running worker is left
to receive (every worker is retiring, or the others died), or the deadline
(``timeout``, config ``scheduler.retire_timeout``) passes -- is called off:
the worker runs again and the request is answered with a `RetireError`
naming it and what was left.  With ``close_anyway=True`` a worker with no
receiver is closed regardless and what it held is recomputed from lineage.

Worked example, ``W`` holds ``a`` (only copy) and ``b`` (also on ``V``), runs
``c`` (started) and has ``d`` queued::

    RetireWorkers([W])   -> RequestSteal(W, c), RequestSteal(W, d), ReplicateKeys(V, {a: [W]})
    StealResponse(W, d, released=True)      d moves to V
    TaskFinished(V, a)                      a: who_has [W, V]
    StealResponse(W, c, released=False)     c stays; it finishes on W ...
    TaskFinished(W, c)   -> ReplicateKeys(V, {c: [W]})
    TaskFinished(V, c)   -> RetireWorker(W), RetireDone(request, [W])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RetireError
from ..units import format_bytes
from . import policy
from .actors import is_actor_spec
from .events import KeyReport, RetireWorker, SchedulerCommand, SchedulerEvent
from .model import MEMORY, RELEASED

__all__ = ["RetireWorkers", "WorkerAsksToRetire", "ReplicateKeys", "FreezeActors", "RetireDone",
           "SchedRetirements", "choose_receiver", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 60.0  # seconds; config scheduler.retire_timeout
REPLICA_RETRY = 30.0  # seconds after which an unanswered copy request is sent again (to the best receiver then)
DEFAULT_TARGET = 0.6  # fraction of a receiver's memory limit it may fill (config worker.memory.target)


# --------------------------------------------------------------------- events and commands


@dataclass(slots=True)
class RetireWorkers(SchedulerEvent):
    """Retire ``workers`` gracefully; answer ``request`` (the shell's id, None: nobody waits) with `RetireDone`."""

    workers: list
    request: object = None
    now: float = 0.0
    timeout: float = DEFAULT_TIMEOUT
    close_anyway: bool = False


@dataclass(slots=True)
class WorkerAsksToRetire(SchedulerEvent):
    """A worker's lifetime is up: retire it like `RetireWorkers` (answered to the worker if refused)."""

    worker: str
    now: float = 0.0
    timeout: float = DEFAULT_TIMEOUT


@dataclass(slots=True)
class ReplicateKeys(SchedulerCommand):
    """``worker`` should fetch ``who_has`` (key -> holders) and keep the copies: ``nbytes`` key -> size."""

    worker: str
    who_has: dict
    nbytes: dict


@dataclass(slots=True)
class FreezeActors(SchedulerCommand):
    """``worker`` is leaving: it should hold back new calls to these actors and checkpoint each once idle.

    The first one (sent even with no actors) also tells it to hand its results to peers on its host
    through shared memory: one copy out of it, and the receivers map the blocks.
    """

    worker: str
    keys: list


@dataclass(slots=True)
class RetireDone(SchedulerCommand):
    """A retirement request is over: ``retired`` left; ``failed`` maps a worker to why it could not."""

    request: object
    retired: list
    failed: dict = field(default_factory=dict)
    error: RetireError | None = None


# --------------------------------------------------------------------- records


class Leaving:
    """One closing worker: its deadline, the tasks asked back, its actors' freeze and its copy requests."""

    __slots__ = ("ws", "deadline", "close_anyway", "asked", "frozen", "copies", "requests", "told")

    def __init__(self, ws, deadline: float, close_anyway: bool):
        self.ws = ws
        self.deadline = deadline
        self.close_anyway = close_anyway
        self.asked: set = set()  # SchedTasks whose steal was requested
        self.frozen: dict = {}  # actor key -> the checkpoint state object current when frozen
        self.copies: dict = {}  # SchedTask -> (receiver SchedWorker, time asked)
        self.requests: list = []
        self.told = False  # the worker was told it is leaving (FreezeActors, maybe with no actors)


class Request:
    """One `RetireWorkers` (or lifetime) request: the workers still leaving, and the outcome so far."""

    __slots__ = ("id", "lifetime", "pending", "retired", "failed")

    def __init__(self, request_id, pending, lifetime: bool = False):
        self.id = request_id
        self.lifetime = lifetime  # asked by the worker itself: a refusal goes back to it
        self.pending = set(pending)
        self.retired: list = []
        self.failed: dict = {}


def choose_receiver(nbytes: int, receivers, incoming: dict, target: float = DEFAULT_TARGET):
    """The worker that should take a copy of ``nbytes``, or None without receivers.

    A receiver *fits* when its managed memory (last heartbeat) plus the copies
    already on their way to it plus ``nbytes`` stays under ``target`` of its
    limit (no limit: always fits).  Fitting receivers come first, then the one
    with most room left, then the one with fewest bytes coming (so copies
    spread over the receivers and travel in parallel).  When nobody fits the
    one with the most room still gets it and spills to make room.

        >>> from graphflow.scheduler.model import SchedWorker
        >>> a, b = SchedWorker("a", 1, 1000, 0.0), SchedWorker("b", 1, 1000, 0.0)
        >>> a.memory, b.memory = 500, 100
        >>> choose_receiver(300, [a, b], {}).address
        'b'
        >>> choose_receiver(300, [a, b], {b: 400}).address   # b full with what is coming: a still fits
        'a'
    """
    best = best_key = None
    for ws in receivers:
        coming = incoming.get(ws, 0)
        if ws.memory_limit:
            room = ws.memory_limit * target - ws.memory - coming
            fits = room >= nbytes
        else:
            room, fits = float("inf"), True
        key = (not fits, ws.paused, -room, coming, ws.address)
        if best is None or key < best_key:
            best, best_key = ws, key
    return best


# --------------------------------------------------------------------- the retirement logic


class SchedRetirements:
    """Every retirement under way (see the module docstring); `progress` moves them on."""

    def __init__(self):
        self.closing: dict = {}  # address -> Leaving
        self.requests: dict = {}  # request id -> Request
        self.incoming: dict = {}  # receiver SchedWorker -> bytes of copies on their way to it
        self.now = 0.0
        self.target = DEFAULT_TARGET
        self._lifetime_ids = 0

    # -- starting

    def start(self, s, workers, request_id, now: float, timeout: float, close_anyway: bool, stim: str) -> None:
        self.now = max(self.now, now)
        lifetime = request_id is None
        if lifetime:
            self._lifetime_ids += 1
            request_id = ("lifetime", self._lifetime_ids)
        known = [a for a in dict.fromkeys(workers) if a in s.workers]
        req = self.requests[request_id] = Request(request_id, known, lifetime)
        if lifetime and known and self._last_with_work(s, known[0]):
            # a worker leaving on its own never takes the last copy of anything with it: it asks again later
            req.pending.clear()
            req.failed[known[0]] = ("it is the last running worker and it holds data or work", "", None)
            return self._answer(s, req, stim)
        for address in known:
            leaving = self.closing.get(address)
            if leaving is None:
                ws = s.workers[address]
                leaving = self.closing[address] = Leaving(ws, now + timeout, close_anyway)
                s.note(address, "retire-start", list(workers), stim)
            leaving.requests.append(req)
        if not known:
            self._answer(s, req, stim)

    def _last_with_work(self, s, address: str) -> bool:
        if any(a != address and a not in self.closing for a in s.workers):
            return False
        ws = s.workers[address]
        return bool(ws.has_what or ws.processing)

    # -- every handle()

    def progress(self, s, events, stim: str) -> None:
        """Move every retirement on after a batch of events (called by `SchedulerState.handle`)."""
        for ev in events:
            now = getattr(ev, "now", None)
            if isinstance(now, (int, float)) and now > self.now:
                self.now = now
        for address, leaving in list(self.closing.items()):
            if self.closing.get(address) is leaving:
                self._progress_one(s, leaving, stim)

    def _progress_one(self, s, leaving: Leaving, stim: str) -> None:
        ws = leaving.ws
        if s.workers.get(ws.address) is not ws:
            return self._fail(s, leaving, "it left (or died) before its data was moved; what it alone held "
                                          "is recomputed from lineage where needed", stim)
        ws.paused = ws.over_target = True  # again after every heartbeat: no new work for it
        s.dirty_workers.discard(ws)
        receivers = {a: w for a, w in s.workers.items() if a not in self.closing}
        left = self._left(s, ws)
        if not receivers:
            if not any(left.values()):
                return self._retire(s, leaving, stim)
            if leaving.close_anyway:
                s.note(ws.address, "retire-close-anyway", None, stim)
                return self._retire(s, leaving, stim)
            others = "every worker is retiring" if len(s.workers) > 1 else "it is the only worker"
            return self._fail(s, leaving, f"no running worker is left to receive its data ({others}); retire "
                                          f"fewer workers, start more first, or pass close_anyway=True to "
                                          f"close it and recompute what it held", stim, left)
        if self.now > leaving.deadline:
            return self._fail(s, leaving, "the retirement timed out (config scheduler.retire_timeout)", stim, left)
        if not any(left.values()):
            return self._retire(s, leaving, stim)
        self._reroute(s, leaving, receivers, left["tasks"], stim)
        if self._move_actors(s, leaving, left["actors"], stim) and not any(self._left(s, ws).values()):
            return self._retire(s, leaving, stim)  # the last thing keeping it was an actor, gone now
        self._copy(s, leaving, list(receivers.values()), left["keys"], stim)

    def _left(self, s, ws) -> dict:
        """What still keeps ``ws``: tasks it processes, actors it hosts, results only closing workers hold."""
        closing = self.closing
        keys, actors = [], []
        for ts in ws.has_what:
            if is_actor_spec(ts.spec):
                rec = s.actors.records.get(ts.key)
                if rec is None or rec.host is None or rec.host == ws.address:
                    actors.append(ts)
                    continue
            for holder in ts.who_has:
                if holder.address not in closing:
                    break
            else:
                keys.append(ts)
        return {"tasks": list(ws.processing), "actors": actors, "keys": keys}

    # -- the steps

    def _reroute(self, s, leaving: Leaving, receivers: dict, tasks: list, stim: str) -> None:
        """Ask back every task sent to it (once): the worker gives up those it has not started."""
        for ts in tasks:
            if ts in leaving.asked or ts in s.steals:
                continue
            leaving.asked.add(ts)
            thief = policy.decide_worker(ts, receivers)
            if thief is None or thief.address not in receivers:  # its inputs are on closing workers only
                thief = min(policy.valid_workers(ts, receivers), default=None,
                            key=lambda w: (w.paused, w.occupancy / w.nthreads, len(w.processing), w.address))
            if thief is None:
                continue  # restricted to this worker: it runs here before the worker leaves
            s.request_steal(ts, leaving.ws, thief, stim, "retire-reroute")

    def _move_actors(self, s, leaving: Leaving, actors: list, stim: str) -> int:
        """Freeze each actor once; when its checkpoint is in, recreate it elsewhere from that checkpoint."""
        freeze = []
        moved = 0
        for ts in actors:
            rec = s.actors.records.get(ts.key)
            if ts.key not in leaving.frozen:
                leaving.frozen[ts.key] = rec.state if rec is not None else None
                freeze.append(ts.key)
            elif rec is not None and rec.state is not leaving.frozen[ts.key]:
                self._recreate(s, ts, rec, leaving.ws.address, stim)
                moved += 1
        if freeze or not leaving.told:  # the first one also tells it to serve its data through shared memory
            leaving.told = True
            s.emit(FreezeActors(stim, leaving.ws.address, freeze))
        return moved

    def _recreate(self, s, ts, rec, address: str, stim: str) -> None:
        spec = ts.spec
        used = getattr(spec, "incarnation", 0)
        # a move, not a crash: no restart is needed to allow it, and none is lost (the checkpoint is fresh)
        ts.spec = spec.restore_spec(state=rec.state, hw=rec.hw, replay=list(rec.log), results=rec.results,
                                    incarnation=used + 1)
        ts.restrictions = None
        rec.host = None
        rec.incarnation = used + 1
        for holder in list(ts.who_has):
            s.remove_replica(ts, holder)
            s.free_on_worker(holder, ts.key, stim)
        s.note(ts.key, "actor-move", [address, len(rec.log)], stim)
        s.transition(ts, RELEASED, stim)  # wanted: waiting again, created on a running worker
        s.run_recommendations(stim)

    def _copy(self, s, leaving: Leaving, receivers: list, keys: list, stim: str) -> None:
        """Ask running workers to fetch the results only closing workers hold."""
        batches: dict = {}
        copies = leaving.copies
        incoming = self.incoming
        for ts, (receiver, _) in list(copies.items()):  # landed, or no longer needed: not coming any more
            if ts.state != MEMORY or receiver in ts.who_has or s.workers.get(receiver.address) is not receiver:
                del copies[ts]
                incoming[receiver] = incoming.get(receiver, 0) - ts.nbytes
        for ts in keys:
            asked = copies.get(ts)
            if asked is not None and self.now - asked[1] < REPLICA_RETRY:
                continue
            receiver = choose_receiver(ts.nbytes, receivers, incoming, self.target)
            copies[ts] = (receiver, self.now)
            incoming[receiver] = incoming.get(receiver, 0) + ts.nbytes
            batch = batches.get(receiver)
            if batch is None:
                batch = batches[receiver] = ({}, {})
            batch[0][ts.key] = [w.address for w in ts.who_has]
            batch[1][ts.key] = ts.nbytes
        for receiver, (who_has, nbytes) in batches.items():
            s.emit(ReplicateKeys(stim, receiver.address, who_has, nbytes))
            s.note(receiver.address, "retire-copy", list(who_has), stim)

    # -- endings

    def _retire(self, s, leaving: Leaving, stim: str) -> None:
        ws = leaving.ws
        self._drop(leaving)
        for ts in ws.has_what:  # clients fetch from the holders they were told: tell them the new ones
            if ts.wanted_by is not None:
                where = [w.address for w in ts.who_has if w is not ws]
                for client in ts.wanted_by:
                    s.emit(KeyReport(stim, client, ts.key, MEMORY, ts.nbytes, ts.type_name, where))
        s.emit(RetireWorker(stim, ws.address))
        s.remove_worker(ws, False, stim, "retired")
        for req in leaving.requests:
            req.pending.discard(ws.address)
            req.retired.append(ws.address)
            if not req.pending:
                self._answer(s, req, stim)

    def _fail(self, s, leaving: Leaving, why: str, stim: str, left=None) -> None:
        ws = leaving.ws
        self._drop(leaving)
        if s.workers.get(ws.address) is ws:
            ws.paused = ws.over_target = False  # running again; its next heartbeat says how it really is
            s.dirty_workers.add(ws)
        what = _describe(left) if left else ""
        s.note(ws.address, "retire-failed", why, stim)
        for req in leaving.requests:
            req.pending.discard(ws.address)
            req.failed[ws.address] = (why, what, left)
            if not req.pending:
                self._answer(s, req, stim)

    def _drop(self, leaving: Leaving) -> None:
        del self.closing[leaving.ws.address]
        for ts, (receiver, _) in leaving.copies.items():
            self.incoming[receiver] = self.incoming.get(receiver, 0) - ts.nbytes
        for receiver in [r for r, n in self.incoming.items() if n <= 0]:
            del self.incoming[receiver]

    def _answer(self, s, req: Request, stim: str) -> None:
        del self.requests[req.id]
        error = None
        if req.failed:
            parts = [f"worker {a} could not retire: {why}{'; left: ' + what if what else ''}"
                     for a, (why, what, _) in req.failed.items()]
            left = {a: _keys_of(info[2]) for a, info in req.failed.items()}
            error = RetireError("; ".join(parts) + (f" (retired: {req.retired})" if req.retired else ""),
                                workers=list(req.failed), retired=list(req.retired), left=left)
        request = None if req.lifetime else req.id
        failed = {a: info[0] for a, info in req.failed.items()}
        s.emit(RetireDone(stim, request, list(req.retired), failed, error))


def _keys_of(left) -> dict:
    if not left:
        return {}
    return {what: [ts.key for ts in items] for what, items in left.items() if items}


def _describe(left: dict) -> str:
    """A short account of what kept a worker: counts, bytes and the first few keys."""
    parts = []
    keys = left.get("keys") or ()
    if keys:
        total = sum(ts.nbytes for ts in keys)
        parts.append(f"{len(keys)} results held nowhere else ({format_bytes(total)}, e.g. "
                     f"{[ts.key for ts in list(keys)[:3]]})")
    tasks = left.get("tasks") or ()
    if tasks:
        parts.append(f"{len(tasks)} tasks still running there (e.g. {[ts.key for ts in tasks[:3]]})")
    actors = left.get("actors") or ()
    if actors:
        parts.append(f"{len(actors)} actors not moved yet ({[ts.key for ts in actors[:3]]})")
    return ", ".join(parts)


# --------------------------------------------------------------------- handlers (listed in handlers.HANDLERS)


def retire_workers(s, ev: RetireWorkers) -> None:
    s.retiring.start(s, ev.workers, ev.request, ev.now, ev.timeout, ev.close_anyway, ev.stimulus_id)


def worker_asks_to_retire(s, ev: WorkerAsksToRetire) -> None:
    if ev.worker in s.retiring.closing:
        return  # already leaving
    s.retiring.start(s, [ev.worker], None, ev.now, ev.timeout, False, ev.stimulus_id)
