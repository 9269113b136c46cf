"""Joins against a side whose keys are unique, as one hash lookup plus ``take`` (no hash join).

Most joins in a star schema match a big table against the primary key of a
smaller one (lineitem to orders, to partsupp on two keys): each row finds at
most one partner.  pyarrow's ``Table.join`` (Acero) answers that too, but
builds and probes a general hash join and materializes through it, 3-4x the
cost of ``index_in`` (one hash set of the unique keys, probed by the other
side) followed by ``take``.  `lookup_rows` gives, for each probe row, the row
of the unique side with equal keys (-1: none), or None when the unique side's
keys are not unique (or not of a kind this handles), so the caller falls back
to ``Table.join``.

Several integer key columns are packed into one int64 (each column offset by
the unique side's minimum and scaled by the product of the ranges before it)
when the ranges fit in 62 bits; a probe value outside its column's range
cannot match and is masked out first.

    >>> import pyarrow as pa
    >>> build = pa.table({"a": [1, 1, 2], "b": [5, 6, 5]})
    >>> probe = pa.table({"a": [2, 1, 3], "b": [5, 6, 5]})
    >>> lookup_rows(probe, build, ["a", "b"], ["a", "b"]).tolist()
    [2, 1, -1]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["lookup_rows"]

_BITS = 62


def _ints(col):
    """A column's values as an int64 numpy array and its validity (None: all valid), or (None, None)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not pa.types.is_integer(arr.type):
        return None, None
    try:
        arr = arr.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # uint64 past int64
        return None, None
    valid = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
    return (arr.fill_null(0) if arr.null_count else arr).to_numpy(zero_copy_only=False), valid


def _packed(probe, build, probe_keys, build_keys):
    """Both sides' keys as one int64 array each (probe rows that cannot match: mask False), or None."""
    bvals, pvals, mask, scale = [], [], None, 1
    for pk, bk in zip(probe_keys, build_keys):
        b, bvalid = _ints(build.column(bk))
        p, pvalid = _ints(probe.column(pk))
        if b is None or p is None or bvalid is not None:
            return None
        lo, hi = int(b.min()), int(b.max())
        span = hi - lo + 1
        if scale * span >= 1 << _BITS:
            return None
        ok = (p >= lo) & (p <= hi)
        if pvalid is not None:
            ok &= pvalid
        mask = ok if mask is None else mask & ok
        bvals.append((b - lo) * scale)
        pvals.append((np.where(ok, p, lo) - lo) * scale)
        scale *= span
    return sum(bvals[1:], bvals[0]), sum(pvals[1:], pvals[0]), mask


def lookup_rows(probe: pa.Table, build: pa.Table, probe_keys, build_keys):
    """For each row of ``probe``, the row of ``build`` whose keys equal its keys (-1: none), as int64 numpy;
    None if ``build`` 's keys are not unique, contain nulls, or are of a kind not handled here."""
    if build.num_rows == 0:
        return None
    if len(build_keys) == 1:
        bcol, pcol = build.column(build_keys[0]), probe.column(probe_keys[0])
        if bcol.null_count or bcol.type != pcol.type:
            return None
        if pc.count_distinct(bcol, mode="all").as_py() != build.num_rows:
            return None
        found = pc.index_in(pcol, value_set=bcol.combine_chunks() if isinstance(bcol, pa.ChunkedArray) else bcol)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    packed = _packed(probe, build, probe_keys, build_keys)
    if packed is None:
        return None
    bkey, pkey, mask = packed
    bkey = pa.array(bkey)
    if pc.count_distinct(bkey, mode="all").as_py() != len(bkey):
        return None
    found = pc.index_in(pa.array(pkey), value_set=bkey)
    idx = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return np.where(mask, idx, -1)


class PackedKeys:
    """A broadcast side's unique integer keys, packed into one int64 and sorted once, for every probe.

    ``index_in`` rebuilds its hash set of the build side on every call: for a
    side broadcast to n partitions that is n hashings of the same keys.  Sorted
    once, each probe is a ``searchsorted`` instead.  `build` gives None when
    the keys are not integers, have nulls or duplicates, or do not pack.
    """

    __slots__ = ("ranges", "keys", "order")

    def __init__(self, ranges, keys, order):
        self.ranges, self.keys, self.order = ranges, keys, order

    @classmethod
    def build(cls, table: pa.Table, names) -> "PackedKeys | None":
        ranges, packed, scale = [], None, 1
        for name in names:
            vals, valid = _ints(table.column(name))
            if vals is None or valid is not None or len(vals) == 0:
                return None
            lo, hi = int(vals.min()), int(vals.max())
            if scale * (hi - lo + 1) >= 1 << _BITS:
                return None
            part = (vals - lo) * scale
            packed = part if packed is None else packed + part
            ranges.append((lo, hi, scale))
            scale *= hi - lo + 1
        if pc.count_distinct(pa.array(packed), mode="all").as_py() != len(packed):
            return None  # one hash pass: much cheaper than sorting keys that turn out repeated
        order = np.argsort(packed, kind="stable")
        ordered = packed[order]
        if len(ordered) > 1 and not (ordered[1:] != ordered[:-1]).all():
            return None
        return cls(tuple(ranges), ordered, order)

    def index(self, probe: pa.Table, names):
        """The build row matching each probe row (-1: none), or None if the probe keys are not integers."""
        packed, mask = np.zeros(probe.num_rows, np.int64), np.ones(probe.num_rows, bool)
        for (lo, hi, scale), name in zip(self.ranges, names):
            vals, valid = _ints(probe.column(name))
            if vals is None:
                return None
            ok = (vals >= lo) & (vals <= hi)
            if valid is not None:
                ok &= valid
            mask &= ok
            packed += (np.where(ok, vals, lo) - lo) * scale
        pos = np.minimum(np.searchsorted(self.keys, packed), len(self.keys) - 1)
        hit = mask & (self.keys[pos] == packed)
        return np.where(hit, self.order[pos], -1)
