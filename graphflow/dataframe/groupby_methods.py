"""The GroupBy methods that need whole groups: pandas' groupby on partitions that each hold entire groups.

`GroupBy.agg` (in `groupby`) merges pyarrow partial aggregates; everything
else (transform, apply, cumulative ops, shift, head, median, custom
`Aggregation`...) is answered the way Dask answers it: the rows are hash
shuffled on the keys, so every group lies whole in one partition, and pandas'
own groupby method runs on each partition.  Three shapes of result:

- *row-wise* (``transform``, ``cumsum``, ``shift``, ``head``...): one output row per input row (or a
  subset).  Each row is tagged with its partition and position before the shuffle, and sent back to
  its partition and position after it, so the result has the input's partitions, row order and index,
  exactly as pandas orders it.
- *per group* (``median``, ``nunique``, ``value_counts``, ``rolling``...): indexed by the keys.  With
  ``split_out`` 1 (the default, as Dask) the shuffled partitions' results are concatenated and sorted
  by the keys (stable, nulls last, as pandas); with ``split_out=n`` they stay in ``n`` partitions.
- ``apply``: whatever the function returns, one piece per shuffled partition (as Dask).

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> pdf = pd.DataFrame({"k": ["a", "b", "a"], "x": [1.0, 2.0, 4.0]})
    >>> gd.from_pandas(pdf, npartitions=2).groupby("k").x.cumsum().compute().tolist()
    [1.0, 2.0, 5.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import Ref, Task, tokenize
from .colexpr import Col
from .collection import CallMethod, concat_tables
from .frame import DataFrame
from .labels import column_labels, data_names, index_columns, label_of
from .pandas_edge import meta_schema, nonempty_frame, sample_meta, to_arrow, to_pandas_frame
from .plan import Blockwise, PlanNode, Reduce
from .series import Series
from .shuffle import Shuffle, shuffle

__all__ = ["Aggregation", "GroupByMethods", "GroupedRolling"]

_PART, _ROW = "__gf_part__", "__gf_row__"


class Aggregation:
    """A custom grouped aggregation, as Dask's ``dd.Aggregation(name, chunk, agg, finalize)``.

    ``chunk(SeriesGroupBy)`` reduces the groups of one piece of data (to a Series, or a tuple of
    Series); ``agg`` combines the chunks' results, given grouped by the keys the same way; ``finalize``
    (optional) turns the combined result(s) into the final Series.

        >>> import graphflow.dataframe as gd
        >>> spread = gd.Aggregation("spread", lambda g: (g.max(), g.min()),
        ...                         lambda mx, mn: (mx.max(), mn.min()), lambda mx, mn: mx - mn)
    """

    def __init__(self, name, chunk, agg, finalize=None):
        if not isinstance(name, str):
            raise TypeError(f"Aggregation name must be a str, not {type(name).__name__}")
        self.__name__ = name
        self.chunk, self.agg, self.finalize = chunk, agg, finalize

    def __call__(self, grouped):
        """This aggregation over ``grouped`` (a pandas SeriesGroupBy) holding whole groups."""
        parts = self.chunk(grouped)
        parts = parts if isinstance(parts, tuple) else (parts,)
        levels = list(range(parts[0].index.nlevels))  # the chunks are indexed by the keys
        regrouped = tuple(p.groupby(level=levels, sort=False, dropna=False) for p in parts)
        out = self.agg(*regrouped)
        out = (out,) if not isinstance(out, tuple) else out
        return self.finalize(*out) if self.finalize is not None else out[0]

    def __graphflow_tokenize__(self):
        return ("Aggregation", self.__name__, tokenize(self.chunk, self.agg, self.finalize))


# ------------------------------------------------------------------ partition ops (picklable, run on workers)


class GroupedCall:
    """Op: pandas' groupby of a partition by ``keys`` (``(column label, key name)`` pairs), the value
    ``selection`` taken, then ``call(grouped)``; the result back in Arrow (``out_schema``).

    ``rows`` set: the partition carries ``__gf_part__``/``__gf_row__`` columns that are kept aside and
    attached to the output rows they came from.
    """

    def __init__(self, in_schema, keys, selection, call, opts, out_schema=None, rows=False, filters=False):
        self.in_schema, self.keys, self.selection = in_schema, tuple(keys), selection
        self.call, self.opts, self.out_schema, self.rows = call, dict(opts), out_schema, rows
        self.filters = filters  # rows mode: the call picks rows (head, tail) rather than computing one per row

    def __graphflow_tokenize__(self):
        return ("GroupedCall", str(self.in_schema), self.keys, tokenize(self.selection), tokenize(self.call),
                tokenize(self.opts), str(self.out_schema), self.rows, self.filters)

    def __repr__(self):
        return f"GroupedCall({getattr(self.call, '__name__', type(self.call).__name__)})"

    def grouped(self, pdf):
        by = [pd.Index(pdf[col], name=name) for col, name in self.keys]
        g = pdf.groupby(by if len(by) > 1 else by[0], **self.opts)
        return g if self.selection is None else g[self.selection]

    def run(self, pdf):
        """The pandas result on one pandas partition (also used on made-up data to learn the meta)."""
        return self.call(self.grouped(pdf))

    def _empty(self):
        out = self.out_schema.empty_table()
        if self.rows:
            out = out.append_column(_PART, pa.array([], pa.int64())).append_column(_ROW, pa.array([], pa.int64()))
        return out

    def _null_rows(self, table):
        """What pandas gives for rows whose key is null and dropped: a null per row (transform, cumulative
        ops...), or no row where the call selects rows (head, tail)."""
        if self.filters:
            return self._empty()
        n = table.num_rows
        cols = [table.column(f.name) if f.name in table.column_names and f.name.startswith("__index_level_")
                else pa.nulls(n, f.type) for f in self.out_schema]
        out = pa.Table.from_arrays(cols, schema=self.out_schema)
        return out.append_column(_PART, table.column(_PART)).append_column(_ROW, table.column(_ROW))

    def __call__(self, table):
        if table.num_rows == 0:
            return self._empty()
        if not self.rows:
            grouped = self.grouped(to_pandas_frame(table, self.in_schema))
            if grouped.ngroups == 0:  # only null keys here (dropped): pandas' window ops fail on no groups
                return self._empty()
            return to_arrow(self.call(grouped), self.out_schema)[0]
        tags = table.select([_PART, _ROW])
        pdf = to_pandas_frame(table.drop_columns([_PART, _ROW]), self.in_schema)
        # the row's position rides along as a last index level; pandas keeps the index of every output row
        levels = [pdf.index.get_level_values(i) for i in range(pdf.index.nlevels)]
        pdf.index = pd.MultiIndex.from_arrays(levels + [pd.RangeIndex(len(pdf))])
        grouped = self.grouped(pdf)
        if grouped.ngroups == 0:  # only null keys (dropped) here; some pandas kernels fail on no groups
            return self._null_rows(table)
        out = self.call(grouped)
        if out.index.nlevels == len(levels) + 1:
            rows = np.asarray(out.index.get_level_values(-1), dtype=np.int64)
            out.index = out.index.droplevel(-1)
        elif len(out) in (0, len(pdf)):  # pandas rebuilt the index (no groups here): rows are the input's
            rows = np.arange(len(out), dtype=np.int64)
            out.index = pdf.index.droplevel(-1)[:len(out)]
        else:
            raise ValueError(f"groupby: {self.call!r} returned {len(out)} rows whose positions are lost")
        result = to_arrow(out, self.out_schema)[0]
        picked = tags.take(pa.array(rows))
        return result.append_column(_PART, picked.column(_PART)).append_column(_ROW, picked.column(_ROW))


class _PartitionOf:
    """Partitioner: the ``__gf_part__`` column is each row's output partition."""

    def __call__(self, table, n):
        return table.column(_PART).to_numpy()

    def __graphflow_tokenize__(self):
        return "partition-of"

    def __repr__(self):
        return "partition-of"


def _tag(table, i):
    n = table.num_rows
    return table.append_column(_PART, pa.array(np.full(n, i, dtype=np.int64))).append_column(
        _ROW, pa.array(np.arange(n, dtype=np.int64)))


def _untag(table):
    return table.take(pc.sort_indices(table.column(_ROW))).drop_columns([_PART, _ROW])


class Tagged(PlanNode):
    """``child`` with two columns telling each row's partition and position in it."""

    label = "groupby-tag"

    def __init__(self, child):
        self.children = (child,)
        self._npartitions = child.npartitions
        fields = list(child.schema) + [pa.field(_PART, pa.int64()), pa.field(_ROW, pa.int64())]
        self._schema = pa.schema(fields, metadata=child.schema.metadata)

    def with_children(self, children):
        return Tagged(children[0])

    def tasks(self):
        child = self.children[0]
        return [Task((self.name, i), _tag, Ref((child.name, i)), i) for i in range(self.npartitions)]


class _SortByKeys:
    """Reduce finalizer: concatenated per-group results sorted by the first ``nkeys`` index levels
    (stable, nulls last: pandas' order of groups)."""

    def __init__(self, nkeys, schema, sort):
        self.nkeys, self.schema, self.sort = nkeys, schema, sort

    def __call__(self, table):
        if not self.sort or table.num_rows == 0:
            return table
        cols = index_columns(self.schema)[:self.nkeys]
        order = pc.sort_indices(table, sort_keys=[(c, "ascending", "at_end") for c in cols])
        return table.take(order)

    def __graphflow_tokenize__(self):
        return ("sort-by-keys", self.nkeys, str(self.schema), self.sort)


# ------------------------------------------------------------------ the methods


def _collection(plan, schema, series):
    if series:
        name = data_names(schema)[0]
        return Series(plan, Col(name), column_labels(schema)[0], schema.field(name).type)
    return DataFrame(plan)


class GroupByMethods:
    """The methods of `GroupBy` answered by pandas on whole groups (see the module note).  Mixed into
    `graphflow.dataframe.groupby.GroupBy`, which provides ``_df``, ``_by``, ``key_labels``, ``_columns``,
    ``_dropna``, ``_sort``, ``_observed``, ``_group_keys``, ``_as_index``, ``_value_columns`` and
    ``_series``."""

    # -- plumbing
    def _selection(self):
        schema = self._df.schema
        if self._series:
            return label_of(schema, self._value_columns()[0])
        return [label_of(schema, c) for c in self._value_columns()]

    def _call_op(self, call, rows=False, meta=None, opts=None, select=True, filters=False):
        schema = self._df.schema
        keys = [(label_of(schema, k), lab) for k, lab in zip(self._by, self.key_labels)]
        opts = dict(dropna=self._dropna, sort=self._sort, observed=self._observed, group_keys=self._group_keys,
                    **(opts or {}))
        op = GroupedCall(schema, keys, self._selection() if select else None, call, opts, rows=rows, filters=filters)
        if meta is None:
            sample = op.run(nonempty_frame(schema))
            out_schema, series = to_arrow(sample_meta(sample))[1], isinstance(sample, pd.Series)
        else:  # meta gives the columns; the index is what pandas makes of groups (keys, then the rows' index)
            try:
                index_like = to_arrow(sample_meta(op.run(nonempty_frame(schema))))[1]
            except Exception:  # noqa: B902 - the function may not run on made-up data: meta alone, then
                index_like = None
            out_schema, series = meta_schema(meta, index_like=index_like)
        op.out_schema = out_schema
        return op, out_schema, series

    def _shuffled(self, plan, n=None):
        n = plan.npartitions if n is None else n
        return plan if plan.npartitions == 1 and n == 1 else shuffle(plan, self._by, n)

    def _rowwise(self, call, meta=None, opts=None, select=True, filters=False):
        """``call(grouped)`` giving rows of the input (all, or some: ``filters``): the result in the input's
        partitions, order and index."""
        op, schema, series = self._call_op(call, rows=True, meta=meta, opts=opts, select=select, filters=filters)
        child = self._df.expr
        n = child.npartitions
        tagged = self._shuffled(Tagged(child))
        fields = list(schema) + [pa.field(_PART, pa.int64()), pa.field(_ROW, pa.int64())]
        out = Blockwise(op, (tagged,), pa.schema(fields, metadata=schema.metadata), label="groupby-rows")
        back = Shuffle(out, _PartitionOf(), n) if n > 1 else out
        plan = Blockwise(_untag, (back,), schema, label="groupby-unshuffle")
        return _collection(plan, schema, series)

    def per_group(self, call, split_out=None, meta=None, opts=None, nkeys=None, select=True):
        """``call(grouped)`` giving results indexed by the keys first: one sorted partition unless
        ``split_out`` > 1."""
        op, schema, series = self._call_op(call, meta=meta, opts=opts, select=select)
        n_out = split_out if isinstance(split_out, int) and not isinstance(split_out, bool) else 1
        if n_out < 1:
            raise ValueError("split_out must be a positive int or None")
        child = self._df.expr
        shuffled = self._shuffled(child, max(n_out, child.npartitions) if n_out == 1 else n_out)
        plan = Blockwise(op, (shuffled,), schema, label="groupby-pandas")
        if n_out == 1 and plan.npartitions > 1:
            nkeys = len(self._by) if nkeys is None else nkeys
            plan = Reduce(plan, concat_tables, _SortByKeys(nkeys, schema, self._sort), schema)
        result = _collection(plan, schema, series)
        if not self._as_index:
            result = result.reset_index()
        return result

    # -- row-wise
    def transform(self, func, *args, meta=None, shuffle_method=None, **kwargs):
        """pandas' ``transform`` (a function on each group's values, or a reduction name broadcast to the
        group's rows): the result aligned with the input rows."""
        return self._rowwise(CallMethod("transform", (func,) + args, kwargs), meta=meta)

    def cumsum(self, numeric_only=False):
        """Running sum within each group, in row order."""
        return self._rowwise(CallMethod("cumsum", (), _numeric(numeric_only)))

    def cumprod(self, numeric_only=False):
        """Running product within each group, in row order."""
        return self._rowwise(CallMethod("cumprod", (), _numeric(numeric_only)))

    def cummax(self, numeric_only=False):
        """Running maximum within each group, in row order."""
        return self._rowwise(CallMethod("cummax", (), _numeric(numeric_only)))

    def cummin(self, numeric_only=False):
        """Running minimum within each group, in row order."""
        return self._rowwise(CallMethod("cummin", (), _numeric(numeric_only)))

    def cumcount(self, ascending=True):
        """Each row's number within its group (0, 1, ...; from the end with ``ascending=False``)."""
        return self._rowwise(CallMethod("cumcount", (), {"ascending": ascending}))

    def shift(self, periods=1, meta=None, shuffle_method=None, *args, **kwargs):
        """Each group's values shifted by ``periods`` rows (nulls where nothing comes in)."""
        return self._rowwise(CallMethod("shift", (periods,) + args, kwargs), meta=meta)

    def diff(self, periods=1):
        """Each value minus the one ``periods`` rows before it in its group."""
        return self._rowwise(CallMethod("diff", (periods,)))

    def ffill(self, limit=None, shuffle_method=None):
        """Nulls filled forward within each group."""
        return self._rowwise(CallMethod("ffill", (), {"limit": limit}))

    def bfill(self, limit=None, shuffle_method=None):
        """Nulls filled backward within each group."""
        return self._rowwise(CallMethod("bfill", (), {"limit": limit}))

    def head(self, n=5, split_every=None, split_out=None):
        """The first ``n`` rows of every group, in row order (lazy, unlike ``DataFrame.head``)."""
        return self._rowwise(CallMethod("head", (n,)), select=self._columns is not None, filters=True)

    def tail(self, n=5, split_every=None, split_out=None):
        """The last ``n`` rows of every group, in row order."""
        return self._rowwise(CallMethod("tail", (n,)), select=self._columns is not None, filters=True)

    def get_group(self, key):
        """The rows of the group ``key`` (a tuple for several keys), as pandas' ``get_group``; empty when no
        row has that key (pandas raises KeyError there, which a lazy frame cannot know in advance)."""
        keys = key if isinstance(key, tuple) else (key,)
        if len(keys) != len(self._by):
            raise ValueError(f"get_group: {len(self._by)} keys needed, got {key!r}")
        schema = self._df.schema
        cols = [label_of(schema, k) for k in self._by]
        sel = self._selection() if self._columns is not None else None
        return self._df.map_partitions(_GroupRows(cols, keys, sel), meta=_get_group_meta(self._df.meta, sel))

    # -- per group
    def median(self, split_every=None, split_out=None, shuffle_method=None, numeric_only=False):
        """The median of every value column per group (exact: whole groups meet in one partition)."""
        return self.per_group(CallMethod("median", (), _numeric(numeric_only)), split_out)

    def quantile(self, q=0.5, split_out=None, numeric_only=False):
        """The exact ``q`` quantile(s) per group."""
        nk = len(self._by)
        return self.per_group(CallMethod("quantile", (q,), _numeric(numeric_only)), split_out, nkeys=nk)

    def prod(self, numeric_only=False, min_count=0, split_out=None, **kwargs):
        """The product of every value column per group."""
        return self.per_group(CallMethod("prod", (), {**_numeric(numeric_only), "min_count": min_count or 0}),
                              split_out)

    def sem(self, ddof=1, split_out=None, numeric_only=False):
        """The standard error of the mean per group."""
        return self.per_group(CallMethod("sem", (), {"ddof": ddof, **_numeric(numeric_only)}), split_out)

    def idxmax(self, split_every=None, split_out=None, skipna=True, numeric_only=False, **kwargs):
        """The index label of each group's largest value."""
        return self.per_group(CallMethod("idxmax", (), {"skipna": skipna, **_numeric(numeric_only)}),
                              split_out)

    def idxmin(self, split_every=None, split_out=None, skipna=True, numeric_only=False, **kwargs):
        """The index label of each group's smallest value."""
        return self.per_group(CallMethod("idxmin", (), {"skipna": skipna, **_numeric(numeric_only)}),
                              split_out)

    def value_counts(self, normalize=False, sort=True, ascending=False, dropna=True, split_out=None, **kwargs):
        """Counts of each value within each group: indexed by the keys and the value, as pandas."""
        kw = dict(normalize=normalize, sort=sort, ascending=ascending, dropna=dropna)
        return self.per_group(CallMethod("value_counts", (), kw), split_out)

    def unique(self, split_out=None, **kwargs):
        """The distinct values of each group (a list per group), in order of appearance."""
        return self.per_group(_Unique(), split_out)

    def ohlc(self, split_out=None):
        """Open, high, low, close of each group's values (a SeriesGroupBy only, as pandas)."""
        if not self._series:
            raise NotImplementedError("ohlc is only available on a single column: df.groupby(k)[col].ohlc()")
        return self.per_group(CallMethod("ohlc"), split_out)

    def corr(self, *args, split_out=None, **kwargs):
        """Pairwise correlation of the value columns within each group."""
        return self.per_group(CallMethod("corr", args, kwargs), split_out)

    def cov(self, *args, split_out=None, **kwargs):
        """Pairwise covariance of the value columns within each group."""
        return self.per_group(CallMethod("cov", args, kwargs), split_out)

    def apply(self, func, *args, meta=None, shuffle_method=None, **kwargs):
        """``func`` on each group (pandas' ``apply``); the rows are shuffled so each group is whole in one
        partition and the result is one piece per shuffled partition, as in Dask.  Pass ``meta=`` to say
        what ``func`` returns (else it is learned by running ``func`` on made-up data)."""
        op, schema, series = self._call_op(CallMethod("apply", (func,) + args, kwargs), meta=meta)
        plan = Blockwise(op, (self._shuffled(self._df.expr),), schema, label="groupby-apply")
        return _collection(plan, schema, series)

    def rolling(self, window, min_periods=None, center=False, win_type=None, axis=0):
        """Windows over each group's rows: ``.rolling(3).mean()`` etc., indexed by the keys and the row's
        index, as pandas."""
        return GroupedRolling(self, dict(window=window, min_periods=min_periods, center=center,
                                         win_type=win_type))

    def _pandas_agg(self, items, labels, split_out, series):
        """``agg`` with functions pyarrow has no kernel for (callables, `Aggregation`, median...)."""
        return self.per_group(_AggSpec(items, labels, series), split_out, select=self._series)


class GroupedRolling:
    """``groupby(...).rolling(window)``: call ``mean``, ``sum``, ``min``, ``max``, ``std``, ``var``,
    ``count``, ``median`` or ``agg``."""

    def __init__(self, grouped, kwargs):
        self._g, self._kw = grouped, kwargs

    def _run(self, method, *args, **kwargs):
        call = _Rolling(self._kw, method, args, kwargs)
        return self._g.per_group(call, None, nkeys=len(self._g.by))


def _rolling_method(name):
    def method(self, *args, **kwargs):
        return GroupedRolling._run(self, name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"The rolling {name} within each group."
    return method


for _m in ("mean", "sum", "min", "max", "std", "var", "count", "median", "agg", "aggregate", "apply"):
    setattr(GroupedRolling, _m, _rolling_method(_m))


class _Rolling:
    def __init__(self, kw, method, args, kwargs):
        self.kw, self.method, self.args, self.kwargs = kw, method, args, kwargs

    def __call__(self, grouped):
        return getattr(grouped.rolling(**self.kw), self.method)(*self.args, **self.kwargs)

    def __graphflow_tokenize__(self):
        return ("rolling", tokenize(self.kw), self.method, tokenize(self.args, self.kwargs))


class _Unique:
    def __call__(self, grouped):
        return grouped.unique().map(lambda v: list(v))

    def __graphflow_tokenize__(self):
        return "unique"


class _AggSpec:
    """Call: each ``(value label, func)`` of ``items`` on the grouped values, the outputs labelled
    ``labels``; a Series when ``series``."""

    def __init__(self, items, labels, series):
        self.items, self.labels, self.series = list(items), list(labels), series

    def __call__(self, grouped):
        obj = grouped
        outs = {}
        for (col, func), label in zip(self.items, self.labels):
            g = obj if col is None else obj[col]
            outs[label] = func(g) if isinstance(func, Aggregation) else g.agg(func)
        if self.series:
            return next(iter(outs.values())).rename(self.labels[0])
        return pd.DataFrame(outs)

    def __graphflow_tokenize__(self):
        return ("agg-spec", tokenize([(c, f) for c, f in self.items]), tokenize(self.labels), self.series)


class _GroupRows:
    """Op on a pandas partition: its rows whose keys equal ``key`` (NaN matching a NaN key)."""

    def __init__(self, cols, key, selection):
        self.cols, self.key, self.selection = cols, key, selection

    def __call__(self, pdf):
        mask = np.ones(len(pdf), dtype=bool)
        for col, k in zip(self.cols, self.key):
            values = pdf[col]
            mask &= np.asarray(values.isna() if _isna(k) else (values == k).fillna(False), dtype=bool)
        out = pdf[mask]
        return out if self.selection is None else out[self.selection]

    def __graphflow_tokenize__(self):
        return ("group-rows", self.cols, tokenize(self.key), tokenize(self.selection))


def _isna(k):
    try:
        return bool(pd.isna(k))
    except (TypeError, ValueError):
        return False


def _get_group_meta(meta, selection):
    return meta if selection is None else meta[selection]


def _numeric(numeric_only):
    return {"numeric_only": True} if numeric_only else {}
