"""The scheduler's part in actors: where each lives, its call log, its last checkpoint, and recovery.

An actor is a scheduler task whose spec is an actor-create node
(`graphflow.actor.ActorCreate`); its result, held by the worker that hosts the
instance, is a small handle.  Its lifetime is the task's: wanted by the
clients holding handles, released (and dropped on its worker) when the last
one lets go.  Calls do not pass through here -- callers send them straight to
the hosting worker -- but, for actors that may be restarted, callers also
send each batch of calls here (`ActorLog`), and the host sends its
checkpoints (`ActorCheckpointed`).  `SchedActor` keeps, per actor:

``log``
    ``[(caller, first seq, last seq, calls)]`` in arrival order: the batches
    of calls made since the last checkpoint, each still pickled (a
    `graphflow.comm.serialize.Serialized` of ``[(seq, method, kind, args,
    kwargs)]``: the scheduler never opens user arguments);
``state``, ``hw``, ``results``
    the last checkpoint (pickled state), the last sequence number per caller
    it includes, and the results of the calls it covers (so a caller that
    never got one can still be answered after a crash);
``host``, ``incarnation``
    the worker holding it (from `ActorHosted`) and how often it was recreated.

Recovery, as `SchedulerState.remove_worker` calls `worker_removed`: each actor
hosted on the lost worker either gets a new spec, an `ActorRestore` carrying
the checkpoint and the log (its replicas elsewhere are dropped, so the task
is lost and lineage reruns it on another worker: recreate, replay, register),
or, with no restarts left or none asked for, an `ActorTombstone` that makes
the task err with `ActorDiedError`.  Calls logged after that towards the old
incarnation are forwarded to the new host (`ForwardActorCalls`), which runs
each ``(caller, seq)`` once.  Replay runs logged calls in the order they
reached the scheduler: each caller's calls in its own order, exact for one
caller; with several concurrent callers, calls after the checkpoint may
interleave differently than the first time.

Worked example, ``@gf.actor(max_restarts=1, checkpoint_every=2)`` on ``W``::

    ActorHosted(W, a)                 host W
    ActorLog(a, C, 1..2), (a, C, 3..3)    log [C 1..2, C 3..3]
    ActorCheckpointed(W, a, hw={C: 2})    log [C 3..3]; state kept
    WorkerLeft(W)                         a.spec = ActorRestore(state, replay [C 3..3]); a runs on V
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ActorDiedError
from .events import SchedulerCommand, SchedulerEvent
from .model import MEMORY, PROCESSING

__all__ = ["SchedActors", "SchedActor", "ActorLog", "ActorCheckpointed", "ActorHosted", "ForwardActorCalls",
           "ActorTombstone"]


# --------------------------------------------------------------------- events and commands


@dataclass(slots=True)
class ActorLog(SchedulerEvent):
    """``client`` sent calls ``first..last`` of ``caller`` to ``actor`` (``calls``: their pickled list)."""

    client: str
    actor: object
    caller: str
    incarnation: int
    calls: object
    first: int = 0
    last: int = 0


@dataclass(slots=True)
class ActorHosted(SchedulerEvent):
    """``worker`` now holds the instance of ``actor`` (created or restored)."""

    worker: str
    actor: object
    incarnation: int = 0


@dataclass(slots=True)
class ActorCheckpointed(SchedulerEvent):
    """``worker`` checkpointed ``actor``: pickled ``state`` after calls up to ``hw`` (caller -> seq)."""

    worker: str
    actor: object
    incarnation: int
    state: bytes
    hw: dict
    results: bytes | dict | list = field(default_factory=dict)  # pickled by the worker: see wire.ActorCheckpoint


@dataclass(slots=True)
class ForwardActorCalls(SchedulerCommand):
    """Send logged ``calls`` of ``caller`` (pickled) to ``worker``, the actor's new host (it runs each seq once)."""

    worker: str
    actor: object
    caller: str
    calls: object


class ActorTombstone:
    """The spec of an actor that cannot come back: computing it errs with ``error``."""

    __slots__ = ("error",)
    __graphflow_actor__ = "dead"

    def __init__(self, error: ActorDiedError):
        self.error = error


# --------------------------------------------------------------------- records


class SchedActor:
    """What the scheduler keeps about one actor (see the module docstring)."""

    __slots__ = ("key", "host", "incarnation", "log", "state", "hw", "results")

    def __init__(self, key):
        self.key = key
        self.host = None
        self.incarnation = 0
        self.log: list = []
        self.state = None
        self.hw: dict = {}
        self.results: dict = {}


def is_actor_spec(spec) -> bool:
    """Does this task create (or restore) an actor?"""
    return getattr(type(spec), "__graphflow_actor__", None) == "create"


class SchedActors:
    """Every actor's record, by key; pure bookkeeping used by the handlers below."""

    def __init__(self):
        self.records: dict = {}

    def record(self, key) -> SchedActor:
        rec = self.records.get(key)
        if rec is None:
            rec = self.records[key] = SchedActor(key)
        return rec

    def forget(self, key) -> None:
        """The actor's task was forgotten."""
        if self.records:
            self.records.pop(key, None)

    def choose_worker(self, workers) -> str | None:
        """Address of the worker that should host a new actor: fewest actors, then least busy."""
        count: dict = {}
        for rec in self.records.values():
            if rec.host is not None:
                count[rec.host] = count.get(rec.host, 0) + 1
        best = min(workers, default=None,
                   key=lambda ws: (count.get(ws.address, 0), getattr(ws, "paused", False), ws.occupancy,
                                   len(ws.processing), ws.address))
        return best.address if best is not None else None

    def worker_removed(self, s, ws, stim: str) -> None:
        """``ws`` is leaving: give each actor it hosted a restore spec or a tombstone (see the module docstring)."""
        for ts in list(ws.processing):
            if is_actor_spec(ts.spec):
                ts.restrictions = None  # its creation was under way there: run it elsewhere
        for ts in list(ws.has_what):
            if not is_actor_spec(ts.spec):
                continue
            rec = self.records.get(ts.key)
            if rec is not None and rec.host is not None and rec.host != ws.address:
                continue  # only a copy of its handle was here
            for other in [w for w in ts.who_has if w is not ws]:  # copies of the handle: the instance is gone
                s.remove_replica(ts, other)
                s.free_on_worker(other, ts.key, stim)
            self._recover(ts, rec, ws.address, stim, s)

    def _recover(self, ts, rec, address: str, stim: str, s) -> None:
        spec = ts.spec
        options = spec.actor_class.options
        used = getattr(spec, "incarnation", 0)
        name = spec.actor_class.name
        if options.max_restarts > used:
            rec = rec or self.record(ts.key)
            rec.incarnation = used + 1
            rec.host = None
            ts.spec = spec.restore_spec(state=rec.state, hw=rec.hw, replay=list(rec.log), results=rec.results,
                                        incarnation=used + 1)
            ts.restrictions = None
            s.note(ts.key, "actor-restore", [address, len(rec.log)], stim)
            return
        if options.max_restarts:
            why = f"it was restarted {used} times already (max_restarts={options.max_restarts})"
        else:
            why = ("it was not asked to survive that: decorate the class with "
                   "@gf.actor(max_restarts=..., checkpoint_every=...)")
        ts.spec = ActorTombstone(ActorDiedError(
            f"actor {ts.key!r} ({name}) died with its worker {address}; {why}",
            actor=ts.key, worker=address))
        s.note(ts.key, "actor-died", address, stim)


# --------------------------------------------------------------------- handlers (listed in handlers.HANDLERS)


def actor_hosted(s, ev: ActorHosted) -> None:
    ts = s.tasks.get(ev.actor)
    if ts is not None and is_actor_spec(ts.spec):
        rec = s.actors.record(ev.actor)
        rec.host = ev.worker
        rec.incarnation = max(rec.incarnation, ev.incarnation)


def actor_log(s, ev: ActorLog) -> None:
    """Append calls to the log; calls aimed at an older incarnation also go to the current host."""
    ts = s.tasks.get(ev.actor)
    if ts is None or not is_actor_spec(ts.spec):
        return
    rec = s.actors.record(ev.actor)
    if ev.last <= rec.hw.get(ev.caller, 0):
        return  # a checkpoint already includes them
    caller, calls = ev.caller, ev.calls
    entry = (caller, ev.first, ev.last, calls)
    rec.log.append(entry)
    if ev.incarnation >= rec.incarnation:
        return
    target = None
    if ts.state == PROCESSING:
        target = ts.processing_on.address
    elif ts.state == MEMORY and rec.host is not None:
        target = rec.host
    elif hasattr(ts.spec, "replay"):  # not sent yet: the restore will carry them
        ts.spec.replay.append(entry)
    if target is not None:
        s.emit(ForwardActorCalls(ev.stimulus_id, target, ev.actor, caller, calls))


def actor_checkpointed(s, ev: ActorCheckpointed) -> None:
    """Keep the newest checkpoint; drop the log entries it includes."""
    ts = s.tasks.get(ev.actor)
    if ts is None or not is_actor_spec(ts.spec):
        return
    rec = s.actors.record(ev.actor)
    if ev.incarnation < rec.incarnation or (rec.host is not None and rec.host != ev.worker):
        return  # from an instance that is no longer the actor
    rec.state = ev.state
    rec.hw = dict(ev.hw)
    rec.results = ev.results  # pickled by the worker; opened only by the next host, on recovery
    hw = rec.hw
    rec.log = [e for e in rec.log if e[2] > hw.get(e[0], 0)]  # the host skips calls a batch has in the state
