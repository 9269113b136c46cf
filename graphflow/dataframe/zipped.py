"""Columns of co-partitioned collections put side by side, partition by partition.

``df["d"] = df.t.dt.date`` or ``df.assign(y=df.x.apply(f, meta=...))`` combine a frame with a Series that
a pandas function made from it: the Series is not a formula over the frame's columns, so it cannot be
evaluated on the frame's plan.  But both come from one plan node by partition-wise steps only
(projections, filters, ``map_partitions``, accessors, ``apply``...), so partition i of each holds rows of
that node's partition i.  Dask puts such collections together partition by partition; so does
`attach`, with one `AttachColumns` task per partition:

- where both sides have the same rows (the common case: an element-wise function), by position: the
  Series' column is added as it is, no copy, no join;
- else by index label inside the partition, as pandas aligns (``how="left"``: the frame's rows, a label
  missing on the Series' side gives a missing value; ``how="outer"``: the union, for arithmetic);
- without an index on either side, where a step may have dropped rows (a filter, a pandas function), by
  each row's position in the partition of the node both come from, made their index there
  (`graphflow.dataframe.row_ids`): the per-partition labels Dask aligns on;
- without an index on either side, different row counts and no such positions (a step that cannot
  carry them), a clear error: nothing to align on.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"x": [1, 2, 3, 4]}), npartitions=2)
    >>> df.assign(y=df.x.apply(lambda v: v * 10, meta=("x", "i8"))).compute(scheduler="sync").y.tolist()
    [10, 20, 30, 40]
"""

from __future__ import annotations

import pyarrow as pa

from .collection import OPERATIONS
from .colexpr import Col
from .labels import carry_categories, data_names, index_columns
from .plan import Blockwise, Project, unwrap_scalars
from .row_ids import POSITION, may_change_rows, positions_plan, replay, with_position_index

__all__ = ["AttachColumns", "attach", "common_source", "needs_pandas_text", "ZIP_PREFIX"]

ZIP_PREFIX = "__gf_zip_"


class AttachColumns:
    """Op: the partition ``left`` with the data columns ``take`` of ``right`` added as ``names``, before
    ``left`` 's index columns; rows matched as the module docstring says (``how``: "left" or "outer")."""

    def __init__(self, take, names, left_index, right_index, how="left"):
        self.take, self.names = tuple(take), tuple(names)
        self.left_index, self.right_index, self.how = tuple(left_index), tuple(right_index), how

    def __call__(self, left, right):
        same = left.num_rows == right.num_rows and (
            not (self.left_index and self.right_index)
            or all(left.column(a).equals(right.column(b)) for a, b in zip(self.left_index, self.right_index)))
        if not same:
            left, right = self._aligned(left, right)
        data = [c for c in left.column_names if c not in self.left_index]
        cols = [left.column(c) for c in data] + [right.column(c) for c in self.take] + \
               [left.column(c) for c in self.left_index]
        return pa.Table.from_arrays(cols, names=data + list(self.names) + list(self.left_index))

    def _aligned(self, left, right):
        """``left`` and ``right`` with rows matched by index label (pandas' alignment inside the partition)."""
        if not (self.left_index and self.right_index):
            raise ValueError(
                f"cannot put column(s) {list(self.names)} beside this frame: a partition has {left.num_rows} rows "
                f"here and {right.num_rows} there, and no index to match them on; compute the column from the "
                f"frame after the same filters, or give both an index (set_index)")
        lf, rf = _indexed(left, self.left_index), _indexed(right, self.right_index)
        if not rf.index.is_unique:
            raise ValueError("cannot reindex on an axis with duplicate labels")  # pandas' words
        if self.how == "outer":
            if not lf.index.is_unique:
                raise ValueError("cannot reindex on an axis with duplicate labels")
            union = lf.index.union(rf.index)
            lf, rf = lf.reindex(union), rf.reindex(union)
        else:
            rf = rf.reindex(lf.index)
        return _table(lf, left.schema, self.left_index), _table(rf, right.schema, self.right_index)

    def __graphflow_tokenize__(self):
        return ("attach-columns", self.take, self.names, self.left_index, self.right_index, self.how)

    def __repr__(self):
        return f"AttachColumns({list(self.names)}, {self.how})"


def _indexed(table, index_cols):
    """``table`` as a pandas frame of its data columns, indexed by its index columns."""
    pdf = table.to_pandas(types_mapper=None)
    return pdf.set_index(list(index_cols))


def _table(pdf, schema, index_cols):
    """The pandas frame ``pdf`` (indexed as `_indexed` made it) back in ``schema`` 's columns and types."""
    flat = pdf.reset_index()
    return pa.Table.from_arrays([pa.array(flat[f.name], type=f.type, from_pandas=True) for f in schema],
                                names=schema.names)


def _steps(plan):
    """``plan`` and the nodes it comes from by partition-wise steps over one collection, nearest first."""
    out = [plan]
    while isinstance(plan, Blockwise) and plan.children and not plan.broadcast[0]:
        op, scalars = unwrap_scalars(plan.op)
        if len(plan.children) - len(scalars) != 1 and not isinstance(op, AttachColumns):
            break
        plan = plan.children[0]
        out.append(plan)
    return out


def common_source(a, b):
    """The nearest plan node both plans ``a`` and ``b`` come from by partition-wise steps only, or None."""
    names = {p.name for p in _steps(a)}
    return next((p for p in _steps(b) if p.name in names), None)


def attach(frame, series, how="left"):
    """``(frame with series' column added, its arrow name)``; ``series`` must be co-partitioned with
    ``frame`` (`common_source` not None)."""
    if not (isinstance(series.column_expr, Col) and series.column_expr.name in data_names(series.source.schema)):
        series = series.to_frame("__gf_value__")["__gf_value__"]  # a formula: evaluated on its frame first
    left, right, taken = frame.expr, series.source, [series.column_expr.name]
    existing = set(left.schema.names)
    name = next(f"{ZIP_PREFIX}{i}__" for i in range(len(existing) + 1) if f"{ZIP_PREFIX}{i}__" not in existing)
    lidx, ridx = index_columns(left.schema), index_columns(right.schema)
    data = [f for f in left.schema if f.name not in lidx]
    fields = data + [pa.field(name, right.schema.field(taken[0]).type)] + [left.schema.field(c) for c in lidx]
    schema = carry_categories(left.schema, pa.schema(fields, metadata=left.schema.metadata),
                              {f.name: f.name for f in data})
    schema = carry_categories(right.schema, schema, {name: taken[0]})
    by_position = _by_position(left, right) if not (lidx or ridx) else None
    if by_position is not None:  # no index on either side, rows maybe dropped: match on positions
        left, right = by_position
        op = AttachColumns(taken, [name], [POSITION], [POSITION], how)
        joined = Blockwise(op, (left, right), with_position_index(schema), label="attach")
        keep = [(f.name, Col(f.name)) for f in schema]
        return OPERATIONS.DataFrame(Blockwise(Project(keep), (joined,), schema, label="drop-positions")), name
    op = AttachColumns(taken, [name], lidx, ridx, how)
    return OPERATIONS.DataFrame(Blockwise(op, (left, right), schema, label="attach")), name


def _by_position(left, right):
    """``(left, right)`` rebuilt from their common source with each row's position there as their index
    (`row_ids`), when a step on either side may have dropped rows; None when no step may (the rows then
    pair up in order) or a step cannot carry the positions (then they must pair up in order)."""
    source = common_source(left, right)
    if source is None or not (may_change_rows(left, source) or may_change_rows(right, source)):
        return None
    base = positions_plan(source)
    sides = replay(left, source, base), replay(right, source, base)
    return None if None in sides else sides


def needs_pandas_text(arrow_type, dtype) -> bool:
    """Whether ``astype(dtype)`` of a column of ``arrow_type`` is a cast to text that Arrow writes otherwise
    than pandas (floats, booleans, dates: ``1.0`` -> ``"1"``, ``True`` -> ``"true"``), so it runs in pandas
    (such a column then goes beside its frame by `attach`).  Integers and strings Arrow writes as pandas."""
    if not (dtype is str or (isinstance(dtype, str) and dtype in ("str", "string", "U"))):
        return False
    return not (pa.types.is_integer(arrow_type) or pa.types.is_string(arrow_type)
                or pa.types.is_large_string(arrow_type))
