"""``sort_values`` by sampled range partitioning.

    sample-i   = every k-th row of partition i's sort columns    (m tasks)
    boundaries = n-1 evenly spaced rows of the sorted samples     (one task, a tree)
    shuffle    = each row to the range its key falls in           (`Shuffle` with a range partitioner)
    sort-j     = partition j sorted                                (n tasks)

Partition j then holds keys between boundaries j-1 and j, so concatenating
the partitions in order gives the sorted table.  Nothing is computed when the
expression is built: the boundaries are a task, fed to the partitioner.

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"x": [5, 3, None, 1, 4, 2]}, npartitions=3)
    >>> df.sort_values("x").compute(scheduler="sync").x.tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0, nan]
    >>> df.sort_values("x", ascending=False).compute(scheduler="sync").x.tolist()
    [5.0, 4.0, 3.0, 2.0, 1.0, nan]

Nulls go last, as in pandas.  Ties keep no particular order.

``sort_bounds`` (on the plan, ``df.expr.sort_bounds``; not the index's
``divisions``, which a sort by columns leaves unknown, as in Dask): the sorted
frame's partition boundaries, a tuple of
``npartitions + 1`` values ``d`` such that every non-null key in partition i
is after ``d[i]`` and at most ``d[i+1]`` in the sort order (a key equal to a
boundary goes to the lower partition).  The outer ends are None (unbounded);
null keys are in the last partition.  A key is a value for one sort column,
a tuple for several.  Asking for ``sort_bounds`` computes the sampled
boundaries once (a pass over the samples only, with the sync scheduler);
projections and filters of the sorted frame keep them.  ``head`` does not
need them: it reads partition 0, and the shuffle is pruned to the rows of
the first range (`prune_shuffle_outputs`).

    >>> df.sort_values("x", npartitions=2).expr.sort_bounds
    (None, 3.0, None)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import base
from .collection import Scalar
from .frame import DataFrame, check_columns
from .plan import Blockwise, Func, Reduce
from .shuffle import Shuffle
from ..utils.traverse import identity

__all__ = ["sort_values", "SAMPLES_PER_PARTITION"]

SAMPLES_PER_PARTITION = 200
_DIVISIONS: dict = {}  # boundaries node name -> divisions: computed once per sort


def _order(by, ascending):
    return [(c, "ascending" if a else "descending") for c, a in zip(by, ascending)]


def _sample(table, by):
    t = table.select(by)
    step = max(t.num_rows // SAMPLES_PER_PARTITION, 1)
    return t.take(pa.array(np.arange(0, t.num_rows, step)))


class _Boundaries:
    def __init__(self, by, ascending, n):
        self.by, self.ascending, self.n = tuple(by), tuple(ascending), n

    def __call__(self, samples):
        t = pa.concat_tables(samples) if len(samples) > 1 else samples[0]
        t = t.filter(pc.is_valid(t.column(self.by[0]))) if len(self.by) == 1 else t
        t = t.sort_by(_order(self.by, self.ascending))
        if t.num_rows == 0:
            return t
        pos = [int(t.num_rows * j / self.n) for j in range(1, self.n)]
        return t.take(pa.array(pos, pa.int64()))

    def __graphflow_tokenize__(self):
        return ("bounds", self.by, self.ascending, self.n)


class _RangeBy:
    """Partitioner: the number of boundaries that sort before each row."""

    def __init__(self, by, ascending):
        self.by, self.ascending = tuple(by), tuple(ascending)

    def __graphflow_tokenize__(self):
        return ("range", self.by, self.ascending)

    def __repr__(self):
        return f"range({', '.join(map(str, self.by))})"

    def __call__(self, table, n, bounds):
        if bounds.num_rows == 0:
            return np.zeros(table.num_rows, dtype=np.int64)
        col = table.column(self.by[0])
        if len(self.by) == 1 and self.ascending[0] and (pa.types.is_integer(col.type)
                                                        or pa.types.is_floating(col.type)):
            return self._numeric(col, bounds, n)
        return self._general(table, bounds)

    def _numeric(self, col, bounds, n):
        values = col.cast(pa.float64()).fill_null(np.inf).to_numpy()
        edges = bounds.column(0).cast(pa.float64()).to_numpy()
        if len(edges) <= 64:  # a few vectorized comparisons beat a binary search per row
            ids = np.zeros(len(values), np.uint16)
            for e in edges:
                ids += values > e
        else:
            ids = np.searchsorted(edges, values, side="left")
        if col.null_count:
            ids[col.is_null().to_numpy(zero_copy_only=False)] = n - 1
        return ids

    def _general(self, table, bounds):
        keys = table.select(list(self.by))
        both = pa.concat_tables([keys, bounds.cast(keys.schema)])
        marker = np.concatenate([np.zeros(keys.num_rows, np.int8), np.ones(bounds.num_rows, np.int8)])
        both = both.append_column("__b", pa.array(marker))
        order = pc.sort_indices(both, _order(self.by, self.ascending) + [("__b", "ascending")]).to_numpy()
        is_b = marker[order]
        before = np.cumsum(is_b) - is_b
        ids = np.empty(keys.num_rows, dtype=np.int64)
        data = is_b == 0
        ids[order[data]] = before[data]
        return ids


def argsort_numeric(values: np.ndarray, buckets: int = 32) -> np.ndarray:
    """``np.argsort(values)``, faster for large arrays: a counting pass cuts the value range into
    ``buckets`` equal slices (a stable radix argsort of 16-bit bucket ids), then each slice, small
    enough to stay in cache, is sorted on its own.  Ties come in no particular order."""
    n = len(values)
    if n < 1 << 16:
        return np.argsort(values, kind="quicksort")
    lo, hi = values.min(), values.max()
    width = float(hi) - float(lo)
    if not (np.isfinite(width) and width > 0):  # NaNs, infinities or one value: a plain sort
        return np.argsort(values, kind="quicksort")
    ids = ((values.astype(np.float64, copy=False) - float(lo)) * (buckets / width)).astype(np.int64)
    ids = np.minimum(ids, buckets - 1).astype(np.uint16)
    order = np.argsort(ids, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ids, minlength=buckets))])
    grouped = values[order]
    for j in range(buckets):
        a, b = bounds[j], bounds[j + 1]
        if b - a > 1:
            order[a:b] = order[a:b][np.argsort(grouped[a:b], kind="quicksort")]
    return order


class _SortPart:
    def __init__(self, by, ascending):
        self.by, self.ascending = tuple(by), tuple(ascending)

    def __call__(self, table):
        col = table.column(self.by[0])
        if len(self.by) == 1 and col.null_count == 0 and (pa.types.is_floating(col.type)
                                                          or pa.types.is_integer(col.type)):
            # numpy's (SIMD) sort is several times faster than sort_indices on one numeric column
            values = col.to_numpy()
            order = argsort_numeric(values if self.ascending[0] else -values)
            if pa.types.is_floating(col.type) and not self.ascending[0]:
                order = np.concatenate([order[~np.isnan(values[order])], order[np.isnan(values[order])]])
            return table.take(pa.array(order))
        return table.sort_by(_order(self.by, self.ascending))

    def __graphflow_tokenize__(self):
        return ("sort", self.by, self.ascending)

    def bounds_of(self, children):
        """The boundaries of the sorted partitions (see the module note), or None when not a range shuffle."""
        shuffled = children[0]
        if not isinstance(shuffled, Shuffle):
            return (None, None) if shuffled.npartitions == 1 else None
        if not isinstance(shuffled.partitioner, _RangeBy) or shuffled.only is not None:
            return None
        bounds = shuffled.children[1]
        if bounds.name not in _DIVISIONS:
            if len(_DIVISIONS) > 256:
                _DIVISIONS.clear()
            [table] = base.compute(Scalar(bounds), scheduler="sync")
            rows = [tuple(r.values()) for r in table.to_pylist()]
            inner = tuple(r[0] if len(self.by) == 1 else r for r in rows)
            _DIVISIONS[bounds.name] = (None,) + inner + (None,) * (shuffled.total - len(inner))
        return _DIVISIONS[bounds.name]

    def __repr__(self):
        return f"Sort({list(self.by)})"


def sort_values(df, by, ascending=True, npartitions=None) -> DataFrame:
    """``df`` sorted by the ``by`` column(s); ``ascending`` a bool or one per column."""
    by = [by] if isinstance(by, str) else list(by)
    check_columns(by, df.schema)
    asc = [ascending] * len(by) if isinstance(ascending, bool) else list(ascending)
    if len(asc) != len(by):
        raise ValueError("ascending must be a bool or have one entry per sort column")
    n = npartitions or df.npartitions
    sort = _SortPart(by, asc)
    if n == 1 and df.npartitions == 1:
        return DataFrame(Blockwise(sort, (df.expr,), df.schema, label="sort"))
    samples = Blockwise(Func(_sample, by), (df.expr,), df.schema, label="sort-sample")
    bounds = Reduce(samples, _Boundaries(by, asc, n), identity, samples.schema)
    shuffled = Shuffle(df.expr, _RangeBy(by, asc), n, extra=(bounds,))
    return DataFrame(Blockwise(sort, (shuffled,), df.schema, label="sort"))
