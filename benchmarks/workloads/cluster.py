"""The distributed runtime: graphflow's ``Client`` on a local cluster of 2 worker processes x 1 thread,
beside dask.distributed (``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``) and ray
(``ray.init(num_cpus=2)``).

Five workloads, one kind each (the anchors' cases are in
`benchmarks.anchors.distributed` and `benchmarks.anchors.ray`):

``dist10k`` (``dist_delayed_sum``)
    10k ``delayed`` ``inc(i)`` calls summed by a fan-in-8 tree (11,431 tasks),
    submitted as *one* graph: ``gf.compute(root, scheduler=client)``; dask:
    ``dask.compute(root, scheduler=client)``; ray: remote calls taking the
    ObjectRefs of earlier calls, one ``ray.get`` of the root.  Build + compute.
``dist-tree`` (``dist_raw_tree``)
    a raw graph, 2^14 ``inc`` leaves and a fan-in-8 tree (18,725 tasks):
    graphflow optimizes it as ``gf.compute`` would and hands it to the
    client's ``get``; dask: ``client.get(dsk, root)``; ray as above.  Keys are
    new in every sample, so no result of an earlier sample can be reused.
``dist-transfer`` (``dist_transfer``)
    a 400 MB float64 array made by a task pinned to worker A and consumed by a
    task pinned to worker B (``workers=[a]`` / ``workers=[b]``); timed from
    the first submit to the result.  The consumer sums one element per 4 KiB
    page (`benchmarks.shapes.consume`): every page of the array is touched,
    so it must really have arrived, but the arithmetic costs nothing beside
    the move.  Ray cannot pin tasks to workers of one node: its two tasks pass
    the array through the shared-memory object store.  Every sample also
    measures the *floor*: making and consuming the array with numpy in one
    process (the ``floor`` phase, not part of the total).
``dist-latency`` (``dist_latency``)
    one tiny task's round trip, ``client.submit(inc, i, pure=False).result()``
    (ray: ``ray.get(inc.remote(i))``), ``calls`` times after a few warm-up
    calls; the sample's value is the median round trip (p10, p90, mean as
    phases).
``sched-mem`` (``sched_memory``)
    the scheduler process's RSS growth (``/proc/PID/status`` VmRSS) while it
    holds a graph of 100k tasks plus their fan-in-8 tree sum, all behind a
    *gate*: a root task that blocks until the driver creates a file, so nothing
    runs and the whole graph stays in the scheduler.  A fresh cluster per
    sample, warmed with a small gated graph first; the graph is built before
    the baseline is read, in case the scheduler shares the client's process.
    dask's LocalCluster runs its scheduler inside the client's process, so its
    case uses a ``SubprocessCluster``.  Ray has no scheduler process holding
    the graph: skipped.

Every case reports how many tasks really ran (``counts["ran"]``; for
``sched-mem``, ``counts["held"]``: tasks the scheduler holds), as the engine
counts them -- graphflow may fuse tasks, and the count shows it.  The cluster
starts on the untimed warm-up and serves every sample of the session
(`benchmarks.sessions`); each engine runs its block of these workloads in a
worker process of its own, one engine after the other.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import statistics
import tempfile
import time
import uuid

import graphflow as gf

from .. import futures_cases, sessions, shapes
from ..clock import Stopwatch
from ..model import Workload
from ..probe import rss_of
from ..targets import all_of, ratio_at_most, ratio_below, value_below, with_note

__all__ = ["WORKLOADS", "CASES"]

NAME = "graphflow"
SESSION = "cluster"
ANCHORS = ("distributed", "ray")
CLUSTER = {"workers": 2, "threads_per_worker": 1}


def _start(params):
    return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"])


def _client(params):
    key = (NAME, params["workers"], params["threads_per_worker"])
    return sessions.shared(key, lambda: _start(params), lambda client: client.close())


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def _finish(watch: Stopwatch, client, before: int) -> dict:
    phases = watch.phases()
    phases["counts"] = {"ran": _ran(client) - before}
    return phases


# ------------------------------------------------------------------ cases


def dist_delayed_sum(params) -> dict:
    """``gf.delayed`` inc(i) leaves and a fan-in tree of adds, one ``gf.compute`` on the client."""
    return futures_cases.delayed_sum(_client(params), params, _ran, NAME, gf.delayed, gf.compute)


def _build_tree(leaves: int, fan_in: int, tag: str):
    from graphflow.spec import Ref, Task, TaskGraph

    inc, add = shapes.inc, shapes.add
    leaf_name, sum_name = f"inc-{tag}", f"sum-{tag}"
    keys = [shapes.leaf_key(i, leaf_name) for i in range(leaves)]
    nodes = [Task(k, inc, i) for i, k in enumerate(keys)]

    def combine(level, j, chunk):
        key = shapes.sum_key(level, j, sum_name)
        nodes.append(Task(key, add, *[Ref(k) for k in chunk]))
        return key

    root = shapes.reduce_tree(keys, fan_in, combine)
    return TaskGraph(nodes), root


def dist_raw_tree(params) -> dict:
    """The raw tree graph, optimized as ``gf.compute`` does, run by the client's ``get``."""
    from graphflow.optimize import optimize_graph

    client = _client(params)
    n = params["leaves"]
    get = gf.get_scheduler(client)
    before = _ran(client)
    watch = Stopwatch()
    graph, root = _build_tree(n, params["fan_in"], uuid.uuid4().hex[:8])
    watch.lap("build")
    graph = optimize_graph(graph, [root])
    watch.lap("optimize")
    [value] = get(graph, [root])
    watch.lap("compute")
    shapes.check(NAME, value, shapes.expected_tree_sum(n))
    return _finish(watch, client, before)


def dist_transfer(params) -> dict:
    """make on worker A, consume on worker B (pinned with ``workers=``); submit to result."""
    client = _client(params)
    copying = _copy_seconds(client)

    def steps(client, since: float, made, used) -> dict:
        """Where the sample's time went, from the task stream (the workers' clocks; one host):
        ``make`` and ``consume`` are the two tasks' runs; ``move`` is from the end of one to the start
        of the other, of which ``copy`` is the receiving worker's copy (`graphflow.comm.vmcopy.copied`)
        and the rest the report, the dispatch and the fetch's messages.  What ``total`` has beyond the
        three is the submit, the producer's dispatch and the result's way back.
        """
        runs = {r["key"]: r for r in client.get_task_stream(start=since)}
        make, use = runs.get(str(made.key)), runs.get(str(used.key))
        if make is None or use is None:
            return {}
        return {"make": make["stop"] - make["start"], "move": use["start"] - make["stop"],
                "copy": _copy_seconds(client) - copying, "consume": use["stop"] - use["start"]}

    return futures_cases.transfer(client, params, _ran, NAME, steps)


def _copy_seconds(client) -> float:
    """Seconds the cluster's workers have spent copying values out of each other's memory."""
    from graphflow.comm.vmcopy import copied

    return sum(c["seconds"] for c in client.run(copied).values())


def dist_latency(params) -> dict:
    """``calls`` round trips of one tiny ``client.submit(inc, i, pure=False).result()``."""
    return futures_cases.latency(_client(params), params, _ran, NAME)


# ------------------------------------------------------------------ scheduler memory


def _scheduler_pid(client) -> int:
    pid = client.scheduler_info().get("pid")
    return pid if pid is not None else client.cluster.scheduler_pid


def _held(client) -> int | None:
    """Tasks the scheduler holds, if its info says (None if it does not)."""
    info = client.scheduler_info()
    for key in ("tasks", "n_tasks", "ntasks"):
        value = info.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, (dict, list)):
            return len(value)
    return None


def _settle(client, pid: int, empty: bool = False, timeout: float = 120.0) -> None:
    """Wait until the scheduler is done taking in a graph (``empty``: letting go of one): the
    task count it reports is above 0 (is 0) and steady, and its RSS has stopped moving, for 0.3 s.
    The count is not compared with the graph's size: graphflow may fuse tasks before sending.
    """
    deadline = time.monotonic() + timeout
    history: list = []
    while time.monotonic() < deadline:
        history = (history + [(_held(client), rss_of(pid))])[-7:]
        counts, sizes = {h for h, _ in history}, [r for _, r in history]
        if len(history) == 7 and len(counts) == 1 and max(sizes) - min(sizes) <= max(sizes) // 200:
            held = counts.pop()
            if held is None or (held == 0) == empty:
                return
        time.sleep(0.05)
    raise TimeoutError(f"the graphflow scheduler did not settle within {timeout:.0f} s")


def _gated_graph(leaves: int, fan_in: int, gate_path: str):
    gate = gf.delayed(shapes.gate, pure=False)(gate_path)
    add = gf.delayed(shapes.add, pure=False)
    return shapes.reduce_tree([add(gate, i) for i in range(leaves)], fan_in,
                              lambda level, j, chunk: add(*chunk))


def _release(client, pid: int, future, gate_path: str) -> None:
    client.cancel(future)
    with open(gate_path, "w"):
        pass  # opens the gate: the blocked root returns and its worker thread is free again
    _settle(client, pid, empty=True)


def sched_memory(params) -> dict:
    """Scheduler RSS growth while it holds ``leaves`` gated tasks plus their tree."""
    leaves, fan_in = params["leaves"], params["fan_in"]
    with tempfile.TemporaryDirectory(prefix="gf-bench-gate-") as tmp, \
            gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"]) as client:
        pid = _scheduler_pid(client)
        warm_path = os.path.join(tmp, "warm")
        future = client.compute(_gated_graph(params["warmup_leaves"], fan_in, warm_path))
        _settle(client, pid)
        _release(client, pid, future, warm_path)
        gate_path = os.path.join(tmp, "gate")
        root = _gated_graph(leaves, fan_in, gate_path)
        gc.collect()
        baseline = rss_of(pid)
        future = client.compute(root)
        _settle(client, pid)
        rss = rss_of(pid)
        held = _held(client)
        _release(client, pid, future, gate_path)
    phases = {"total": rss - baseline, "baseline": baseline}
    phases["counts"] = {"held": held} if held is not None else {}
    return phases


CASES = {
    "dist_delayed_sum": dist_delayed_sum,
    "dist_raw_tree": dist_raw_tree,
    "dist_transfer": dist_transfer,
    "dist_latency": dist_latency,
    "sched_memory": sched_memory,
}


# ------------------------------------------------------------------ the rows


def _tree_tasks(params) -> int:
    return shapes.tree_task_count(params["leaves"], params["fan_in"])


def _floor_note(result) -> str | None:
    floors = [s["floor"] for samples in result.samples.values() for s in samples if "floor" in s]
    if not floors:
        return None
    floor = statistics.median(floors)
    over = ", ".join(f"{e} x{result.median(e) / floor:.1f}" for e in result.engines if result.median(e))
    return f"floor (make + consume with numpy in one process) {floor:.3f} s; over the floor: {over}"


def _target_note(target):
    def describe(result):
        notes = [n for n in (target.describe(result), _floor_note(result)) if n]
        return "; ".join(notes) or None

    return describe


_TRANSFER_TARGET = all_of(ratio_at_most(0.5, "distributed"), ratio_at_most(1.0, "ray"))

WORKLOADS = [
    Workload(
        name="dist10k",
        summary="10k delayed inc(i) + fan-in-8 tree sum as one graph on 2 workers x 1 thread",
        kind="dist_delayed_sum",
        params={**CLUSTER, "leaves": 10_000, "fan_in": 8},
        quick_params={**CLUSTER, "leaves": 64, "fan_in": 8},
        tasks=_tree_tasks,
        repeat=5,
        anchor_repeat=3,  # ~19 s a run on dask.distributed
        warmup="small",
        target=all_of(ratio_at_most(1 / 5, "distributed"), ratio_at_most(1 / 1.5, "ray")),
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="dist-tree",
        summary="raw graph, 2^14 leaves, fan-in-8 tree sum, on 2 workers x 1 thread",
        kind="dist_raw_tree",
        params={**CLUSTER, "leaves": 2 ** 14, "fan_in": 8},
        quick_params={**CLUSTER, "leaves": 2 ** 6, "fan_in": 8},
        tasks=_tree_tasks,
        repeat=5,
        anchor_repeat=3,  # ~33 s a run on dask.distributed
        warmup="small",
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="dist-transfer",
        summary="400 MB array made on worker A, consumed on worker B; submit to result",
        kind="dist_transfer",
        params={**CLUSTER, "elements": 50_000_000},
        quick_params={**CLUSTER, "elements": 500_000},
        repeat=9,  # ray's times here spread from 0.1 s to 1.5 s on this machine
        target=with_note(_TRANSFER_TARGET, _target_note(_TRANSFER_TARGET)),
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="dist-latency",
        summary="round trip of one tiny submit(inc, i).result(): median of 200",
        kind="dist_latency",
        params={**CLUSTER, "calls": 200, "warmup_calls": 20},
        quick_params={**CLUSTER, "calls": 20, "warmup_calls": 5},
        tasks=lambda params: 1,  # per-task = the round trip
        repeat=5,
        target=dataclasses.replace(value_below(1e-3, "s"), text="< 1 ms"),
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="sched-mem",
        summary="scheduler RSS growth holding 100k gated tasks + their tree (fresh cluster)",
        kind="sched_memory",
        params={**CLUSTER, "leaves": 100_000, "fan_in": 8, "warmup_leaves": 1_000},
        quick_params={**CLUSTER, "leaves": 500, "fan_in": 8, "warmup_leaves": 50},
        tasks=lambda params: shapes.tree_task_count(params["leaves"], params["fan_in"]) + 1,
        repeat=1,  # a fresh cluster and a 114k-task graph per sample
        warmup="none",  # the case warms its own fresh cluster up
        unit="B",
        target=ratio_below(1, "distributed"),
        skip={"ray": "skipped: ray has no central scheduler process that holds the graph"},
        anchors=ANCHORS,
        session=SESSION,
    ),
]
