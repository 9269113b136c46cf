"""Where a task may run: ``workers=`` by address, name or host, loose restrictions, and the no-worker timeout.

Model.  ``SchedTask.restrictions`` is a frozenset of worker *addresses*, the
form every placement rule reads (``ws.address in ts.restrictions``).  A client
may name workers three ways; `resolve` turns each into addresses when the
graph arrives, and keeps the name itself in the set so that a worker joining
later under that name or host is added to it (`worker_joined`):

    "tcp://10.0.0.5:40123"  an address (a scheme is added to "10.0.0.5:40123")
    "gpu-box-0"             a worker's name (`SchedWorker.name`, unique among connected workers)
    "10.0.0.5"              a host: every worker listening on it

``allow_other_workers=True`` makes the restriction a preference
(``SchedTask.loose``): when a loose task is ready and none of its workers is
connected it runs anywhere (`ready_target` drops the restriction).

A task that no connected worker may run (an unknown name, a departed worker,
resources nobody offers) sits in no-worker.  `tick` (every scheduler `Tick`)
notes when each such task was first seen so and errs it with `NoWorkerError`
once it has waited ``no_worker_timeout`` seconds (``scheduler.no_worker_timeout``),
so a typo in ``workers=`` fails instead of hanging.  The clock runs only while
some worker is connected (with none, a cluster is starting or scaled to zero,
and every task waits), and never for tasks whose resources are only busy.

Worked example, workers A (name "a", host h1) and B (name "b", host h2)::

    resolve(s, {"b"})                 -> {"b", B.address}
    resolve(s, {"h1"})                -> {"h1", A.address}
    resolve(s, {"nope"})              -> {"nope"}: no-worker; NoWorkerError after the timeout
    worker "nope" joins (address N)   -> {"nope", N}: placed on N
"""

from __future__ import annotations

from ..errors import NoWorkerError
from .model import ERRED, NO_WORKER, PROCESSING
from .resources import could_fit

__all__ = ["Placement", "resolve", "ready_target", "worker_joined"]


def _normalize(spec) -> str:
    spec = str(spec)
    if "://" not in spec and ":" in spec and spec.rsplit(":", 1)[1].isdigit():
        return "tcp://" + spec  # "host:port" as users type it
    return spec


def resolve(s, specs) -> frozenset:
    """Addresses of the connected workers ``specs`` name (addresses, names or hosts), plus the specs themselves."""
    out = set()
    workers = s.workers
    for spec in specs:
        spec = _normalize(spec)
        out.add(spec)
        if spec in workers:
            continue
        for ws in workers.values():
            if ws.name == spec or ws.host == spec:
                out.add(ws.address)
    return frozenset(out)


def ready_target(s, ts):
    """Where a ready task that is not root-ish goes: to one of its workers, anywhere (loose), or no-worker."""
    workers = s.workers
    if ts.restrictions is None:
        return PROCESSING if workers else NO_WORKER
    for address in ts.restrictions:
        if address in workers:
            return PROCESSING
    if ts.loose and workers:
        ts.restrictions = None  # none of its preferred workers is here: any will do
        return PROCESSING
    return NO_WORKER


def worker_joined(s, ws) -> None:
    """A worker joined: restricted tasks that named it, by name or host, may run on it; resources may fit."""
    recs = s.recommendations
    for ts in s.no_worker:
        r = ts.restrictions
        if r is not None and ws.address not in r and (ws.name in r or ws.host in r):
            ts.restrictions = r = r | {ws.address}
        if ts.resources is not None:
            continue  # held for resources: the pool places it (below)
        if r is None or ws.address in r:
            recs[ts] = PROCESSING
    if ws.resources is not None:
        s.pool.changed = True


class Placement:
    """The no-worker clock: when each task no connected worker may run was first seen so."""

    def __init__(self, no_worker_timeout: float = 30.0):
        self.no_worker_timeout = no_worker_timeout
        self.since = {}  # SchedTask -> the Tick's ``now`` when it was first seen unplaceable

    def tick(self, s, now: float, stim: str) -> None:
        """Err tasks that have waited ``no_worker_timeout`` for a worker that may run them; run loose ones."""
        since = self.since
        workers = s.workers
        if not s.no_worker or not workers:  # no worker at all: a cluster starting, or scaled to zero
            since.clear()
            return
        recs = s.recommendations
        seen = {}
        runnable = {}  # (id of its resources dict, restrictions) -> some worker could run it once idle
        for ts in s.no_worker:
            if ts.restrictions is None and ts.resources is None:
                continue  # waits for any worker at all
            kind = (id(ts.resources), ts.restrictions)  # one submission's tasks share one resources dict
            ok = runnable.get(kind)
            if ok is None:
                allowed = workers.values() if ts.restrictions is None else [
                    workers[a] for a in ts.restrictions if a in workers]
                if ts.resources is not None:
                    allowed = [ws for ws in allowed if could_fit(ts.resources, ws)]
                ok = runnable[kind] = bool(allowed)
            if ok:
                continue  # only busy: it runs when resources free
            if ts.loose and ts.resources is None:
                ts.restrictions = None
                recs[ts] = PROCESSING
                continue
            first = seen[ts] = since.get(ts, now)
            if now - first >= self.no_worker_timeout:
                recs[ts] = (ERRED, (_timed_out(ts, now - first, workers), "", ts.key))
        self.since = seen


def _timed_out(ts, waited: float, workers: dict) -> NoWorkerError:
    asked = {}
    if ts.restrictions is not None:
        asked["workers"] = sorted(map(str, ts.restrictions))
    if ts.resources is not None:
        asked["resources"] = dict(ts.resources)
    offered = {ws.name: {"address": ws.address, "host": ws.host, "resources": dict(ws.resources or {})}
               for ws in workers.values()}
    return NoWorkerError(
        f"task {ts.key!r} waited {waited:.0f} s (scheduler.no_worker_timeout) for a worker matching {asked}, "
        f"and no connected worker matches; the workers are {offered or 'none (no worker is connected)'}. "
        "Name a connected worker by address, name or host, pass allow_other_workers=True, "
        "or raise scheduler.no_worker_timeout.",
        key=ts.key, request=asked, workers=offered)
