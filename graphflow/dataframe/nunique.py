"""Grouped ``nunique`` as distinct (key, value) pairs: ``df.groupby(keys).col.nunique()``.

`graphflow.dataframe.groupby`'s general partials keep, per group, the list of
its distinct values; with a million groups of a few values each (q21 of TPC-H:
distinct suppliers per order) building, shuffling and re-merging a million
small lists costs far more than the rows themselves.  When ``nunique`` of one
column is the only aggregation, `NuniquePlan` keeps the distinct pairs
instead, which pyarrow's hash aggregation makes without lists:

    chunk:    rows -> distinct (keys..., value) pairs        (group_by on keys + value, no aggregates)
    merge:    pairs of several partitions -> distinct pairs  (concat, the same group_by)
    finalize: pairs -> keys..., count of present values     (group_by on keys, count)

Pairs merge into pairs, so the same plan runs as a tree, exactly as `AggPlan`
does (it has the same interface and `GroupbyAgg` runs either).  Before a
shuffle on the keys (chosen when there are many groups) deduplicating pairs
rarely pays: with many groups the pairs are nearly all distinct already, and
a two-column hash aggregation costs several times a one-key one.  So
``shuffle_chunk`` only selects the columns, and after the shuffle one
``count_distinct`` per key (`merge_finalize`) does the rest in one pass.
With one integer key and integer values without nulls (order keys and
supplier keys), that pass packs each (key, value) into one int64 and sorts
it with numpy (`_count_distinct_packed`): on shuffled rows several times
faster than any pyarrow grouping of two columns.  A null value is kept as one pair and not counted,
so a group of nulls only counts 0, as in pandas; null keys are dropped at the
end when ``dropna``.

    >>> import pyarrow as pa
    >>> plan = NuniquePlan(["k"], "v", "v", sort=True, dropna=True)
    >>> t = pa.table({"k": [1, 1, 2, 2, 1], "v": [5, 5, 7, None, 6]})
    >>> plan.finalize(plan.merge([plan.chunk(t.slice(0, 2)), plan.chunk(t.slice(2))])).to_pydict()
    {'k': [1, 2], 'v': [2, 1]}
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NuniquePlan"]

_VALUE = "__p0_0"  # the partial's value column: never a key's name (keys are user columns)


class NuniquePlan:
    """The chunk/merge/finalize steps of ``groupby(keys)[column].nunique()`` named ``out``; picklable."""

    def __init__(self, keys, column, out, sort=True, dropna=True):
        self.keys, self.column, self.out = tuple(keys), column, out
        self.sort, self.dropna = sort, dropna
        self.aggs = ((column, "nunique", out),)  # what GroupbyAgg.describe prints

    def __graphflow_tokenize__(self):
        return ("nunique-pairs", self.keys, self.column, self.out, self.sort, self.dropna)

    def _distinct(self, table):
        return table.group_by([*self.keys, _VALUE], use_threads=False).aggregate([])

    def chunk(self, table):
        """The distinct (keys, value) pairs of one partition."""
        cols = {k: table.column(k) for k in self.keys}
        cols[_VALUE] = table.column(self.column)
        return self._distinct(pa.table(cols))

    def merge(self, parts):
        """The distinct pairs of several partitions' pairs."""
        table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        return self._distinct(table)

    def finalize(self, table):
        """Keys and the number of distinct present values of each group."""
        out = table.group_by(list(self.keys), use_threads=False).aggregate([(_VALUE, "count")])
        return self._finish(out, f"{_VALUE}_count")

    def _finish(self, out, counted):
        cols = {k: out.column(k) for k in self.keys}
        cols[self.out] = out.column(counted).cast(pa.int64())
        result = pa.table(cols)
        if self.dropna:
            for k in self.keys:
                if result.column(k).null_count:
                    result = result.filter(pc.is_valid(result.column(k)))
        return result.sort_by([(k, "ascending") for k in self.keys]) if self.sort else result

    def shuffle_chunk(self, table):
        """What a partition sends to the shuffle: its keys and values as they are."""
        cols = {k: table.column(k) for k in self.keys}
        cols[_VALUE] = table.column(self.column)
        return pa.table(cols)

    def merge_finalize(self, parts):
        """Keys and the number of distinct present values of each group, from rows or pairs (one pass)."""
        table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        if len(self.keys) == 1:
            packed = _count_distinct_packed(table.column(self.keys[0]), table.column(_VALUE))
            if packed is not None:
                keys, counts = packed
                out = pa.table({self.keys[0]: keys, "__count": counts})
                return self._finish(out, "__count")
        out = table.group_by(list(self.keys), use_threads=False).aggregate([(_VALUE, "count_distinct")])
        return self._finish(out, f"{_VALUE}_count_distinct")


def _count_distinct_packed(key, value):
    """``(keys, counts)``: each key's number of distinct values, by sorting (key, value) packed into one int64;
    None unless both are integer columns without nulls whose value ranges multiply below 2**62."""
    if not (pa.types.is_integer(key.type) and pa.types.is_integer(value.type)) or key.null_count or \
            value.null_count or len(key) == 0:
        return None
    k = key.to_numpy().astype(np.int64, copy=False)
    v = value.to_numpy().astype(np.int64, copy=False)
    klo, vlo = int(k.min()), int(v.min())
    kspan, vspan = int(k.max()) - klo + 1, int(v.max()) - vlo + 1
    if kspan * vspan >= 1 << 62:
        return None
    packed = (k - klo) * vspan + (v - vlo)
    packed.sort()
    distinct = np.empty(len(packed), dtype=bool)
    distinct[0] = True
    np.not_equal(packed[1:], packed[:-1], out=distinct[1:])
    group = packed[distinct] // vspan  # the key of each distinct pair, in key order
    starts = np.empty(len(group), dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, len(group)))
    return pa.array(group[first] + klo).cast(key.type), pa.array(counts, pa.int64())
