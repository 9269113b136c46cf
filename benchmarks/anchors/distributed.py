"""The dask.distributed anchor: the cluster workloads on ``LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)``, written the idiomatic dask way.

One case per kind of `benchmarks.workloads.cluster` (see there for what each
measures):

* ``dist_delayed_sum``: ``dask.delayed`` leaves and tree, ``dask.compute(root, scheduler=client)``;
* ``dist_raw_tree``: a dict of ``dask.task_spec.Task`` nodes, ``client.get(dsk, root)``;
* ``dist_transfer``: ``client.submit(make, workers=[a])``, ``client.submit(consume, fut, workers=[b])``;
* ``dist_latency``: ``client.submit(inc, i, pure=False).result()``, one at a time;
* ``sched_memory``: RSS growth of the scheduler process while it holds a gated graph.
* ``spill_tree`` / ``spill_sums`` / ``spill_transfer`` (`benchmarks.workloads.spill`): the
  same on a cluster with ``memory_limit="1GiB"`` per worker; peak RSS of the
  worker processes (pids from ``client.run(os.getpid)``) and the bytes their
  spill buffers wrote to disk (its ``disk-write`` metric) beside each time.
* ``retire_1gb`` / ``scale_up`` (`benchmarks.elastic_cases`): the cases written there for both
  engines, on a fresh ``LocalCluster(processes=True)`` per sample.

The cluster starts on the first (untimed warm-up) sample and serves every
sample of the session (`benchmarks.sessions`).  The dashboard is off (it is a
monitoring UI, not part of the engine; bokeh is not installed here anyway).
Tasks run are counted on the scheduler by a plugin that counts
``processing -> memory`` transitions, so every case can say how many tasks
really ran.

``LocalCluster`` runs its scheduler inside the client's process, so for
``sched_memory`` (where the scheduler's own RSS is the measurement) each
sample starts a `SubprocessCluster` instead: the same scheduler and workers,
each in a process of its own.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid

import dask
import distributed
from dask.task_spec import Task, TaskRef
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import SchedulerPlugin

from .. import elastic_cases, futures_cases, sessions, shapes, spill_cases
from ..clock import Stopwatch
from ..model import Engine
from ..probe import rss_of

__all__ = ["engine", "TaskCounter"]

NAME = "distributed"

_COUNTER = "graphflow-benchmarks-task-counter"


class TaskCounter(SchedulerPlugin):
    """Counts the tasks the cluster ran (``processing -> memory`` transitions on the scheduler)."""

    name = _COUNTER

    def __init__(self):
        self.count = 0

    def transition(self, key, start, finish, *args, **kwargs):
        if start == "processing" and finish == "memory":
            self.count += 1


def _read_counter(dask_scheduler=None):
    return dask_scheduler.plugins[_COUNTER].count


def _scheduler_tasks(dask_scheduler=None):
    return len(dask_scheduler.tasks)


def _start(params) -> Client:
    cluster = LocalCluster(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                           processes=True, dashboard_address=None,
                           memory_limit=params.get("memory_limit", "auto"))  # set by the spill workloads
    client = Client(cluster)
    client.register_plugin(TaskCounter())
    return client


def _close(client: Client) -> None:
    cluster = client.cluster
    client.close()
    cluster.close()


def _client(params) -> Client:
    key = (NAME, params["workers"], params["threads_per_worker"], params.get("memory_limit"))
    return sessions.shared(key, lambda: _start(params), _close)


def _ran(client: Client) -> int:
    return client.run_on_scheduler(_read_counter)


def _finish(watch: Stopwatch, client: Client, before: int, **counts) -> dict:
    phases = watch.phases()
    phases["counts"] = {"ran": _ran(client) - before, **counts}
    return phases


# ------------------------------------------------------------------ cases


def dist_delayed_sum(params) -> dict:
    """``dask.delayed`` inc(i) leaves and a fan-in tree of adds, one ``dask.compute`` on the client."""
    return futures_cases.delayed_sum(_client(params), params, _ran, NAME, dask.delayed, dask.compute)


def _build_tree(leaves: int, fan_in: int, tag: str):
    """The raw task-spec dict graph with keys unique to this sample, and its root key."""
    inc, add = shapes.inc, shapes.add
    leaf_name, sum_name = f"inc-{tag}", f"sum-{tag}"
    dsk = {}
    keys = [shapes.leaf_key(i, leaf_name) for i in range(leaves)]
    for i, k in enumerate(keys):
        dsk[k] = Task(k, inc, i)

    def combine(level, j, chunk):
        key = shapes.sum_key(level, j, sum_name)
        dsk[key] = Task(key, add, *[TaskRef(k) for k in chunk])
        return key

    return dsk, shapes.reduce_tree(keys, fan_in, combine)


def dist_raw_tree(params) -> dict:
    """The raw tree graph submitted with ``client.get``."""
    client = _client(params)
    n = params["leaves"]
    before = _ran(client)
    watch = Stopwatch()
    dsk, root = _build_tree(n, params["fan_in"], uuid.uuid4().hex[:8])
    watch.lap("build")
    value = client.get(dsk, root)
    watch.lap("compute")
    shapes.check(NAME, value, shapes.expected_tree_sum(n))
    return _finish(watch, client, before)


def dist_transfer(params) -> dict:
    """make on worker A, consume on worker B (pinned with ``workers=``); submit to result."""
    return futures_cases.transfer(_client(params), params, _ran, NAME)


def dist_latency(params) -> dict:
    """``calls`` round trips of one tiny ``client.submit(inc, i, pure=False).result()``."""
    return futures_cases.latency(_client(params), params, _ran, NAME)


# ------------------------------------------------------------------ scheduler memory


def _wait(predicate, timeout: float = 120.0, what: str = "the scheduler") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not settle within {timeout:.0f} s")
        time.sleep(0.02)


def _hold(client: Client, leaves: int, fan_in: int, gate_path: str):
    """Submit the gated graph (nothing can run until the gate opens) and wait until the
    scheduler holds all of it; returns the future and the number of tasks it holds."""
    gate = dask.delayed(shapes.gate, pure=False)(gate_path)
    add = dask.delayed(shapes.add, pure=False)
    root = shapes.reduce_tree([add(gate, i) for i in range(leaves)], fan_in,
                              lambda level, j, chunk: add(*chunk))
    future = client.compute(root)
    expected = shapes.tree_task_count(leaves, fan_in) + 1
    _wait(lambda: client.run_on_scheduler(_scheduler_tasks) >= expected)
    return future, client.run_on_scheduler(_scheduler_tasks)


def _release(client: Client, future, gate_path: str) -> None:
    client.cancel(future)
    del future
    with open(gate_path, "w"):
        pass  # opens the gate: the blocked root returns and its worker thread is free again
    _wait(lambda: client.run_on_scheduler(_scheduler_tasks) == 0, what="releasing the graph")


def sched_memory(params) -> dict:
    """Scheduler RSS growth while it holds a graph of ``leaves`` gated tasks plus their tree."""
    from distributed.deploy.subprocess import SubprocessCluster

    leaves, fan_in = params["leaves"], params["fan_in"]
    with tempfile.TemporaryDirectory(prefix="gf-bench-gate-") as tmp, \
            SubprocessCluster(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                              dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pid = client.run_on_scheduler(os.getpid)
        # warm-up: the scheduler's first graph loads code and grows its structures once
        future, _ = _hold(client, params["warmup_leaves"], fan_in, os.path.join(tmp, "warm"))
        _release(client, future, os.path.join(tmp, "warm"))
        baseline = rss_of(pid)
        gate_path = os.path.join(tmp, "gate")
        future, held = _hold(client, leaves, fan_in, gate_path)
        rss = rss_of(pid)
        _release(client, future, gate_path)
    return {"total": rss - baseline, "baseline": baseline, "counts": {"held": held}}


# ------------------------------------------------------------------ spilling (benchmarks.workloads.spill)


def _disk_written(dask_worker=None) -> int:
    """Bytes this worker's spill buffer has written to disk since it started (0 without one)."""
    metrics = getattr(dask_worker.data, "cumulative_metrics", None) or {}
    return int(metrics.get(("disk-write", "bytes"), 0))


def _all_workers(client: Client, n: int) -> None:
    """Untimed, before a sample: ``n`` workers are up.  One the nanny restarted for memory in the previous
    sample may still be starting, and one whose nanny gave up (killed after ignoring a restart) is gone
    from the cluster until ``scale`` starts it afresh.
    """
    if len(client.scheduler_info()["workers"]) < n:
        client.cluster.scale(n)
    client.wait_for_workers(n, timeout=60)


def _spill_memory(client: Client) -> spill_cases.SampleMemory:

    def pids():
        return list(client.run(os.getpid).values())

    def written():
        return sum(client.run(_disk_written).values())

    return spill_cases.SampleMemory(pids, spill_cases.Cumulative(written), "disk_write")


def spill_tree(params) -> dict:
    """The pairwise tree of chunks as ``dask.delayed`` calls, one ``dask.compute`` on the client."""
    client = _client(params)
    _all_workers(client, params["workers"])
    c, n = params["chunks"], params["elements"]

    def run():
        make = dask.delayed(spill_cases.make_chunk, pure=False)
        add = dask.delayed(spill_cases.add_pair, pure=False)
        total = dask.delayed(spill_cases.chunk_total, pure=False)
        (value,) = dask.compute(spill_cases.tree(c, n, make, add, total), scheduler=client)
        return value

    return spill_cases.measure(NAME, run, spill_cases.expected(c, n), _spill_memory(client),
                               lambda: _ran(client))


def spill_sums(params) -> dict:
    """Each chunk summed on its own, then the sum of sums, one ``dask.compute`` on the client."""
    client = _client(params)
    _all_workers(client, params["workers"])
    c, n = params["chunks"], params["elements"]

    def run():
        make = dask.delayed(spill_cases.make_chunk, pure=False)
        total = dask.delayed(spill_cases.chunk_total, pure=False)
        add_all = dask.delayed(shapes.add, pure=False)
        (value,) = dask.compute(spill_cases.sums(c, n, make, total, add_all), scheduler=client)
        return value

    return spill_cases.measure(NAME, run, spill_cases.expected(c, n), _spill_memory(client),
                               lambda: _ran(client))


def spill_transfer(params) -> dict:
    """``dist_transfer`` on the memory-limited cluster."""
    client = _client(params)
    _all_workers(client, params["workers"])
    memory = _spill_memory(client)
    with memory:
        phases = futures_cases.transfer(client, params, _ran, NAME)
    return spill_cases.with_memory(phases, memory)


def _actor(params):
    from ..workloads.actors import Counter

    client = _client(params)
    a = client.submit(Counter, actor=True, pure=False).result()
    a.add(0).result()
    return a


def actor_pipelined(params) -> dict:
    """``calls`` ``a.add(1)`` on a dask actor made at once, every result waited for at the end."""
    a, calls = _actor(params), params["calls"]
    start = time.perf_counter()
    futures = [a.add(1) for _ in range(calls)]
    values = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    shapes.check(NAME, values[-1], calls)
    return {"total": elapsed, "counts": {"ran": calls}}


def actor_blocking(params) -> dict:
    """``calls`` ``a.add(1).result()``, one at a time."""
    a, calls = _actor(params), params["calls"]
    start = time.perf_counter()
    for _ in range(calls):
        value = a.add(1).result()
    elapsed = time.perf_counter() - start
    shapes.check(NAME, value, calls)
    return {"total": elapsed, "counts": {"ran": calls}}


# ------------------------------------------------------------------ elastic (benchmarks.elastic_cases)


def retire_1gb(params) -> dict:
    """A fresh LocalCluster(processes=True) per sample, counting task runs on the scheduler."""
    with LocalCluster(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                      processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.register_plugin(TaskCounter())
            return elastic_cases.retire_case(client, params, _ran, NAME)


def scale_up(params) -> dict:
    """``scale`` asks for workers; ``wait_for_workers`` waits for them."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            def scale_and_wait(n):
                cluster.scale(n)
                if n > 1:
                    client.wait_for_workers(n, timeout=60)

            return elastic_cases.scale_up_case(cluster, client, params, scale_and_wait)


# ------------------------------------------------------------------ nested tasks (benchmarks.workloads.nested)


def _nested_parent(i: int, children: int) -> int:
    """A parent task: ``worker_client`` (secedes for the block), ``map`` children, ``gather`` them."""
    from distributed import worker_client

    with worker_client() as client:
        futures = client.map(shapes.inc, range(i * children, (i + 1) * children), pure=False)
        return sum(client.gather(futures))


def nested_children(params) -> dict:
    """``parents`` tasks, each submitting ``children`` tasks through ``worker_client`` and gathering them."""
    from ..workloads.nested import expected

    client = _client(params)
    parents, children = params["parents"], params["children"]
    before = _ran(client)
    watch = Stopwatch()
    sums = client.gather(client.map(_nested_parent, range(parents), children=children, pure=False))
    watch.lap("compute")
    shapes.check(NAME, sums, expected(parents, children))
    return _finish(watch, client, before)


def engine() -> Engine:
    """dask.distributed as an `Engine`."""
    cases = {
        "actor_pipelined": actor_pipelined,
        "actor_blocking": actor_blocking,
        "dist_delayed_sum": dist_delayed_sum,
        "dist_raw_tree": dist_raw_tree,
        "dist_transfer": dist_transfer,
        "dist_latency": dist_latency,
        "nested_children": nested_children,
        "sched_memory": sched_memory,
        "spill_tree": spill_tree,
        "spill_sums": spill_sums,
        "spill_transfer": spill_transfer,
        "retire_1gb": retire_1gb,
        "scale_up": scale_up,
    }
    return Engine(NAME, distributed.__version__, cases, "import distributed")
