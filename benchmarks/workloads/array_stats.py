"""Array statistics workloads (issue 20): histogram, percentile and cumsum along the chunked axis.

Each runs on graphflow.array and dask.array (threads scheduler) on a uniform
random ``(n, n)`` array in ``(c, c)`` blocks, drawn by each engine's own
generator, so the generation is part of both timings:

    kind                what runs                                           dask's call
    array_histogram     histogram(x, bins=100, range=(0, 1))                da.histogram (same arguments)
    array_percentile    percentile(x, [5, 50, 95], axis=0)                  da.quantile(x, [.05, .5, .95], axis=0)
    array_cumsum        cumsum(x, axis=0).sum(axis=0)                       the same expression

dask.array's own ``percentile`` takes 1-d arrays only (and approximates), so
the percentile row compares with its exact ``quantile`` along an axis, which is
the same numpy computation.  The cumsum result is summed over its rows so that
neither engine spends the run assembling a 3.2 GB answer.  Answers are checked
statistically (uniform [0, 1) entries).  Target: at most 1/1.5 of dask's time.
Each run also reports ``cpu``, the process's CPU seconds over the compute (all
threads), which stays meaningful when a loaded machine makes wall times noisy.

    python -m benchmarks array-stats --repeat 3       # or any of arr-histogram, arr-percentile, arr-cumsum
"""

from __future__ import annotations

import functools
import time

from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES"]

PARAMS = {"n": 20_000, "chunk": 2_000, "seed": 0}
QUICK_PARAMS = {"n": 400, "chunk": 100, "seed": 0}
QS = [5.0, 50.0, 95.0]


def _check(kind, params, value) -> None:
    import numpy as np

    n = params["n"]
    value = np.asarray(value)
    if kind == "array_histogram":
        ok = value.shape == (100,) and int(value.sum()) == n * n and np.all(np.abs(value / (n * n / 100) - 1) < 0.2)
    elif kind == "array_percentile":
        ok = value.shape == (3, n) and np.all(np.abs(value - np.array(QS)[:, None] / 100) < 0.2)
    else:  # sum over rows of the running sums: column j is sum_i (n - i) x[i, j] ~ n (n + 1) / 4
        ok = value.shape == (n,) and abs(value.mean() / (n * (n + 1) / 4) - 1) < 0.05
    if not ok:
        raise AssertionError(f"{kind}: wrong answer (n={n})")


def _computed(kind, params, expr, watch) -> dict:
    """Compute ``expr`` on threads, check it; phases plus ``cpu``: this process's CPU seconds while computing.

    Every thread of the process counts, so under load (when wall times
    mostly measure the wait for a core) ``cpu`` still shows each engine's work.
    """
    cpu = time.process_time()
    value = expr.compute(scheduler="threads")
    watch.lap("compute")
    cpu = time.process_time() - cpu
    _check(kind, params, value)
    phases = watch.phases()
    phases["cpu"] = cpu
    return phases


def graphflow_case(kind, params) -> dict:
    import graphflow.array as ga

    n, c, seed = params["n"], params["chunk"], params["seed"]
    watch = Stopwatch()
    x = ga.random.random((n, n), chunks=(c, c), seed=seed)
    if kind == "array_histogram":
        expr = ga.histogram(x, bins=100, range=(0.0, 1.0))[0]
    elif kind == "array_percentile":
        expr = ga.percentile(x, QS, axis=0)
    else:
        expr = ga.cumsum(x, axis=0).sum(axis=0)
    watch.lap("build")
    return _computed(kind, params, expr, watch)


def dask_case(kind, params) -> dict:
    import dask.array as da

    n, c, seed = params["n"], params["chunk"], params["seed"]
    watch = Stopwatch()
    x = da.random.default_rng(seed).random((n, n), chunks=(c, c))
    if kind == "array_histogram":
        expr = da.histogram(x, bins=100, range=(0.0, 1.0))[0]
    elif kind == "array_percentile":
        expr = da.quantile(x, [q / 100 for q in QS], axis=0)
    else:
        expr = da.cumsum(x, axis=0).sum(axis=0)
    watch.lap("build")
    return _computed(kind, params, expr, watch)


KINDS = {
    "array_histogram": ("arr-histogram", "random (n, n) in (c, c) blocks + histogram(bins=100, range)"),
    "array_percentile": ("arr-percentile", "random (n, n) in (c, c) blocks + percentile([5, 50, 95], axis=0)"),
    "array_cumsum": ("arr-cumsum", "random (n, n) in (c, c) blocks + cumsum(axis=0).sum(axis=0)"),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}


def _case_for(kind):
    def find(engine):
        return {"graphflow": CASES, "dask": DASK_CASES}.get(engine.name, {}).get(kind)

    return find


WORKLOADS = [
    Workload(
        name=name,
        summary=f"array: {summary}",
        kind=kind,
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        tasks=lambda p: (p["n"] // p["chunk"]) ** 2,
        repeat=3,
        target=ratio_at_most(1 / 1.5, "dask"),
        anchors=("dask",),
        case_for=_case_for(kind),
    )
    for kind, (name, summary) in KINDS.items()
]
