"""Short builders for scheduler events, so a test reads like the story it tells.

Every builder fills in a fresh ``stimulus_id`` (``"test-17"``) unless given
one, and picks the defaults a test usually wants: client ``"C"``, one thread
per worker, 8-byte results.  Task specs are opaque to the scheduler, so
`graph` uses a placeholder ``("spec", key)`` unless real nodes are passed.

`FakeCluster` plays the workers: it applies a state machine's commands to
its own record of what each worker runs and holds, and answers with events
(a finished task, a steal response, a death) in whatever order a test picks.

    >>> ev = graph({"a": (), "b": ("a",)})
    >>> ev.dependencies, ev.wanted, ev.priorities
    ({'b': ('a',)}, ['b'], {'a': 0, 'b': 1})
    >>> finished("W", "a", duration=0.25).stop
    0.25
"""

from __future__ import annotations

import itertools
import random

from ..scheduler.events import (
    ClientCancelsKeys, ClientJoined, ClientLeft, ClientReleasesKeys, AssignTasks, ReleaseOnWorker, Heartbeat, KeyReport,
    KeysScattered, MissingData, RequestSteal, StealResponse, TaskErred, TaskFinished, Tick, UpdateGraph,
    WorkerJoined, WorkerLeft,
)

__all__ = [
    "stim", "graph", "joined", "left", "finished", "erred", "release", "cancel", "client_joined", "client_left",
    "heartbeat", "tick", "missing", "steal_response", "scattered", "FakeCluster",
]

_ids = itertools.count()


def stim(prefix: str = "test") -> str:
    """A fresh stimulus id."""
    return f"{prefix}-{next(_ids)}"


def graph(deps: dict, *, client: str = "C", wanted=None, priorities=None, retries=None, restrictions=None,
          specs=None, stimulus_id=None, resources=None, loose=()) -> UpdateGraph:
    """`UpdateGraph` for ``{key: (input keys, ...)}``.

    ``wanted`` defaults to the keys no other key in ``deps`` reads (the
    outputs); ``priorities`` to the order of ``deps``.
    """
    if wanted is None:
        read = {d for ds in deps.values() for d in ds}
        wanted = [k for k in deps if k not in read]
    if priorities is None:
        priorities = {k: i for i, k in enumerate(deps)}
    specs = {k: ("spec", k) for k in deps} if specs is None else specs
    return UpdateGraph(stimulus_id or stim("update-graph"), client, specs, {k: tuple(d) for k, d in deps.items() if d},
                       priorities, list(wanted), dict(retries or {}), dict(restrictions or {}),
                       dict(resources or {}), frozenset(loose))


def joined(worker: str, nthreads: int = 1, *, memory_limit=None, now: float = 0.0, stimulus_id=None, name: str = "",
           resources=None) -> WorkerJoined:
    return WorkerJoined(stimulus_id or stim("worker-joined"), worker, nthreads, memory_limit, now, name, resources)


def left(worker: str, *, expected: bool = False, memory=None, stimulus_id=None) -> WorkerLeft:
    return WorkerLeft(stimulus_id or stim("worker-left"), worker, expected, memory)


def finished(worker: str, key, *, nbytes: int = 8, duration=None, type_name: str = "int", inline=None,
             stimulus_id=None) -> TaskFinished:
    """`TaskFinished`; ``duration`` (seconds) becomes ``start=0, stop=duration`` so the scheduler learns it."""
    return TaskFinished(stimulus_id or stim("task-finished"), worker, key, nbytes, type_name, 0.0, duration or 0.0,
                        inline)


def erred(worker: str, key, exception=None, traceback: str = "", *, stimulus_id=None) -> TaskErred:
    exc = exception if exception is not None else ValueError(f"{key} failed")
    return TaskErred(stimulus_id or stim("task-erred"), worker, key, exc, traceback)


def release(keys, *, client: str = "C", stimulus_id=None) -> ClientReleasesKeys:
    return ClientReleasesKeys(stimulus_id or stim("client-releases"), client, list(keys))


def cancel(keys, *, client: str = "C", stimulus_id=None) -> ClientCancelsKeys:
    return ClientCancelsKeys(stimulus_id or stim("client-cancels"), client, list(keys))


def client_joined(client: str = "C", *, stimulus_id=None) -> ClientJoined:
    return ClientJoined(stimulus_id or stim("client-joined"), client)


def client_left(client: str = "C", *, stimulus_id=None) -> ClientLeft:
    return ClientLeft(stimulus_id or stim("client-left"), client)


def heartbeat(worker: str, now: float, *, memory: int = 0, executing: int = 0, spilled: int = 0, rss: int = 0,
              paused: bool = False, over_target: bool = False, spill_error: str = "", stimulus_id=None) -> Heartbeat:
    return Heartbeat(stimulus_id or stim("heartbeat"), worker, now, memory, executing, spilled, rss, paused,
                     over_target, spill_error=spill_error)


def tick(now: float, *, stimulus_id=None) -> Tick:
    return Tick(stimulus_id or stim("tick"), now)


def missing(worker: str, key, missing_key, holder: str, *, stimulus_id=None) -> MissingData:
    return MissingData(stimulus_id or stim("missing-data"), worker, key, missing_key, holder)


def steal_response(worker: str, key, released: bool, *, stimulus_id=None) -> StealResponse:
    return StealResponse(stimulus_id or stim("steal-response"), worker, key, released)


def scattered(worker: str, nbytes: dict, *, client: str = "C", stimulus_id=None) -> KeysScattered:
    return KeysScattered(stimulus_id or stim("scatter"), client, worker, dict(nbytes))


class FakeCluster:
    """Workers without processes: they obey a `SchedulerState`'s commands and answer with events.

    ``running[worker]`` holds the keys a worker was told to run and has not
    finished, ``store[worker]`` the keys it holds, ``reports[(client, key)]``
    the last `KeyReport` state.  Every `AssignTasks` is checked on arrival: tasks
    in priority order, none sent twice to one worker, and each input held by
    one of the workers its ``who_has`` names.
    """

    def __init__(self, state, rng: random.Random | None = None):
        self.state = state
        self.rng = rng or random.Random(0)
        self.running = {}
        self.store = {}
        self.steals = []  # (victim, key) not answered yet
        self.reports = {}
        self.executed = []  # every TaskSpec received, in order

    def handle(self, *events) -> list:
        """Feed ``events`` to the state machine and apply the commands; return them."""
        cmds = self.state.handle(*events)
        self.apply(cmds)
        return cmds

    def apply(self, cmds) -> None:
        for c in cmds:
            if type(c) is AssignTasks:
                self._execute(c)
            elif type(c) is ReleaseOnWorker:
                for key in c.keys:
                    self.running[c.worker].pop(key, None)
                    self.store[c.worker].discard(key)
            elif type(c) is RequestSteal:
                self.steals.append((c.worker, c.key))
            elif type(c) is KeyReport:
                self.reports[(c.client, c.key)] = c.state

    def _execute(self, c: AssignTasks) -> None:
        priorities = [spec.priority for spec in c.tasks]
        assert priorities == sorted(priorities), f"AssignTasks to {c.worker} not in priority order"
        running = self.running[c.worker]
        for spec in c.tasks:
            assert spec.key not in running, f"{spec.key!r} sent twice to {c.worker}"
            for dep, who in spec.who_has.items():
                assert any(dep in self.store.get(w, ()) for w in who), (
                    f"{spec.key!r} on {c.worker}: input {dep!r} is held by none of {who}")
            running[spec.key] = None
            self.executed.append(spec)

    def join(self, worker: str, nthreads: int = 1) -> list:
        self.running[worker] = {}
        self.store[worker] = set()
        return self.handle(joined(worker, nthreads))

    def kill(self, worker: str, *, expected: bool = False) -> list:
        del self.running[worker]
        del self.store[worker]
        return self.handle(left(worker, expected=expected))

    def finish(self, worker=None, key=None, *, nbytes=None, duration: float = 0.001) -> bool:
        """Finish ``key`` on ``worker`` (random ones by default); False when nothing runs."""
        if worker is None:
            busy = [w for w, keys in self.running.items() if keys]
            if not busy:
                return False
            worker = self.rng.choice(busy)
        if key is None:
            key = self.rng.choice(list(self.running[worker]))
        del self.running[worker][key]
        self.store[worker].add(key)
        size = self.rng.randint(0, 100) if nbytes is None else nbytes
        self.handle(finished(worker, key, nbytes=size, duration=duration))
        return True

    def answer_steal(self, released=None) -> bool:
        """Answer one pending steal request (a random one); False when none is pending."""
        if not self.steals:
            return False
        worker, key = self.steals.pop(self.rng.randrange(len(self.steals)))
        if worker not in self.running:
            return True
        if released is None:
            released = self.rng.random() < 0.7
        released = released and key in self.running[worker]  # a started task cannot be given back
        if released:
            del self.running[worker][key]
        self.handle(steal_response(worker, key, released))
        return True

    def run_until_idle(self, max_steps: int = 1_000_000) -> None:
        """Finish every task and answer every steal, in random order."""
        for _ in range(max_steps):
            if self.steals and self.rng.random() < 0.5:
                self.answer_steal()
            elif not self.finish() and not self.answer_steal():
                return
        raise AssertionError("the cluster did not become idle")
