"""What the dashboard reads: snapshots of the scheduler, built on its loop, published atomically.

The scheduler owns one `Diagnostics` (``scheduler.diagnostics``).  The shell
feeds it as messages arrive (`task_done`, `heartbeat`: a tuple append or a
dict write each), and a timer on the scheduler's loop, every
``scheduler.dashboard_interval`` seconds (gf.config, default 0.5):

* appends each worker's memory to a bounded history (`memory_history`), and
* when a reader asked since the last build, builds a snapshot dict
  (`build_snapshot`) and publishes it by replacing one attribute.

A page that long-polls asks all the time, so it gets a snapshot every
interval; a reader that asks once a minute costs one build a minute, not a
build every interval for ``idle_after`` seconds.  ``watchers`` (a count a
front end may raise while it has clients) keeps the timer building without
asks.  A snapshot of 10,000 tasks takes a few milliseconds of the loop.

Besides the state, ``counts`` carries two numbers a page compares instead of
fetching: ``stream``, the task runs recorded so far (the dashboard asks for
the records that ran since the count it saw, and for none when none ran), and
``graph``, which changes whenever the graph part was rebuilt (the page fetches
the graph only then).

Readers run on other threads (the dashboard's HTTP app).  `snapshot` returns
the last published dict (never mutated after it was published: don't mutate
it either) and never builds on the caller's thread: when nothing fresh was
published, it asks the loop for a build and waits up to a second.  Called
on the loop itself (an RPC), it builds in place.

The snapshot (the shared diagnostics contract)::

    {"time", "scheduler",
     "workers": [{"address", "name", "nthreads", "pid", "processing", "executing", "cpu", "paused",
                  "memory": {"managed", "spilled", "shared", "unmanaged", "rss", "limit"}}],
     "progress": [{"prefix", "total", "waiting", "processing", "memory", "erred", "released", "done"}],
     "graph": {"nodes": [{"key", "prefix", "state"}], "edges": [[i, j], ...], "truncated"},
     "counts": {"tasks", "workers", "clients", "stream", "graph"}}

Worked example, against a bare `SchedulerState` (no shell)::

    >>> from graphflow.scheduler.state import SchedulerState
    >>> from graphflow.testing.events import finished, graph, joined
    >>> s = SchedulerState()
    >>> _ = s.handle(joined("W"), graph({"a": (), "b": ("a",)}))
    >>> _ = s.handle(finished("W", "a"))
    >>> snap = build_snapshot(s)
    >>> [(p["prefix"], p["memory"], p["processing"]) for p in snap["progress"]]
    [('a', 1, 0), ('b', 0, 1)]
    >>> snap["graph"]["edges"], [n["state"] for n in snap["graph"]["nodes"]]
    ([[0, 1]], ['memory', 'processing'])
"""

from __future__ import annotations

import itertools
import threading
import time

from .. import config
from .model import MEMORY, NO_WORKER, PROCESSING, QUEUED, RELEASED, WAITING
from .history import MemoryHistory, samples_by_worker
from .taskstream import TaskStream

__all__ = ["Diagnostics", "build_snapshot", "empty_snapshot", "MEMORY_HISTORY_SIZE"]

MEMORY_HISTORY_SIZE = 100_000  # samples (one per worker per interval): 14 hours of 2 workers at 0.5 s
IDLE_AFTER = 5.0  # seconds a reader counts as watching: `snapshot` answers at once with the last build
FIRST_READ_WAIT = 1.0  # seconds a reader waits for the loop to build a fresh snapshot
# The graph is most of a snapshot's cost (thousands of nodes to build here and encode for the page, on the
# scheduler's process): it is rebuilt when tasks were submitted, else its states (and the tasks that finished
# and left) refresh this often -- and only when the progress counts moved, so an idle cluster's graph (and
# counts["graph"], which the page watches before fetching it) stays the same.
GRAPH_REFRESH = 2.0


class Diagnostics:
    """The scheduler's diagnostics data: task stream, memory history, published snapshots.

    ``scheduler``: the `graphflow.scheduler.server.Scheduler` shell (its
    ``state``, ``loop``, ``address``, ``worker_pid`` and ``worker_name`` are read).  Sizes and
    the interval default to gf.config ``scheduler.task_stream_size``,
    ``scheduler.dashboard_interval`` and ``scheduler.dashboard_graph_limit``.
    """

    def __init__(self, scheduler, *, interval: float | None = None, graph_limit: int | None = None,
                 task_stream_size: int | None = None, idle_after: float = IDLE_AFTER,
                 memory_history_size: int = MEMORY_HISTORY_SIZE):
        self.scheduler = scheduler
        self.interval = float(config.get("scheduler.dashboard_interval") if interval is None else interval)
        self.graph_limit = int(config.get("scheduler.dashboard_graph_limit") if graph_limit is None else graph_limit)
        size = config.get("scheduler.task_stream_size") if task_stream_size is None else task_stream_size
        self.stream = TaskStream(size)
        self.idle_after = idle_after
        self.watchers = 0  # the dashboard counts its open clients here: snapshots are built while > 0
        self.builds = 0  # snapshots built so far
        self.build_seconds = 0.0  # time the last build took
        self._memory = MemoryHistory(memory_history_size)  # flat columns: no small objects pinned per sample
        self._cpu: dict = {}  # worker address -> percent of one core, from its last heartbeat
        self._published: dict | None = None
        self._generation = 0
        self._cond = threading.Condition()
        self._build_pending = False
        self._last_read = float("-inf")  # time.monotonic() of the last reader
        self._asked = False  # a reader came since the last build: the next tick builds
        self._loop_ident = None
        self._timer = None
        self._graph = None  # (the graph dict, what the task table looked like, time.monotonic() of the build,
        #                      the progress rows then)
        self._graph_version = 0  # raised at each graph rebuild: snapshot["counts"]["graph"]

    # ---------------------------------------------------------------- lifecycle (loop thread)

    def start(self) -> "Diagnostics":
        """Start the periodic timer on the scheduler's loop (call on that loop's thread)."""
        from tornado.ioloop import PeriodicCallback

        self._loop_ident = threading.get_ident()
        self._timer = PeriodicCallback(self._tick, self.interval * 1000)
        self._timer.start()
        return self

    def close(self) -> None:
        """Stop the timer; readers get the last snapshot from now on."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # ---------------------------------------------------------------- feeding (loop thread, hot)

    def task_done(self, ev) -> None:
        """A `TaskFinished` or `TaskErred` arrived from a worker."""
        self.stream.add(ev)

    def tasks_done(self, events: list) -> None:
        """`TaskFinished` events of tasks that ran, arrived together from one worker."""
        self.stream.add_many(events)

    def heartbeat(self, ev) -> None:
        """A worker's `Heartbeat` arrived: remember its CPU use."""
        self._cpu[ev.worker] = ev.cpu

    # ---------------------------------------------------------------- readers (any thread)

    @property
    def watched(self) -> bool:
        """Did anyone read within ``idle_after`` seconds (or is a watcher counted)?"""
        return self.watchers > 0 or time.monotonic() - self._last_read < self.idle_after

    def _read(self) -> None:
        self._last_read = time.monotonic()
        self._asked = True

    def snapshot(self) -> dict:
        """The last published snapshot; see the module docstring for its layout.

        Never builds on the caller's thread (unless that is the scheduler's
        loop): when none is fresh, it asks the loop for one and waits up to a
        second, then returns the newest it has (an empty one at worst).
        """
        was_watched = self.watched
        self._read()
        snap = self._published
        fresh = snap is not None and was_watched
        if fresh:
            return snap
        if threading.get_ident() == self._loop_ident:
            return self._build()
        with self._cond:
            generation = self._generation
        self._request_build()
        with self._cond:
            self._cond.wait_for(lambda: self._generation != generation, timeout=FIRST_READ_WAIT)
        snap = self._published
        return snap if snap is not None else empty_snapshot(self._address())

    def task_stream(self, since: float | None = None, count: int | None = None, sample: int | None = None) -> list:
        """Task-stream records with ``stop >= since`` (all when None), the last ``count``, oldest first.

        ``sample``: at most that many of them, evenly spaced (`TaskStream.records`).
        """
        self._read()
        return self.stream.records(since, count, sample)

    def memory_history(self, since: float | None = None) -> dict:
        """``{worker address: [{"time", "managed", "spilled", "unmanaged", "rss"}, ...]}``, oldest first.

        One sample per worker every interval (0.5 s), watched or not; ``since``
        keeps the samples taken at or after that time.
        """
        with self._cond:
            samples = self._memory.snapshot()
        return samples_by_worker(samples, since)

    # ---------------------------------------------------------------- building (loop thread)

    def _address(self) -> str:
        try:
            return self.scheduler.address
        except Exception:  # not bound yet, or closed
            return ""

    def _request_build(self) -> None:
        if self._build_pending:
            return
        self._build_pending = True
        try:
            self.scheduler.loop.add_callback(self._build)
        except Exception:  # the loop is closed: readers keep the last snapshot
            self._build_pending = False

    def _tick(self) -> None:
        self._loop_ident = threading.get_ident()
        now = time.time()
        state = self.scheduler.state
        samples = self._memory
        with self._cond:
            for address, ws in state.workers.items():
                if ws.rss:  # 0 until its first heartbeat
                    samples.append(now, address, ws.memory, ws.spilled, _unmanaged(ws), ws.rss)
        if self.watchers > 0 or (self._asked and self.watched):
            self._build()

    def _build(self) -> dict:
        self._build_pending = False
        self._asked = False
        t0 = time.perf_counter()
        sched = self.scheduler
        state = sched.state
        if len(self._cpu) > len(state.workers):
            self._cpu = {a: c for a, c in self._cpu.items() if a in state.workers}
        reused = self._reused_graph(state.tasks)
        snap = build_snapshot(state, address=self._address(), cpu=self._cpu, names=getattr(sched, "worker_name", {}),
                              pids=getattr(sched, "worker_pid", {}), graph_limit=self.graph_limit, graph=reused)
        if reused is not None and time.monotonic() - self._graph[2] >= GRAPH_REFRESH and \
                snap["progress"] != self._graph[3]:  # states moved: refresh them (an idle cluster's graph stays)
            snap["graph"] = _graph(state.tasks, self.graph_limit)
        if self._graph is None or snap["graph"] is not self._graph[0]:
            self._graph = (snap["graph"], _table_shape(state.tasks), time.monotonic(), snap["progress"])
            self._graph_version += 1
        snap["counts"].update(stream=self.stream.added, graph=self._graph_version)  # not published yet: ours
        self.build_seconds = time.perf_counter() - t0
        with self._cond:
            self._published = snap
            self._generation += 1
            self.builds += 1
            self._cond.notify_all()
        return snap

    def _reused_graph(self, tasks: dict):
        """The last graph while no task was submitted since, else None (`_build` refreshes its states)."""
        if self._graph is None or self._graph[1] != _table_shape(tasks):
            return None
        return self._graph[0]


def _table_shape(tasks: dict):
    """Cheap stand-in for "nothing was submitted since": the newest key (dicts keep insertion order).

    Tasks that finish and leave don't change it: a graph shrinking as a
    computation ends is redrawn within GRAPH_REFRESH, not on every snapshot.
    """
    return next(reversed(tasks), None)


def _unmanaged(ws) -> int:
    return max(0, ws.rss - ws.memory - ws.shared)


def empty_snapshot(address: str = "") -> dict:
    """A snapshot of a scheduler that knows nothing yet (what a reader gets before the first build)."""
    return {"time": time.time(), "scheduler": address, "workers": [], "progress": [],
            "graph": {"nodes": [], "edges": [], "truncated": False},
            "counts": {"tasks": 0, "workers": 0, "clients": 0, "stream": 0, "graph": 0}}


# Scheduler states that count as "waiting" in the progress table: not started, not yet on a worker.
_WAITING = {WAITING: True, QUEUED: True, NO_WORKER: True}


def build_snapshot(state, *, address: str = "", cpu=None, names=None, pids=None, graph_limit: int = 5000,
                   now: float | None = None, graph: dict | None = None) -> dict:
    """The snapshot dict of a `SchedulerState` (see the module docstring); pure, reads ``state`` only.

    ``cpu``, ``names``, ``pids``: per worker address, what the shell learned
    from heartbeats and registrations.  The graph holds the ``graph_limit``
    most recently submitted tasks (``truncated`` says some were left out);
    ``graph``: use this one instead of building it (an earlier snapshot's).
    """
    cpu = cpu or {}
    names = names or {}
    pids = pids or {}
    workers = []
    for addr, ws in state.workers.items():
        workers.append({
            "address": addr, "name": names.get(addr) or addr, "nthreads": ws.nthreads, "pid": pids.get(addr),
            "processing": len(ws.processing), "executing": ws.executing, "cpu": float(cpu.get(addr, 0.0)),
            "paused": ws.paused,
            "memory": {"managed": ws.memory, "spilled": ws.spilled, "shared": ws.shared,
                       "unmanaged": _unmanaged(ws), "rss": ws.rss, "limit": ws.memory_limit},
        })
    tasks = state.tasks
    return {
        "time": time.time() if now is None else now,
        "scheduler": address,
        "workers": workers,
        "progress": _progress(tasks),
        "graph": _graph(tasks, graph_limit) if graph is None else graph,
        "counts": {"tasks": len(tasks), "workers": len(state.workers), "clients": len(state.clients)},
    }


def _progress(tasks: dict) -> list:
    """Counts per key prefix, in the order prefixes were first submitted."""
    rows: dict = {}  # prefix name -> [total, waiting, processing, memory, erred, released, done]
    for ts in tasks.values():
        name = ts.prefix.name
        row = rows.get(name)
        if row is None:
            row = rows[name] = [0, 0, 0, 0, 0, 0, 0]
        row[0] += 1
        st = ts.state
        if st == MEMORY:
            row[3] += 1
            row[6] += 1
        elif st == PROCESSING:
            row[2] += 1
        elif st == RELEASED:
            row[5] += 1
            if ts.type_name:  # set when a result arrived, kept after it is released: it ran
                row[6] += 1
        elif st in _WAITING:
            row[1] += 1
        else:
            row[4] += 1
    return [{"prefix": name, "total": r[0], "waiting": r[1], "processing": r[2], "memory": r[3], "erred": r[4],
             "released": r[5], "done": r[6]} for name, r in rows.items()]


def _graph(tasks: dict, limit: int) -> dict:
    """Nodes and dependency -> dependent edges of the ``limit`` newest tasks."""
    truncated = len(tasks) > limit
    chosen = list(itertools.islice(reversed(tasks.values()), limit)) if truncated else list(tasks.values())
    if truncated:
        chosen.reverse()
    index = {ts: i for i, ts in enumerate(chosen)}
    nodes = []
    edges = []
    for i, ts in enumerate(chosen):
        nodes.append({"key": str(ts.key), "prefix": ts.prefix.name, "state": ts.state})
        for dep in ts.dependencies:
            j = index.get(dep)
            if j is not None:
                edges.append([j, i])
    return {"nodes": nodes, "edges": edges, "truncated": truncated}
