"""Whole-column reductions as tree reductions: a partial *state* per partition, merged pairwise.

Each reduction is a triple (chunk, merge, final) over a per-column state that
is small and mergeable: ``sum`` keeps a sum, ``mean`` (sum, count), ``var``/
``std`` (n, mean, M2) merged with Chan's parallel formula (stable, unlike
sums of squares), ``nunique`` the distinct values, ``quantile`` a sorted
sample.  The states of all partitions meet in a fan-in-8 tree (`Reduce`).

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"x": [1.0, 2.0, None, 5.0]}), npartitions=3)
    >>> float(df.x.mean().compute(scheduler="sync")), int(df.x.count().compute(scheduler="sync"))
    (2.6666666666666665, 3)
    >>> df.sum().compute(scheduler="sync").to_dict()
    {'x': 8.0}

A Series reduction is a lazy `Scalar` that computes to a numpy scalar, as in
pandas and Dask; a DataFrame reduction to a one-row table (one column per
reduced column).  Nulls are skipped, as in pandas (``skipna=True``); a sum of
no values is 0, a mean of none is missing (NaN).
``quantile`` is approximate: each partition keeps ``QUANTILE_SAMPLE`` evenly
spaced order statistics; error is about 1/QUANTILE_SAMPLE of the rank.

DataFrame and Series reach these through `collection.OPERATIONS` (their
methods are `collection.ColumnReductions`), since this module imports them.
"""

from __future__ import annotations

import builtins
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .colexpr import Col
from .collection import Scalar
from .frame import DataFrame
from .groupby import GroupBy
from .labels import data_names, index_column, label_of, with_labels
from .plan import Blockwise, Concat, Func, Reduce
from .series import Series
from ..utils.traverse import identity

QUANTILE_SAMPLE = 1001
_NUMERIC_ONLY = {"sum", "prod", "mean", "std", "var", "quantile", "describe"}

__all__ = ["Scalar", "row_count", "reduce_collection", "describe", "value_counts", "unique", "QUANTILE_SAMPLE"]


# ------------------------------------------------------------------ per-column states


def _chunk_state(arr, how, q):
    if how == "sum":
        return pc.sum(arr, min_count=0).as_py()
    if how == "count":
        return pc.count(arr).as_py()
    if how == "prod":
        return pc.product(arr, min_count=0).as_py()
    if how in ("min", "max"):
        return getattr(pc, how)(arr).as_py()
    if how in ("any", "all"):
        return getattr(pc, how)(_truth(arr), min_count=0).as_py()
    if how == "nunique":
        return pc.unique(arr).drop_null()
    if how == "mean":
        return (pc.sum(arr).as_py() or 0, pc.count(arr).as_py())
    if how in ("var", "std"):
        n = pc.count(arr).as_py()
        if n == 0:
            return (0, 0.0, 0.0)
        f = arr.cast(pa.float64())
        return (n, pc.mean(f).as_py(), pc.variance(f, ddof=0).as_py() * n)
    if how == "quantile":
        return _sample(arr)
    raise ValueError(f"unknown reduction {how!r}")


def _truth(arr):
    """Each value's truth as pandas reads it for ``any``/``all``: a number is true unless 0 (NaN is
    missing, skipped like a null); a string unless empty (pandas' ``str`` dtype)."""
    if pa.types.is_floating(arr.type):
        return pc.if_else(pc.is_nan(arr), pa.scalar(None, pa.bool_()), pc.not_equal(arr, 0))
    if pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
        return pc.not_equal(arr, 0)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return pc.not_equal(arr, "")
    return arr


def _sample(arr):
    vals = np.sort(pc.drop_null(arr).cast(pa.float64()).to_numpy())
    if len(vals) <= QUANTILE_SAMPLE:
        return (vals, np.ones(len(vals)))
    pos = np.linspace(0, len(vals) - 1, QUANTILE_SAMPLE).round().astype(int)
    return (vals[pos], np.full(QUANTILE_SAMPLE, len(vals) / QUANTILE_SAMPLE))


def _merge_states(states, how):
    if how in ("sum", "count"):
        return builtins.sum(states)
    if how == "prod":
        return math.prod(states)
    if how in ("min", "max"):
        present = [s for s in states if s is not None]
        return getattr(builtins, how)(present) if present else None
    if how == "any":
        return builtins.any(states)
    if how == "all":
        return builtins.all(states)
    if how == "nunique":
        return pc.unique(pa.chunked_array(states))
    if how == "mean":
        return (builtins.sum(s[0] for s in states), builtins.sum(s[1] for s in states))
    if how in ("var", "std"):
        return _chan(states)
    vals = np.concatenate([s[0] for s in states])
    weights = np.concatenate([s[1] for s in states])
    order = np.argsort(vals, kind="stable")
    return (vals[order], weights[order])


def _chan(states):
    n = builtins.sum(s[0] for s in states)
    if n == 0:
        return (0, 0.0, 0.0)
    mean = builtins.sum(s[0] * s[1] for s in states) / n
    m2 = builtins.sum(s[2] + s[0] * (s[1] - mean) ** 2 for s in states)
    return (n, mean, m2)


def _final_value(state, how, q, ddof):
    if how == "nunique":
        return len(state)
    if how == "mean":
        return state[0] / state[1] if state[1] else None
    if how in ("var", "std"):
        n, _, m2 = state
        if n - ddof <= 0:
            return None
        var = m2 / (n - ddof)
        return math.sqrt(var) if how == "std" else var
    if how == "quantile":
        return _weighted_quantile(state, q)
    return state


def _weighted_quantile(state, q):
    vals, weights = state
    if len(vals) == 0:
        return None
    cum = np.cumsum(weights) - weights / 2
    cum = (cum - cum[0]) / builtins.max(cum[-1] - cum[0], 1e-300)
    return float(np.interp(q, cum, vals))


# ------------------------------------------------------------------ tasks


class _Spec:
    """How to reduce which columns: picklable and tokenizable, shared by the three steps."""

    def __init__(self, how, columns, q=0.5, ddof=1, min_count=0):
        self.how, self.columns, self.q, self.ddof = how, tuple(columns), q, ddof
        self.min_count = min_count  # > 0: each state also counts present values (pandas' sum(min_count=))

    def __graphflow_tokenize__(self):
        return ("reduce", self.how, self.columns, self.q, self.ddof, self.min_count)

    def chunk(self, table):
        states = [_chunk_state(table.column(c), self.how, self.q) for c in self.columns]
        if self.min_count:
            return [(s, pc.count(table.column(c)).as_py()) for s, c in zip(states, self.columns)]
        return states

    def combine(self, parts):
        if self.min_count:
            return [(_merge_states([p[i][0] for p in parts], self.how), builtins.sum(p[i][1] for p in parts))
                    for i in range(len(self.columns))]
        return [_merge_states([p[i] for p in parts], self.how) for i in range(len(self.columns))]

    def finalize(self, state):
        if self.min_count:
            return [_final_value(s, self.how, self.q, self.ddof) if n >= self.min_count else None
                    for s, n in state]
        return [_final_value(s, self.how, self.q, self.ddof) for s in state]


def _chunk(table, spec):
    return spec.chunk(table)


class _Step:
    def __init__(self, spec, step, schema=None):
        self.spec, self.step, self.schema = spec, step, schema

    def __call__(self, arg):
        if self.step == "combine":
            return self.spec.combine(arg)
        values = self.spec.finalize(arg)
        if self.schema is None:
            return values[0]
        return pa.Table.from_arrays([pa.array([v], type=f.type) for v, f in zip(values, self.schema)],
                                    schema=self.schema)

    def __graphflow_tokenize__(self):
        return (self.spec.__graphflow_tokenize__(), self.step, None if self.schema is None else str(self.schema))


def _out_type(how, t):
    if how in ("count", "nunique"):
        return pa.int64()
    if how in ("any", "all"):
        return pa.bool_()
    if how in ("min", "max"):
        return t
    if how in ("sum", "prod"):
        return t if pa.types.is_integer(t) or pa.types.is_floating(t) else pa.float64()
    return pa.float64()


def _scalar_type(how, t):
    """The type of a Series reduction's value: pandas' (a sum of integers or booleans is int64)."""
    if how == "sum" and (pa.types.is_signed_integer(t) or pa.types.is_boolean(t)):
        return pa.int64()
    if how == "sum" and pa.types.is_unsigned_integer(t):
        return pa.uint64()
    if how == "sum" and pa.types.is_decimal(t):
        return pc.sum(pa.array([], type=t)).type  # pyarrow widens the precision
    return _out_type(how, t)


def _reduction_plan(plan, spec, schema):
    chunk = Blockwise(Func(_chunk, spec), (plan,), schema=pa.schema([]), label=f"{spec.how}-chunk")
    return Reduce(chunk, _Step(spec, "combine"), _Step(spec, "finalize", schema), schema)


def _is_numeric(t):
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)


def reduce_collection(coll, how, **kw):
    """The reduction ``how`` of a Series (a `Scalar`) or of a DataFrame (a Series indexed by the column
    labels, as pandas gives)."""
    if isinstance(coll, Series):
        if how in _NUMERIC_ONLY and not _is_numeric(coll.arrow_type):
            raise TypeError(f"cannot take the {how} of Series {coll.name!r} of type {coll.dtype}")
        spec = _Spec(how, [coll.arrow_column], **kw)
        return Scalar(_reduction_plan(coll.expr, spec, None), _scalar_type(how, coll.arrow_type))
    names = set(data_names(coll.schema))
    fields = [f for f in coll.schema if f.name in names and (how not in _NUMERIC_ONLY or _is_numeric(f.type))]
    spec = _Spec(how, [f.name for f in fields], **kw)
    schema = pa.schema([pa.field(f.name, _out_type(how, f.type)) for f in fields])
    row = _reduction_plan(coll[[f.name for f in fields]].expr, spec, schema)
    labels = [label_of(coll.schema, f.name) for f in fields]
    return column_series(row, labels)


def column_series(row, labels):
    """A Series of the one-row table ``row``'s values, indexed by ``labels`` (one per column)."""
    types = [f.type for f in row.schema]
    if types and all(pa.types.is_integer(t) or pa.types.is_boolean(t) for t in types) and \
            not all(pa.types.is_boolean(t) for t in types):
        value = pa.int64()
    elif types and all(pa.types.is_boolean(t) for t in types):
        value = pa.bool_()
    elif all(_is_numeric(t) for t in types):
        value = pa.float64()
    elif len(set(types)) == 1:  # one type (timestamps, dates...): the values keep it, as pandas' do
        value = types[0]
    else:
        value = pa.string()
    schema = with_labels(pa.schema([pa.field("__series__", value), pa.field(index_column(0), pa.string())]),
                         index=(None,), labels={"__series__": None})
    plan = Blockwise(Func(_transpose, [str(x) for x in labels], value), (row,), schema, label="transpose")
    return Series(plan, Col("__series__"), None, value)


def _transpose(table, labels, value_type):
    values = [table.column(i)[0].cast(value_type) if table.num_rows else pa.scalar(None, value_type)
              for i in range(table.num_columns)]
    return pa.table({"__series__": pa.array([v.as_py() for v in values], value_type),
                     index_column(0): pa.array(labels, pa.string())})


def describe(self):
    """count, mean, std, min, 25%, 50%, 75%, max of the numeric columns: a lazy DataFrame indexed by the statistics."""
    frame = self.to_frame() if isinstance(self, Series) else self
    stats = [("count", {}), ("mean", {}), ("std", {}), ("min", {}), ("quantile", {"q": 0.25}),
             ("quantile", {"q": 0.5}), ("quantile", {"q": 0.75}), ("max", {})]
    names = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    data = set(data_names(frame.schema))
    numeric = frame[[f.name for f in frame.schema
                     if f.name in data and _is_numeric(f.type) and not pa.types.is_boolean(f.type)]]
    cols = data_names(numeric.schema)
    parts = []
    for label, (how, kw) in zip(names, stats):
        spec = _Spec(how, cols, **kw)
        schema = pa.schema([pa.field(c, pa.float64()) for c in cols])
        row = DataFrame(_reduction_plan(numeric.expr, spec, schema))
        parts.append(row.assign(**{index_column(0): label}).expr)
    out = with_labels(parts[0].schema, index=(None,), labels={c: label_of(numeric.schema, c) for c in cols})
    table = DataFrame(Reduce(Concat(parts, out), _concat_parts, identity, out))
    if isinstance(self, Series):  # a Series' description is a Series named as it is (pandas)
        if not cols:
            raise TypeError(f"describe of Series {self.name!r} of type {self.dtype}: only numeric Series")
        return Series(table.expr, Col(cols[0]), self.name, pa.float64())
    return table


def _concat_parts(parts):
    return pa.concat_tables(parts)


def value_counts(self, sort: bool = True, ascending: bool = False, dropna: bool = True):
    """Counts of each distinct value: a lazy Series named ``count`` indexed by the values, most frequent
    first (as pandas)."""
    out = GroupBy(self.to_frame(), [self.arrow_column], dropna=dropna).size().to_frame("count")
    out = out.sort_values("count", ascending=ascending) if sort else out
    return out["count"]


def unique(self):
    """The distinct values (nulls included once), as a lazy Series."""
    frame = self.to_frame().drop_duplicates()
    return Series(frame.expr, Col(self.arrow_column), self.name, self.arrow_type)


def row_count(df):
    """The number of rows, as a lazy `Scalar`."""
    chunk = Blockwise(Func(_num_rows), (df.expr,), schema=pa.schema([]), label="len-chunk")
    return Scalar(Reduce(chunk, _sum_list, identity, None), pa.int64())


def _num_rows(table):
    return table.num_rows


def _sum_list(parts):
    return builtins.sum(parts)
