"""Array workloads (issue 4): chunked random arrays reduced and multiplied, time and peak memory.

Three kinds, each run on graphflow.array and dask.array with the same chunks
(threads scheduler, one thread per core) and on a single-threaded numpy
*blockwise loop* that draws the same blocks one after the other:

    kind            what runs
    array_sum       random((n, n)) in (c, c) blocks, then .sum()
    array_xxt_mean  random((n, n)), then (x + x.T).mean(axis=0)
    array_matmul    two random((m, m)) in (k, k) blocks, then a @ b

Each block ``(i, j)`` of the graphflow and numpy inputs is
``Generator(SFC64([seed, i, j])).random(block)`` (graphflow.array.blockrng);
dask draws from its own ``da.random.default_rng(seed)`` (PCG64).  Every case checks its
answer statistically (uniform [0, 1) entries: the mean of ``x`` is 1/2, of
``(x + x.T).mean(0)`` 1, of ``a @ b`` m/4).  The numpy anchor for the
matmul generates both inputs block by block, then calls ``a @ b`` once (BLAS
uses its own threads: it is the "whole array" floor, not a one-core one).

The ``*-mem`` workloads run the same case in a fresh process per engine and
report its peak RSS growth (Linux ``VmHWM`` after the imports, as in
`benchmarks.probe`).  Run by hand:

    python -m benchmarks array                     # all six, vs dask and numpy
    python -m benchmarks.workloads.array peak dask array_sum '{"n": 400, "chunk": 100, "seed": 0}'

Registration: this module's ``CASES`` join graphflow's; dask's and numpy's
cases are found by engine name (``case_for``), and ``benchmarks.anchors.numpy``
is the numpy anchor built from ``NUMPY_CASES``.
"""

from __future__ import annotations

import functools
import json
import sys

from .. import probe
from ..clock import Stopwatch
from ..model import Workload
from ..targets import all_of, ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES", "NUMPY_CASES"]

PARAMS = {"n": 20_000, "chunk": 2_000, "seed": 0}
QUICK_PARAMS = {"n": 400, "chunk": 100, "seed": 0}
MATMUL_PARAMS = {"n": 4_000, "chunk": 1_000, "seed": 0}
MATMUL_QUICK_PARAMS = {"n": 200, "chunk": 50, "seed": 0}


def _check(kind, params, value) -> None:
    """A uniform [0, 1) input gives these answers, within a few standard errors."""
    import numpy as np

    n = params["n"]
    if kind == "array_sum":
        mean, expect, tol = float(value) / (n * n), 0.5, 6 * (1 / 12) ** 0.5 / n + 1e-12
        ok = abs(mean - expect) < tol
    elif kind == "array_xxt_mean":
        value = np.asarray(value)
        # each entry: the mean of 2n uniforms (n of them for the diagonal one counted twice)
        ok = value.shape == (n,) and abs(value.mean() - 1.0) < 0.05 and bool(np.all(np.abs(value - 1) < 0.5))
        mean = float(value.mean()) if value.size else float("nan")
    else:
        value = np.asarray(value)
        mean = float(value.mean()) / (n / 4)
        ok = value.shape == (n, n) and abs(mean - 1) < 0.05 and bool(np.all(value > 0))
    if not ok:
        raise AssertionError(f"{kind}: wrong answer (mean {mean!r}, n={n})")


# ------------------------------------------------------------------ graphflow.array


def graphflow_case(kind, params) -> dict:
    import graphflow.array as ga

    n, c, seed = params["n"], params["chunk"], params["seed"]
    watch = Stopwatch()
    if kind == "array_matmul":
        a = ga.random.random((n, n), chunks=(c, c), seed=seed)
        b = ga.random.random((n, n), chunks=(c, c), seed=seed + 1)
        expr = a @ b
    else:
        x = ga.random.random((n, n), chunks=(c, c), seed=seed)
        expr = x.sum() if kind == "array_sum" else (x + x.T).mean(axis=0)
    watch.lap("build")
    value = expr.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, value)
    return watch.phases()


# ------------------------------------------------------------------ dask.array (threads)


def dask_expression(kind, params):
    """The lazy dask.array expression of ``kind`` (what every dask-side case computes)."""
    import dask.array as da

    n, c, seed = params["n"], params["chunk"], params["seed"]
    if kind == "array_matmul":
        a = da.random.default_rng(seed).random((n, n), chunks=(c, c))
        b = da.random.default_rng(seed + 1).random((n, n), chunks=(c, c))
        return a @ b
    x = da.random.default_rng(seed).random((n, n), chunks=(c, c))
    return x.sum() if kind == "array_sum" else (x + x.T).mean(axis=0)


def dask_case(kind, params) -> dict:
    watch = Stopwatch()
    expr = dask_expression(kind, params)
    watch.lap("build")
    value = expr.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, value)
    return watch.phases()


# ------------------------------------------------------------------ numpy, one thread, block by block


def _block(seed, i, j, shape):
    import numpy as np

    return np.random.Generator(np.random.SFC64([seed, i, j])).random(shape)  # graphflow.array.blockrng


def _filled(n, c, seed):
    """The whole (n, n) array, drawn block by block into one buffer."""
    import numpy as np

    out = np.empty((n, n))
    for i in range(0, n, c):
        for j in range(0, n, c):
            out[i:i + c, j:j + c] = _block(seed, i // c, j // c, (min(c, n - i), min(c, n - j)))
    return out


def numpy_case(kind, params) -> dict:
    import numpy as np

    n, c, seed = params["n"], params["chunk"], params["seed"]
    watch = Stopwatch()
    if kind == "array_sum":
        value = 0.0
        for i in range(0, n, c):
            for j in range(0, n, c):
                value += _block(seed, i // c, j // c, (min(c, n - i), min(c, n - j))).sum()
    elif kind == "array_xxt_mean":
        x = _filled(n, c, seed)
        value = np.zeros(n)
        for i in range(0, n, c):  # one band of rows at a time: temporaries stay one band big
            value += (x[i:i + c] + x[:, i:i + c].T).sum(axis=0)
        value /= n
    else:
        value = _filled(n, c, seed) @ _filled(n, c, seed + 1)
    watch.lap("compute")
    _check(kind, params, value)
    return watch.phases()


KINDS = {
    "array_sum": ("arr-sum", "random (n, n) in (c, c) blocks + sum", PARAMS, QUICK_PARAMS),
    "array_xxt_mean": ("arr-xxt-mean", "random (n, n) + (x + x.T).mean(axis=0)", PARAMS, QUICK_PARAMS),
    "array_matmul": ("arr-matmul", "two random (m, m) in (k, k) blocks + a @ b", MATMUL_PARAMS,
                     MATMUL_QUICK_PARAMS),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}
NUMPY_CASES = {kind: functools.partial(numpy_case, kind) for kind in KINDS}
_BY_ENGINE = {"graphflow": CASES, "dask": DASK_CASES, "numpy": NUMPY_CASES}


# ------------------------------------------------------------------ peak memory, a fresh process per sample

_IMPORTS = {"graphflow": "graphflow.array", "dask": "dask.array", "numpy": "numpy"}


def peak_rss(engine: str, kind: str, params) -> dict:
    """Peak RSS growth of a fresh process running ``engine``'s ``kind`` case once."""
    return json.loads(probe._run_child(["-m", "benchmarks.workloads.array", "peak", engine, kind,
                                        json.dumps(dict(params))]))


def _peak_child(engine: str, kind: str, params: dict) -> dict:
    import importlib

    importlib.import_module(_IMPORTS[engine])
    return probe.peak_growth(_BY_ENGINE[engine][kind], params)


def _case_for(kind):
    def find(engine):
        return _BY_ENGINE.get(engine.name, {}).get(kind)

    return find


def _mem_case_for(kind):
    def find(engine):
        return functools.partial(peak_rss, engine.name, kind) if engine.name in _BY_ENGINE else None

    return find


def _target(kind):
    if kind == "array_sum":  # two cores: half the one-thread loop, with 15% slack
        return all_of(ratio_at_most(1.0, "dask"), ratio_at_most(0.575, "numpy"))
    return ratio_at_most(0.83, "dask")


WORKLOADS = [
    Workload(
        name=name,
        summary=f"array: {summary}",
        kind=kind,
        params=params,
        quick_params=quick,
        tasks=lambda p: (p["n"] // p["chunk"]) ** 2,
        repeat=5,
        target=_target(kind),
        anchors=("dask", "numpy"),
        case_for=_case_for(kind),
    )
    for kind, (name, summary, params, quick) in KINDS.items()
] + [
    Workload(
        name=f"{name}-mem",
        summary=f"array, peak RSS growth in a fresh process: {summary}",
        kind=f"{kind}_peak_memory",
        params=params,
        quick_params=quick,
        repeat=1,
        warmup="none",
        unit="B",
        target=ratio_at_most(1.0, "dask"),
        isolate=False,
        case_for=_mem_case_for(kind),
        anchors=("dask", "numpy"),
    )
    for kind, (name, summary, params, quick) in KINDS.items()
]


def main(argv=None) -> int:
    """Child entry point: ``peak ENGINE KIND PARAMS_JSON``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4 or argv[0] != "peak":
        print("usage: python -m benchmarks.workloads.array peak ENGINE KIND PARAMS_JSON", file=sys.stderr)
        return 2
    print(json.dumps(_peak_child(argv[1], argv[2], json.loads(argv[3]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
