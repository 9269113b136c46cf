"""What DataFrame, Series and Scalar share: a plan, and the collection protocol over it.

A collection here is a thin handle on a `PlanNode`.  The graph is made only
when asked for: the plan is optimized once (`optimize_plan`), cached on the
handle, and lowered to tasks; ``__graphflow_keys__`` are the optimized plan's
output keys, so the graph and the keys always agree.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> s = gd.from_arrow(pa.table({"x": [1, 2, 3]}), npartitions=2).x.sum()
    >>> int(s.compute(scheduler="sync"))
    6

`persist` rebuilds a handle over a `FromKeys` plan whose partitions are the
computed values, with the same keys.

The operations on collections live in modules that import the collections
(`reductions`, `groupby`, `join`, `sort`, `repartitioning`, `io`), so the
collections' methods reach them through `OPERATIONS`, a table that
``graphflow/dataframe/__init__.py`` fills once with `bind_operations` when the
package is imported.  The table is the only way up: `collection`, `series` and
`frame` import nothing from the modules above them.
"""

from __future__ import annotations

import copy

import pyarrow as pa

from .. import base
from ..interop.protocol import DaskCollection
from ..spec import TaskGraph
from .colexpr import ScalarArg
from .optimize import format_plan, optimize_plan
from .pending import join_parts
from .plan import FromKeys, lower
from .scalar_ops import ScalarArithmetic, to_numpy_value
from ..utils.optable import OperationTable

__all__ = ["PlanCollection", "Scalar", "CallMethod", "ColumnReductions", "concat_tables", "result_table",
           "CollectionOperations",
           "OPERATIONS",
           "bind_operations"]


def concat_tables(parts, schema=None):
    """One table from partition tables (zero-copy), keeping ``schema`` when there are none."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return schema.empty_table()
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="permissive")


def result_table(parts, schema):
    """The partitions as one table for the pandas result: their Arrow concatenation, or (when some are
    pending, see `graphflow.dataframe.pending`) a `pending.JoinedParts` the assembly computes into."""
    joined = join_parts(parts, schema)
    return concat_tables(parts, schema) if joined is None else joined


class PlanCollection(DaskCollection):
    """Base of the dataframe collections: holds ``expr`` (the logical plan) and implements the protocol."""

    __graphflow_scheduler__ = "threads"

    def __init__(self, plan):
        self.expr = plan

    # -- the optimized plan, once
    def optimized_plan(self):
        try:
            return self.__dict__["_opt"]
        except KeyError:
            self.__dict__["_opt"] = opt = optimize_plan(self.expr)
            return opt

    # -- the empty pandas object of the schema, once per schema
    def cached_meta(self, build):
        """``build()`` (the pandas ``meta`` of this collection's schema), made once per schema: the
        conversion costs ~10 ms on a wide frame and ``df.columns`` / ``df.dtypes`` ask for it often.
        Keyed on the schema, since ``df[name] = ...`` and ``pop`` give this collection a new plan."""
        schema = self.expr.schema
        hit = self.__dict__.get("_meta_cache")
        if hit is None or not (hit[0] is schema or hit[0].equals(schema, check_metadata=True)):
            hit = self.__dict__["_meta_cache"] = (schema, build())
        return hit[1]

    def __graphflow_graph__(self):
        return TaskGraph.adopt(lower(self.optimized_plan()))

    def __graphflow_keys__(self):
        return self.optimized_plan().keys()

    @staticmethod
    def __graphflow_collect__(collections) -> dict:
        # several at once (gf.compute(a, b)): one lowering, so a source they share is one node per partition
        return lower(*[PlanCollection.optimized_plan(c) for c in collections])

    def __graphflow_tokenize__(self):
        return self.expr.name

    def __graphflow_rebuild__(self, graph):
        opt = self.optimized_plan()  # the graph holds our keys and all they need (persist: just our keys)
        plan = FromKeys(dict(graph), opt.keys(), opt.schema, name=opt.name)
        return self._rebuilt(plan)

    def _rebuilt(self, plan):
        return type(self)(plan)

    def with_optimized(self, plan) -> "PlanCollection":
        """This collection with ``plan`` as its optimized plan (which must compute the same thing): how
        `graphflow.dataframe.compute` hands each collection its part of a plan optimized with others."""
        out = copy.copy(self)
        out.__dict__["_opt"] = plan
        return out

    def for_compute(self) -> "PlanCollection":
        """This collection as ``compute()`` runs it: its optimized plan's last node in its `edge form
        <graphflow.dataframe.plan.PlanNode.edge_form>` when it has one (partitions whose last step the
        pandas result's assembly does in place), else itself.  The keys differ from the plan's own, so a
        persisted or shared plan never holds such partitions."""
        if self.__dict__.get("_as_arrow"):
            return self
        edge = self.optimized_plan().edge_form()
        return self if edge is None else self.with_optimized(edge)

    # -- user methods
    def compute(self, **kwargs):
        """Compute; keywords as in `graphflow.compute` (``scheduler=``...)."""
        return base.compute(self.for_compute(), **kwargs)[0]

    def persist(self, **kwargs):
        """Compute the partitions and return the same collection backed by them."""
        return base.persist(self, **kwargs)[0]

    def visualize(self, filename: str = "graphflow.svg", **kwargs) -> str:
        """Draw the task graph; see `graphflow.visualize`."""
        return base.visualize(self, filename=filename, **kwargs)

    def explain(self, optimized: bool = True, file=None) -> str:
        """Print (and return) the plan tree, optimized unless ``optimized=False``."""
        text = format_plan(self.optimized_plan() if optimized else self.expr)
        print(text, file=file)
        return text

    @property
    def npartitions(self) -> int:
        return self.expr.npartitions

    def partitionwise(self, method: str, *args, meta=None, **kwargs):
        """pandas' ``method`` applied to every partition (as pandas objects): for the methods whose answer
        for a row depends on that row alone (``clip``, ``round``, ``str.pad``...).  ``method`` may be
        dotted (``"str.pad"``).  The result's columns and dtypes are inferred as in ``map_partitions``."""
        return OPERATIONS.map_partitions(CallMethod(method, args, kwargs), self, meta=meta)

    @property
    def divisions(self):
        """The index's divisions, as in Dask: ``npartitions + 1`` index values, partition i holding the rows
        with ``divisions[i] <= index < divisions[i + 1]`` (the last partition up to and including
        ``divisions[-1]``); all None when unknown (``set_index`` and ``from_pandas`` know them; filters,
        projections and ``map_partitions`` keep them; joins on columns, ``groupby``, ``reset_index`` lose
        them)."""
        known = self.expr.divisions
        return tuple(known) if known is not None else (None,) * (self.npartitions + 1)

    @property
    def known_divisions(self) -> bool:
        """Whether the divisions are known."""
        return self.expr.divisions is not None


class CallMethod:
    """A picklable ``lambda obj: obj.<method>(*args, **kwargs)`` (``method`` may be dotted: ``"str.pad"``)."""

    __slots__ = ("method", "args", "kwargs")

    def __init__(self, method, args=(), kwargs=None):
        self.method, self.args, self.kwargs = method, tuple(args), dict(kwargs or {})

    def __call__(self, obj):
        for part in self.method.split("."):
            obj = getattr(obj, part)
        return obj(*self.args, **self.kwargs)

    def __graphflow_tokenize__(self):
        from ..spec import tokenize

        return ("CallMethod", self.method, tokenize(self.args, self.kwargs))

    @property
    def __name__(self):
        return self.method


class Scalar(ScalarArithmetic, PlanCollection):
    """A lazy single value (a Series reduction), which behaves like a number (`scalar_ops`).

    ``dtype`` is the value's Arrow type; ``compute()`` gives it as pandas'
    reductions do (a numpy scalar: ``np.int64``, ``np.float64``, ``np.bool_``;
    NaN when missing).  A Scalar with ``dtype`` None holds some other value (a
    table), returned as is.
    """

    def __init__(self, plan, dtype: pa.DataType | None = None):
        super().__init__(plan)
        self.dtype = dtype

    @property
    def arrow_type(self):
        """The value's Arrow type (what a Series calls `arrow_type`; here also ``dtype``)."""
        return self.dtype

    def __graphflow_finalize__(self):
        return _first, (self.dtype,)

    def __repr__(self):
        return f"graphflow.Scalar<{self.expr.name}, dtype={self.dtype}>"

    def _rebuilt(self, plan):
        return Scalar(plan, self.dtype)

    def __graphflow_rebuild__(self, graph):
        opt = self.optimized_plan()
        return Scalar(FromKeys(dict(graph), opt.keys(), None, name=opt.name), self.dtype)

    def column_arg(self) -> ScalarArg:
        """This value as a leaf of a column formula, broadcast over the rows (`colexpr.ScalarArg`)."""
        if self.dtype is None:
            raise TypeError(f"{self!r} holds no column value; it cannot take part in column arithmetic")
        return ScalarArg(self.expr.name, self.dtype, self.expr)


def _first(parts, dtype=None):
    return to_numpy_value(parts[0], dtype)


# ------------------------------------------------------------------ the operations table


class CollectionOperations(OperationTable):
    """The functions the collections' methods call, from the modules that build on the collections.

    One slot per operation, each filled once by `bind_operations`.  Reading a
    slot that was never filled says so (it can only happen while
    ``graphflow.dataframe`` itself is still being imported).
    """

    __slots__ = ("DataFrame", "Series", "map_partitions", "stats", "rows", "convert", "from_pandas", "reduce",
                 "describe", "value_counts", "unique", "row_count", "GroupBy", "merge",
                 "sort_values", "drop_duplicates", "repartition", "to_parquet", "to_csv",
                 "set_index", "loc", "iloc", "join", "align_series", "align_frames",
                 "to_json", "to_orc", "to_hdf", "to_sql", "align", "combine", "combine_first", "current_divisions")

    package = "graphflow.dataframe"


OPERATIONS = CollectionOperations()


def bind_operations(**functions) -> None:
    """Fill `OPERATIONS`: every slot, each by name.  Called once, by ``graphflow/dataframe/__init__.py``.

    A missing or unknown name is a TypeError, so the table and the package
    cannot drift apart silently.
    """
    OPERATIONS.bind(**functions)


def _reducer(how: str, doc: str, ddof: bool = False):
    """A pandas-signature reduction method: ``axis=0`` (or None) reduces each column lazily, ``axis=1``
    reduces each row with pandas' own method per partition; ``skipna``/``split_every``/... are taken as in
    Dask (nulls are always skipped)."""

    def method(self, axis=None, skipna=True, numeric_only=False, split_every=False, ddof=1, min_count=0,
               **kwargs):
        extra = {"ddof": ddof} if how in ("var", "std") else {}
        if min_count and how == "sum":  # fewer than min_count present values: missing, as in pandas
            extra["min_count"] = min_count
        if axis in (1, "columns"):
            return self.partitionwise(how, axis=1, skipna=skipna, numeric_only=numeric_only, **extra)
        if axis not in (None, 0, "index"):
            raise ValueError(f"No axis named {axis!r} for object type {type(self).__name__}")
        return OPERATIONS.reduce(self, how, **extra)

    method.__name__ = how
    method.__doc__ = doc
    return method


class ColumnReductions:
    """The reductions of DataFrame and Series (`graphflow.dataframe.reductions`): on a Series a lazy
    `Scalar`, on a DataFrame a lazy Series with one value per column (as pandas); ``axis=1`` reduces rows."""

    sum = _reducer("sum", "The sum of each column (nulls skipped); lazy.")
    mean = _reducer("mean", "The mean of each column (nulls skipped); lazy.")
    min = _reducer("min", "The min of each column (nulls skipped); lazy.")
    max = _reducer("max", "The max of each column (nulls skipped); lazy.")
    count = _reducer("count", "The number of present values in each column; lazy.")
    nunique = _reducer("nunique", "The number of distinct present values in each column; lazy.")
    any = _reducer("any", "Whether any value of each column is true; lazy.")
    all = _reducer("all", "Whether every value of each column is true; lazy.")
    var = _reducer("var", "Variance with ``ddof`` (default 1, as pandas); nulls skipped.")
    std = _reducer("std", "Standard deviation with ``ddof`` (default 1); nulls skipped.")

    def quantile(self, q: float = 0.5):
        """Approximate quantile ``q`` (see `graphflow.dataframe.reductions` for the error)."""
        return OPERATIONS.reduce(self, "quantile", q=q)

    def describe(self):
        """count, mean, std, min, 25%, 50%, 75%, max of the numeric columns: a lazy DataFrame indexed by the
        statistics (as pandas)."""
        return OPERATIONS.describe(self)
