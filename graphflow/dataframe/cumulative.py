"""Cumulative sums, products, maxima and minima across partitions: pyarrow's kernels plus a carry.

`Cumulative` lowers to three steps.  Each partition's total (one value per column, and whether it held
a null) is reduced in parallel; a short sequential chain folds the totals into the carry each partition
starts from; then each partition runs pyarrow's ``cumulative_*`` kernel and folds its carry in (for
null-free int64/float64 sums and products `running.running_into`: one array, float sums as two chains)::

    totals:  S0 S1 S2 ...             (parallel: one pass over each partition)
    carries:     C1=S0  C2=C1+S1 ...  (sequential, one tiny value per column)
    output:  cum(P0)  cum(P1)+C1  cum(P2)+C2 ...

Under ``compute()`` the output step of numpy's columns runs in the pandas result's assembly instead,
straight into the result's memory (`Cumulative.edge_form`, `graphflow.dataframe.pending`).

Nulls follow pandas: with ``skipna=True`` a null stays null and is skipped; with ``skipna=False`` the
first null makes every later value null, in later partitions too.

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables
    >>> src = FromTables([pa.table({"x": [1, 2]}), pa.table({"x": [3]})])
    >>> node = Cumulative(src, "sum", True, src.schema)
    >>> from graphflow.dataframe.plan import lower
    >>> len(lower(node))   # 2 sources, 1 total (of P0), 1 carry, 2 outputs
    6
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import Ref, Task
from .labels import data_names, index_names
from .pending import CumulativeInto, PendingTable, dense_values
from .plan import PlanNode
from .running import running_into

__all__ = ["Cumulative", "cumulative_type", "CUMULATIVE"]

# name -> (pyarrow cumulative kernel, partition total, fold of two values)
CUMULATIVE = {
    "sum": ("cumulative_sum", "sum", "add"),
    "prod": ("cumulative_prod", "product", "multiply"),
    "max": ("cumulative_max", "max", "max_element_wise"),
    "min": ("cumulative_min", "min", "min_element_wise"),
}


def cumulative_type(how: str, t: pa.DataType, label) -> pa.DataType:
    """The Arrow type of ``cum<how>`` of a column of type ``t`` (pandas': bool sums count as int64)."""
    if pa.types.is_boolean(t):
        return pa.int64() if how in ("sum", "prod") else t
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return t
    if how in ("max", "min") and (pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_date(t)):
        return t
    if how == "sum" and pa.types.is_duration(t):
        return t
    raise TypeError(f"cum{how} is not supported for column {label!r} of type {t} (graphflow computes it with "
                    f"Arrow kernels on numbers and times; select those columns first, or use map_partitions "
                    f"for a per-partition pandas cum{how})")


def _as_kernel_input(col: pa.ChunkedArray, out_type: pa.DataType):
    """The column in a type the kernels accept (times as int64, bools as int64/as is)."""
    if pa.types.is_boolean(col.type) and out_type != col.type:
        return col.cast(pa.int64())
    if pa.types.is_temporal(col.type):
        return col.cast(pa.int64())
    return col


def _total(table, how, names, types):
    """Per column: (the partition's total of its non-null values or None, whether it held a null)."""
    kernel = CUMULATIVE[how][1]
    out = []
    for n, t in zip(names, types):
        col = _as_kernel_input(table.column(n), t)
        if kernel in ("sum", "product"):
            val = getattr(pc, kernel)(col, skip_nulls=True, min_count=1).as_py()
        else:
            val = getattr(pc, kernel)(col, skip_nulls=True).as_py()
        out.append((val, col.null_count > 0))
    return out


def _fold_value(how, a, b):
    if a is None:
        return b
    if b is None:
        return a
    return {"sum": lambda: a + b, "prod": lambda: a * b, "max": lambda: max(a, b), "min": lambda: min(a, b)}[how]()


def _fold(how, carry, total):
    """The carry after one more partition: totals folded, null flags or-ed."""
    if carry is None:
        return total
    return [(_fold_value(how, cv, tv), cn or tn) for (cv, cn), (tv, tn) in zip(carry, total)]


_NUMPY = ("sum", "prod")


def _dense(col, how, out_type) -> bool:
    """Whether numpy can take the column: a sum/product of int64/float64 without nulls, in its own type."""
    return how in _NUMPY and col.type == out_type and (pa.types.is_int64(col.type) or pa.types.is_float64(
        col.type)) and col.null_count == 0 and len(col) > 0


def _numpy_cumulative(col, how, carry) -> pa.Array:
    """The running sum/product of a null-free column with ``carry`` folded in (`running.running_into`: the
    same values the pandas result's assembly writes, one result array)."""
    values = col.chunk(0).to_numpy() if col.num_chunks == 1 else col.to_numpy()
    out = np.empty(len(values), dtype=values.dtype)
    running_into(values, carry, how, out)  # wraps on int overflow, as pyarrow's unchecked add/multiply do
    return pa.array(out)


def _column_result(table, carry, j, n, how, skipna, out_type, deferred=None):
    """Column ``n`` 's cumulative values with its carry folded in; with ``deferred`` (a dict) given, a
    column numpy can take is left to the result's assembly instead (`pending.CumulativeInto`), None."""
    kernel, _, fold = CUMULATIVE[how]
    col = _as_kernel_input(table.column(n), out_type)
    if carry is not None and not skipna and carry[j][1]:
        res = pa.nulls(len(col), col.type)  # a null before this partition poisons the rest
    elif _dense(col, how, out_type):
        value = carry[j][0] if carry is not None else None
        if deferred is not None:
            deferred[n] = CumulativeInto(dense_values(col), value, how)
            return None
        res = _numpy_cumulative(col, how, value)
    else:
        res = getattr(pc, kernel)(col, skip_nulls=skipna)
        if carry is not None and carry[j][0] is not None:
            value = pa.scalar(carry[j][0], type=res.type)
            # null positions stay null: fold with skip_nulls=False (the carry itself is never null here)
            res = pc.call_function(fold, [res, value], pc.ElementWiseAggregateOptions(skip_nulls=False)) \
                if fold.endswith("element_wise") else getattr(pc, fold)(res, value)
    return res.cast(out_type) if res.type != out_type else res


def _apply(table, carry, how, skipna, names, schema):
    """The partition's cumulative values with the carry of the partitions before it folded in."""
    cols = {n: _column_result(table, carry, j, n, how, skipna, schema.field(n).type) for j, n in enumerate(names)}
    return pa.Table.from_arrays([cols.get(f.name, table.column(f.name)) for f in schema], schema=schema)


def _apply_at_edge(table, carry, how, skipna, names, schema):
    """`_apply` for a partition that only feeds a computed result: the numpy columns left to the result's
    assembly to compute in place (a `pending.PendingTable`), the others computed here."""
    deferred, cols = {}, {}
    for j, n in enumerate(names):
        res = _column_result(table, carry, j, n, how, skipna, schema.field(n).type, deferred)
        if res is not None:
            cols[n] = res
    if not deferred:
        return pa.Table.from_arrays([cols.get(f.name, table.column(f.name)) for f in schema], schema=schema)
    rest = [f.name for f in schema if f.name not in deferred]
    kept = pa.Table.from_arrays([cols.get(n, table.column(n)) for n in rest], names=rest)
    return PendingTable(kept, deferred, schema.names)


class Cumulative(PlanNode):
    """``cum<how>`` of every data column (index columns pass through), across partitions."""

    label = "cumulative"

    def __init__(self, child, how, skipna, schema, at_edge=False):
        if how not in CUMULATIVE:
            raise ValueError(f"unknown cumulative operation {how!r}; one of {sorted(CUMULATIVE)}")
        self.children = (child,)
        self.how, self.skipna = how, bool(skipna)
        self._schema = schema
        self._npartitions = child.npartitions
        self.at_edge = at_edge  # partitions left pending for a compute's assembly (`edge_form`)

    def params(self):
        return (self.how, self.skipna, str(self._schema), self.at_edge)

    def edge_form(self):
        """This node with its sums/products of numpy columns computed by the result's assembly, straight
        into the result (`graphflow.dataframe.pending`): for ``compute()`` only."""
        return Cumulative(self.children[0], self.how, self.skipna, self._schema, at_edge=True)

    @property
    def divisions(self):
        child = self.children[0]
        return child.divisions if index_names(child.schema) else None

    def with_children(self, children):
        return Cumulative(children[0], self.how, self.skipna, self._schema, self.at_edge)

    def tasks(self):
        child, n = self.children[0], self.npartitions
        names = data_names(self._schema)
        types = [self._schema.field(c).type for c in names]
        out, carry = [], None
        apply = _apply_at_edge if self.at_edge else _apply
        for i in range(n):
            if carry is None:
                out.append(Task((self.name, i), apply, Ref((child.name, i)), None, self.how, self.skipna, names,
                                self._schema))
            else:
                out.append(Task((self.name, i), apply, Ref((child.name, i)), Ref(carry), self.how, self.skipna,
                                names, self._schema))
            if i == n - 1:
                break
            total = (self.name + "-total", i)
            out.append(Task(total, _total, Ref((child.name, i)), self.how, names, types))
            nxt = (self.name + "-carry", i + 1)
            out.append(Task(nxt, _fold, self.how, Ref(carry) if carry is not None else None, Ref(total)))
            carry = nxt
        return out

    def describe(self):
        return f"Cumulative[{self.npartitions}] cum{self.how} skipna={self.skipna}"
