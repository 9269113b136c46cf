"""Scheduling overhead through ``delayed``: ``n`` trivial ``inc(i)`` tasks summed by a fan-in-8 tree.

The user's view of many small tasks: build the calls one by one, then
``.compute()`` on the threaded scheduler.  Building and computing are timed
together (and reported as separate phases), because a lazy engine whose
graph building is slow is slow::

    inc(0) ... inc(7)   inc(8) ... inc(15)   ...      n leaves
         \\   |   /          \\   |   /
          add(*8)             add(*8)        ...      n/8, n/64, ... sums
                 \\            /
                      root                              one value: sum(i + 1)

10k leaves make 11,431 tasks, 100k leaves 114,289.  The dask case in
`benchmarks.anchors.dask` builds the same calls with ``dask.delayed``.
"""

from __future__ import annotations

import graphflow as gf

from .. import shapes
from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most

KIND = "delayed_sum"


def run(params) -> dict:
    """Build the delayed tree and compute it once; returns the phase timings."""
    n, fan_in = params["leaves"], params["fan_in"]
    watch = Stopwatch()
    inc, add = gf.delayed(shapes.inc), gf.delayed(shapes.add)
    leaves = [inc(i) for i in range(n)]
    root = shapes.reduce_tree(leaves, fan_in, lambda level, j, chunk: add(*chunk))
    watch.lap("build")
    value = root.compute(scheduler=params["scheduler"])
    watch.lap("compute")
    shapes.check("graphflow", value, shapes.expected_tree_sum(n))
    return watch.phases()


def _tasks(params) -> int:
    return shapes.tree_task_count(params["leaves"], params["fan_in"])


_QUICK = {"leaves": 200, "fan_in": 8, "scheduler": "threads"}

WORKLOADS = [
    Workload(
        name="sum10k",
        summary="10k delayed inc(i) + fan-in-8 tree sum, build + compute, threads",
        kind=KIND,
        params={"leaves": 10_000, "fan_in": 8, "scheduler": "threads"},
        quick_params=_QUICK,
        tasks=_tasks,
        target=ratio_at_most(1 / 3, "dask"),
    ),
    Workload(
        name="sum100k",
        summary="the same with 100k leaves",
        kind=KIND,
        params={"leaves": 100_000, "fan_in": 8, "scheduler": "threads"},
        quick_params=_QUICK,
        tasks=_tasks,
        repeat=3,  # dask takes ~15 s a run here
        warmup="small",
        target=ratio_at_most(1 / 3, "dask"),
    ),
]
