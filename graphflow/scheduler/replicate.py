"""Copies a client asks for: ``client.replicate`` (more holders of some keys) and ``client.rebalance``.

Model.  Both only *plan*: they send `ReplicateKeys` commands (the worker
fetches each key from a holder, through its usual fetch queues, and keeps
the copy; see `graphflow.worker.replicas`), and each copy that lands comes
back as a `TaskFinished` that adds its worker to ``who_has``.

`replicate` gives each key ``n`` holders (every worker, or every worker of
``workers``, when ``n`` is None), new copies going to the workers holding
fewest bytes.  `rebalance` moves keys from workers holding more than the
mean of bytes to those holding less: a move is a copy to the receiver and,
once it has landed (`Moves.landed`, called from the ``TaskFinished``
handler), a release on the giver, so a key is never without a holder on
the way.

Worked example, x (100 MB) on A only, workers A, B, C::

    ReplicateRequested([x], n=None)   -> ReplicateKeys(B, {x: [A]}), ReplicateKeys(C, {x: [A]})
    TaskFinished(B, x), TaskFinished(C, x)  -> x.who_has = [A, B, C]
    Rebalance: A holds 300 MB, B and C none -> ReplicateKeys(B, {y: [A]}); y lands on B -> A drops y
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import SchedulerEvent
from .model import MEMORY
from .retire import ReplicateKeys

__all__ = ["ReplicateRequested", "RebalanceRequested", "Moves", "replicate", "rebalance"]


@dataclass(slots=True)
class ReplicateRequested(SchedulerEvent):
    """Give each of ``keys`` (in memory) ``n`` holders, among ``workers`` if given (None: all of them)."""

    keys: list
    n: int | None = None
    workers: list | None = None


@dataclass(slots=True)
class RebalanceRequested(SchedulerEvent):
    """Even out the bytes of ``keys`` (None: every key in memory) over ``workers`` (None: all)."""

    keys: list | None = None
    workers: list | None = field(default=None)


class Moves:
    """Copies made by `rebalance` whose giver drops its copy when they land: (task, receiver) -> giver."""

    def __init__(self):
        self.pending = {}

    def landed(self, s, ts, ws, stim: str) -> None:
        giver = self.pending.pop((ts, ws), None)
        if giver is not None and giver in ts.who_has and len(ts.who_has) > 1:
            s.remove_replica(ts, giver)
            s.free_on_worker(giver, ts.key, stim)


def _targets(s, names):
    if not names:
        return list(s.workers.values())
    return [s.workers[a] for a in names if a in s.workers]


def _send(out: dict, ws, ts) -> None:
    who_has, nbytes = out.setdefault(ws, ({}, {}))
    who_has[ts.key] = [h.address for h in ts.who_has]
    nbytes[ts.key] = ts.nbytes


def _emit(s, out: dict, stim: str) -> None:
    for ws, (who_has, nbytes) in out.items():
        s.emit(ReplicateKeys(stim, ws.address, who_has, nbytes))


def replicate(s, ev: ReplicateRequested) -> None:
    """Plan copies so each key has ``n`` holders among the targets (the least loaded receive them)."""
    targets = _targets(s, ev.workers)
    load = {ws: ws.nbytes for ws in targets}
    out = {}
    for key in ev.keys:
        ts = s.tasks.get(key)
        if ts is None or ts.state != MEMORY:
            continue
        want = len(targets) if ev.n is None else min(ev.n, len(targets))
        have = sum(1 for ws in ts.who_has if ws in load)
        for ws in sorted((w for w in targets if w not in ts.who_has), key=load.__getitem__)[:max(0, want - have)]:
            _send(out, ws, ts)
            load[ws] += ts.nbytes
    _emit(s, out, ev.stimulus_id)


def rebalance(s, ev: RebalanceRequested) -> None:
    """Plan moves from workers above the mean of bytes held to those below it, largest keys first."""
    targets = _targets(s, ev.workers)
    if len(targets) < 2:
        return
    keys = None if ev.keys is None else set(ev.keys)
    held = {ws: [ts for ts in ws.has_what if ts.state == MEMORY and (keys is None or ts.key in keys)]
            for ws in targets}
    load = {ws: sum(ts.nbytes for ts in tss) for ws, tss in held.items()}
    mean = sum(load.values()) / len(targets)
    out = {}
    for giver in sorted(targets, key=load.__getitem__, reverse=True):
        for ts in sorted(held[giver], key=lambda t: t.nbytes, reverse=True):
            if load[giver] <= mean:
                break
            receiver = min(targets, key=load.__getitem__)
            if receiver is giver or receiver in ts.who_has or load[receiver] + ts.nbytes > mean + ts.nbytes / 2:
                continue
            _send(out, receiver, ts)
            s.moves.pending[(ts, receiver)] = giver
            load[receiver] += ts.nbytes
            load[giver] -= ts.nbytes
    _emit(s, out, ev.stimulus_id)
