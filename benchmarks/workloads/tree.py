"""A tree reduction on a raw graph: ``2**14`` ``inc`` leaves summed with fan-in 8 (18,725 tasks).

No collection layer: the graph is written directly as graphflow nodes
(`Task`, `Ref`, `TaskGraph`), the way a library author would.  It is then
optimized (`optimize_graph`: cull, inline, fuse, order) and run with the
scheduler's ``get``, which is what ``gf.compute`` does with a collection.
The dask case writes the same graph as a dict of ``dask.task_spec.Task``
nodes and calls ``dask.threaded.get`` / ``dask.local.get_sync``, which
order the graph themselves.  Keys are tuples, ``("inc", i)`` and
``("sum", level, j)``, as in array-like dask graphs.
"""

from __future__ import annotations

from graphflow import get_scheduler
from graphflow.optimize import optimize_graph
from graphflow.spec import Ref, Task, TaskGraph

from .. import shapes
from ..clock import Stopwatch
from ..model import Workload

KIND = "raw_tree"


def build(leaves: int, fan_in: int):
    """The raw graph and its root key."""
    inc, add, sum_key = shapes.inc, shapes.add, shapes.sum_key
    keys = [shapes.leaf_key(i) for i in range(leaves)]
    nodes = [Task(k, inc, i) for i, k in enumerate(keys)]
    append = nodes.append

    def combine(level, j, chunk):
        key = sum_key(level, j)
        append(Task(key, add, *[Ref(k) for k in chunk]))
        return key

    root = shapes.reduce_tree(keys, fan_in, combine)
    return TaskGraph(nodes), root


def run(params) -> dict:
    """Build, optimize and compute the tree once; returns the phase timings."""
    n = params["leaves"]
    get = get_scheduler(params["scheduler"])
    watch = Stopwatch()
    graph, root = build(n, params["fan_in"])
    watch.lap("build")
    graph = optimize_graph(graph, [root])
    watch.lap("optimize")
    [value] = get(graph, [root])
    watch.lap("compute")
    shapes.check("graphflow", value, shapes.expected_tree_sum(n))
    return watch.phases()


def _tasks(params) -> int:
    return shapes.tree_task_count(params["leaves"], params["fan_in"])


WORKLOADS = [
    Workload(
        name=f"tree-{scheduler}",
        summary=f"raw graph, 2^14 leaves, fan-in 8 tree sum, build + optimize + run, {scheduler}",
        kind=KIND,
        params={"leaves": 2 ** 14, "fan_in": 8, "scheduler": scheduler},
        quick_params={"leaves": 2 ** 8, "fan_in": 8, "scheduler": scheduler},
        tasks=_tasks,
    )
    for scheduler in ("threads", "sync")
]
