"""Array routine workloads (issue 20, part 3): stencils through ``map_overlap``, ``topk``, ``pad``.

    kind            what runs
    array_overlap   random((n, n)) in (c, c) blocks, a 3x3 box sum via map_overlap(depth=1), then .mean()
    array_topk      random((n, n)) in (c, c) blocks, topk(k) along axis 0 (every column's k largest)
    array_pad       random((n, n)) in (c, c) blocks, pad(w, mode="reflect"), then .sum()

graphflow.array and dask.array run the same shapes and chunks on the threads
scheduler, each with its own random numbers; answers are checked by
properties of uniform [0, 1) entries (a box sum's mean is 9/2; a column's 10
largest of 20,000 uniforms all exceed 0.99; a reflected pad of width w adds
about w / n of the sum per side).  The issue names no target for these: they
are here to show where the routines stand against dask.

    python -m benchmarks array-routines --repeat 3
    python -m benchmarks array-routines --quick
"""

from __future__ import annotations

import functools

from ..clock import Stopwatch
from ..model import Workload

__all__ = ["WORKLOADS", "CASES", "DASK_CASES"]

PARAMS = {"n": 10_000, "chunk": 1_000, "k": 10, "width": 50, "seed": 0}
QUICK = {"n": 800, "chunk": 200, "k": 10, "width": 20, "seed": 0}


def _box(block):
    """The 3x3 box sum of every interior point of ``block`` (edges: whatever a zero pad gives)."""
    import numpy as np

    out = np.zeros_like(block)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            out += np.roll(np.roll(block, di, axis=0), dj, axis=1)
    return out


def _check(kind, params, value) -> None:
    import numpy as np

    n, k, w = params["n"], params["k"], params["width"]
    value = np.asarray(value)
    if kind == "array_overlap":
        ok, what = abs(float(value) / 4.5 - 1) < 0.01, f"mean {float(value)!r}, expected ~4.5"
    elif kind == "array_topk":
        ok = value.shape == (k, n) and bool(np.all(np.diff(value, axis=0) <= 0)) and bool(value.min() > 0.9)
        what = f"shape {value.shape}, min {value.min()!r}"
    else:
        expect = (n + 2 * w) ** 2 / 2
        ok, what = abs(float(value) / expect - 1) < 0.01, f"sum {float(value)!r}, expected ~{expect}"
    if not ok:
        raise AssertionError(f"{kind}: wrong answer ({what}; params {dict(params)})")


def graphflow_case(kind, params) -> dict:
    import graphflow.array as ga

    n, c = params["n"], params["chunk"]
    watch = Stopwatch()
    x = ga.random.random((n, n), chunks=(c, c), seed=params["seed"])
    if kind == "array_overlap":
        out = ga.map_overlap(_box, x, depth=1, boundary="none", dtype=x.dtype).mean()
    elif kind == "array_topk":
        out = ga.topk(x, params["k"], axis=0)
    else:
        out = ga.pad(x, params["width"], mode="reflect").sum()
    watch.lap("build")
    value = out.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, value)
    return watch.phases()


def dask_case(kind, params) -> dict:
    import dask.array as da

    n, c = params["n"], params["chunk"]
    watch = Stopwatch()
    x = da.random.default_rng(params["seed"]).random((n, n), chunks=(c, c))
    if kind == "array_overlap":
        out = da.map_overlap(_box, x, depth=1, boundary="none", dtype=x.dtype).mean()
    elif kind == "array_topk":
        out = da.topk(x, params["k"], axis=0)
    else:
        out = da.pad(x, params["width"], mode="reflect").sum()
    watch.lap("build")
    value = out.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, value)
    return watch.phases()


KINDS = {
    "array_overlap": ("arr-overlap", "random (n, n) + map_overlap 3x3 box sum + mean"),
    "array_topk": ("arr-topk", "random (n, n) + topk(k) along axis 0"),
    "array_pad": ("arr-pad", "random (n, n) + pad(width, reflect) + sum"),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}
_BY_ENGINE = {"graphflow": CASES, "dask": DASK_CASES}


def _case_for(kind):
    def find(engine):
        return _BY_ENGINE.get(engine.name, {}).get(kind)

    return find


WORKLOADS = [
    Workload(
        name=name,
        summary=f"array routines: {summary}",
        kind=kind,
        params=PARAMS,
        quick_params=QUICK,
        repeat=3,
        warmup="small",
        anchors=("dask",),
        case_for=_case_for(kind),
    )
    for kind, (name, summary) in KINDS.items()
]
