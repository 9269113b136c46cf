"""Local executors: run a `TaskGraph` in this process (sync, threads) or a local process pool.

Each executor is a function ``get(graph, keys, **options) -> list of values``,
one value per requested key.  All three share one model:

* `ExecutionPlan` culls the graph to what ``keys`` need and numbers its nodes;
  ``waiting[i]`` counts inputs of ``i`` not yet computed, ``readers[i]``
  counts tasks that still have to read ``i``'s result.
* A task is *ready* when ``waiting`` hits 0; among ready tasks the one with the
  lowest optimizer priority runs first (`graphflow.optimize.order`).
* When a task finishes, each input's ``readers`` drops by one; at 0 the input's
  result is deleted at once, unless it is a requested key.

Worked example, ``c = add(a, b)`` with ``a`` and ``b`` ready::

    ready = [a, b]         run a -> results {a}
                           run b -> results {a, b}; c becomes ready
    ready = [c]            run c -> results {c}; a and b have no readers left: freed

`get_sync` runs the order in one loop.  `get_threads` starts ``num_workers``
threads for the call; each pops the best ready task, runs it outside the lock,
then under the lock records the result and takes its next task for itself (so
a chain of ready work needs no hand-off).  The next task is picked depth-first
near the frontier: among the tasks the thread's last task made ready, the one
of lowest rank, before anything older in the ready heap -- so a block's
readers run while it is fresh and free it, instead of a new block being
started beside it (``(x + x.T).mean(0)`` from Dask held 2x the memory of
Dask's own threads when threads followed the rank alone).  When tasks take
microseconds, a thread takes a few at a time, since the lock hand-off would
cost more than the tasks; "microseconds" is a decaying maximum of its recent
tasks, so one quick task after slow ones does not start a batch of slow ones.
Threads are per call (starting two costs ~0.2 ms, nothing next to a run that
needs threads), so a task that itself calls ``.compute()`` gets its own
threads and cannot deadlock.
`get_processes` keeps a pool of worker processes (`graphflow.local.pool`) and
ships batches of ready tasks with their inputs to idle processes.

Memory: ``get_sync`` and ``get_threads`` take ``memory_limit=`` (``"2GiB"``):
results then live in a `graphflow.store.spill.WorkerStore` instead of a dict,
and the least recently used ones spill to disk as memory-mapped blocks, so a
working set larger than memory still finishes.  A threaded run reuses the
memory of freed results for new ones and gives it back when it ends
(`graphflow.local.heap`: glibc otherwise mapped and faulted in a fresh 32 MB
block per task of Dask's ``(x + x.T).mean(0)``).

Callbacks (`graphflow.diagnostics.Callback`, e.g. ``ProgressBar``): while
one is registered, each run calls its ``start(plan)``, ``task_start(key)`` and
``task_finish(key)`` per task (from the thread that ran it -- a thread taking
a batch of tiny tasks reports the batch's starts before running it and its
ends after; for processes, from the dispatching thread) and ``finish()``.
With none registered a run pays one test of an empty tuple (per batch of tasks
for threads).

Errors: a task's exception is re-raised in the caller with its own type and
message, plus a note naming the key (and, from a process, the remote
traceback).  Ctrl-C stops dispatching at once, waits briefly for tasks in
flight, and leaves no thread or process behind.
"""

from __future__ import annotations

import heapq
import os
import threading
import time

from .. import config
from . import callbacks as callback_registry
from . import heap
from ..errors import annotate_task_error
from ..optimize.cull import cull
from ..spec import TaskGraph

__all__ = ["get_sync", "get_threads", "get_processes", "ExecutionPlan", "default_num_workers", "pool_size"]


def default_num_workers() -> int:
    """Workers used when none are asked for: ``config num_workers``, else the usable CPU count."""
    n = config.get("num_workers")
    if n:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


class ExecutionPlan:
    """The integer-indexed state one run needs; see the module docstring."""

    __slots__ = ("keys", "nodes", "deps", "dependents", "rank", "by_rank", "outputs", "is_output",
                 "waiting", "readers")

    def __init__(self, graph, keys):
        if not isinstance(graph, TaskGraph):
            graph = TaskGraph(graph)
        culled = cull(graph, keys)
        culled.validate()
        idx = culled.index
        self.keys = idx.keys
        self.nodes = idx.nodes
        self.deps = idx.deps
        self.dependents = idx.dependents
        # rank: each task's place in the run order (0..n-1); by_rank: the inverse.
        # Ready heaps hold ranks, plain ints: no tuple per push for the collector to track.
        self.rank, self.by_rank = _ranks(graph, culled)
        self.outputs = [idx.index[k] for k in keys]
        self.is_output = bytearray(len(idx))
        for i in self.outputs:
            self.is_output[i] = 1
        self.waiting = [len(d) for d in self.deps]
        self.readers = [len(d) for d in self.dependents]

    def __len__(self):
        return len(self.keys)

    def run_order(self) -> list:
        """Every node index, lowest priority first."""
        return self.by_rank

    def initial_ready(self) -> list:
        """A heap of the ranks of the tasks with no inputs (``by_rank`` maps back)."""
        rank = self.rank
        ready = [rank[i] for i, w in enumerate(self.waiting) if w == 0]
        heapq.heapify(ready)
        return ready

    def release(self, i, results: dict) -> None:
        """Task ``i`` is done: drop inputs it was the last reader of."""
        readers, keys, is_output = self.readers, self.keys, self.is_output
        for p in self.deps[i]:
            r = readers[p] - 1
            readers[p] = r
            if r == 0 and not is_output[p]:
                del results[keys[p]]

    def gather(self, results: dict) -> list:
        """The requested outputs' values, in request order."""
        keys = self.keys
        return [results[keys[i]] for i in self.outputs]


def _ranks(graph: TaskGraph, culled: TaskGraph) -> tuple:
    """``(rank, by_rank)`` from the optimizer's priorities, else from a topological order."""
    prio = graph.priorities
    if prio is None:
        by_rank = culled.toposort_indices()
    elif culled is graph:
        by_rank = [0] * len(prio)
        for i, p in enumerate(prio):
            by_rank[p] = i
    else:  # culled after ordering: keep the relative order of what is left
        old = graph.index.index
        kept = [prio[old[k]] for k in culled.index.keys]
        by_rank = sorted(range(len(kept)), key=kept.__getitem__)
    rank = [0] * len(by_rank)
    for r, i in enumerate(by_rank):
        rank[i] = r
    return rank, by_rank


_pool = threading.local()  # .size: the number of threads of the run this executor thread belongs to


def pool_size() -> int:
    """Threads sharing the cores with the calling task: its run's thread count, 1 outside an executor.

    Tasks that start threads of their own (BLAS) use it to leave the other cores to their peers.
    """
    return getattr(_pool, "size", 1)


# --------------------------------------------------------------------------- callbacks

def _watch(plan: "ExecutionPlan") -> tuple:
    """The callbacks watching a run about to start, after their ``start(plan)``; ``()`` when none.

    A run started by one of the run's own tasks (a nested ``compute()``) is not
    watched: it would restart the outer run's bars.  Such a run starts on a
    thread of a threaded run (``_pool.size`` is set there) or on the thread of
    a watched sync run (``_pool.watched``).
    """
    callbacks = callback_registry.active
    if not callbacks or getattr(_pool, "watched", False) or hasattr(_pool, "size"):
        return ()
    for cb in callbacks:
        cb.start(plan)
    return callbacks


def _hooks(callbacks: tuple) -> tuple:
    """``(task_start hooks, task_finish hooks)`` that do something (the base class's no-ops are left out)."""
    Callback = callback_registry.Callback

    def live(cb, hook):
        return hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)

    return (tuple(cb.task_start for cb in callbacks if live(cb, "task_start")),
            tuple(cb.task_finish for cb in callbacks if live(cb, "task_finish")))


def _report(hooks: tuple, keys: list, batch) -> None:
    for hook in hooks:
        for i in batch:
            hook(keys[i])


def _unwatch(callbacks: tuple) -> None:
    for cb in callbacks:
        cb.finish()


def _run_sync_watched(plan: "ExecutionPlan", results, callbacks: tuple) -> list:
    """`get_sync`'s loop, telling ``callbacks`` about each task (kept apart: the plain loop pays nothing)."""
    starts, finishes = _hooks(callbacks)
    nodes, keys_of, release = plan.nodes, plan.keys, plan.release
    _pool.watched = True  # a compute() inside a task of this run is not reported
    try:
        for i in plan.run_order():
            key = keys_of[i]
            for hook in starts:
                hook(key)
            try:
                results[key] = nodes[i](results)
            except BaseException as exc:
                _raise_task_error(exc, key)
            for hook in finishes:
                hook(key)
            release(i, results)
        return plan.gather(results)
    finally:
        _pool.watched = False


def _raise_task_error(exc: BaseException, key, remote_traceback=None):
    annotate_task_error(exc, key, remote_traceback)
    raise exc


# --------------------------------------------------------------------------- sync


def get_sync(graph, keys, num_workers=None, memory_limit=None, local_directory=None, **options) -> list:
    """Run ``graph`` in the calling thread, in priority order.  Best for debugging.

    ``num_workers`` is accepted and ignored, so one call works on every scheduler.
    ``memory_limit`` (bytes or ``"2GiB"``): keep results in a spilling store, see `_results`.

    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> get_sync(TaskGraph([DataNode("a", 2), Task("b", pow, Ref("a"), 10)]), ["b"])
    [1024]
    """
    _check_options(options, "sync")
    plan = ExecutionPlan(graph, keys)
    results = _results(memory_limit, local_directory)
    callbacks = _watch(plan)
    if callbacks:
        try:
            return _run_sync_watched(plan, results, callbacks)
        finally:
            _close(results)
            _unwatch(callbacks)
    nodes, keys_of = plan.nodes, plan.keys
    release = plan.release
    try:
        for i in plan.run_order():
            try:
                results[keys_of[i]] = nodes[i](results)
            except BaseException as exc:
                _raise_task_error(exc, keys_of[i])
            release(i, results)
        return plan.gather(results)
    finally:
        _close(results)


def _results(memory_limit, local_directory):
    """Where a run keeps its results: a dict, or with ``memory_limit`` a spilling `WorkerStore`.

    The store keeps at most ``worker.memory.target`` (0.6) of the limit in
    memory and writes the least recently used results to block files under
    ``local_directory`` (default: the temp dir); they are read back
    memory-mapped when a task needs them.  Values returned to the caller stay
    valid after the run's spill directory is removed.
    """
    if memory_limit is None:
        if local_directory is not None:
            raise ValueError("local_directory= is where results spill to; it needs memory_limit= as well")
        return {}
    from ..store.spill import WorkerStore

    return WorkerStore(memory_limit, local_directory=local_directory)


def _close(results) -> None:
    if type(results) is not dict:
        results.close()


def _check_options(options: dict, name: str, allowed=()) -> None:
    unknown = set(options) - set(allowed)
    if unknown:
        raise TypeError(
            f"the {name!r} scheduler got unexpected option(s) {sorted(unknown)}"
            + (f"; it takes {sorted(allowed)}" if allowed else "; it takes none")
        )


# --------------------------------------------------------------------------- threads


# Tasks faster than this run in small batches (up to _MAX_BATCH per lock round):
# for microsecond tasks the lock hand-off between threads costs more than the task,
# while a slow task's inputs are still freed the moment it finishes.
_FAST_TASK = 50e-6
_MAX_BATCH = 8
_PACE_DECAY = 0.875  # after one slow task, ~30 quick ones before batching again


class _ThreadRun:
    """Shared state of one threaded run; every field is guarded by ``lock``."""

    def __init__(self, plan: ExecutionPlan, num_workers: int, results=None, hooks=None):
        self.plan = plan
        self.starts, self.finishes = hooks or ((), ())  # callbacks' task_start / task_finish (see _hooks)
        self.lock = threading.Lock()
        self.wakeup = threading.Condition(self.lock)
        self.done = threading.Event()
        self.ready = plan.initial_ready()
        self.results = {} if results is None else results  # a dict or a (thread-safe) WorkerStore
        self.remaining = len(plan)
        self.idle = 0
        self.stop = False
        self.error = None  # (exception, key) of the first failure
        self.threads = [
            threading.Thread(target=self.work, name=f"graphflow-thread-{n}", daemon=True)
            for n in range(min(num_workers, max(len(plan), 1)))
        ]

    def work(self) -> None:
        """One thread's loop: take ready tasks, run them, record results, until done."""
        _pool.size = len(self.threads)
        plan = self.plan
        nodes, keys, dependents, waiting = plan.nodes, plan.keys, plan.dependents, plan.waiting
        rank = plan.rank
        ready, results, lock = self.ready, self.results, self.lock
        starts, finishes = self.starts, self.finishes
        release = plan.release
        clock = time.perf_counter
        batch: list = []
        # Seconds per task of this thread's recent batches, the slow ones weighing most (a decaying
        # maximum): a few quick tasks after a slow one (a transpose view and a mean after a block's
        # generation) must not make the thread take a batch of slow ones, each holding a new block.
        pace = _FAST_TASK
        while True:
            if not batch:
                with lock:
                    while not ready and not self.stop:
                        self.idle += 1
                        self.wakeup.wait()
                        self.idle -= 1
                    if self.stop:
                        return
                    batch = self._take(pace < _FAST_TASK, ())
            done = []
            if starts:  # callbacks are told per batch: a run without them pays one test per batch
                _report(starts, keys, batch)
            start = clock()
            for i in batch:
                try:
                    done.append(nodes[i](results))
                except BaseException as exc:
                    self._fail(exc, keys[i])
                    return
            pace = max((clock() - start) / len(batch), pace * _PACE_DECAY)
            if finishes:
                _report(finishes, keys, batch)
            with lock:
                fresh = []  # ranks of the tasks this batch made ready: this thread runs the best of them next
                for i, value in zip(batch, done):
                    results[keys[i]] = value
                    for d in dependents[i]:
                        w = waiting[d] - 1
                        waiting[d] = w
                        if w == 0:
                            fresh.append(rank[d])
                    release(i, results)
                value = done = None  # the results dict owns them now; freeing must not wait for us
                self.remaining -= len(batch)
                if self.remaining == 0:
                    self._finish()
                    return
                if self.stop:
                    return
                batch = self._take(pace < _FAST_TASK, fresh) if fresh or ready else []
                if ready and self.idle:
                    self.wakeup.notify(min(len(ready), self.idle))

    def _take(self, fast: bool, fresh) -> list:
        """The next tasks for one thread (lock held): depth-first near the frontier.

        ``fresh`` holds the ranks of tasks the thread's last batch made ready.
        The lowest of them runs next, before anything older in the ready heap,
        so a block's consumers run while it is still in cache and it is freed
        soon after, rather than a new block being started beside it (Dask's
        threaded scheduler follows what just finished the same way).  The
        other fresh tasks join the heap, where the lowest rank goes first.
        When tasks are tiny and plenty are ready, a few are taken at once.
        """
        ready, by_rank = self.ready, self.plan.by_rank
        if fresh:
            own = min(fresh) if len(fresh) > 1 else fresh[0]
            for r in fresh:
                if r != own:
                    heapq.heappush(ready, r)
            batch = [by_rank[own]]
        else:
            batch = [by_rank[heapq.heappop(ready)]]
        if fast:
            pop = heapq.heappop
            for _ in range(min(_MAX_BATCH - 1, len(ready) // (2 * len(self.threads)))):
                batch.append(by_rank[pop(ready)])
        return batch

    def _finish(self) -> None:
        self.stop = True
        self.wakeup.notify_all()
        self.done.set()

    def _fail(self, exc, key) -> None:
        with self.lock:
            if self.error is None:
                self.error = (exc, key)
            self._finish()

    def cancel(self) -> None:
        """Stop handing out tasks (tasks already running finish)."""
        with self.lock:
            self._finish()

    def run(self) -> list:
        """Start the threads, wait for the end, return the outputs or raise the first error."""
        if not len(self.plan):
            return []
        for t in self.threads:
            t.start()
        try:
            # A timed wait keeps the main thread responsive to Ctrl-C on every platform.
            while not self.done.wait(0.2):
                pass
        except BaseException:
            self.cancel()
            self._join(timeout=1.0)
            raise
        self._join(timeout=None)
        if self.error is not None:
            exc, key = self.error
            self.error = None
            _raise_task_error(exc, key)
        return self.plan.gather(self.results)

    def _join(self, timeout) -> None:
        for t in self.threads:
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout)


def get_threads(graph, keys, num_workers: int | None = None, memory_limit=None, local_directory=None,
                **options) -> list:
    """Run ``graph`` on a pool of ``num_workers`` threads started for this call.

    The default is one thread per CPU core (config ``num_workers``).
    ``memory_limit`` (bytes or ``"2GiB"``): keep results in a spilling store, see `_results`.

    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> get_threads(TaskGraph([DataNode("a", 2), Task("b", pow, Ref("a"), 10)]), ["b"])
    [1024]
    """
    _check_options(options, "threads")
    plan = ExecutionPlan(graph, keys)
    results = _results(memory_limit, local_directory)
    callbacks = _watch(plan)
    heap.reuse_freed_blocks()  # freed blocks serve the next ones: no fresh pages per block (local/heap.py)
    start = time.perf_counter()
    try:
        hooks = _hooks(callbacks) if callbacks else None
        return _ThreadRun(plan, resolve_num_workers(num_workers), results, hooks).run()
    finally:
        _close(results)
        _unwatch(callbacks)
        if time.perf_counter() - start >= heap.TRIM_AFTER:
            heap.return_freed_blocks()


def resolve_num_workers(num_workers) -> int:
    """``num_workers`` checked (a positive int), or one per usable core when None."""
    if num_workers is None:
        return default_num_workers()
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 1:
        raise ValueError(f"num_workers must be a positive int, not {num_workers!r}")
    return num_workers


# --------------------------------------------------------------------------- processes


def get_processes(graph, keys, num_workers: int | None = None, memory_limit=None, local_directory=None,
                  **options) -> list:
    """Run ``graph`` on a pool of local worker processes (kept between calls).

    Tasks, their inputs and their results cross process boundaries with
    cloudpickle, so lambdas and closures work; something that cannot be
    pickled raises `SerializationError` naming the key and the object.
    ``memory_limit``: results waiting in this process for their readers
    spill to disk past it, as with the other executors (see `_results`).
    """
    _check_options(options, "processes")
    from .pool import run_on_pool

    plan = ExecutionPlan(graph, keys)
    if not len(plan):
        return []
    store = _results(memory_limit, local_directory)
    callbacks = _watch(plan)  # tasks report from the dispatcher: they run in other processes
    try:
        results = run_on_pool(plan, resolve_num_workers(num_workers), _raise_task_error, store, callbacks)
        return plan.gather(results)
    finally:
        _close(store)
        _unwatch(callbacks)
