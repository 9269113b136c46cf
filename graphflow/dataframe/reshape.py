"""Reshaping and conversion: ``melt``, ``explode``, ``get_dummies``, ``pivot_table``, ``to_datetime``,
``to_numeric``, with Dask's rules.

``melt``, ``explode``, ``get_dummies``, ``to_datetime`` and ``to_numeric`` work
partition by partition (pandas' function on each partition, as Dask does);
``get_dummies`` needs known categories (`graphflow.dataframe.categorical`) so
that every partition makes the same columns.  ``pivot_table`` is a tree
reduction: each partition is grouped by (index, column) in long form, the
partial groups are merged, and the last step spreads the known categories of
``columns`` into the output's columns:

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> pdf = pd.DataFrame({"k": [1, 1, 2], "c": ["x", "y", "x"], "v": [1.0, 2.0, 3.0]})
    >>> df = gd.from_pandas(pdf, npartitions=2).categorize(columns=["c"])
    >>> gd.pivot_table(df, index="k", columns="c", values="v", aggfunc="sum").compute(scheduler="sync")["x"].tolist()
    [1.0, 3.0]

``melt`` gives each partition's rows a fresh position index, as Dask's does.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from .accessors import empty_pandas
from .collection import OPERATIONS, PlanCollection
from .labels import categories, column_labels, data_names, with_columns_axis
from .pandas_edge import frame_to_arrow, to_pandas_frame
from .plan import Blockwise, Reduce

__all__ = ["ReshapeMethods", "SeriesReshapeMethods", "melt", "get_dummies", "pivot_table", "to_datetime",
           "to_numeric"]

_NOT_CAT = ("`get_dummies` with non-categorical dtypes is not supported. Please use `df.categorize()` beforehand "
            "to convert to categorical dtype.")
_UNKNOWN_CAT = ("`get_dummies` with unknown categories is not supported. Please use `column.cat.as_known()` or "
                "`df.categorize()` beforehand to ensure known categories")
_AGGFUNCS = ("mean", "sum", "count", "first", "last")


def _is_collection(obj) -> bool:
    return isinstance(obj, PlanCollection)


def _is_series(obj) -> bool:
    return getattr(obj, "column_expr", None) is not None


def _explode_meta(coll, names):
    """The empty pandas result of exploding the list columns ``names`` (Arrow names) of ``coll``."""
    schema = coll.expr.schema
    fields = []
    for f in schema:
        if f.name in names:
            if not (pa.types.is_list(f.type) or pa.types.is_large_list(f.type)):
                fields.append(f)
                continue
            fields.append(pa.field(f.name, f.type.value_type))
        else:
            fields.append(f)
    out = pa.schema(fields, metadata=schema.metadata)
    meta = to_pandas_frame(out.empty_table(), out)
    return meta.iloc[:, 0] if _is_series(coll) else meta


class _CallFunc:
    """A picklable ``lambda obj: func(obj, *args, **kwargs)`` for a pandas module function."""

    def __init__(self, name, args=(), kwargs=None):
        self.name, self.args, self.kwargs = name, tuple(args), dict(kwargs or {})

    def __call__(self, obj):
        return getattr(pd, self.name)(obj, *self.args, **self.kwargs)

    def __graphflow_tokenize__(self):
        from ..spec import tokenize

        return ("pandas-func", self.name, tokenize(self.args, self.kwargs))


class ReshapeMethods:
    """DataFrame methods: ``melt``, ``explode``, ``pivot_table`` (a mixin)."""

    def melt(self, id_vars=None, value_vars=None, var_name=None, value_name="value", col_level=None):
        """Unpivot to long form, partition by partition (see `melt`)."""
        return melt(self, id_vars, value_vars, var_name, value_name, col_level)

    def explode(self, column):
        """One row per element of the list column(s) ``column``, the other values (and index) repeated."""
        labels = [column] if not isinstance(column, (list, tuple)) else list(column)
        names = [self.arrow_name(c) for c in labels]
        meta = _explode_meta(self, names)
        return OPERATIONS.map_partitions(_CallMethodExplode(column), self, meta=meta)

    def pivot_table(self, index=None, columns=None, values=None, aggfunc="mean"):
        """See `pivot_table`."""
        return pivot_table(self, index, columns, values, aggfunc)


class SeriesReshapeMethods:
    """Series methods: ``explode`` (a mixin)."""

    def explode(self):
        """One row per element of each list, the index repeated."""
        meta = _explode_meta(self, [self.arrow_column])
        return OPERATIONS.map_partitions(_CallMethodExplode(None), self, meta=meta)


class _CallMethodExplode:
    def __init__(self, column):
        self.column = column

    def __call__(self, obj):
        return obj.explode() if self.column is None else obj.explode(self.column)

    def __graphflow_tokenize__(self):
        return ("explode", repr(self.column))


def melt(frame, id_vars=None, value_vars=None, var_name=None, value_name="value", col_level=None):
    """pandas' ``melt`` on every partition (a pandas frame goes to pandas directly)."""
    kwargs = dict(id_vars=id_vars, value_vars=value_vars, var_name=var_name, value_name=value_name,
                  col_level=col_level)
    if not _is_collection(frame):
        return pd.melt(frame, **kwargs)
    return OPERATIONS.map_partitions(_CallFunc("melt", (), kwargs), frame)


def get_dummies(data, prefix=None, prefix_sep="_", dummy_na=False, columns=None, sparse=False, drop_first=False,
                dtype=bool, **kwargs):
    """One indicator column per category of each categorical column (which must have known categories, as in
    Dask); pandas objects go to ``pandas.get_dummies``."""
    kw = dict(prefix=prefix, prefix_sep=prefix_sep, dummy_na=dummy_na, columns=columns, sparse=sparse,
              drop_first=drop_first, dtype=dtype, **kwargs)
    if not _is_collection(data):
        return pd.get_dummies(data, **kw)
    schema, known = data.expr.schema, categories(data.expr.schema)
    if _is_series(data):
        if not pa.types.is_dictionary(data.arrow_type):
            raise NotImplementedError(_NOT_CAT)
        if data.arrow_column not in known:
            raise NotImplementedError(_UNKNOWN_CAT)
    else:
        names = dict(zip(column_labels(schema), data_names(schema)))
        if columns is None:
            picked = [n for n in data_names(schema) if pa.types.is_dictionary(schema.field(n).type)]
            if not picked:
                raise NotImplementedError(_NOT_CAT)
        else:
            picked = [names[c] if c in names else c for c in columns]
            missing = [c for c in columns if c not in names]
            if missing:
                raise KeyError(f"{missing} not in columns {list(names)}")
            if not all(pa.types.is_dictionary(schema.field(n).type) for n in picked):
                raise NotImplementedError(_NOT_CAT)
        if not all(n in known for n in picked):
            raise NotImplementedError(_UNKNOWN_CAT)
    meta = pd.get_dummies(empty_pandas(data), **kw)
    return OPERATIONS.map_partitions(_CallFunc("get_dummies", (), kw), data, meta=meta)


# ------------------------------------------------------------------ pivot_table


def _scalar(x) -> bool:
    return not isinstance(x, (list, tuple, dict, set)) and not _is_collection(x)


def _check_pivot(df, index, columns, values, aggfunc):
    labels = list(column_labels(df.expr.schema))
    if not _scalar(index) or index not in labels:
        raise ValueError("'index' must be the name of an existing column")
    if not _scalar(columns) or columns not in labels:
        raise ValueError("'columns' must be the name of an existing column")
    col = _arrow_name(df, columns)
    if not pa.types.is_dictionary(df.expr.schema.field(col).type):
        raise ValueError("'columns' must be category dtype")
    if col not in categories(df.expr.schema):
        raise ValueError("'columns' must have known categories")
    vals = [values] if _scalar(values) else list(values) if isinstance(values, (list, tuple)) else None
    if not vals or not all(_scalar(v) and v in labels for v in vals):
        raise ValueError("'values' must refer to an existing column or columns")
    if not _scalar(aggfunc) or aggfunc not in _AGGFUNCS:
        raise ValueError("aggfunc must be either " + ", ".join(f"'{x}'" for x in _AGGFUNCS))
    return vals


def _parts(aggfunc):
    return ("sum", "count") if aggfunc == "mean" else (aggfunc,)


class _PivotStep:
    """Op of ``pivot_table``: ``"chunk"`` groups one partition in long form; ``"combine"`` merges long
    forms; ``"finalize"`` spreads the categories into columns (the output schema)."""

    def __init__(self, step, index, columns, values, aggfunc, cats, long_schema, out_schema=None):
        self.step, self.index, self.columns, self.values, self.aggfunc = step, index, columns, values, aggfunc
        self.cats, self.long_schema, self.out_schema = cats, long_schema, out_schema

    def _long(self, pdf, merge):
        keys = [self.index, self.columns]
        pdf = pdf.dropna(subset=keys)
        g = pdf.groupby(keys, sort=False, dropna=True, observed=True)
        out = {}
        for v in self.values:
            for p in _parts(self.aggfunc):
                src = f"{v}__{p}" if merge else v
                how = "sum" if merge and p == "count" else p
                out[f"{v}__{p}"] = getattr(g[src], how)()
        frame = pd.DataFrame(out).reset_index() if out else pdf.iloc[:0][keys]
        return pa.Table.from_pandas(frame, schema=self.long_schema, preserve_index=False, nthreads=1)

    def __call__(self, arg):
        if self.step == "chunk":
            pdf = arg.select([self.index, self.columns, *self.values]).to_pandas()
            pdf[self.columns] = pdf[self.columns].astype(object)
            return self._long(pdf, merge=False)
        tables = arg if isinstance(arg, list) else [arg]
        merged = self._long(pa.concat_tables(tables).to_pandas(), merge=True)
        return merged if self.step == "combine" else self._spread(merged.to_pandas())

    def _spread(self, long):
        pieces = {}
        for v in self.values:
            if self.aggfunc == "mean":
                vals = long[f"{v}__sum"] / long[f"{v}__count"]
            else:
                vals = long[f"{v}__{self.aggfunc}"]
            wide = pd.Series(vals.to_numpy(), index=pd.MultiIndex.from_frame(long[[self.index, self.columns]]))
            pieces[v] = wide.unstack(self.columns).reindex(columns=self.cats) if len(wide) else \
                pd.DataFrame(columns=self.cats)
            if self.aggfunc in ("count", "sum"):  # a cell without rows counts (sums to) 0, as pandas
                pieces[v] = pieces[v].fillna(0)
        out = pd.concat(pieces, axis=1) if len(self.values) > 1 else pieces[self.values[0]]
        out = out.sort_index()
        out.index.name = self.index
        table, _ = frame_to_arrow(out.astype({c: t for c, t in zip(out.columns, _dtypes(self.out_schema))}),
                                  schema=self.out_schema)
        return table

    def __graphflow_tokenize__(self):
        return ("pivot", self.step, self.index, self.columns, tuple(self.values), self.aggfunc, tuple(self.cats),
                str(self.long_schema), str(self.out_schema))


def _long_type(t: pa.DataType, part: str, aggfunc: str) -> pa.DataType:
    """The Arrow type of one partial aggregate in the long form: counts int64; sums of integers or booleans
    int64 (exact, as pandas sums them); other sums and means float64; first/last the column's type."""
    if part == "count":
        return pa.int64()
    if part == "sum" and aggfunc == "sum" and (pa.types.is_integer(t) or pa.types.is_boolean(t)):
        return pa.int64()
    return pa.float64() if part == "sum" or aggfunc == "mean" else t


def _cell_dtype(dtype, aggfunc: str):
    """The pandas dtype of the pivot's cells, as pandas gives it: counts int64, sums int64 of integer or
    boolean values (empty cells count or sum to 0), means float64; first/last keep the values' dtype
    unless it cannot hold the missing value of an empty cell (integers and booleans become float64)."""
    kind = getattr(dtype, "kind", "O")
    if aggfunc == "count" or (aggfunc == "sum" and kind in "iub"):
        return "int64"
    return "float64" if aggfunc in ("mean", "sum") or kind in "iub" else dtype


def _dtypes(schema):
    return [f.type.to_pandas_dtype() for f in schema if f.name in data_names(schema)]


def pivot_table(df, index=None, columns=None, values=None, aggfunc="mean"):
    """A spreadsheet-style pivot: rows by ``index`` values (sorted), columns by the known categories of the
    categorical ``columns``, cells ``aggfunc`` (mean, sum, count, first, last) of ``values``.  One output
    partition."""
    vals = _check_pivot(df, index, columns, values, aggfunc)
    try:  # several values: their columns sorted, as pandas and Dask sort them
        vals = sorted(dict.fromkeys(vals))
    except TypeError:
        pass
    schema = df.expr.schema
    col = _arrow_name(df, columns)
    cats = categories(schema)[col]
    idx_name, val_names = _arrow_name(df, index), [_arrow_name(df, v) for v in vals]
    value_type = schema.field(col).type.value_type
    long_fields = [pa.field(idx_name, schema.field(idx_name).type), pa.field(col, value_type)]
    for v in val_names:
        for p in _parts(aggfunc):
            long_fields.append(pa.field(f"{v}__{p}", _long_type(schema.field(v).type, p, aggfunc)))
    long_schema = pa.schema(long_fields)
    out_type = {v: _cell_dtype(empty_pandas(df[v]).dtype, aggfunc) for v in vals}
    cat_index = pd.Index(cats, name=columns)
    if _scalar(values):
        meta = pd.DataFrame({c: pd.Series([], dtype=out_type[values]) for c in cats}, columns=cat_index)
    else:
        meta = pd.concat({v: pd.DataFrame({c: pd.Series([], dtype=out_type[v]) for c in cats}, columns=cat_index)
                          for v in vals}, axis=1)
    meta.index = pd.Index([], dtype=empty_pandas(df[index]).dtype, name=index)
    _, out_schema = frame_to_arrow(meta, keep_index=True)
    # the columns are a CategoricalIndex named after ``columns`` (a level of a MultiIndex for several values)
    out_schema = with_columns_axis(out_schema, list(meta.columns.names), level=meta.columns.nlevels - 1,
                                   categories=cats, ordered=schema.field(col).type.ordered)
    args = (idx_name, col, val_names, aggfunc, cats, long_schema)
    chunk = Blockwise(_PivotStep("chunk", *args), (df.expr,), long_schema, label="pivot-chunk")
    plan = Reduce(chunk, _PivotStep("combine", *args), _Finalizer(_PivotStep("finalize", *args, out_schema)),
                  out_schema)
    return OPERATIONS.DataFrame(plan)


class _Finalizer:
    """The last pivot step, given the combined long table."""

    def __init__(self, step):
        self.step = step

    def __call__(self, table):
        return self.step(table)

    def __graphflow_tokenize__(self):
        return ("pivot-finalize", self.step.__graphflow_tokenize__())


# ------------------------------------------------------------------ conversions


def to_datetime(arg, meta=None, **kwargs):
    """pandas' ``to_datetime`` on every partition of a Series (or of a DataFrame of year/month/day
    columns); anything else goes to ``pandas.to_datetime``."""
    if not _is_collection(arg):
        return pd.to_datetime(arg, **kwargs)
    if meta is None:
        sample = empty_pandas(arg)
        try:
            meta = pd.to_datetime(sample, **kwargs)
        except (ValueError, TypeError):
            meta = None
        if isinstance(meta, pd.Series) and not _is_series(arg):
            meta = meta.rename(None)
        if isinstance(meta, pd.Series) and meta.dtype.kind == "M" and _is_string(arg):
            meta = meta.astype(meta.dtype.__class__("us", meta.dtype.tz) if hasattr(meta.dtype, "tz")
                               else "datetime64[us]")  # pandas 3 parses strings at microseconds
    return OPERATIONS.map_partitions(_CallFunc("to_datetime", (), kwargs), arg, meta=meta)


def _is_string(coll) -> bool:
    t = getattr(coll, "arrow_type", None)
    return isinstance(t, pa.DataType) and (pa.types.is_string(t) or pa.types.is_large_string(t))


def to_numeric(arg, errors="raise", downcast=None, meta=None):
    """pandas' ``to_numeric`` on every partition of a Series; scalars and lists go to ``pandas.to_numeric``.
    Strings become float64 unless ``meta=`` says otherwise (the integers-or-floats answer would need all the
    values)."""
    if errors not in ("raise", "coerce"):
        raise ValueError("invalid error value specified")
    if not _is_collection(arg):
        if meta is not None and pd.api.types.is_scalar(arg):
            raise KeyError("``meta`` is not allowed when input is a scalar.")
        return pd.to_numeric(arg, errors=errors, downcast=downcast)
    if not _is_series(arg):
        raise TypeError("arg must be a list, tuple, dask.array.Array, or dask.dataframe.Series")
    if meta is None:
        meta = pd.to_numeric(empty_pandas(arg), errors=errors, downcast=downcast)
        if _is_string(arg):
            meta = meta.astype("float64")
    return OPERATIONS.map_partitions(_CallFunc("to_numeric", (), {"errors": errors, "downcast": downcast}), arg,
                                     meta=meta)


def _arrow_name(df, label):
    """The Arrow column of ``df`` labelled ``label``."""
    names = dict(zip(column_labels(df.expr.schema), data_names(df.expr.schema)))
    if label not in names:
        raise KeyError(f"column {label!r} not found; the columns are {list(names)}")
    return names[label]
