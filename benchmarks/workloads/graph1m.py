"""Build, cull and order a million-task raw graph, timing each phase.

1M independent ``inc(i)`` tasks summed by a fan-in-8 tree: 1,142,860 nodes.
This is the optimizer's hot path at scale, with no execution at all:

* build: the `Task`/`Ref` nodes and the `TaskGraph`;
* cull: `graphflow.optimize.cull` to the root (nothing is dropped, but the
  integer index every later pass uses is built here);
* order: `graphflow.optimize.order`, the static priorities.

The dask case builds a dict of ``dask.task_spec.Task`` nodes, culls it with
the task-spec cull (``dask._task_spec.cull``, what dask itself uses on such
graphs; the older ``dask.optimization.cull`` is about 3x slower) and orders
it with ``dask.order.order``.  The same case runs in a fresh process to
measure peak memory (`benchmarks.workloads.memory`).
"""

from __future__ import annotations

from graphflow.optimize import cull, order

from .. import shapes
from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most
from .tree import build

KIND = "graph_phases"


def run(params) -> dict:
    """Build, cull and order the graph once; returns the phase timings."""
    watch = Stopwatch()
    graph, root = build(params["leaves"], params["fan_in"])
    watch.lap("build")
    culled = cull(graph, [root])
    watch.lap("cull")
    ordered = order(culled, [root])
    watch.lap("order")
    expected = shapes.tree_task_count(params["leaves"], params["fan_in"])
    shapes.check("graphflow", len(ordered.priorities), expected)
    return watch.phases()


def tasks(params) -> int:
    """Nodes in the graph these parameters make."""
    return shapes.tree_task_count(params["leaves"], params["fan_in"])


PARAMS = {"leaves": 1_000_000, "fan_in": 8}
QUICK_PARAMS = {"leaves": 2_000, "fan_in": 8}

WORKLOADS = [
    Workload(
        name="graph1m",
        summary="raw 1M-task graph (1M inc + fan-in-8 tree): build + cull + order",
        kind=KIND,
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        tasks=tasks,
        repeat=3,  # ~50 s per dask run, most of it in dask.order
        warmup="small",
        target=ratio_at_most(1 / 2, "dask"),
    ),
]
