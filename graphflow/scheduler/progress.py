"""Progress of given keys, per key prefix, for ``gf.progress``: what the scheduler counts and how.

A client opens a *tracker* for some keys (futures it holds, or a persisted
collection's keys); the tracker covers those keys and everything they depend
on, and counts per prefix (`graphflow.spec.keys.key_split`) how many tasks
there are, how many are done and how many erred.  The client polls it about
ten times a second and closes it when its futures have settled.

Cost model, since a bar must not slow the computation it shows:

* opening walks the tracked tasks once (O(tasks)) to find what is already
  done;
* after that, the scheduler shell hands each burst of events to `observe`
  (only while a tracker is open): a finished task is one dict lookup per
  tracker, an erred one also marks what depends on it as erred;
* a poll returns the counters (O(prefixes)), never walks the graph.

Done means: in memory, or released after its result was used.  A released
task counts as done unless a task depending on it is still waiting (then it
was lost with a worker, or never ran).  The counts only grow: a result lost
with a worker and recomputed is not counted twice.

    >>> board = ProgressBoard()
    >>> board.trackers
    {}

Trackers nobody polled for `STALE_AFTER` seconds are dropped (a client that
went away without closing its own).
"""

from __future__ import annotations

import itertools
import time

from ..errors import GraphflowError
from .model import ERRED, FORGOTTEN, MEMORY, NO_WORKER, RELEASED, WAITING

__all__ = ["ProgressBoard", "ProgressTracker", "STALE_AFTER"]

STALE_AFTER = 60.0  # seconds


class ProgressTracker:
    """Counters for one set of keys and their dependencies; see the module docstring."""

    def __init__(self, tasks: dict, keys, now: float):
        self.prefixes: dict = {}  # prefix -> [total, done, erred]
        self.pending: dict = {}  # key -> SchedTask not yet done or erred
        prefixes, pending = self.prefixes, self.pending
        for ts in _walk([tasks[k] for k in keys if k in tasks]):
            counts = prefixes.get(ts.prefix.name)
            if counts is None:
                counts = prefixes[ts.prefix.name] = [0, 0, 0]
            counts[0] += 1
            state = ts.state
            if state == MEMORY or ((state == RELEASED or state == FORGOTTEN) and _was_computed(ts)):
                counts[1] += 1
            elif state == ERRED:
                counts[2] += 1
            else:
                pending[ts.key] = ts
        # The walk meets dependents first; bars read better with the first tasks to run on top.
        self.prefixes = dict(reversed(list(prefixes.items())))
        self.initial = {p: c[1] for p, c in self.prefixes.items()}
        self.last_poll = now

    def finished(self, key) -> None:
        ts = self.pending.pop(key, None)
        if ts is not None:
            self.prefixes[ts.prefix.name][1] += 1

    def erred(self, key) -> None:
        """``key`` failed for good: it and every pending task depending on it are erred."""
        ts = self.pending.pop(key, None)
        if ts is None:
            return
        stack = [ts]
        while stack:
            ts = stack.pop()
            self.prefixes[ts.prefix.name][2] += 1
            for dts in ts.dependents:
                if self.pending.pop(dts.key, None) is not None:
                    stack.append(dts)

    def settle(self) -> None:
        """Count what settled without a task event (erred because a worker died too often, ...)."""
        for key, ts in list(self.pending.items()):
            if ts.state == ERRED:
                self.erred(key)
            elif ts.state == MEMORY:
                self.finished(key)

    def report(self) -> dict:
        """``{"prefixes": {prefix: [total, done, erred]}, "initial": {prefix: done at opening}, "finished"}``."""
        return {"prefixes": {p: list(c) for p, c in self.prefixes.items()}, "initial": self.initial,
                "finished": not self.pending}


class ProgressBoard:
    """The scheduler's open trackers, by id; the shell calls `observe` and answers the ``progress`` RPC."""

    def __init__(self):
        self.trackers: dict = {}
        self._ids = itertools.count(1)

    def rpc(self, state, keys=None, ident=None, close: bool = False) -> dict:
        """Open a tracker for ``keys``, or poll (and with ``close`` drop) tracker ``ident``.

        Returns the tracker's `ProgressTracker.report` plus its ``"id"``.
        """
        now = time.monotonic()
        self._drop_stale(now)
        if keys is not None:
            ident = next(self._ids)
            tracker = self.trackers[ident] = ProgressTracker(state.tasks, keys, now)
        else:
            tracker = self.trackers.get(ident)
            if tracker is None:
                raise GraphflowError(f"no progress tracker {ident!r} on the scheduler (closed, or unpolled for "
                                     f"{STALE_AFTER:.0f} s); call gf.progress again")
            tracker.last_poll = now
        if close:
            tracker.settle()
            self.trackers.pop(ident, None)
        return {"id": ident, **tracker.report()}

    def observe(self, events, state) -> None:
        """Count the task events of one burst (called after the state machine has handled them)."""
        from .events import TaskErred, TaskFinished

        trackers = list(self.trackers.values())
        tasks = state.tasks
        for e in events:
            t = type(e)
            if t is TaskFinished:
                for tracker in trackers:
                    tracker.finished(e.key)
            elif t is TaskErred:
                ts = tasks.get(e.key)
                if ts is not None and ts.state == ERRED:  # not a failure that will be retried
                    for tracker in trackers:
                        tracker.erred(e.key)

    def _drop_stale(self, now: float) -> None:
        for ident in [i for i, t in self.trackers.items() if now - t.last_poll > STALE_AFTER]:
            del self.trackers[ident]


def _walk(roots: list) -> list:
    """``roots`` and all their dependencies, each once (roots first, dependencies later)."""
    seen = set(roots)
    stack = list(seen)
    out = []
    while stack:
        ts = stack.pop()
        out.append(ts)
        for dep in ts.dependencies:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return out


def _was_computed(ts) -> bool:
    """A released task was computed and freed, unless a dependent still waits for it (it will be recomputed).

    Results are freed only once no dependent needs them, so a released input of a
    waiting task is one that was lost, or never ran.
    """
    return not any(d.state == WAITING or d.state == NO_WORKER for d in ts.dependents)
