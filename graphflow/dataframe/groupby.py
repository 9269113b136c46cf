"""Grouped aggregation in three steps: partial aggregates per partition, merge, finalize.

Every aggregation is split into *partials* that pyarrow's hash aggregation
computes per partition and that can be merged by aggregating again:

    sum -> sum (merge: sum)          mean -> sum, count       first -> first (merge: first)
    count -> count (merge: sum)      var/std -> count, mean, M2 (merge: Chan's formula, below)
    size -> count_all (merge: sum)   nunique -> distinct values as a list (merge: list, flattened)

The partial tables of all partitions then meet either in a tree (`Reduce`,
fan-in 8: best when there are few groups, the result is one partition) or in a
hash shuffle on the keys (`Shuffle`, then merge + finalize per output
partition: for many groups, ``split_out`` partitions).  Null keys are
grouped like any value and their groups dropped at the end (``dropna=True``).  ``split_out=None``
picks automatically: the partial aggregate of the first partition is computed
(once, with the sync scheduler, when the plan is first lowered or its
``npartitions`` is asked for) and the shuffle is used if it has more than
`SHUFFLE_GROUPS` groups; where partition 0 is not cheap on its own
 (behind a shuffle: see
`graphflow.dataframe.first_partition`) nothing is sampled and the sources' row count
decides instead (`graphflow.dataframe.sample_cost`).

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"k": ["a", "b", "a"], "x": [1.0, 2.0, 4.0]}, npartitions=2)
    >>> df.groupby("k").x.mean().compute(scheduler="sync").to_dict()
    {'a': 2.5, 'b': 2.0}
    >>> g = df.groupby("k").agg({"x": ["max", "first"]}, split_out=2).compute(scheduler="sync")
    >>> g.sort_index()
         x
       max first
    k
    a  4.0   1.0
    b  2.0   2.0

Output: the keys as the index (as pandas; ``as_index=False`` keeps them as
columns), then one column per aggregation, labelled ``col`` for a single
function and ``(col, func)`` for a list.  What pyarrow has no partial for
(median, callables, `Aggregation`, transform, apply...) is answered by pandas
on whole groups: see `graphflow.dataframe.groupby_methods`.  The tree result is sorted by the
keys (``sort=True``, as pandas); shuffled partitions are sorted within
themselves.  Rows whose key is null are dropped (``dropna=True``, as pandas).
Variance keeps, per group, the count n, the mean and M2 (the sum of squared
deviations from the mean, pyarrow's ``variance`` times n).  Merging groups
a, b, ... of one key gives n = sum n_i, mean = sum n_i mean_i / n and
M2 = sum (M2_i + n_i (mean_i - mean)^2): no sums of squares, so values around
1e9 with a spread of 1 keep their precision.  The rows of one key are found
by aggregating their row numbers into a list in the same pass as the other
partials, so null keys (``dropna=False``) merge like any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import base
from ..spec import tokenize

from .collection import CallMethod, Scalar
from .first_partition import first_partition_is_cheap
from .frame import DataFrame, check_columns
from .groupby_methods import Aggregation, GroupByMethods
from .dense_groupby import dense_aggregate
from .labels import index_column, index_names, label_of
from .nunique import NuniquePlan
from .sample_cost import row_bound
from .plan import Blockwise, FromKeys, Func, Partitions, PlanNode, Reduce, lower, walk
from .shuffle import shuffle

__all__ = ["GroupBy", "Aggregation", "drop_duplicates", "SHUFFLE_GROUPS"]

SHUFFLE_GROUPS = 100_000
_AGGS = ("sum", "mean", "count", "min", "max", "std", "var", "first", "last", "nunique", "size")
_PARTIALS = {
    "sum": [("sum", "sum")], "count": [("count", "sum")], "min": [("min", "min")], "max": [("max", "max")],
    "first": [("first", "first")], "last": [("last", "last")], "size": [("count_all", "sum")],
    "mean": [("sum", "sum"), ("count", "sum")], "nunique": [("distinct", "list")],
    "var": [("count", "sum"), ("mean", "moment"), ("variance", "moment")],
}
_PARTIALS["std"] = _PARTIALS["var"]


class AggPlan:
    """The partial/merge/final steps for a list of (column, func, output name); picklable."""

    def __init__(self, keys, aggs, sort=True, dropna=True):
        self.keys, self.aggs, self.sort, self.dropna = tuple(keys), tuple(aggs), sort, dropna

    def __graphflow_tokenize__(self):
        return ("agg", self.keys, self.aggs, self.sort, self.dropna)

    def _partial_specs(self):
        out = []
        for i, (col, func, _) in enumerate(self.aggs):
            for j, (partial, merge) in enumerate(_PARTIALS[func]):
                out.append((f"__p{i}_{j}", col, partial, merge))
        return out

    def chunk(self, table):
        """Partial aggregates of one partition: keys + one column per partial."""
        cols = {k: table.column(k) for k in self.keys}
        aggs, shifts = [], {}
        for name, col, partial, _ in self._partial_specs():
            if partial == "count_all":
                aggs.append(([], "count_all", None, name))
                continue
            values = table.column(col)
            if partial in ("mean", "variance"):
                values = values.cast(pa.float64())
            if partial == "mean":  # pyarrow's grouped mean sums raw values: centre them first (see _centred)
                values, shifts[name] = _centred(values)
            cols[name] = values
            aggs.append((name, partial, pc.VarianceOptions(ddof=0) if partial == "variance" else None, name))
        out = _aggregate(pa.table(cols), self.keys, aggs, fast=self.sort)
        for name, shift in shifts.items():
            out = out.set_column(out.schema.get_field_index(name), name, pc.add(out.column(name), shift))
        for i in self._moment_aggs():  # variance -> M2 = variance * n
            m2 = pc.multiply(out.column(f"__p{i}_2"), out.column(f"__p{i}_0").cast(pa.float64()))
            out = out.set_column(out.schema.get_field_index(f"__p{i}_2"), f"__p{i}_2", m2)
        return out

    def _moment_aggs(self):
        return [i for i, (_, func, _) in enumerate(self.aggs) if func in ("var", "std")]

    def merge(self, parts):
        """Partials of several partitions merged into partials of their union."""
        table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        specs = self._partial_specs()
        aggs = [(name, merge, None, name) for name, _, _, merge in specs if merge not in ("list", "moment")]
        moments = self._moment_aggs()
        listed = [name for name, _, _, merge in specs if merge == "list"]
        if moments or listed:  # each group's row numbers: to merge (n, mean, M2) with numpy, to gather lists
            table = table.append_column("__rows", pa.array(np.arange(table.num_rows, dtype=np.int64)))
            aggs.append(("__rows", "list", None, "__rows"))
        out = _aggregate(table, self.keys, aggs, fast=self.sort)
        for name in listed:  # no kernel aggregates lists: gather each group's lists by row number, distinct again
            out = out.append_column(name, _distinct_lists(out.column("__rows"), table.column(name)))
        if moments:
            out = _merge_moments(out, table, moments)
        elif listed:
            out = out.drop_columns(["__rows"])
        return out.select(list(self.keys) + [s[0] for s in specs])

    def finalize(self, table):
        """The user's columns from merged partials."""
        cols = {k: table.column(k) for k in self.keys}
        for i, (_, func, out) in enumerate(self.aggs):
            p = [table.column(f"__p{i}_{j}") for j in range(len(_PARTIALS[func]))]
            cols[out] = _final(func, p)
        result = pa.table(cols)
        if self.dropna:  # null keys form one group each in pyarrow: dropping that group is cheaper than the rows
            for k in self.keys:
                if result.column(k).null_count:
                    result = result.filter(pc.is_valid(result.column(k)))
        return result.sort_by([(k, "ascending") for k in self.keys]) if self.sort else result

    def merge_finalize(self, parts):
        return self.finalize(self.merge(parts))


def _aggregate(table, keys, aggs, fast=True):
    """``table`` grouped by ``keys``: the keys, then one column per (column, func, options, name) of ``aggs``.
    ``fast``: integer keys with sums and counts may take numpy's paths (`dense_groupby`), which give the groups
    in key order; without it (``sort=False``) they come in first-seen order, as pandas'."""
    dense = dense_aggregate(table, keys, aggs) if fast else None
    if dense is not None:
        return dense.rename_columns(list(keys) + [a[3] for a in aggs])
    specs = [(a[0], a[1]) if a[2] is None else (a[0], a[1], a[2]) for a in aggs]
    out = pa.TableGroupBy(table, list(keys), use_threads=False).aggregate(specs)
    names = list(keys) + [a[3] for a in aggs]
    # group_by names outputs "<col>_<func>"; pyarrow versions differ on whether keys come first or last.
    nk = len(keys)
    if out.column_names[:nk] != list(keys):
        out = out.select([*range(out.num_columns - nk, out.num_columns), *range(out.num_columns - nk)])
    return out.rename_columns(names)


def _centred(values):
    """``values`` minus their (stable, whole-partition) mean, and that mean: grouped sums of the
    differences lose far fewer digits when the values sit far from zero."""
    shift = pc.mean(values).as_py() if len(values) else None
    return (values, 0.0) if shift is None else (pc.subtract(values, shift), shift)


def _floats(col):
    return col.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)


def _merge_moments(out, table, moments):
    """``out`` (one row per group, with a list column ``__rows`` of ``table`` row numbers) with each
    (n, mean, M2) partial of ``moments`` merged by Chan's formula; ``__rows`` dropped."""
    lists = out.column("__rows").combine_chunks()
    group = np.empty(table.num_rows, dtype=np.int64)
    group[pc.list_flatten(lists).to_numpy()] = pc.list_parent_indices(lists).to_numpy()
    out = out.drop_columns(["__rows"])
    ngroups = out.num_rows
    for i in moments:
        n = _floats(table.column(f"__p{i}_0"))
        mean, m2 = _floats(table.column(f"__p{i}_1")), _floats(table.column(f"__p{i}_2"))
        total = np.bincount(group, weights=n, minlength=ngroups)
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.bincount(group, weights=n * mean, minlength=ngroups) / total
        delta = np.where(n > 0, mean - mu[group], 0.0)
        merged = np.bincount(group, weights=m2 + n * delta * delta, minlength=ngroups)
        empty = total == 0
        out = out.append_column(f"__p{i}_1", pa.array(mu, mask=empty))
        out = out.append_column(f"__p{i}_2", pa.array(merged, mask=empty))
    return out


def _distinct_lists(rows, values):
    """Per group, the distinct values of its rows' lists: ``rows`` lists each group's row numbers in
    ``values`` (a list column)."""
    rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
    group = pc.list_parent_indices(rows).to_numpy()
    lists = values.combine_chunks().take(pc.list_flatten(rows))
    pairs = pa.table({"p": pa.array(group[pc.list_parent_indices(lists).to_numpy()]), "v": pc.list_flatten(lists)})
    distinct = pairs.group_by("p", use_threads=False).aggregate([("v", "distinct")])
    where = np.full(len(rows), -1, dtype=np.int64)
    where[distinct.column("p").to_numpy()] = np.arange(distinct.num_rows)
    found = distinct.column("v_distinct").combine_chunks()
    pool = pa.concat_arrays([found, pa.array([[]], found.type)])  # groups without values: the empty list
    return pool.take(pa.array(np.where(where < 0, distinct.num_rows, where)))


def _count_distinct_lists(col):
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    parents = pc.list_parent_indices(arr)
    t = pa.table({"p": parents, "v": pc.list_flatten(arr)}).group_by("p", use_threads=False)
    counts = t.aggregate([("v", "count_distinct")])
    out = pa.array([0] * len(arr), pa.int64()).to_numpy(zero_copy_only=False).copy()
    out[counts.column("p").to_numpy()] = counts.column("v_count_distinct").to_numpy()
    return pa.array(out)


def _final(func, p):
    if func == "mean":
        return pc.divide(p[0].cast(pa.float64()), p[1].cast(pa.float64()))
    if func in ("var", "std"):
        n, m2 = p[0].cast(pa.float64()), p[2]
        den = pc.subtract(n, 1.0)
        var = pc.if_else(pc.greater(den, 0), pc.divide(pc.max_element_wise(m2, 0.0), den), None)
        return pc.sqrt(var) if func == "std" else var
    if func == "nunique":
        return _count_distinct_lists(p[0])
    if func == "sum":  # a group of nulls only sums to 0, as in pandas (min_count=0); pyarrow gives null
        return pc.fill_null(p[0], 0) if p[0].null_count else p[0]
    return p[0]


def _chunk(table, plan):
    return plan.chunk(table)


def _merge_finalize(parts, plan):
    return plan.merge_finalize(parts)


class GroupbyAgg(PlanNode):
    """The grouped aggregation: a tree or a shuffle, chosen when first needed (see the module note)."""

    label = "groupby-agg"

    def __init__(self, child, plan: AggPlan, split_out, schema, chosen=None):
        self.children = (child,)
        self.agg = plan
        self.split_out = split_out
        self._schema = schema
        if chosen is not None:  # an output count already chosen (by sampling) for the same rows
            self._chosen = chosen

    def params(self):
        return (self.agg.__graphflow_tokenize__(), self.split_out)

    def with_children(self, children):
        # the rewritten child holds the same rows: keep the sampled choice, if made
        return GroupbyAgg(children[0], self.agg, self.split_out, self._schema, getattr(self, "_chosen", None))

    def column_needs(self, needed):
        """Whatever is used of the result, the grouping reads the keys and the aggregated columns only."""
        return [set(self.agg.keys) | {col for col, _, _ in self.agg.aggs if col is not None}]

    def _strategy(self):
        try:
            return self._chosen
        except AttributeError:
            self._chosen = self.split_out if self.split_out is not None else _choose(self)
            return self._chosen

    @property
    def npartitions(self):
        return self._strategy()

    def expanded(self) -> PlanNode:
        child, n = self.children[0], self._strategy()
        if n == 1:
            partial = Blockwise(Func(_chunk, self.agg), (child,), schema=pa.schema([]), label="groupby-chunk")
            return Reduce(partial, self.agg.merge, self.agg.finalize, self._schema)
        partial = Blockwise(Func(_shuffle_chunk, self.agg), (child,), schema=_partial_schema(self),
                            label="groupby-chunk")
        shuffled = shuffle(partial, self.agg.keys, n)
        return Blockwise(Func(_merge_finalize_one, self.agg), (shuffled,), self._schema, label="groupby-merge")

    @property
    def _expanded(self):
        try:
            return self._exp
        except AttributeError:
            self._exp = self.expanded()
            return self._exp

    def keys(self):
        return self._expanded.keys()

    @property
    def name(self):
        return self._expanded.name

    def tasks(self):
        return list(lower(self._expanded).values())

    def describe(self):
        how = "tree" if self._strategy() == 1 else f"shuffle -> {self._strategy()}"
        return f"GroupbyAgg[{how}] by {list(self.agg.keys)} {[a[1:] for a in self.agg.aggs]}"


def _merge_finalize_one(table, plan):
    return plan.merge_finalize([table])


def _shuffle_chunk(table, plan):
    """The partial a shuffle moves: ``plan.shuffle_chunk`` where a plan has one (a partial not worth making
    before a shuffle, see `graphflow.dataframe.nunique`), else its ``chunk``."""
    return getattr(plan, "shuffle_chunk", plan.chunk)(table)


def _partial_schema(node):
    child = node.children[0]
    return _shuffle_chunk(child.schema.empty_table(), node.agg).schema


_CHOICES: dict = {}  # (input plan name, aggregation) -> strategy: the same query on the same data samples once


def _choose(node) -> int:
    """1 (tree) unless the first partition alone has more than SHUFFLE_GROUPS groups."""
    child = node.children[0]
    if child.npartitions <= 1:
        return 1
    key = (child.name, tokenize(node.agg), SHUFFLE_GROUPS)
    if key not in _CHOICES:
        if len(_CHOICES) > 256:
            _CHOICES.clear()
        _CHOICES[key] = _sample_choice(node)
    return _CHOICES[key]


def _sample_choice(node) -> int:
    child = node.children[0]
    if any(isinstance(n, FromKeys) for n in walk(child)):
        # persisted partitions live on a cluster, out of the sync scheduler's reach: Dask's default, a tree
        return 1
    if not first_partition_is_cheap(child):
        # behind a shuffle (a hash join's output) partition 0 is most of the job: the sources' rows decide
        return 1 if row_bound(child) <= SHUFFLE_GROUPS else max(2, child.npartitions // 2)
    part = Blockwise(Func(_chunk, node.agg), (Partitions(child, [0]),), schema=pa.schema([]))
    [first] = base.compute(Scalar(part), scheduler="sync")
    if first.num_rows <= SHUFFLE_GROUPS:
        return 1
    return max(2, child.npartitions // 2)


class GroupBy(GroupByMethods):
    """``df.groupby(keys)``: call `agg` or one of the aggregation methods.

    As in pandas, the keys become the result's index (``as_index=False``, or
    ``.reset_index()``, gives them back as columns), a list of functions gives
    ``(column, function)`` column labels, and a grouping whose one column was
    selected (``df.groupby("k").x``) gives Series.  Keys are column labels,
    Series, index level names, or ``level=`` positions/names.  Aggregations
    pyarrow has kernels for merge partial aggregates (`AggPlan`); the rest
    (transform, apply, median, callables, `Aggregation`...) run pandas on
    whole groups (`graphflow.dataframe.groupby_methods`).
    """

    def __init__(self, df, by=None, group_keys=True, sort=None, observed=None, dropna=None, as_index=True,
                 level=None, columns=None, split_out=None, split_every=None, shuffle_method=None):
        if (by is None) == (level is None):
            raise TypeError("You have to supply one of 'by' and 'level'")
        df, by, labels = _with_key_columns(df, by, level)
        self._df = df
        self._by = _key_names(df, by)
        check_columns(self._by, df.schema, "groupby key")
        self.key_labels = labels if labels is not None else [label_of(df.schema, k) for k in self._by]
        self._dropna = True if dropna is None else dropna
        self._columns = columns
        self._as_index, self._sort = as_index, True if sort is None else sort
        self._observed = True if observed is None else observed
        self._group_keys = group_keys
        self._split_out = split_out

    @property
    def by(self) -> list:
        """The Arrow names of the key columns (as Dask's ``GroupBy.by``, after keys are resolved)."""
        return list(self._by)

    def _with(self, columns):
        out = GroupBy(self._df, self._by, group_keys=self._group_keys, sort=self._sort, observed=self._observed,
                      dropna=self._dropna, as_index=self._as_index, columns=columns, split_out=self._split_out)
        out.key_labels = self.key_labels
        return out

    def __getitem__(self, cols):
        single = not isinstance(cols, (list, tuple))
        names = [self._df.arrow_name(c) for c in ([cols] if single else cols)]
        check_columns(names, self._df.schema)
        return self._with(names[0] if single else names)

    def __getattr__(self, name):
        if not name.startswith("_") and name in self._df.schema.names:
            return self[name]
        raise AttributeError(f"'GroupBy' object has no attribute or column {name!r}")

    def _value_columns(self):
        if self._columns is None:
            return [c for c in self._df.arrow_names() if c not in self._by]
        return [self._columns] if not isinstance(self._columns, (list, tuple)) else list(self._columns)

    @property
    def _series(self) -> bool:
        return self._columns is not None and not isinstance(self._columns, (list, tuple))

    def agg(self, arg=None, *args, split_out=None, split_every=None, shuffle_method=None, sort=None, **named):
        """Aggregate: ``{"col": func | [funcs]}``, a function or list for all value columns, or named
        ``out=("col", func)``; a func is a name, a callable (given each group's values, as pandas) or an
        `Aggregation`."""
        split_out = self._split_out if split_out is None else split_out
        aggs = _parse_spec(arg, named, self._value_columns())
        if not named:  # a key column aggregated (``df.groupby("k").k.count()``): its output beside the key
            aggs = [(c, f, f"{o}__{func_name(f)}" if o in self._by else o) for c, f, o in aggs]
        for col, func, _ in aggs:
            if func != "size" and isinstance(func, str) or isinstance(func, Aggregation):
                check_columns([col], self._df.schema)
        labels = _labels(aggs, arg, named)
        if self._series and isinstance(arg, (list, tuple)) and not named:  # one column: labelled by function
            labels = {out: func_name(func) for _, func, out in aggs}
        series = self._series and self._as_index and not named and not isinstance(arg, (list, tuple, dict))
        if not all(isinstance(f, str) and f in _AGGS for _, f, _ in aggs):
            for _, func, _ in aggs:
                if isinstance(func, str) and not hasattr(pd.core.groupby.SeriesGroupBy, func):
                    raise AttributeError(f"'SeriesGroupBy' object has no attribute '{func}'")
            schema = self._df.schema
            items = [(None if self._series else label_of(schema, c), f) for c, f, _ in aggs]
            return self._pandas_agg(items, [labels.get(o, o) for _, _, o in aggs], split_out, series)
        out = self._build(aggs, split_out, self._sort if sort is None else sort)
        return keyed_result(out, self._by, self.key_labels, labels, self._as_index, series)

    aggregate = agg

    def _build(self, aggs, split_out, sort):
        df = self._df
        used = list(dict.fromkeys(self._by + [c for c, f, _ in aggs if f != "size"]))
        df = df[[label_of(df.schema, c) for c in used]]
        plan = AggPlan(self._by, aggs, sort, self._dropna)
        if len(aggs) == 1 and aggs[0][1] == "nunique" and aggs[0][0] not in self._by:  # pairs, not lists
            plan = NuniquePlan(self._by, aggs[0][0], aggs[0][2], sort, self._dropna)
        raw = df.schema.remove_metadata().empty_table().select(used)
        schema = plan.finalize(plan.merge([plan.chunk(raw)])).schema
        if split_out is not None and split_out < 1:
            raise ValueError("split_out must be a positive int or None")
        return DataFrame(GroupbyAgg(df.expr, plan, split_out, schema))

    def size(self, split_out=None, **kwargs):
        """Rows per group: a Series (named as the selected column, else None; ``as_index=False``: a column
        ``size``)."""
        out = self._build([(self._by[0], "size", "size")], split_out, self._sort)
        name = label_of(self._df.schema, self._columns) if self._series else None
        return keyed_result(out, self._by, self.key_labels, {"size": name if self._as_index else "size"},
                            self._as_index, self._as_index)

    def _numeric_only(self):
        """This grouping over its numeric value columns only (``numeric_only=True``)."""
        schema = self._df.schema
        cols = [c for c in self._value_columns() if _is_numeric(schema.field(c).type)]
        return self._with(cols)

    def _reduce(self, func, numeric_only=False, split_out=None, sort=None, **pandas_kw):
        g = self._numeric_only() if numeric_only and not self._series else self
        pandas_kw = {k: v for k, v in pandas_kw.items() if v is not None}
        if pandas_kw:  # options pyarrow's partials do not cover (ddof, min_count): pandas on whole groups
            return g.per_group(CallMethod(func, (), pandas_kw), split_out)
        return g.agg(func, split_out=split_out, sort=sort)


def _is_numeric(t) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)


def _with_key_columns(df, by, level=None):
    """``(df, by, key labels or None)`` with keys that are not plain columns of ``df`` added as columns: Series
    keys (named after the Series) and index levels (``level=``, or an index name in ``by``).  Building a graph
    never computes, so a Series key is never turned into a list."""
    from .colexpr import Col
    from .series import Series

    names = index_names(df.schema)
    keys = level if level is not None else by
    keys = list(keys) if isinstance(keys, (list, tuple)) else [keys]
    extra, out, labels = {}, [], []
    for k in keys:
        if isinstance(k, Series):
            expr = k.column_expr_on(df.expr)
            if not (isinstance(expr, Col) and expr.name == k.arrow_column):
                extra[k.arrow_column] = k
            out.append(k)
            labels.append(k.name)
            continue
        is_column = level is None and not isinstance(k, (Series, list)) and _is_column(df, k)
        if is_column:
            out.append(k)
            labels.append(k)
            continue
        pos = _level_position(names, k, level is not None, list(df.columns))
        col = f"__gf_level_{pos}__"
        extra[col] = Series(df.expr, Col(index_column(pos)), col, df.schema.field(index_column(pos)).type)
        out.append(col)
        labels.append(names[pos])
    return (df.assign(**extra) if extra else df), out, labels


def _is_column(df, k) -> bool:
    try:
        return df.arrow_name(k) in df.schema.names
    except (KeyError, TypeError, ValueError):
        return False


def _level_position(names, k, by_level: bool, columns=()) -> int:
    """The position of index level ``k`` (a position with ``level=``, or a name); pandas' KeyError if none."""
    if by_level and isinstance(k, int) and not isinstance(k, bool):
        if not names or not -len(names) <= k < max(len(names), 1):
            raise IndexError(f"Too many levels: Index has only {max(len(names), 1)} level, not {k + 1}")
        return k % len(names)
    if k in names:
        return list(names).index(k)
    if by_level:
        raise KeyError(f"Level {k} not found")
    raise KeyError(f"groupby key {k!r} not found: neither a column ({', '.join(map(repr, columns))}) nor an "
                   f"index level ({', '.join(map(repr, names)) or 'the index has no name'})")


def _key_names(df, by) -> list:
    from .series import Series

    keys = by if isinstance(by, list) else list(by) if isinstance(by, tuple) else [by]
    for k in keys:  # a missing key is named as a groupby key (before _arrow_name calls it a column)
        # the schema's names first: the labels (df.columns) cost a pandas conversion of the schema
        if not isinstance(k, Series) and k not in df.schema.names and k not in list(df.columns):
            check_columns([k], df.schema, "groupby key")
    return [k.arrow_column if isinstance(k, Series) else df.arrow_name(k) for k in keys]


def _labels(aggs, spec, named) -> dict:
    """``{output column: pandas label}``: where a list of functions is given, every output is labelled
    ``(column, function)`` (pandas' two-level columns)."""
    if named:
        return {out: out for _, _, out in aggs}
    listed = isinstance(spec, (list, tuple)) or (
        isinstance(spec, dict) and any(isinstance(v, (list, tuple)) for v in spec.values()))
    return {out: (col, func_name(func)) if listed else col for col, func, out in aggs}


def keyed_result(out: DataFrame, keys, key_labels, labels: dict, as_index: bool, series: bool):
    """A grouped result ``out`` (key columns ``keys``, then one column per aggregation) with the keys moved to
    the index (named ``key_labels``, if ``as_index``) or kept first as columns, the aggregation columns
    labelled ``labels``; a Series when ``series`` (one aggregation column)."""
    from .colexpr import Col
    from .labels import index_column, with_labels
    from .plan import Blockwise, Project

    values = [n for n in out.schema.names if n not in keys]
    if as_index:
        exprs = [(n, Col(n)) for n in values] + [(index_column(i), Col(k)) for i, k in enumerate(keys)]
        index = tuple(key_labels)
        key_names = {}
    else:  # as pandas: a key whose label an aggregation's output takes is not repeated as a column
        taken = {labels.get(n, n) for n in values}
        kept = [(k, lab) for k, lab in zip(keys, key_labels) if lab not in taken]
        exprs = [(k, Col(k)) for k, _ in kept] + [(n, Col(n)) for n in values]
        index = ()
        key_names = dict(kept)
    fields = [pa.field(name, out.schema.field(e.name).type) for name, e in exprs]
    schema = with_labels(pa.schema(fields), index=index,
                         labels={**key_names, **{n: labels.get(n, n) for n in values}})
    frame = DataFrame(Blockwise(Project(exprs), (out.expr,), schema, label="groupby-result"))
    if series:
        return frame[labels.get(values[0], values[0])]
    return frame


def _parse_spec(spec, named, value_columns):
    """``[(column, func, output column)]`` of an ``agg`` argument (func: a name, callable or Aggregation)."""
    if named:
        return [(col, func, out) for out, (col, func) in named.items()]
    if spec is None:
        raise TypeError("Must provide 'func' or tuples of '(column, aggfunc)'.")
    if isinstance(spec, (list, tuple)):
        return [(c, f, f"{c}_{func_name(f)}") for c in value_columns for f in spec]
    if not isinstance(spec, dict):
        return [(c, spec, c) for c in value_columns]
    out = []
    for col, funcs in spec.items():
        if isinstance(funcs, (list, tuple)):
            out += [(col, f, f"{col}_{func_name(f)}") for f in funcs]
        else:
            out.append((col, funcs, col))
    return out


def func_name(func) -> str:
    """The name pandas labels an aggregation's output with: the name itself, or the function's ``__name__``."""
    return func if isinstance(func, str) else getattr(func, "__name__", "<lambda>")


def _make(func):
    def method(self, numeric_only=False, split_every=None, split_out=None, shuffle_method=None, sort=None,
               **kwargs):
        return GroupBy._reduce(self, func, numeric_only, split_out, sort, **kwargs)

    method.__name__ = func
    method.__doc__ = f"The {func} of every value column per group."
    return method


for _f in ("sum", "mean", "count", "min", "max", "first", "last", "nunique"):
    setattr(GroupBy, _f, _make(_f))


def _moment(func):
    def method(self, ddof=1, split_every=None, split_out=None, numeric_only=False, shuffle_method=None):
        return GroupBy._reduce(self, func, numeric_only, split_out, **({} if ddof == 1 else {"ddof": ddof}))

    method.__name__ = func
    method.__doc__ = f"The {func} of every value column per group, with ``ddof`` (default 1, as pandas)."
    return method


for _f in ("std", "var"):
    setattr(GroupBy, _f, _moment(_f))


def _first_row(table, keys):
    return table


def drop_duplicates(df, subset=None, split_out=None) -> DataFrame:
    """Distinct rows over ``subset`` (all columns by default), keeping each group's first row."""
    names = df.arrow_names()
    subset = names if subset is None else ([subset] if isinstance(subset, str) else list(subset))
    check_columns(subset, df.schema)
    from .colexpr import Col
    from .labels import column_labels, index_columns, index_names, with_labels
    from .plan import Project

    # the index rides along as ordinary columns (first of each group: the kept row's index, as in pandas)
    idx = index_columns(df.schema)
    tmp = [f"__kept_index_{i}" for i in range(len(idx))]
    labels = dict(zip(names, column_labels(df.schema)))
    flat = df
    if idx:
        fields = [df.schema.field(n) for n in names] + [df.schema.field(c).with_name(t) for c, t in zip(idx, tmp)]
        flat = DataFrame(Blockwise(Project([(n, Col(n)) for n in names] + [(t, Col(c)) for c, t in zip(idx, tmp)]),
                                   (df.expr,), with_labels(pa.schema(fields), labels=labels), label="index-as-columns"))
    others = [c for c in names if c not in subset] + tmp
    aggs = [(c, "first", c) for c in others]
    out = GroupBy._build(GroupBy(flat, subset, dropna=False), aggs, split_out, False)  # this module's own GroupBy
    exprs = [(n, Col(n)) for n in names] + [(c, Col(t)) for c, t in zip(idx, tmp)]
    fields = [out.schema.field(n) for n in names] + [out.schema.field(t).with_name(c) for c, t in zip(idx, tmp)]
    schema = with_labels(pa.schema(fields), index=index_names(df.schema), labels=labels)
    return DataFrame(Blockwise(Project(exprs), (out.expr,), schema, label="drop-duplicates"))
