"""Peak memory of building, culling and ordering the 1M-task graph, one fresh process per sample.

Each engine's ``graph_phases`` case (see `benchmarks.workloads.graph1m`) runs
in a child process; the value is its peak resident set size minus its
resident set size right after importing the engine, in bytes (Linux
``VmHWM``; see `benchmarks.probe` for why not ``ru_maxrss``).  RSS rather than
tracemalloc: tracemalloc would slow dask's ordering several-fold (minutes
per sample) and its own bookkeeping would inflate the figures; RSS growth at
this size (hundreds of MiB) is far above allocator noise.
"""

from __future__ import annotations

import functools

from .. import probe
from ..model import Engine, Workload
from ..targets import ratio_below
from .graph1m import PARAMS, QUICK_PARAMS, tasks

KIND = "peak_memory"


def case_for(engine: Engine):
    """A case that runs ``engine``'s graph build in a child process, if it has one."""
    if "graph_phases" not in engine.cases:
        return None
    return functools.partial(probe.peak_rss, engine.name)


WORKLOADS = [
    Workload(
        name="mem1m",
        summary="peak RSS growth of graph1m (build + cull + order) in a fresh process",
        kind=KIND,
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        tasks=tasks,
        repeat=1,  # deterministic to a few MiB; a dask sample takes ~50 s
        warmup="none",
        unit="B",
        target=ratio_below(1, "dask"),
        isolate=False,  # each sample is a fresh process already
        case_for=case_for,
    ),
]
