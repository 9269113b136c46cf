"""The dask anchor: the same work as graphflow's cases, written the idiomatic dask way.

One case per workload kind, each a mirror of the graphflow case in
`benchmarks.workloads` of the same kind, built from the same `shapes`:

* ``delayed_sum`` / ``delayed_chain``: ``dask.delayed`` calls, then
  ``.compute(scheduler="threads")``;
* ``raw_tree``: a dict graph of ``dask.task_spec.Task`` nodes with
  ``TaskRef`` arguments (dask's current graph format; the old tuple tasks are
  converted to it at every entry point), run with ``dask.threaded.get`` or
  ``dask.local.get_sync``, which order the graph themselves;
* ``graph_phases``: that dict graph at 1M tasks, culled with the task-spec
  cull (``dask._task_spec.cull``: private, but it is what dask runs on such
  graphs; ``dask.optimization.cull`` is the older, ~3x slower one, kept as a
  fallback) and ordered with ``dask.order.order``.

Dask's threaded scheduler keeps a process-wide thread pool; the warm-up run
creates it, so samples do not pay for it.
"""

from __future__ import annotations

import dask
import dask.local
import dask.threaded
from dask.order import order
from dask.task_spec import Task, TaskRef

from .. import shapes
from ..clock import Stopwatch
from ..model import Engine

try:
    from dask._task_spec import cull as _cull
except ImportError:  # an older or newer dask without it: the public, legacy cull
    from dask.optimization import cull as _legacy_cull

    def _cull(dsk, keys):
        return _legacy_cull(dsk, keys)[0]

__all__ = ["engine"]

NAME = "dask"

_GETS = {"threads": dask.threaded.get, "sync": dask.local.get_sync}


def delayed_sum(params) -> dict:
    """``dask.delayed`` inc(i) leaves and a fan-in tree of adds, computed once."""
    n, fan_in = params["leaves"], params["fan_in"]
    watch = Stopwatch()
    inc, add = dask.delayed(shapes.inc), dask.delayed(shapes.add)
    leaves = [inc(i) for i in range(n)]
    root = shapes.reduce_tree(leaves, fan_in, lambda level, j, chunk: add(*chunk))
    watch.lap("build")
    value = root.compute(scheduler=params["scheduler"])
    watch.lap("compute")
    shapes.check(NAME, value, shapes.expected_tree_sum(n))
    return watch.phases()


def delayed_chain(params) -> dict:
    """``x = inc(x)`` with ``dask.delayed``, ``links`` times, computed once."""
    n = params["links"]
    watch = Stopwatch()
    inc = dask.delayed(shapes.inc)
    x = 0
    for _ in range(n):
        x = inc(x)
    watch.lap("build")
    value = x.compute(scheduler=params["scheduler"])
    watch.lap("compute")
    shapes.check(NAME, value, n)
    return watch.phases()


def build_tree(leaves: int, fan_in: int):
    """The raw task-spec dict graph of the tree reduction, and its root key."""
    inc, add, sum_key = shapes.inc, shapes.add, shapes.sum_key
    dsk = {}
    keys = [shapes.leaf_key(i) for i in range(leaves)]
    for i, k in enumerate(keys):
        dsk[k] = Task(k, inc, i)

    def combine(level, j, chunk):
        key = sum_key(level, j)
        dsk[key] = Task(key, add, *[TaskRef(k) for k in chunk])
        return key

    root = shapes.reduce_tree(keys, fan_in, combine)
    return dsk, root


def raw_tree(params) -> dict:
    """Build the dict graph and run it with dask's threaded or sync ``get``."""
    n = params["leaves"]
    get = _GETS[params["scheduler"]]
    watch = Stopwatch()
    dsk, root = build_tree(n, params["fan_in"])
    watch.lap("build")
    [value] = get(dsk, [root])
    watch.lap("compute")  # dask's get orders the graph itself: no separate optimize phase
    shapes.check(NAME, value, shapes.expected_tree_sum(n))
    return watch.phases()


def graph_phases(params) -> dict:
    """Build, cull and order the dict graph once."""
    watch = Stopwatch()
    dsk, root = build_tree(params["leaves"], params["fan_in"])
    watch.lap("build")
    culled = _cull(dsk, [root])
    watch.lap("cull")
    priorities = order(culled)
    watch.lap("order")
    shapes.check(NAME, len(priorities), shapes.tree_task_count(params["leaves"], params["fan_in"]))
    return watch.phases()


def engine() -> Engine:
    """dask as an `Engine`."""
    cases = {
        "delayed_sum": delayed_sum,
        "delayed_chain": delayed_chain,
        "raw_tree": raw_tree,
        "graph_phases": graph_phases,
    }
    from ..workloads.bag import DASK_CASES as BAG_CASES
    from ..workloads.dataframe import DASK_CASES
    from ..workloads.df_windows import DASK_CASES as WINDOW_CASES

    cases.update(DASK_CASES)
    cases.update(WINDOW_CASES)
    cases.update(BAG_CASES)
    return Engine(NAME, dask.__version__, cases, "import dask")
