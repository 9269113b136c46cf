"""Two collections on one index: ``align``, ``combine`` / ``combine_first`` of unrelated collections, and
the divisions a frame has now (``compute_current_divisions``).

Aligning is pandas' outer (or inner/left/right) join of the two indexes: both sides come back over the
same rows, in the same partitions, a label missing on one side giving missing values (or
``fill_value``) there.  As in Dask it needs both sides' divisions: a join on the index by partitions
(`index_ops.index_merge`), each partition then sorted by its index, as pandas orders a union of
sorted indexes.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> a = gd.from_pandas(pd.Series([1.0, 2.0, 3.0], index=[1, 2, 3], name="a"), npartitions=2)
    >>> b = gd.from_pandas(pd.Series([10.0, 20.0], index=[2, 5], name="b"), npartitions=1)
    >>> x, y = a.align(b, fill_value=0)
    >>> x.compute(scheduler="sync").tolist(), y.compute(scheduler="sync").tolist()
    ([1.0, 2.0, 3.0, 0.0], [0.0, 10.0, 0.0, 20.0])

``combine(other, func)`` runs pandas' own ``combine`` partition by partition on the aligned pair (or
directly, when the two are already partitioned alike).
"""

from __future__ import annotations

import warnings

import pyarrow as pa
import pyarrow.compute as pc

from .. import base
from .colexpr import Call, Col, Lit
from .frame import DataFrame, map_partitions
from .index_ops import index_merge
from .labels import data_names, index_column, index_names
from .plan import Blockwise, Func, Project
from .series import Series

__all__ = ["align", "combine", "combine_first", "compute_current_divisions", "co_partitioned"]

_JOINS = ("outer", "inner", "left", "right")


def _check_alignable(a, b):
    if not (a.known_divisions and b.known_divisions):
        raise ValueError("Not all divisions are known, can't align partitions. Please use `set_index` (or "
                         "from_pandas, which keeps the index) to set the index.")


def co_partitioned(a, b) -> bool:
    """Whether partition i of ``a`` and of ``b`` hold the same index labels (same frame, or equal known
    divisions), so that a partition-wise pandas operation on the pair gives pandas' answer."""
    if isinstance(a, Series) and isinstance(b, Series) and _same_frame(a, b):
        return True
    if a.expr is b.expr:
        return True
    return a.known_divisions and b.known_divisions and tuple(a.divisions) == tuple(b.divisions)


def _same_frame(a, b) -> bool:
    """Whether Series ``b`` can be evaluated row by row on ``a`` 's frame (both columns of one frame)."""
    try:
        b.column_expr_on(a.source)
    except ValueError:
        return False
    return True


def _sort_by_index(table):
    return table.sort_by(index_column(0)) if table.num_rows > 1 else table


def _frame(obj):
    return obj.to_frame() if isinstance(obj, Series) else obj


def align(a, b, join: str = "outer", axis=None, fill_value=None, new_only=None):
    """``(a', b')``: ``a`` and ``b`` (both DataFrames or both Series) over the union (``join``) of their
    indexes and, for frames with ``axis`` None or 1, of their columns, as pandas' ``align``.
    ``new_only``: whether ``fill_value`` fills only the rows a side lacked (pandas: frames yes, Series
    no; ``combine`` wants it for both)."""
    if join not in _JOINS:
        raise ValueError(f"join must be one of {list(_JOINS)}, not {join!r}")
    if isinstance(a, Series) != isinstance(b, Series):
        raise NotImplementedError("align of a DataFrame with a Series is not supported; align two DataFrames "
                                  "or two Series")
    series = isinstance(a, Series)
    if series and axis not in (None, 0, "index"):
        raise ValueError(f"No axis named {axis} for object type Series")
    if not series and axis not in (None, 0, 1, "index", "columns"):
        raise ValueError(f"No axis named {axis} for object type DataFrame")
    fa, fb = _frame(a), _frame(b)
    if series:
        la, lb = [a.name], [b.name]
        cols_a = cols_b = None
    else:
        la, lb = list(fa.columns), list(fb.columns)
        if axis in (None, 1, "columns"):
            cols_a = cols_b = list(fa.meta.align(fb.meta, join=join, axis=1)[0].columns)
        else:
            cols_a, cols_b = la, lb
    if not series and axis in (1, "columns"):  # columns only: no rows move
        return _select(fa, la, "", cols_a, fill_value), _select(fb, lb, "", cols_b, fill_value)
    _check_alignable(fa, fb)
    left = fa.project([(f"__gf_a{i}__", Col(n)) for i, n in enumerate(data_names(fa.schema))]
                      + [("__gf_a_in__", Lit(True))])
    right = fb.project([(f"__gf_b{i}__", Col(n)) for i, n in enumerate(data_names(fb.schema))]
                       + [("__gf_b_in__", Lit(True))])
    joined = index_merge(left, right, how=join, left_index=True, right_index=True)
    joined = DataFrame(Blockwise(Func(_sort_by_index), (joined.expr,), joined.schema, label="align-sort",
                                 divisions=joined.expr.divisions))
    if series:
        new = bool(new_only)
        x = _select(joined, la, "__gf_a", la, fill_value, "__gf_a_in__" if new else "all")
        y = _select(joined, lb, "__gf_b", lb, fill_value, "__gf_b_in__" if new else "all")
        return _as_series(x, a.name), _as_series(y, b.name)
    return (_select(joined, la, "__gf_a", cols_a, fill_value, "__gf_a_in__"),
            _select(joined, lb, "__gf_b", cols_b, fill_value, "__gf_b_in__"))


def _select(joined, labels, prefix, out_labels, fill_value, rows=None):
    """The frame of ``out_labels`` from ``joined``: a side's own column (``prefix`` + its position among
    ``labels``; no prefix: the column itself), or all missing where the side lacks it.  ``fill_value``
    fills what pandas' ``align`` fills: the columns the side lacks, and in the side's own columns the
    rows ``rows`` says: a marker column's name (null on the rows the join made up: a frame's), ``"all"``
    (every missing value: a Series'), or None (none)."""
    exprs, names = [], {}
    for j, lab in enumerate(out_labels):
        name = lab if isinstance(lab, str) else f"__col_{j}__"
        if lab in labels:
            src = f"{prefix}{labels.index(lab)}__" if prefix else joined.arrow_name(lab)
            e = Col(src)
            if fill_value is not None and rows is not None:
                missing = None if rows == "all" else Call("is_null", [Col(rows)])
                e = _filled(e, joined.schema.field(src).type, fill_value, missing)
        else:
            e = Lit(fill_value) if fill_value is not None else Lit(pa.scalar(None, pa.float64()))
        exprs.append((name, e))
        names[name] = lab
    return joined.project(exprs, labels=names)


def _filled(e, t, value, where=None):
    """``e`` with ``value`` where ``where`` holds (None: where ``e`` is null or NaN); an integer column
    filled with a fraction becomes float64, as in pandas."""
    try:
        fill = pa.scalar(value).cast(t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        if not (pa.types.is_integer(t) and isinstance(value, float)):
            raise TypeError(f"cannot fill a column of type {t} with {value!r}") from None
        e, fill = Call("cast", [e], pc.CastOptions.safe(pa.float64())), pa.scalar(value, pa.float64())
    if where is None:
        where = Call("is_null", [e], pc.NullOptions(nan_is_null=True))
    return Call("if_else", [where, Lit(fill), e])


def _as_series(frame, name):
    col = data_names(frame.schema)[0]
    return Series(frame.expr, Col(col), name, frame.schema.field(col).type)


# ------------------------------------------------------------------ combine


def _combine(ours, theirs, func, fill_value, *extra):
    return ours.combine(theirs, func, fill_value, *extra)


def _combine_first(ours, theirs):
    return ours.combine_first(theirs)


def _paired(a, b, fill_value=None):
    """``a`` and ``b`` partitioned alike: as they are, or aligned (outer) on the index, the labels one
    side lacks given ``fill_value`` there (as pandas' ``Series.combine`` fills)."""
    if co_partitioned(a, b):
        return a, b
    return align(a, b, join="outer", fill_value=fill_value, new_only=True)


def combine(a, other, func, fill_value=None, overwrite=None, meta=None):
    """pandas' ``combine`` (``func`` on the two Series, or each pair of columns), partition by partition
    over ``a`` and ``other`` aligned on the index; ``other`` may be a scalar (for a Series)."""
    extra = () if overwrite is None else (overwrite,)
    if not isinstance(other, (DataFrame, Series)):
        return map_partitions(_combine, a, other, func, fill_value, *extra, meta=meta)
    if isinstance(a, Series) != isinstance(other, Series):
        raise TypeError(f"cannot combine a {type(a).__name__} with a {type(other).__name__}")
    x, y = _paired(a, other, fill_value if isinstance(a, Series) else None)
    out = map_partitions(_combine, x, y, func, fill_value, *extra, meta=meta)
    if isinstance(a, DataFrame):  # pandas' column order: ours, then other's new ones (not the aligned order)
        order = list(a.columns.union(other.columns, sort=False))
        if order != list(out.columns):
            out = out[order]
    return out


def combine_first(a, other):
    """pandas' ``combine_first``: ``a`` 's values, ``other`` 's where ``a`` 's are missing, over both
    indexes."""
    x, y = _paired(a, other)
    return map_partitions(_combine_first, x, y)


# ------------------------------------------------------------------ divisions


def _bounds(table, name):
    """One row: the smallest and largest value of column ``name`` in this partition (null when empty)."""
    col = table.column(name)
    mm = pc.min_max(col)
    return pa.table({"lo": pa.array([mm["min"].as_py()], col.type), "hi": pa.array([mm["max"].as_py()], col.type)})


def compute_current_divisions(df, col=None, set_divisions: bool = False):
    """The divisions from the data now (each partition's smallest index value, then the largest of the
    last); computes.  Known divisions are returned as they are (``set_divisions``: the frame itself)."""
    if col is None and df.known_divisions:
        return df if set_divisions else df.divisions
    if col is not None and set_divisions:
        raise NotImplementedError("Can't set divisions of non-index, call set_index instead.")
    schema = df.expr.schema  # a Series' plan holds its column and the index
    if col is None and not index_names(schema):
        raise ValueError("the collection has no stored index (only per-partition positions): set one with "
                         "set_index")
    if col is not None and not isinstance(df, DataFrame):
        raise TypeError("compute_current_divisions(col=) takes a DataFrame's column; a Series has only its index")
    name = index_column(0) if col is None else df.arrow_name(col)
    t = schema.field(name).type
    bounds_schema = pa.schema([pa.field("lo", t), pa.field("hi", t)])
    per = DataFrame(Blockwise(Func(_bounds, name), (df.expr,), bounds_schema, label="partition-bounds"))
    [bounds] = base.compute(per)  # one row per partition, as pandas values (Dask's divisions are pandas')
    mins, maxes = list(bounds["lo"]), list(bounds["hi"])
    if any(a <= b for a, b in zip(mins[1:], maxes[:-1])):
        warnings.warn("Partitions have overlapping values, so divisions are non-unique. Use "
                      "`set_index(sorted=True)` with no `divisions` to allow dask to fix the overlap. This will "
                      "become an error in the future", FutureWarning, stacklevel=3)
    divisions = tuple(mins) + (maxes[-1],)
    if not set_divisions:
        return divisions
    keep = [(n, Col(n)) for n in schema.names]
    plan = Blockwise(Project(keep), (df.expr,), schema, label="set-divisions", divisions=divisions)
    if isinstance(df, DataFrame):
        return DataFrame(plan)
    return Series(plan, Col(df.arrow_column), df.name, df.arrow_type)
