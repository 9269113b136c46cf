"""``python -m benchmarks scale``: a million tasks on a 2-worker cluster, beside dask.distributed and Ray.

Three kinds, each on a *fresh* cluster per sample (2 worker processes x 1 thread), so the peaks
of one sample never include another's:

``scale_tree``  ``delayed`` ``inc(i)`` leaves summed by a fan-in-8 tree of ``add`` (10k leaves:
                11,431 tasks; 1M: 1,142,858), one ``compute(root, scheduler=client)``.  Ray: remote calls
                taking the ObjectRefs of earlier calls, one ``ray.get`` of the root.  Before the timed
                tree, the same cluster runs the tree at ``ref_leaves`` (10k) as its reference: the
                row's growth is (time per task at this size) / (time per task at 10k).
``scale_map``   ``client.map(inc, range(n), pure=False)`` and a gather; Ray: ``[inc.remote(i) for i]``
                and one ``ray.get``.
``scale_list``  ``client.compute([delayed(inc)(i) for i])`` and a gather (Ray has no delayed values:
                its case would be the map's).

For map and compute(list), ``rounds`` (3) rounds on one cluster: each round's futures are dropped
and the case waits until the scheduler holds no task, then reads the scheduler's RSS.  The row's
value is the median round; ``release_ok`` says the RSS after every later round is within 10% of
the first round's.

Memory, per task of the graph: the scheduler's and the client's peak RSS over the timed part
minus their RSS just before it (`benchmarks.probe.PeakRSS`: ``VmHWM`` reset through
``/proc/PID/clear_refs``).  dask's ``LocalCluster`` runs its scheduler inside the client process,
so the dask cases use ``distributed``'s ``SubprocessCluster`` to keep them apart.  Ray has no
scheduler process that holds the graph (the driver owns its tasks): only the client's is given.

Sizes dask.distributed cannot finish within 10 minutes are not run (`DASK_LIMIT`); the row says so.
A 5M-leaf tree (`BIG`) is opt-in: set ``BENCH_SCALE_5M=1`` and it joins the ``scale`` group.
"""

from __future__ import annotations

import gc
import os
import statistics
import time

from . import shapes
from .clock import Stopwatch
from .model import Beside, Target, Workload
from .probe import PeakRSS, rss_of
from .targets import all_of

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES", "BIG"]

FAN_IN = 8
WORKERS = 2
ROUNDS = 3
RELEASE_SLACK = 0.10  # the RSS after each later round's release: at most 10% above round 1's
# dask.distributed runs ~1-2 ms a task on this size of graph: 1M tasks would take 20-40 minutes
DASK_LIMIT = "not run (> 10 min at 1M: dask.distributed takes 1-2 ms a task at 100k)"
RAY_NO_LIST = "n/a: Ray has no delayed values; its compute(list) would be scale-map's [f.remote(i) for i]"


# ------------------------------------------------------------------ shared measuring


def _tree_tasks(leaves: int) -> int:
    return shapes.tree_task_count(leaves, FAN_IN)


def _peaks(pids: dict, run):
    """Run ``run()``; returns its result and ``{name: peak RSS - RSS before}`` of the named processes."""
    gc.collect()
    before = {name: rss_of(pid) for name, pid in pids.items()}
    watch = PeakRSS(lambda: list(pids.values())).start()
    result = run()
    peaks = watch.stop()
    grown = {name: peaks.get(pid, before[name]) - before[name] for name, pid in pids.items()}
    return result, grown


def _tree_sample(params, pids: dict, run_tree) -> dict:
    """``run_tree(leaves) -> phases`` at the reference size, then timed at full size with the peaks."""
    leaves, ref = params["leaves"], params["ref_leaves"]
    ref_phases = run_tree(ref)
    phases, grown = _peaks(pids, lambda: run_tree(leaves))
    tasks = _tree_tasks(leaves)
    per_task, ref_per_task = phases["total"] / tasks, ref_phases["total"] / _tree_tasks(ref)
    phases["ref"] = ref_phases["total"]
    counts = {f"{name}_b_per_task": round(value / tasks) for name, value in grown.items()}
    counts["growth_pct"] = round(100 * per_task / ref_per_task)
    phases["counts"] = counts
    return phases


def _rounds_sample(params, pids: dict, run_round, wait_empty) -> dict:
    """``rounds`` rounds of ``run_round(r) -> None`` (time and peaks), each followed by ``wait_empty()``
    and a reading of the scheduler's RSS."""
    n = params["n"]
    times, after, peaks = [], [], {}
    for r in range(params["rounds"]):
        start = time.perf_counter()
        _, grown = _peaks(pids, lambda: run_round(r))
        times.append(time.perf_counter() - start)
        for name, value in grown.items():
            peaks[name] = max(peaks.get(name, 0), value)
        wait_empty()
        if "scheduler" in pids:
            gc.collect()
            after.append(rss_of(pids["scheduler"]))
    phases = {f"round{r + 1}": t for r, t in enumerate(times)}
    phases["total"] = statistics.median(times)
    counts = {f"{name}_b_per_task": round(value / n) for name, value in peaks.items()}
    if after:
        counts.update({f"released_r{r + 1}_mib": round(v / 2**20) for r, v in enumerate(after)})
        counts["release_ok"] = int(all(v <= after[0] * (1 + RELEASE_SLACK) for v in after[1:]))
    phases["counts"] = counts
    return phases


def _check_sum(engine: str, got, lo: int, n: int) -> None:
    shapes.check(engine, got, sum(range(lo + 1, lo + n + 1)))


# ------------------------------------------------------------------ graphflow


def _gf_cluster():
    import graphflow as gf

    cluster = gf.LocalCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=None)
    return cluster, gf.Client(cluster, set_as_default=False)


def _gf_pids(client) -> dict:
    return {"scheduler": client.scheduler_info()["pid"], "client": os.getpid()}


def _gf_wait_empty(client, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while client.scheduler_info()["tasks"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the graphflow scheduler still holds tasks {timeout:.0f} s after the release")
        time.sleep(0.05)


def gf_tree(params) -> dict:
    """The delayed tree on a fresh graphflow cluster: reference size, then the timed size."""
    import graphflow as gf

    def run_tree(leaves):
        watch = Stopwatch()
        inc, add = gf.delayed(shapes.inc, pure=False), gf.delayed(shapes.add, pure=False)
        root = shapes.reduce_tree([inc(i) for i in range(leaves)], FAN_IN, lambda level, j, chunk: add(*chunk))
        watch.lap("build")
        (value,) = gf.compute(root, scheduler=client)
        watch.lap("compute")
        shapes.check("graphflow", value, shapes.expected_tree_sum(leaves))
        return watch.phases()

    cluster, client = _gf_cluster()
    with cluster, client:
        return _tree_sample(params, _gf_pids(client), run_tree)


def _gf_rounds(params, submit) -> dict:
    n = params["n"]
    cluster, client = _gf_cluster()
    with cluster, client:
        def run_round(r):
            futures = submit(client, range(r * n, (r + 1) * n))
            _check_sum("graphflow", sum(client.gather(futures)), r * n, n)

        return _rounds_sample(params, _gf_pids(client), run_round, lambda: _gf_wait_empty(client))


def gf_map(params) -> dict:
    """``client.map(inc, range(n), pure=False)`` and a gather, ``rounds`` times."""
    return _gf_rounds(params, lambda client, items: client.map(shapes.inc, items, pure=False))


def gf_list(params) -> dict:
    """``client.compute([delayed(inc)(i) ...])`` and a gather, ``rounds`` times."""
    import graphflow as gf

    def submit(client, items):
        inc = gf.delayed(shapes.inc, pure=False)
        return client.compute([inc(i) for i in items])

    return _gf_rounds(params, submit)


# ------------------------------------------------------------------ dask.distributed


def _dask_cluster():
    from distributed import Client
    from distributed.deploy.subprocess import SubprocessCluster

    cluster = SubprocessCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=None)
    return cluster, Client(cluster)


def _dask_tasks(dask_scheduler=None):
    return len(dask_scheduler.tasks)


def _dask_pids(client) -> dict:
    return {"scheduler": client.run_on_scheduler(os.getpid), "client": os.getpid()}


def _dask_wait_empty(client, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while client.run_on_scheduler(_dask_tasks):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dask scheduler still holds tasks {timeout:.0f} s after the release")
        time.sleep(0.05)


def dask_tree(params) -> dict:
    """The same tree with ``dask.delayed`` and ``dask.compute(root, scheduler=client)``."""
    import dask

    def run_tree(leaves):
        watch = Stopwatch()
        inc, add = dask.delayed(shapes.inc, pure=False), dask.delayed(shapes.add, pure=False)
        root = shapes.reduce_tree([inc(i) for i in range(leaves)], FAN_IN, lambda level, j, chunk: add(*chunk))
        watch.lap("build")
        (value,) = dask.compute(root, scheduler=client)
        watch.lap("compute")
        shapes.check("distributed", value, shapes.expected_tree_sum(leaves))
        return watch.phases()

    cluster, client = _dask_cluster()
    with cluster, client:
        return _tree_sample(params, _dask_pids(client), run_tree)


def _dask_rounds(params, submit) -> dict:
    n = params["n"]
    cluster, client = _dask_cluster()
    with cluster, client:
        def run_round(r):
            futures = submit(client, range(r * n, (r + 1) * n))
            _check_sum("distributed", sum(client.gather(futures)), r * n, n)

        return _rounds_sample(params, _dask_pids(client), run_round, lambda: _dask_wait_empty(client))


def dask_map(params) -> dict:
    return _dask_rounds(params, lambda client, items: client.map(shapes.inc, items, pure=False))


def dask_list(params) -> dict:
    import dask

    def submit(client, items):
        inc = dask.delayed(shapes.inc, pure=False)
        return client.compute([inc(i) for i in items])

    return _dask_rounds(params, submit)


# ------------------------------------------------------------------ Ray


def _ray_session():
    import logging

    import ray

    ray.init(num_cpus=WORKERS, include_dashboard=False, logging_level=logging.WARNING)
    return ray


def ray_tree(params) -> dict:
    """The tree as remote calls on ObjectRefs; one ``ray.get`` of the root."""
    ray = _ray_session()
    try:
        inc, add = ray.remote(shapes.inc), ray.remote(shapes.add)

        def run_tree(leaves):
            watch = Stopwatch()
            root = shapes.reduce_tree([inc.remote(i) for i in range(leaves)], FAN_IN,
                                      lambda level, j, chunk: add.remote(*chunk))
            watch.lap("submit")
            value = ray.get(root)
            watch.lap("compute")
            shapes.check("ray", value, shapes.expected_tree_sum(leaves))
            return watch.phases()

        return _tree_sample(params, {"client": os.getpid()}, run_tree)
    finally:
        ray.shutdown()


def ray_map(params) -> dict:
    """``[inc.remote(i) for i]`` and one ``ray.get``, ``rounds`` times (no scheduler process to read)."""
    ray = _ray_session()
    try:
        inc, n = ray.remote(shapes.inc), params["n"]

        def run_round(r):
            refs = [inc.remote(i) for i in range(r * n, (r + 1) * n)]
            _check_sum("ray", sum(ray.get(refs)), r * n, n)

        return _rounds_sample(params, {"client": os.getpid()}, run_round, lambda: None)
    finally:
        ray.shutdown()


# ------------------------------------------------------------------ the rows

GRAPHFLOW_CASES = {"scale_tree": gf_tree, "scale_map": gf_map, "scale_list": gf_list}
_ANCHOR_CASES = {
    "distributed": {"scale_tree": dask_tree, "scale_map": dask_map, "scale_list": dask_list},
    "ray": {"scale_tree": ray_tree, "scale_map": ray_map},
}


def _case_for(kind: str):
    def find(engine):
        if engine.name == "graphflow":
            return GRAPHFLOW_CASES[kind]
        return _ANCHOR_CASES.get(engine.name, {}).get(kind)

    return find


def _count_target(name: str, limit: float, text: str) -> Target:
    """graphflow's worst ``name`` count over its samples is at most ``limit``."""

    def check(result):
        values = result.counts_of("graphflow", name)
        return None if not values else max(values) <= limit

    return Target(text, check)


def _per_task_at_most(seconds: float) -> Target:
    def check(result):
        value = result.per_task("graphflow")
        return None if value is None else value <= seconds

    return Target(f"<= {seconds * 1e6:.0f} us a task", check)


def _beside(result, engine: str) -> str | None:
    parts = []
    for name, label in (("scheduler_b_per_task", "sched"), ("client_b_per_task", "client")):
        value = result.count(engine, name)
        if value is not None:
            parts.append(f"{label} {value} B/task")
    growth = result.count(engine, "growth_pct")
    if growth is not None:
        parts.append(f"x{growth / 100:.2f} of 10k per task")
    released = [result.count(engine, f"released_r{r + 1}_mib") for r in range(ROUNDS)]
    if all(v is not None for v in released):
        parts.append("released " + "/".join(str(v) for v in released) + " MiB")
    return "; ".join(parts) or None


_BESIDE = Beside(_beside, "[...] after scale-*: peak RSS growth per task of the scheduler and the client process; "
                          "trees: time per task over the 10k tree's on the same cluster; map/list: the "
                          "scheduler's RSS after each round's release")
_SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
_QUICK = {"leaves": 300, "ref_leaves": 100, "n": 500, "rounds": 2}


def _tree(label: str, leaves: int, target=None, skip=None) -> Workload:
    return Workload(
        name=f"scale-tree-{label}", summary=f"{leaves:,} delayed leaves + fan-in-8 tree on 2 workers (fresh cluster)",
        kind="scale_tree", params={"leaves": leaves, "ref_leaves": 10_000}, quick_params=_QUICK,
        tasks=lambda p: _tree_tasks(p["leaves"]), repeat=1 if leaves >= 1_000_000 else 3, warmup="none",
        target=target, skip=skip or {}, case_for=_case_for("scale_tree"), anchors=("distributed", "ray"),
        beside=_BESIDE,
    )


def _rounds(kind: str, what: str, label: str, n: int, target=None, skip=None) -> Workload:
    return Workload(
        name=f"scale-{what}-{label}", summary=f"{what} of {n:,} inc tasks on 2 workers, {ROUNDS} rounds each released",
        kind=kind, params={"n": n, "rounds": ROUNDS}, quick_params=_QUICK, tasks=lambda p: p["n"], repeat=1,
        warmup="none", target=target, skip=skip or {}, case_for=_case_for(kind), anchors=("distributed", "ray"),
        beside=_BESIDE,
    )


_FAST = _per_task_at_most(50e-6)
_RELEASED = _count_target("release_ok", 1, f"RSS after release within {RELEASE_SLACK:.0%} of round 1")
_TREE_1M = all_of(_FAST, _count_target("scheduler_b_per_task", 1024, "scheduler <= 1 KiB a task"),
                  _count_target("growth_pct", 130, "per task <= 1.3x 10k's"))

WORKLOADS = [
    _tree("10k", 10_000),
    _tree("100k", 100_000),
    _tree("1m", 1_000_000, target=_TREE_1M, skip={"distributed": DASK_LIMIT}),
    _rounds("scale_map", "map", "10k", 10_000),
    _rounds("scale_map", "map", "100k", 100_000, target=all_of(_FAST, _RELEASED)),
    _rounds("scale_map", "map", "1m", 1_000_000, skip={"distributed": DASK_LIMIT}),
    _rounds("scale_list", "list", "100k", 100_000, target=all_of(_FAST, _RELEASED), skip={"ray": RAY_NO_LIST}),
]
BIG = _tree("5m", 5_000_000, skip={"distributed": DASK_LIMIT.replace("1M", "5M")})
if os.environ.get("BENCH_SCALE_5M") == "1":  # opt-in: ~1 GiB of graph in the client and minutes per engine
    WORKLOADS.append(BIG)

GROUP = [w.name for w in WORKLOADS]
