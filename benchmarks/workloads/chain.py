"""A linear chain built with ``delayed``: ``x = inc(x)`` ``links`` times, then computed on threads.

Measures the cost of *building* deep graphs as much as running them: each
call reads the previous one, so an engine that merges its ancestors' graphs
into every new value builds in quadratic time.  Dask does (10k links take
~10 s there, almost all of it building); graphflow's `Delayed` only points
at its parents, so building must stay linear.

``chain100k`` runs graphflow alone at 100k links (dask would need ~100 times
its 10k time) and, untimed in its total, builds a ``ref_links`` chain as well,
so the report can compare the build cost per link at both sizes.  Quadratic
building would cost 10x more per link at 100k; the target allows 2x, because
with the garbage collector on (as in real use) the cost per link does rise
between 10k and 100k -- the heap grows big enough for full collections to
start -- and then stays flat (measured: ~4.9, 6.1 and 6.2 us per link at 10k,
100k and 200k; 4.0, 2.8, 2.8 with the collector off).
"""

from __future__ import annotations

import graphflow as gf

from .. import shapes
from ..clock import Stopwatch
from ..model import Workload
from ..targets import phase_growth_at_most, ratio_at_most

KIND = "delayed_chain"


def _build(n):
    inc = gf.delayed(shapes.inc)
    x = 0
    for _ in range(n):
        x = inc(x)
    return x


def run(params) -> dict:
    """Build the chain and compute it once; returns the phase timings."""
    n = params["links"]
    ref = params.get("ref_links")
    ref_build = None
    if ref:
        ref_watch = Stopwatch()
        _build(ref)
        ref_watch.lap("build")
        ref_build = ref_watch.phases()["build"]
    watch = Stopwatch()
    x = _build(n)
    watch.lap("build")
    value = x.compute(scheduler=params["scheduler"])
    watch.lap("compute")
    shapes.check("graphflow", value, n)
    phases = watch.phases()
    if ref_build is not None:
        phases["ref_build"] = ref_build
    return phases


WORKLOADS = [
    Workload(
        name="chain10k",
        summary="10k-link delayed chain x = inc(x), build + compute, threads",
        kind=KIND,
        params={"links": 10_000, "scheduler": "threads"},
        quick_params={"links": 200, "scheduler": "threads"},
        tasks=lambda params: params["links"],
        repeat=5,
        anchor_repeat=2,  # ~10 s per dask run, nearly all of it quadratic building
        warmup="small",
        target=ratio_at_most(1 / 20, "dask"),
    ),
    Workload(
        name="chain100k",
        summary="graphflow alone at 100k links: is building linear?",
        kind=KIND,
        params={"links": 100_000, "ref_links": 10_000, "scheduler": "threads"},
        quick_params={"links": 2_000, "ref_links": 200, "scheduler": "threads"},
        tasks=lambda params: params["links"],
        repeat=5,
        target=phase_growth_at_most("build", "ref_build", "links", "ref_links", 2.0),
        skip={"dask": "skipped: dask builds a delayed chain in quadratic time "
                      "(~100x its 10k chain, i.e. about 15 minutes)"},
    ),
]
