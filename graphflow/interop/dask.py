"""Dask interop: Dask graphs on graphflow, graphflow graphs on dask.distributed.  Imports dask.

Dask graphs on graphflow
    `dask_get` is a Dask scheduler function, ``get(dsk, keys, **kwargs)``:
    it converts the Dask graph (`graphflow.interop.convert.from_dask`: task
    spec nodes, old tuple tasks, aliases, fused subgraphs), runs graphflow's
    optimizer (cull, inline, blockwise and linear fusion, order) and the local
    threads executor, and returns the values in the nesting of ``keys`` (lists
    as tuples, as Dask's own local schedulers do)::

        with dask.config.set(scheduler=gf.dask_get):
            da.ones((1000, 1000), chunks=100).sum().compute()

    `run_dask_graph` is the same with any graphflow ``get``; ``client.dask_get``
    uses it with the cluster client's ``get``.

graphflow graphs on dask.distributed
    ``gf.compute(x, scheduler=dask_client)`` uses `DistributedScheduler`: the
    optimized graph becomes Dask task-spec nodes (`convert.to_dask`) and goes
    to ``client.get``; placement, transfers and retries are Dask's.  A task's
    exception comes back with its type and a note naming the graphflow key.

graphflow collections in Dask
    `collection_graph` and `rebuild_persisted` back the
    ``__dask_*__`` methods of `graphflow.interop.protocol.DaskCollection`, so
    ``dask.compute(gf_array)`` works (on graphflow's threads, through
    `dask_get`, unless another Dask scheduler is chosen).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..spec import DataNode, TaskGraph
from . import require

require("dask", "dask", "running Dask graphs")

from ..spec.collections import flatten_keys  # noqa: E402
from .convert import flatten_dask_keys, from_dask, nest_dask_values, to_dask  # noqa: E402

__all__ = ["dask_get", "run_dask_graph", "DistributedScheduler", "collection_graph", "rebuild_persisted"]


def materialize(dsk) -> Mapping:
    """The task graph of what Dask hands a scheduler function (a mapping, or an expression).

    Dask's low-level optimizer for ``dask.delayed`` only culls and fuses linear
    chains, which graphflow's optimizer does too; Dask's version culls layer by
    layer, quadratic in the number of delayed objects (3.5 s for 10k of them),
    so for delayed graphs the raw graph is taken and Dask's pass skipped.  Other
    collections (arrays' blockwise fusion, dataframes' expressions) go through
    Dask's own optimization as usual.
    """
    if isinstance(dsk, Mapping):
        return dsk
    try:
        from dask._expr import HLGExpr, _HLGExprSequence
        from dask.delayed import optimize as delayed_optimize
        from dask.utils import ensure_dict
    except ImportError:  # another Dask version: its own materialization
        return dsk.__dask_graph__()
    ops = dsk.operands if type(dsk) is _HLGExprSequence else [dsk]
    if not all(isinstance(op, HLGExpr) for op in ops):
        return dsk.__dask_graph__()
    graph: dict = {}
    for op in ops:
        if op.low_level_optimizer is delayed_optimize:
            graph.update(ensure_dict(op.hlg))
        else:
            graph.update(op.__dask_graph__())
    return graph


def run_dask_graph(dsk, keys, get, optimize_graph: bool = True, **options):
    """Run a Dask graph with a graphflow ``get(graph, keys, **options)``; values nested like ``keys``."""
    converted = from_dask(materialize(dsk), keys)
    flat = list(dict.fromkeys(flatten_dask_keys(keys, [])))
    gkeys = converted.keys_of(flat)
    graph = converted.graph
    if optimize_graph:
        from ..optimize import optimize_graph as run_optimizer

        graph = run_optimizer(graph, gkeys, stages=_STAGES)
    values = dict(zip(flat, get(graph, gkeys, **options)))
    return nest_dask_values(keys, values)


# Dask optimized its graph already (blockwise fusion, culling); graphflow's chain fusion and inlining
# on top of it merge a block's producer into one reader and leave the block alive for the others:
# (x + x.T).mean(0) then held 610 MB in the sync order where culling and ordering alone hold 61 MB.
_STAGES = ("cull", "order")


def dask_get(dsk, keys, num_workers: int | None = None, optimize_graph: bool = True, **kwargs):
    """A Dask scheduler function running Dask graphs on graphflow's local threads.

    ``dask.compute(x, scheduler=gf.dask_get)`` or ``dask.config.set(scheduler=gf.dask_get)``.
    ``num_workers`` threads (default: one per core); ``optimize_graph=False``
    skips graphflow's optimizer (Dask's own optimizations still ran).

    >>> from operator import add
    >>> dask_get({"a": 1, "b": (add, "a", 10)}, ["b", "a"])
    (11, 1)
    """
    if kwargs:
        raise TypeError(f"gf.dask_get got unexpected option(s) {sorted(kwargs)}; "
                        f"it takes num_workers= and optimize_graph=")
    import contextlib

    from ..local.executors import get_threads, resolve_num_workers

    dsk = materialize(dsk)
    scope = contextlib.nullcontext()
    if resolve_num_workers(num_workers) > 1 and _blas_tasks(dsk) > 1:
        from ..local.blas import shared_cores

        scope = shared_cores(pooled=True)  # Dask's products run side by side: one BLAS thread each
    with scope:
        return run_dask_graph(dsk, keys, get_threads, optimize_graph, num_workers=num_workers)


# Block functions of dask.array that are one BLAS call (or a few): numpy's own names and Dask's wrappers.
_BLAS_NAMES = frozenset({"matmul", "_matmul", "dot", "tensordot", "_tensordot", "einsum", "_einsum", "inner",
                         "outer", "vdot", "solve", "lstsq", "qr", "svd", "cholesky", "inv"})


def _blas_tasks(dsk) -> int:
    """How many tasks of ``dsk`` run a matrix product or factorization (by function name)."""
    import functools

    count = 0
    for value in dsk.values():
        func = getattr(value, "func", None)
        if func is None and type(value) is tuple and value and callable(value[0]):
            func = value[0]
        while isinstance(func, functools.partial):
            func = func.func
        if getattr(func, "__name__", None) in _BLAS_NAMES:
            count += 1
    return count


class DistributedScheduler:
    """``get(graph, keys)`` running a graphflow graph on a ``dask.distributed.Client``."""

    def __init__(self, client):
        self.client = client

    def __call__(self, graph, keys, num_workers=None, **options) -> list:
        # num_workers is a local-executor option: the Dask cluster has its own workers.
        if not isinstance(graph, TaskGraph):
            graph = TaskGraph(graph)
        return self.client.get(to_dask(graph), list(keys), sync=True, **options)

    def __repr__(self):
        return f"<graphflow DistributedScheduler on {self.client!r}>"


# ---------------------------------------------------------------------- graphflow collections seen by Dask


def collection_graph(collection) -> dict:
    """The Dask task-spec graph of a graphflow collection (unoptimized, as Dask expects)."""
    from ..spec.collections import collections_to_graph

    return to_dask(collections_to_graph([collection]))


def rebuild_persisted(dsk, collection, rename=None):
    """A collection's ``__dask_postpersist__`` rebuild: the same keys, backed by Dask's computed values."""
    values = {key: DataNode(key, dsk[key]) for key in flatten_keys(collection.__graphflow_keys__(), [])}
    return collection.__graphflow_rebuild__(TaskGraph.adopt(values))
