"""``graphflow.dataframe.compute(a, b, ...)``: several collections computed at once, their plans optimized as one.

Each collection alone optimizes its own plan; asked for together, the plans
are put under one root (`Together`) and optimized once, so the rules see
every reader of a shared node: projection pushdown reads the union of the
columns all of them use (one Parquet read, not one per result), and a node
two results need is never fused into either, so it runs once.  Then
`graphflow.compute` runs the merged graph, where equal keys are one task.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"x": [1.0, 2.0, 6.0]}), npartitions=2)
    >>> total, big = gd.compute(df.x.sum(), df[df.x > df.x.mean()], scheduler="sync")
    >>> float(total), len(big)
    (9.0, 1)

Arguments that are not dataframe collections (other collections, plain
values, containers of them) are handled as `graphflow.compute` handles them.
"""

from __future__ import annotations

from .. import base
from ..spec.collections import unpack
from .collection import PlanCollection
from .optimize import optimize_plan
from .plan import PlanNode

__all__ = ["compute", "optimize_together", "Together"]


class Together(PlanNode):
    """A root over several plans, only for optimizing them together; never lowered to tasks."""

    label = "together"

    def __init__(self, children):
        self.children = tuple(children)
        self._schema = None
        self._npartitions = 0

    def with_children(self, children):
        return Together(children)

    def tasks(self):
        return []


def optimize_together(collections) -> list:
    """The dataframe collections among ``collections``, each over its part of one jointly optimized plan
    (the others as they are)."""
    ours = [c for c in collections if isinstance(c, PlanCollection)]
    if len(ours) < 2:  # alone, it may take its compute form (several: they may share its last node)
        return [c.for_compute() if isinstance(c, PlanCollection) else c for c in collections]
    root = optimize_plan(Together([c.expr for c in ours]))
    parts = {id(c): plan for c, plan in zip(ours, root.children)}
    return [c.with_optimized(parts[id(c)]) if id(c) in parts else c for c in collections]


def compute(*args, traverse: bool = True, optimize_graph: bool = True, scheduler=None, **kwargs) -> tuple:
    """Compute several collections at once, sharing work; a tuple of results, as `graphflow.compute`
    (and ``dask.compute``) gives.  ``scheduler=`` and the other keywords as there."""
    collections, repack = unpack(args, traverse)
    if not collections:
        return args
    joint = optimize_together(collections)
    values = base.compute(*joint, traverse=False, optimize_graph=optimize_graph, scheduler=scheduler, **kwargs)
    return repack({id(c): v for c, v in zip(collections, values)})
