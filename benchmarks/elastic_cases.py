"""Elastic clusters: how fast a cluster lets a worker go (and, C's case, grows), beside dask.distributed.

``retire-1gb`` (kind ``retire_1gb``)
    a cluster of 3 worker processes x 1 thread, warmed up (every worker has
    sent every other an 8 MiB array: libraries imported, peers connected, as
    in a cluster that has been working); one worker makes ``arrays``
    float64 arrays of ``elements`` each (8 x 16M = 1 GiB) with
    ``submit(..., workers=[it])``; the sample times
    ``client.retire_workers([it])`` alone: every result moves to the two
    other workers (graphflow: through shared memory / ``process_vm_readv``
    on one host), then the worker stops.  After it the answer is checked:
    every future still resolves where it now lives (``who_has`` names only
    the others), no task ran again (``counts["ran"]``: tasks the engine ran
    during the retirement, 0 when nothing was recomputed), and one element
    per page of each array sums to the right value.  A fresh cluster per
    sample (a retired worker is gone), started untimed.  Anchor: dask's
    ``Client.retire_workers`` on ``LocalCluster(processes=True)``, the same
    submits and the same checks.

The issue's target: retiring a worker that holds 1 GB takes under 1 s on one
host and no task re-runs.  The case is written once for both engines: they
share ``submit(workers=)``, ``who_has``, ``retire_workers`` and
``scheduler_info()``; each passes how it starts a cluster and counts tasks
(graphflow's cases below; dask.distributed's in `benchmarks.anchors.distributed`,
which calls `retire_case` and `scale_up_case` with its own cluster).

To add a case to the ``elastic`` group: write ``case(params) -> {phase: value}``
here, add it to `GRAPHFLOW_CASES` (and the anchor's to the cases of
`benchmarks.anchors.distributed.engine`) and add a `Workload` row to `WORKLOADS`.
"""

from __future__ import annotations

import time

from . import shapes
from .clock import Stopwatch
from .model import Target, Workload
from .targets import all_of, value_below

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES", "retire_case", "scale_up_case"]

RETIRE = {"workers": 3, "threads_per_worker": 1, "arrays": 8, "elements": 16 * 2**20}  # 8 x 128 MiB
RETIRE_QUICK = {"workers": 3, "threads_per_worker": 1, "arrays": 4, "elements": 2**18}


def _wait_workers(client, n: int, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        workers = sorted(client.scheduler_info()["workers"])
        if len(workers) >= n:
            return workers
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(workers)} of {n} workers connected within {timeout:.0f} s")
        time.sleep(0.05)


def retire_case(client, params, ran, name: str) -> dict:
    """Fill one worker with ``arrays`` results, then time ``client.retire_workers([it])``."""
    n, count = params["elements"], params["arrays"]
    workers = _wait_workers(client, params["workers"])
    _warm(client, workers)
    leaving = workers[0]
    futures = [client.submit(shapes.make_array, n + i, workers=[leaving], pure=False) for i in range(count)]
    _wait_done(futures)  # without fetching: the results stay on the worker
    before = ran(client)
    watch = Stopwatch()
    client.retire_workers([leaving])
    watch.lap("retire")
    reran = ran(client) - before
    holders = client.who_has(futures)
    stay = [k for k, where in holders.items() if not where or leaving in where]
    if stay:
        raise AssertionError(f"{name}: after retirement {len(stay)} results are still on {leaving} or nowhere")
    checked = client.gather([client.submit(shapes.consume, f, pure=False) for f in futures])
    for i, value in enumerate(checked):
        shapes.check(name, value, shapes.expected_consume(n + i))
    phases = watch.phases()
    phases["counts"] = {"ran": reran}
    return phases


def _warm(client, workers: list) -> None:
    """Untimed: every worker sends every other one an 8 MiB array, as a cluster that has been working has --
    libraries imported, peer connections open, same-host copies set up."""
    pairs = [(x, y) for x in workers for y in workers if x != y]
    made = {x: client.submit(shapes.make_array, 2**20, workers=[x], pure=False) for x in workers}
    client.gather([client.submit(shapes.consume, made[x], workers=[y], pure=False) for x, y in pairs])
    del made


def _wait_done(futures, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(f.done() for f in futures):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the arrays were not made within {timeout:.0f} s")
        time.sleep(0.01)
    for f in futures:
        if f.status != "finished":
            f.result()  # raises the task's error


# ------------------------------------------------------------------ graphflow


def _gf_ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def graphflow_retire(params) -> dict:
    """graphflow: a fresh 3-worker LocalCluster per sample."""
    import graphflow as gf

    with gf.LocalCluster(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"]) as cluster:
        with gf.Client(cluster, set_as_default=False) as client:
            return retire_case(client, params, _gf_ran, "graphflow")


def _no_reruns(engine: str = "graphflow") -> Target:
    """No sample of ``engine`` ran a task during the retirement (its ``ran`` count is 0 every time)."""

    def check(result):
        values = result.counts_of(engine, "ran")
        return None if not values else max(values) == 0

    def describe(result):
        values = result.counts_of(engine, "ran")
        return f"{engine} re-ran at most {max(values)} tasks over {len(values)} runs" if values else None

    return Target("no task re-runs", check, describe)


# ------------------------------------------------------------------ scale-up (helper C's case)
#
# ``scale-up`` (kind ``scale_up``): a fresh 1-worker x 1-thread cluster per sample.  Phase ``scale``:
# ``cluster.scale(maximum)`` until every new worker is connected.  Back to 1 (untimed), then phase
# ``adapt`` (the row's total): ``adapt(minimum=1, maximum=maximum)`` with the defaults (interval 1 s,
# target duration 5 s), ``tasks`` sleeps of ``sleep`` s submitted at once, timed until ``maximum`` workers
# are connected.  The target: adapt reaches maximum within 2 s of a queue building up.  Anchor:
# dask.distributed LocalCluster(processes=True), the same calls (its scale returns before the workers
# are up, so ``client.wait_for_workers`` is part of its phase).

SCALE = {"maximum": 4, "tasks": 200, "sleep": 0.5, "interval": "1s"}
SCALE_QUICK = {"maximum": 2, "tasks": 20, "sleep": 0.5, "interval": "1s"}


def scale_up_case(cluster, client, params, scale_and_wait) -> dict:
    """Time ``scale(maximum)`` from one worker, then adapt(1, maximum) under a fresh queue."""
    top = params["maximum"]
    _wait_workers(client, 1)
    start = time.perf_counter()
    scale_and_wait(top)
    scaled = time.perf_counter() - start
    scale_and_wait(1)
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    adaptive = cluster.adapt(minimum=1, maximum=top, interval=params["interval"])
    start = time.perf_counter()
    futures = [client.submit(time.sleep, params["sleep"], pure=False) for _ in range(params["tasks"])]
    _wait_workers(client, top, timeout=60)
    adapted = time.perf_counter() - start
    adaptive.stop()
    client.cancel(futures)
    return {"scale": scaled, "adapt": adapted, "total": adapted}


def graphflow_scale_up(params) -> dict:
    """graphflow: ``scale`` returns once the workers are connected."""
    import graphflow as gf

    with gf.LocalCluster(n_workers=1, threads_per_worker=1) as cluster:
        with gf.Client(cluster, set_as_default=False) as client:
            return scale_up_case(cluster, client, params, cluster.scale)


GRAPHFLOW_CASES = {"retire_1gb": graphflow_retire, "scale_up": graphflow_scale_up}

WORKLOADS = [
    Workload(
        name="retire-1gb",
        summary="retire 1 of 3 workers holding 8 x 128 MiB results: time until it is gone and the data moved",
        kind="retire_1gb",
        params=RETIRE,
        quick_params=RETIRE_QUICK,
        repeat=5,
        warmup="small",
        target=all_of(value_below(1.0), _no_reruns()),
        anchors=("distributed",),
        isolate=True,
    ),
    Workload(
        name="scale-up",
        summary="1 -> 4 workers: adapt(1, 4) from queueing 200 sleeps until 4 connected (total); scale(4) (phase)",
        kind="scale_up",
        params=SCALE,
        quick_params=SCALE_QUICK,
        repeat=5,
        warmup="small",
        target=value_below(2.0),
        anchors=("distributed",),
        isolate=True,
    ),
]

GROUP = [w.name for w in WORKLOADS]
