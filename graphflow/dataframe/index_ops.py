"""The index, with Dask's semantics: ``set_index``, ``repartition(divisions=)``, ``loc``, joins on the index.

Divisions follow Dask's convention: ``npartitions + 1`` sorted index values,
partition i holding the rows with ``divisions[i] <= index < divisions[i + 1]``
(the last partition also ``== divisions[-1]``).

``set_index(column)`` (as Dask, the divisions are computed when it is called)::

    sample-i  = every k-th key of partition i, plus its min and max    (m tasks, computed now)
    divisions = min, n-1 evenly spaced sampled keys, max               (here, from the samples)
    shuffle   = each row to the partition its key falls in              (`Shuffle`, Dask's rule)
    sort-j    = partition j sorted by the index                         (n tasks)

``sorted=True`` skips the shuffle: each partition's min and max give the
divisions (computed now; partitions that overlap are a ValueError naming
``sorted=False``).

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"k": [3, 1, 2, 5], "x": [1, 2, 3, 4]}), npartitions=2)
    >>> ts = df.set_index("k", npartitions=2)
    >>> ts.divisions, ts.compute(scheduler="sync").index.tolist()
    ((1, 3, 5), [1, 2, 3, 5])

Joins on the index (``join``, ``merge(left_index=True, right_index=True)``)
are partition-wise when both sides know their divisions (each side first
cut to the union of both sides' divisions), a hash shuffle of both sides on
their keys otherwise.  Arithmetic between Series (or frames) of different
origins is an outer join on the index, as pandas aligns.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import base
from ..spec import Ref, Task
from ..utils.traverse import identity
from .collection import Scalar, concat_tables
from .colexpr import Call, Col, Lit, output_type
from .frame import DataFrame, with_positions
from .labels import column_labels, data_names, index_column, index_names, with_labels
from .plan import Blockwise, Filter, Partitions, PlanNode, Project, Reduce
from .series import Series
from .shuffle import Shuffle, shuffle
from .sort import SAMPLES_PER_PARTITION, argsort_numeric

__all__ = ["set_index", "repartition_divisions", "interpolate_divisions", "loc", "iloc", "index_merge", "join",
           "align_series", "align_frames"]

IDX = index_column(0)


# ------------------------------------------------------------------ values


def _py(arr) -> list:
    """Index values as pandas gives them (``Timestamp`` for timestamps, Python ints and floats, str)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return [v.item() if isinstance(v, np.generic) else v for v in arr.to_pandas().tolist()]


def _scalar(value, typ):
    """``value`` (a label as a user gives it) as an Arrow scalar of the index's type."""
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        value = pd.Timestamp(value)
        if pa.types.is_timestamp(typ):
            value = value.tz_localize(typ.tz) if typ.tz and value.tzinfo is None else value
        else:
            value = value.date()
    try:
        return pa.scalar(value, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise KeyError(f"{value!r} cannot be a label of an index of type {typ}: {exc}") from None


def _searchsorted(edges, col, side) -> np.ndarray:
    """For each value of ``col`` (nulls excluded by the caller), the number of ``edges`` before it."""
    if len(edges) == 0:
        return np.zeros(len(col), np.int64)
    typ = col.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_temporal(typ):
        values = col.to_numpy(zero_copy_only=False)
        cuts = pa.array(edges, type=typ).to_numpy(zero_copy_only=False)
    else:
        values = np.asarray(col.to_pylist(), dtype=object)
        cuts = np.asarray(pa.array(edges, type=typ).to_pylist(), dtype=object)
    return np.searchsorted(cuts, values, side=side).astype(np.int64)


# ------------------------------------------------------------------ set_index


def _keyed(df, other, drop):
    """``df`` with ``other`` (a column label or a Series of this frame) as its index: (frame, index label)."""
    if isinstance(other, (list, DataFrame)):
        raise NotImplementedError(f"Dask dataframe does not yet support multi-indexes.\nYou tried to index with "
                                  f"this index: {other!r}\nIndexes must be single columns only.")
    names = data_names(df.schema)
    if isinstance(other, Series):
        try:
            key = other.column_expr_on(df.expr)
        except ValueError:
            raise ValueError(f"set_index: the Series {other.name!r} does not come from this frame; assign it as a "
                             f"column first (or join on the index)") from None
        label, drop_name = other.name, None
    else:
        drop_name = df.arrow_name(other)
        key, label = Col(drop_name), other
    exprs = [(n, Col(n)) for n in names if not (drop and n == drop_name)] + [(IDX, key)]
    fields = [pa.field(n, output_type(e, df.schema)) for n, e in exprs]
    labels = dict(zip(names, column_labels(df.schema)))
    schema = with_labels(pa.schema(fields), index=(label,), labels=labels)
    return DataFrame(Blockwise(Project(exprs), (df.expr,), schema, label="set-index-key"))


class _Sample:
    """Op: a partition's non-null index values: every k-th one, plus the smallest and the largest."""

    def __call__(self, table):
        col = pc.drop_null(table.column(IDX)).combine_chunks()
        if len(col) == 0:
            return pa.table({"v": col})
        step = max(len(col) // SAMPLES_PER_PARTITION, 1)
        mm = pc.min_max(col)
        picked = col.take(pa.array(np.arange(0, len(col), step)))
        ends = pa.array([mm["min"].as_py(), mm["max"].as_py()], col.type)
        return pa.table({"v": pa.concat_arrays([picked, ends])})

    def __graphflow_tokenize__(self):
        return ("index-sample", SAMPLES_PER_PARTITION)


class _MinMax:
    """Op: one row (min, max, rows) of a partition's index."""

    def __call__(self, table):
        col = table.column(IDX)
        mm = pc.min_max(col)
        return pa.table({"min": pa.array([mm["min"].as_py()], col.type), "max": pa.array([mm["max"].as_py()], col.type),
                         "n": pa.array([table.num_rows], pa.int64())})

    def __graphflow_tokenize__(self):
        return "index-min-max"


def _concat(parts):
    return pa.concat_tables(parts)


def _eager(plan, op, schema):
    """Compute now (the sync scheduler, as sort's boundaries) ``op`` on every partition, concatenated."""
    per = Blockwise(op, (plan,), schema, label="index-stats")
    [table] = base.compute(Scalar(Reduce(per, _concat, identity, schema)), scheduler="sync")
    return table


def _quantile_divisions(values, n):
    """Divisions for ``n`` partitions from sorted sample ``values``: min, interior quantiles, max; repeated
    quantiles merged (fewer partitions, as Dask does)."""
    if not values:
        return None
    out = [values[0]]
    for j in range(1, n):
        q = values[int(len(values) * j / n)]
        if q > out[-1]:
            out.append(q)
    out.append(values[-1])
    return tuple(out)


class ByDivisions:
    """Partitioner: the partition of each row by its index under Dask's rule (``d[i] <= x < d[i+1]``);
    values beyond the ends go to the first / last partition, null indexes to the last."""

    def __init__(self, divisions):
        self.divisions = tuple(divisions)

    def __call__(self, table, n):
        col = table.column(IDX).combine_chunks()
        if col.null_count:
            valid = col.is_valid().to_numpy(zero_copy_only=False)
            ids = np.full(len(col), n - 1, np.int64)
            ids[valid] = _searchsorted(list(self.divisions[1:-1]), col.filter(valid), "right")
            return ids
        return _searchsorted(list(self.divisions[1:-1]), col, "right")

    def __graphflow_tokenize__(self):
        return ("by-divisions", tuple(map(repr, self.divisions)))

    def __repr__(self):
        return f"divisions({len(self.divisions) - 1})"


class _SortIndex:
    """Op: a partition sorted by its index (nulls last)."""

    def __call__(self, table):
        col = table.column(IDX)
        if col.null_count == 0 and (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            return table.take(pa.array(argsort_numeric(col.to_numpy())))
        return table.take(pc.sort_indices(table, [(IDX, "ascending")]))

    def __graphflow_tokenize__(self):
        return "sort-index"


class _Same:
    """Op: the partition unchanged (a node that states divisions)."""

    def __call__(self, table):
        return table

    def __graphflow_tokenize__(self):
        return "same"


def _check_divisions(divisions, what="divisions"):
    divisions = tuple(divisions)
    if len(divisions) < 2:
        raise ValueError(f"{what} must have at least 2 values (npartitions + 1), not {divisions!r}")
    if any(b < a for a, b in zip(divisions, divisions[1:])):
        raise ValueError(f"{what} must be sorted: {divisions!r}")
    if any(b == a for a, b in zip(divisions[:-2], divisions[1:-1])):
        raise ValueError(f"{what} must be unique (only the last two may be equal): {divisions!r}")
    return divisions


def set_index(df, other, drop=True, sorted=False, divisions=None, npartitions=None):
    """See `IndexMethods.set_index`."""
    keyed = _keyed(df, other, drop)
    typ = keyed.schema.field(IDX).type
    if divisions is not None:
        divisions = _check_divisions([_scalar(v, typ).as_py() if not isinstance(v, pd.Timestamp) else v
                                      for v in divisions])
    if sorted:
        if divisions is not None:
            if len(divisions) != keyed.npartitions + 1:
                raise ValueError(f"set_index(sorted=True, divisions=...): {len(divisions)} divisions for "
                                 f"{keyed.npartitions} partitions (need npartitions + 1)")
            return DataFrame(Blockwise(_Same(), (keyed.expr,), keyed.schema, divisions=divisions))
        return _sorted_divisions(keyed)
    if divisions is None:
        n = npartitions or df.npartitions
        sample = _eager(keyed.expr, _Sample(), pa.schema([("v", typ)])).column("v")
        values = _py(pc.take(sample, pc.sort_indices(sample)))
        divisions = _quantile_divisions(values, n)
        if divisions is None:  # no non-null key: nothing to range-partition on
            return DataFrame(Blockwise(_SortIndex(), (keyed.expr,), keyed.schema, label="set-index"))
    n = len(divisions) - 1
    if n == 1 and keyed.npartitions == 1:
        return DataFrame(Blockwise(_SortIndex(), (keyed.expr,), keyed.schema, label="set-index",
                                   divisions=divisions))
    shuffled = Shuffle(keyed.expr, ByDivisions(divisions), n)
    return DataFrame(Blockwise(_SortIndex(), (shuffled,), keyed.schema, label="set-index", divisions=divisions))


def _sorted_divisions(keyed):
    stats = _eager(keyed.expr, _MinMax(), pa.schema(
        [("min", keyed.schema.field(IDX).type), ("max", keyed.schema.field(IDX).type), ("n", pa.int64())]))
    mins, maxes, lens = _py(stats.column("min")), _py(stats.column("max")), stats.column("n").to_pylist()
    keep = [i for i, k in enumerate(lens) if k and mins[i] is not None]
    if not keep:
        return keyed
    lo, hi = [mins[i] for i in keep], [maxes[i] for i in keep]
    if any(a >= b for a, b in zip(hi[:-1], lo[1:])):
        raise ValueError("set_index(sorted=True): partitions have overlapping values, so divisions are not "
                         "unique; use set_index(sorted=False) to sort. The (min, max, len) of each partition: "
                         f"{list(zip(mins, maxes, lens))}")
    plan = keyed.expr if len(keep) == keyed.npartitions else Partitions(keyed.expr, keep)
    return DataFrame(Blockwise(_Same(), (plan,), keyed.schema, divisions=tuple(lo) + (hi[-1],)))


# ------------------------------------------------------------------ repartition by divisions


def _cut(parts, lo, hi, last, typ, schema):
    """The rows of ``parts`` with ``lo <= index < hi`` (``<= hi`` when ``last``)."""
    out = []
    for t in parts:
        col = t.column(IDX)
        mask = pc.and_(pc.greater_equal(col, pa.scalar(lo, typ)),
                       (pc.less_equal if last else pc.less)(col, pa.scalar(hi, typ)))
        out.append(t.filter(mask))
    return concat_tables(out, schema) if out else schema.empty_table()


class RepartitionDivisions(PlanNode):
    """``child`` (known divisions) cut into the partitions of ``divisions``: output j gathers the rows of
    the inputs whose range overlaps ``[divisions[j], divisions[j+1])``."""

    label = "repartition-divisions"

    def __init__(self, child, divisions, old=None):
        self.children = (child,)
        self._divs = tuple(divisions)
        # read now: the optimizer's rewrites of the child need not state them
        self._old = tuple(old) if old is not None else child.divisions
        self._npartitions = len(self._divs) - 1
        self._schema = child.schema

    @property
    def divisions(self):
        return self._divs

    def params(self):
        return tuple(map(repr, self._divs))

    def with_children(self, children):
        return RepartitionDivisions(children[0], self._divs, self._old)

    def tasks(self):
        child = self.children[0]
        old, new, typ = self._old, self._divs, self._schema.field(IDX).type
        out = []
        for j in range(self._npartitions):
            lo, hi, last = new[j], new[j + 1], j == self._npartitions - 1
            refs = [Ref((child.name, i)) for i in range(child.npartitions)
                    if old[i] <= hi and old[i + 1] >= lo]
            out.append(Task((self.name, j), _cut, refs, lo, hi, last, typ, self._schema))
        return out


def repartition_divisions(df, divisions, force=False):
    """``df`` with the partitions of ``divisions`` (Dask's ``repartition(divisions=)``)."""
    if not df.known_divisions:
        raise ValueError("Cannot repartition on divisions with unknown divisions: set_index (or from_pandas) "
                         "gives known divisions, or use repartition(npartitions=)")
    typ = df.schema.field(IDX).type
    divisions = _check_divisions([v if isinstance(v, pd.Timestamp) else _scalar(v, typ).as_py() for v in divisions],
                                 "New division")
    old = df.divisions
    if not force:
        if divisions[0] > old[0]:
            raise ValueError("left side of the new division must be equal or smaller than old division")
        if divisions[-1] < old[-1]:
            raise ValueError("right side of the new division must be equal or larger than old division")
    if tuple(divisions) == tuple(old):
        return df
    return DataFrame(RepartitionDivisions(df.expr, divisions))


def interpolate_divisions(divisions, npartitions):
    """``npartitions + 1`` divisions spread between known numeric/datetime ``divisions`` (linear between
    the old ones, as Dask does); None when the values are not numbers or times."""
    if all(isinstance(d, (int, float)) and not isinstance(d, bool) for d in divisions):
        kind = "int" if all(isinstance(d, int) for d in divisions) else "float"
        values = np.asarray(divisions, dtype=np.float64)
    elif all(isinstance(d, pd.Timestamp) for d in divisions):
        kind, values = "time", np.asarray([d.value for d in divisions], dtype=np.float64)
    else:
        return None
    new = np.interp(np.linspace(0, len(values) - 1, npartitions + 1), np.arange(len(values)), values)
    if kind == "int":
        out = [int(round(v)) for v in new]
    elif kind == "time":
        tz = divisions[0].tz
        out = [pd.Timestamp(int(round(v)), tz=tz) for v in new]
    else:
        out = [float(v) for v in new]
    out[0], out[-1] = divisions[0], divisions[-1]
    uniq = [out[0]] + [b for a, b in zip(out[:-2], out[1:-1]) if b > a]
    uniq = [u for i, u in enumerate(uniq) if i == 0 or u > uniq[i - 1]]
    return tuple(uniq) + (out[-1],)


# ------------------------------------------------------------------ loc


def _base(obj):
    """(frame plan with a stored index, rebuild) for a DataFrame or Series: ``rebuild(plan)`` makes the same
    kind of object over a filtered/pruned ``plan``."""
    if isinstance(obj, Series):
        if not index_names(obj.expr.schema):
            frame = with_positions(obj.to_frame())
            col = data_names(frame.schema)[0]
            return frame.expr, lambda p: Series(p, Col(col), obj.name, obj.arrow_type)
        return obj.source, lambda p: Series(p, obj.column_expr, obj.name, obj.arrow_type)
    df = with_positions(obj)
    return df.expr, DataFrame


def _prune(plan, keep, divisions=None):
    keep = list(keep)
    if not keep:
        keep = [0]  # an empty result keeps one (filtered-out) partition for its schema
    if keep == list(range(plan.npartitions)) and divisions is None:
        return plan
    node = Partitions(plan, keep)
    if divisions is not None:
        return Blockwise(_Same(), (node,), node.schema, divisions=divisions)
    return node


def _holds(divs, i, lo, hi):
    """Whether partition i (of known divisions ``divs``) may hold an index value in [lo, hi]."""
    last = i == len(divs) - 2
    below_end = (lo <= divs[i + 1]) if last else (lo < divs[i + 1])
    return below_end and divs[i] <= hi


def _label_range(label, typ):
    """The [lo, hi] range of index values a label names (a partial date string names a period)."""
    if isinstance(label, str) and (pa.types.is_timestamp(typ) or pa.types.is_date(typ)) and len(label) <= 10:
        period = pd.Period(label)
        return _scalar(period.start_time, typ), _scalar(period.end_time, typ)
    s = _scalar(label, typ)
    return s, s


def _slice_rows(plan, key, typ):
    divs = plan.divisions
    lo = hi = None
    if key.start is not None:
        lo = _label_range(key.start, typ)[0]
    if key.stop is not None:
        hi = _label_range(key.stop, typ)[1]
    preds = []
    if lo is not None:
        preds.append(Call("greater_equal", [Col(IDX), Lit(lo)]))
    if hi is not None:
        preds.append(Call("less_equal", [Col(IDX), Lit(hi)]))
    if divs is not None:
        lo_v = lo.as_py() if lo is not None else divs[0]
        hi_v = hi.as_py() if hi is not None else divs[-1]
        lo_v, hi_v = _like(lo_v, divs[0]), _like(hi_v, divs[0])
        keep = [i for i in range(len(divs) - 1) if _holds(divs, i, lo_v, hi_v)]
        new = None
        if keep:
            d = list(divs[keep[0]:keep[-1] + 2])
            d[0], d[-1] = max(d[0], lo_v), min(d[-1], hi_v)
            new = tuple(d) if all(a <= b for a, b in zip(d, d[1:])) else None
        plan = _prune(plan, keep, new)
    if not preds:
        return plan
    pred = preds[0] if len(preds) == 1 else Call("and", preds)
    return Blockwise(Filter(pred), (plan,), plan.schema)


def _like(value, ref):
    """``value`` comparable with the divisions' values (Timestamps for a time index)."""
    if isinstance(ref, pd.Timestamp) and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    return value


def _labels_rows(plan, labels, typ):
    values = [_scalar(v, typ) for v in labels]
    divs = plan.divisions
    if divs is not None:
        py = [_like(v.as_py(), divs[0]) for v in values]
        plan = _prune(plan, [i for i in range(len(divs) - 1) if any(_holds(divs, i, v, v) for v in py)])
    arr = pa.array([v.as_py() for v in values], type=typ)
    pred = Call("is_in", [Col(IDX)], pc.SetLookupOptions(arr))
    return Blockwise(Filter(pred), (plan,), plan.schema)


def _rows(obj, key):
    if isinstance(key, slice) and key == slice(None):
        return obj
    if isinstance(key, Series):
        return obj[key]
    if callable(key):
        return _rows(obj, key(obj))
    plan, rebuild = _base(obj)
    typ = plan.schema.field(IDX).type
    if isinstance(key, slice):
        if key.step is not None:
            raise NotImplementedError("loc with a step is not supported lazily (as in Dask); select the range, "
                                      "then compute")
        return rebuild(_slice_rows(plan, key, typ))
    if isinstance(key, (list, np.ndarray, pd.Index, pd.Series)):
        return rebuild(_labels_rows(plan, list(key), typ))
    lo, hi = _label_range(key, typ)
    if lo.as_py() != hi.as_py():
        return rebuild(_slice_rows(plan, slice(key, key), typ))
    return rebuild(_labels_rows(plan, [key], typ))


def loc(obj, key):
    """``obj.loc[key]``: rows by index labels (a label, a slice, both ends included, a list, a boolean
    Series, a callable), and for a DataFrame ``loc[rows, columns]``.  Known divisions prune the partitions
    read; unknown ones mean a scan of every partition."""
    if isinstance(key, tuple) and isinstance(obj, DataFrame):
        if len(key) != 2:
            raise IndexError(f"too many indexers: {key!r}")
        rows, cols = key
        return _columns(_rows(obj, rows), cols)
    return _rows(obj, key)


def _empty(df):
    """The empty pandas frame of ``df`` (its columns and dtypes)."""
    from .pandas_edge import to_pandas_frame

    return to_pandas_frame(df.schema.empty_table(), df.schema)


def _columns(df, cols):
    if isinstance(cols, slice) and cols == slice(None):
        return df
    picked = _empty(df).loc[:, cols]
    if isinstance(picked, pd.Series):
        return df[cols]
    return df[list(picked.columns)]


def iloc(obj, key):
    """``df.iloc[:, columns]``: columns by position.  Rows by position are not known lazily (as in Dask)."""
    msg = ("'DataFrame.iloc' only supports selecting columns. It must be used like 'df.iloc[:, column_indexer]'. "
           "To select rows by position, use df.partitions[...], head()/tail(), or compute() first")
    if not isinstance(key, tuple) or len(key) != 2 or not (isinstance(key[0], slice) and key[0] == slice(None)):
        raise NotImplementedError(msg)
    picked = _empty(obj).iloc[:, key[1]]
    if isinstance(picked, pd.Series):
        return obj[picked.name]
    return obj[list(picked.columns)]


# ------------------------------------------------------------------ joins on the index

_HOW = {"inner": "inner", "left": "left outer", "right": "right outer", "outer": "full outer"}
_LK, _RK, _LI, _RI = "__gf_left_key__", "__gf_right_key__", "__gf_left_index__", "__gf_right_index__"


class IndexJoin:
    """Op: two prepared partitions joined on their key columns; the output's index from ``index_from``
    ("key": the key of either side, "left"/"right": that side's own index)."""

    def __init__(self, how, index_from, left_cols, right_cols):
        self.how, self.index_from = how, index_from
        self.left_cols, self.right_cols = tuple(left_cols), tuple(right_cols)

    def __call__(self, left, right):
        out = left.join(right, keys=_LK, right_keys=_RK, join_type=_HOW[self.how], coalesce_keys=False,
                        use_threads=False)
        if self.index_from == "key":
            idx = out.column(_LK) if self.how in ("inner", "left") else pc.coalesce(out.column(_LK), out.column(_RK))
        else:
            idx = out.column(_LI if self.index_from == "left" else _RI)
        cols = [out.column(c) for c in self.left_cols + self.right_cols] + [idx]
        return pa.Table.from_arrays(cols, names=list(self.left_cols + self.right_cols) + [IDX])

    def __graphflow_tokenize__(self):
        return ("index-join", self.how, self.index_from, self.left_cols, self.right_cols)

    def __repr__(self):
        return f"IndexJoin({self.how}, index from {self.index_from})"


def _frame(obj, what):
    if isinstance(obj, DataFrame):
        return obj
    if isinstance(obj, Series):
        return obj.to_frame()
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        from .construct import from_pandas

        return _frame(from_pandas(obj, npartitions=1, sort=False), what)
    raise TypeError(f"can only join a graphflow or pandas DataFrame/Series, not {type(obj).__name__} ({what})")


def _prepare(df, key, key_col, out_names, keep_index_as):
    names = data_names(df.schema)
    exprs = [(o, Col(n)) for n, o in zip(names, out_names)] + [(key_col, key)]
    if keep_index_as is not None:
        exprs.append((keep_index_as, Col(IDX)))
    fields = [pa.field(n, output_type(e, df.schema)) for n, e in exprs]
    return Blockwise(Project(exprs), (df.expr,), pa.schema(fields), label="index-join-side")


def index_merge(left, right, how="inner", left_on=None, right_on=None, left_index=False, right_index=False,
                suffixes=("_x", "_y"), npartitions=None, overlap_error=False):
    """A join where at least one side's key is its index (``merge(left_index=/right_index=)``, ``join``)."""
    if how not in _HOW:
        raise ValueError(f"how must be one of {sorted(_HOW)}, not {how!r}")
    left, right = with_positions(_frame(left, "left")), with_positions(_frame(right, "right"))
    if len(index_names(left.schema)) > 1 or len(index_names(right.schema)) > 1:
        raise NotImplementedError("joins on a multi-level index are not supported (as in Dask)")
    if not left_index and left_on is None or not right_index and right_on is None:
        raise ValueError("merge on the index needs left_index=True or left_on=, and right_index=True or right_on=")
    lkey = Col(IDX) if left_index else Col(left.arrow_name(_one(left_on, "left_on")))
    rkey = Col(IDX) if right_index else Col(right.arrow_name(_one(right_on, "right_on")))
    index_from = "key" if left_index and right_index else ("left" if right_index else "right")
    lnames, rnames = list(left.columns), list(right.columns)
    both = [c for c in lnames if c in rnames]
    if both and overlap_error and not (suffixes[0] or suffixes[1]):
        raise ValueError(f"columns overlap but no suffix specified: {pd.Index(both)}")
    lout = [_out(c, suffixes[0] if c in both else "") for c in lnames]
    rout = [_out(c, suffixes[1] if c in both else "") for c in rnames]
    if len(set(map(str, lout + rout))) != len(lout) + len(rout):
        raise ValueError(f"the joined columns would repeat a name: {lout + rout}")
    lcols = [f"__gf_l{i}__" for i in range(len(lout))]
    rcols = [f"__gf_r{i}__" for i in range(len(rout))]
    lplan = _prepare(left, lkey, _LK, lcols, _LI if index_from == "left" else None)
    rplan = _prepare(right, rkey, _RK, rcols, _RI if index_from == "right" else None)
    lt, rt = lplan.schema.field(_LK).type, rplan.schema.field(_RK).type
    if lt != rt:
        raise TypeError(f"cannot join on keys of different types: left {lt}, right {rt}; cast one with astype")
    op = IndexJoin(how, index_from, lcols, rcols)
    idx_name = (index_names(left.schema)[0] if index_from in ("key", "left") else index_names(right.schema)[0])
    idx_type = lt if index_from == "key" else (left if index_from == "left" else right).schema.field(IDX).type
    fields = [pa.field(c, lplan.schema.field(c).type) for c in lcols] + \
             [pa.field(c, rplan.schema.field(c).type) for c in rcols] + [pa.field(IDX, idx_type)]
    inner = with_labels(pa.schema(fields), index=(idx_name,))
    divisions = None
    if index_from == "key" and left.known_divisions and right.known_divisions:
        common = left.divisions if left.divisions == right.divisions else _union(left.divisions, right.divisions)
        lp = _repartitioned(left, lplan, common)
        rp = _repartitioned(right, rplan, common)
        divisions = common
    else:
        n = npartitions or max(left.npartitions, right.npartitions)
        lp, rp = shuffle(lplan, [_LK], n), shuffle(rplan, [_RK], n)
    joined = Blockwise(op, (lp, rp), inner, label="join-index", divisions=divisions)
    # the final names and labels (arrow names from the labels, as the rest of the package names them)
    labels = lout + rout
    final = [(_arrow(lab, i), Col(c)) for i, (lab, c) in enumerate(zip(labels, lcols + rcols))] + [(IDX, Col(IDX))]
    schema = with_labels(pa.schema([pa.field(n, inner.field(c.name).type) for n, c in final]),
                         index=(idx_name,), labels={n: lab for (n, _), lab in zip(final, labels)})
    return DataFrame(Blockwise(Project(final), (joined,), schema, label="join-index-names"))


def _one(key, what):
    if isinstance(key, (list, tuple)):
        if len(key) != 1:
            raise NotImplementedError(f"{what} with several columns against an index is not supported")
        return key[0]
    return key


def _out(label, suffix):
    return f"{label}{suffix}" if suffix else label


def _arrow(label, i):
    return label if isinstance(label, str) else f"__col_{i}__"


def _union(a, b):
    values = a + b
    out = sorted(set(values))
    return tuple(out) if len(out) > 1 else (out[0], out[0])


def _repartitioned(df, plan, divisions):
    """``plan`` (a projection of ``df`` keeping its rows, the index in ``_LK`` or ``_LI``) cut to ``divisions``."""
    if tuple(df.divisions) == tuple(divisions):
        return plan
    cut = RepartitionDivisions(df.expr, divisions)
    return plan.with_children((cut,))


def join(left, other, on=None, how="left", lsuffix="", rsuffix="", npartitions=None):
    """``DataFrame.join``: ``other`` 's index matched with ``left`` 's index (or its column ``on``)."""
    if isinstance(other, (list, tuple)):
        raise NotImplementedError("join with a list of frames is not supported; join them one at a time")
    if isinstance(other, Series) and other.name is None:
        raise ValueError("Other Series must have a name")
    kw = dict(left_on=on, right_index=True) if on is not None else dict(left_index=True, right_index=True)
    return index_merge(left, other, how=how, suffixes=(lsuffix, rsuffix), npartitions=npartitions,
                       overlap_error=True, **kw)


# ------------------------------------------------------------------ aligned arithmetic


def _check_alignable(a, b):
    """Aligning needs both sides' divisions (Dask's rule): without them the index values of a partition are
    unknown, and a join on a per-partition row number would pair unrelated rows."""
    if not (a.known_divisions and b.known_divisions):
        raise ValueError(f"cannot align {type(a).__name__} and {type(b).__name__} of unrelated frames: not all "
                         "divisions are known, can't align partitions. Please use `set_index` (or from_pandas, "
                         "which keeps the index) to set the index")


def align_series(a, b, combine):
    """``combine(x, y)`` of Series ``a`` and ``b`` of different origins, aligned on the index (an outer
    join, as pandas aligns); the result is named as both when they agree, else None."""
    _check_alignable(a, b)
    fa, fb = a.to_frame("__gf_a__"), b.to_frame("__gf_b__")
    joined = index_merge(fa, fb, how="outer", left_index=True, right_index=True)
    x = Series(joined.expr, Col("__gf_a__"), a.name, joined.schema.field("__gf_a__").type)
    y = Series(joined.expr, Col("__gf_b__"), b.name, joined.schema.field("__gf_b__").type)
    out = combine(x, y)
    return out.rename(a.name if a.name == b.name else None)


def align_frames(a, b, combine):
    """``combine(x, y)`` column by column of DataFrames ``a`` and ``b`` aligned on the index (outer join);
    a column on one side only is all null, as in pandas.  Columns come sorted when they differ, as pandas."""
    _check_alignable(a, b)
    la, lb = list(a.columns), list(b.columns)
    labels = la if la == lb else sorted(set(la) | set(lb), key=lambda v: (str(type(v)), v))
    fa = a.rename(columns={c: f"__gf_a{i}__" for i, c in enumerate(la)})
    fb = b.rename(columns={c: f"__gf_b{i}__" for i, c in enumerate(lb)})
    joined = index_merge(fa, fb, how="outer", left_index=True, right_index=True)
    exprs, out_types = [], {}
    for j, lab in enumerate(labels):
        name = _arrow(lab, j)
        if lab in la and lab in lb:
            ca, cb = f"__gf_a{la.index(lab)}__", f"__gf_b{lb.index(lab)}__"
            x = Series(joined.expr, Col(ca), lab, joined.schema.field(ca).type)
            y = Series(joined.expr, Col(cb), lab, joined.schema.field(cb).type)
            res = combine(x, y)
            exprs.append((name, res.column_expr_on(joined.expr)))
        else:
            exprs.append((name, Lit(pa.scalar(None, pa.float64()))))
        out_types[name] = lab
    return joined.project(exprs, labels=out_types)
