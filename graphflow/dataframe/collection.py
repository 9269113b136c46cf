"""What DataFrame, Series and Scalar share: a plan, and the collection protocol over it.

A collection here is a thin handle on a `PlanNode`.  The graph is made only
when asked for: the plan is optimized once (`optimize_plan`), cached on the
handle, and lowered to tasks; ``__graphflow_keys__`` are the optimized plan's
output keys, so the graph and the keys always agree.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> s = gd.from_arrow(pa.table({"x": [1, 2, 3]}), npartitions=2).x.sum()
    >>> s.compute(scheduler="sync")
    6

`persist` rebuilds a handle over a `FromKeys` plan whose partitions are the
computed values, with the same keys.
"""

from __future__ import annotations

import pyarrow as pa

from .. import base
from ..interop.protocol import DaskCollection
from ..spec import TaskGraph
from .plan import FromKeys, lower

__all__ = ["PlanCollection", "concat_tables"]


def concat_tables(parts, schema=None):
    """One table from partition tables (zero-copy), keeping ``schema`` when there are none."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return schema.empty_table()
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="permissive")


class PlanCollection(DaskCollection):
    """Base of the dataframe collections: holds ``_plan`` and implements the protocol."""

    __graphflow_scheduler__ = "threads"

    def __init__(self, plan):
        self._plan = plan

    # -- the optimized plan, once
    def _optimized(self):
        try:
            return self.__dict__["_opt"]
        except KeyError:
            from .optimize import optimize_plan

            self.__dict__["_opt"] = opt = optimize_plan(self._plan)
            return opt

    def __graphflow_graph__(self):
        return TaskGraph._from_dict(lower(self._optimized()))

    def __graphflow_keys__(self):
        return self._optimized().keys()

    def __graphflow_tokenize__(self):
        return self._plan.name

    def __graphflow_rebuild__(self, graph):
        opt = self._optimized()  # the graph holds our keys and all they need (persist: just our keys)
        plan = FromKeys(dict(graph), opt.keys(), opt.schema, name=opt.name)
        return self._rebuilt(plan)

    def _rebuilt(self, plan):
        return type(self)(plan)

    # -- user methods
    def compute(self, **kwargs):
        """Compute; keywords as in `graphflow.compute` (``scheduler=``...)."""
        return base.compute(self, **kwargs)[0]

    def persist(self, **kwargs):
        """Compute the partitions and return the same collection backed by them."""
        return base.persist(self, **kwargs)[0]

    def visualize(self, filename: str = "graphflow.svg", **kwargs) -> str:
        """Draw the task graph; see `graphflow.visualize`."""
        return base.visualize(self, filename=filename, **kwargs)

    def explain(self, optimized: bool = True, file=None) -> str:
        """Print (and return) the plan tree, optimized unless ``optimized=False``."""
        from .optimize import format_plan

        text = format_plan(self._optimized() if optimized else self._plan)
        print(text, file=file)
        return text

    @property
    def npartitions(self) -> int:
        return self._plan.npartitions

    @property
    def divisions(self):
        """Partition boundaries when known, else None: after ``sort_values``, a tuple of
        ``npartitions + 1`` sort keys with each partition's keys after ``divisions[i]`` and at most
        ``divisions[i + 1]`` (None ends: unbounded; see `graphflow.dataframe.sort`)."""
        return self._plan.divisions
