"""Array linear-algebra workloads (issue 20): TSQR-based ``qr``/``svd`` and randomized ``svd_compressed``.

    kind                  what runs
    array_qr              random((m, n)) in row blocks (one column block), then qr -> Q and R
    array_svd             the same input, then svd -> U, S and Vt
    array_svd_compressed  random((s, s)) in (c, c) blocks, then svd_compressed(k=10) -> U, S and Vt

graphflow.array and dask.array run the same shapes and chunks on the threads
scheduler; the numpy anchor (``qr``/``svd`` only) draws the same blocks into
one array and calls ``np.linalg.qr(x)`` / ``np.linalg.svd(x, full_matrices=False)``
once (BLAS and LAPACK with their own threads): the single-call floor.  Every
engine's time includes drawing its input.  Answers are checked by properties
that hold for uniform [0, 1) entries: Q's and U's columns have unit norm, R is
upper triangular with ``|R[0, 0]| = |x[:, 0]|``, the top singular value is
close to ``sqrt(m n) / 2`` (the all-ones direction), singular values descend.

    python -m benchmarks arr-qr arr-svd arr-svdc --repeat 3
    python -m benchmarks array-linalg --quick

Sizes: 2,000,000 x 100 float64 (1.6 GB) in 20 row blocks for qr/svd;
20,000 x 20,000 (3.2 GB) in 2,000 x 2,000 blocks for svd_compressed.
"""

from __future__ import annotations

import functools

from ..clock import Stopwatch
from ..model import Workload
from ..targets import all_of, ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES", "NUMPY_CASES"]

TALL_PARAMS = {"m": 2_000_000, "n": 100, "blocks": 20, "seed": 0}
TALL_QUICK = {"m": 20_000, "n": 100, "blocks": 20, "seed": 0}
SQUARE_PARAMS = {"s": 20_000, "chunk": 2_000, "k": 10, "seed": 0}
SQUARE_QUICK = {"s": 2_000, "chunk": 200, "k": 10, "seed": 0}


def _check(kind, params, values) -> None:
    import numpy as np

    if kind == "array_svd_compressed":
        u, s, vt = (np.asarray(v) for v in values)
        n, k = params["s"], params["k"]
        expect = n / 2  # the mean matrix 1/2 * ones has singular value n/2; the noise adds ~sqrt(n)/2
        ok = u.shape == (n, k) and s.shape == (k,) and vt.shape == (k, n) and abs(s[0] / expect - 1) < 0.01 \
            and bool(np.all(np.diff(s) <= 1e-9 * s[0]))
        what = f"s[0]={s[0]!r}, expected ~{expect}"
    else:
        m, n = params["m"], params["n"]
        first, second = np.asarray(values[0]), np.asarray(values[1])
        norms = np.sqrt((first[:, :3] ** 2).sum(axis=0))
        ok = first.shape == (m, n) and bool(np.all(np.abs(norms - 1) < 1e-8))
        if kind == "array_qr":  # |x[:, 0]| for uniforms: sqrt(m / 3)
            ok = ok and abs(abs(second[0, 0]) / (m / 3) ** 0.5 - 1) < 0.01 and bool(np.all(np.tril(second, -1) == 0))
            what = f"R[0, 0]={second[0, 0]!r}, expected +-{(m / 3) ** 0.5:.1f}"
        else:
            expect = (m * n) ** 0.5 / 2
            ok = ok and abs(second[0] / expect - 1) < 0.01 and bool(np.all(np.diff(second) <= 0))
            what = f"s[0]={second[0]!r}, expected ~{expect:.1f}"
    if not ok:
        raise AssertionError(f"{kind}: wrong answer ({what}; params {dict(params)})")


def _rows(params):
    m, blocks = params["m"], params["blocks"]
    return -(-m // blocks)


# ------------------------------------------------------------------ graphflow.array


def graphflow_case(kind, params) -> dict:
    import graphflow
    import graphflow.array as ga

    watch = Stopwatch()
    if kind == "array_svd_compressed":
        s, c = params["s"], params["chunk"]
        x = ga.random.random((s, s), chunks=(c, c), seed=params["seed"])
        outs = ga.linalg.svd_compressed(x, params["k"], seed=params["seed"] + 1)
    else:
        x = ga.random.random((params["m"], params["n"]), chunks=(_rows(params), params["n"]), seed=params["seed"])
        outs = ga.linalg.qr(x) if kind == "array_qr" else ga.linalg.svd(x)
    watch.lap("build")
    values = graphflow.compute(*outs, scheduler="threads")
    watch.lap("compute")
    _check(kind, params, values)
    return watch.phases()


# ------------------------------------------------------------------ dask.array (threads)


def dask_case(kind, params) -> dict:
    import dask
    import dask.array as da

    watch = Stopwatch()
    rng = da.random.default_rng(params["seed"])
    if kind == "array_svd_compressed":
        s, c = params["s"], params["chunk"]
        x = rng.random((s, s), chunks=(c, c))
        outs = da.linalg.svd_compressed(x, params["k"], seed=params["seed"] + 1)
    else:
        x = rng.random((params["m"], params["n"]), chunks=(_rows(params), params["n"]))
        outs = da.linalg.qr(x) if kind == "array_qr" else da.linalg.svd(x)
    watch.lap("build")
    values = dask.compute(*outs, scheduler="threads")
    watch.lap("compute")
    _check(kind, params, values)
    return watch.phases()


# ------------------------------------------------------------------ numpy: one call on the whole array


def numpy_case(kind, params) -> dict:
    import numpy as np

    m, n, seed = params["m"], params["n"], params["seed"]
    rows = _rows(params)
    watch = Stopwatch()
    x = np.empty((m, n))
    for i, start in enumerate(range(0, m, rows)):  # the blocks graphflow draws, into one buffer
        x[start:start + rows] = np.random.Generator(np.random.SFC64([seed, i, 0])).random((min(rows, m - start), n))
    values = np.linalg.qr(x) if kind == "array_qr" else np.linalg.svd(x, full_matrices=False)
    watch.lap("compute")
    _check(kind, params, values[:2])
    return watch.phases()


KINDS = {
    "array_qr": ("arr-qr", "random (m, n) in row blocks + qr", TALL_PARAMS, TALL_QUICK),
    "array_svd": ("arr-svd", "random (m, n) in row blocks + svd", TALL_PARAMS, TALL_QUICK),
    "array_svd_compressed": ("arr-svdc", "random (s, s) in (c, c) blocks + svd_compressed(k)", SQUARE_PARAMS,
                             SQUARE_QUICK),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}
NUMPY_CASES = {kind: functools.partial(numpy_case, kind) for kind in ("array_qr", "array_svd")}
_BY_ENGINE = {"graphflow": CASES, "dask": DASK_CASES, "numpy": NUMPY_CASES}


def _case_for(kind):
    def find(engine):
        return _BY_ENGINE.get(engine.name, {}).get(kind)

    return find


def _target(kind):
    if kind == "array_svd_compressed":
        return ratio_at_most(1 / 1.5, "dask")
    return all_of(ratio_at_most(1 / 1.5, "dask"), ratio_at_most(1.5, "numpy"))


def _tasks(kind):
    if kind == "array_svd_compressed":
        return lambda p: None
    return lambda p: 4 * p["blocks"] + 1


WORKLOADS = [
    Workload(
        name=name,
        summary=f"array linalg: {summary}",
        kind=kind,
        params=params,
        quick_params=quick,
        tasks=_tasks(kind),
        repeat=3,
        warmup="small",
        target=_target(kind),
        anchors=("dask", "numpy") if kind in NUMPY_CASES else ("dask",),
        case_for=_case_for(kind),
    )
    for kind, (name, summary, params, quick) in KINDS.items()
]
