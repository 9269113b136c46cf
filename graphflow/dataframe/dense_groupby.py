"""Grouped sums and counts over one dense integer key, by ``numpy.bincount`` instead of a hash table.

TPC-H's order keys, part keys and supplier keys are integers whose range is a
small multiple of the number of rows.  For such a key the group of a row is
simply ``key - min``: one `numpy.bincount` per aggregate gives every group's
sum or count in a single pass, several times faster than pyarrow's hash
aggregation (which, on shuffled keys, pays a cache miss per row).

`dense_aggregate` answers exactly what ``Table.group_by(keys).aggregate(aggs)``
would (the groups in key order rather than first-seen order, which no caller
relies on), or None when it does not apply: more than one key, a key that is
not an integer or has nulls, or an aggregate other than ``sum`` of float64
values, ``count`` or ``count_all``.  A key whose range is wider than
``DENSE_SPAN`` times the rows (or than ``MAX_SPAN``) is grouped by sorting
instead (one numpy sort, then ``add.reduceat``), still ahead of a hash table
with hundreds of thousands of groups.  A float64 sum of a group without present values
is null, as pyarrow's.

Several integer keys without nulls whose ranges multiply below 2**62 (TPC-H's
(part key, supplier key)) are packed into one int64 (`pack_keys`), grouped as
one key, and unpacked.

    >>> import pyarrow as pa
    >>> t = pa.table({"k": [3, 1, 3, 3], "x": [1.0, 2.0, None, 4.0]})
    >>> dense_aggregate(t, ["k"], [("x", "sum", None, "s"), ("x", "count", None, "n"),
    ...                            ([], "count_all", None, "rows")]).to_pydict()
    {'k': [1, 3], 's': [2.0, 5.0], 'n': [1, 2], 'rows': [1, 3]}
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["dense_aggregate", "pack_keys", "PACKED", "DENSE_SPAN", "MAX_SPAN"]

DENSE_SPAN = 32  # a key range up to this many times the rows (the slots cost 8 bytes per value in the range)
MAX_SPAN = 1 << 23
_FUNCS = ("sum", "count", "count_all")
PACKED = "__graphflow_packed_key__"


def dense_aggregate(table, keys, aggs):
    """``table`` grouped by its integer key(s): the keys then one column per (column, func, options, name) of
    ``aggs``; None when the fast path does not apply (see the module note)."""
    if not keys or table.num_rows == 0 or any(a[1] not in _FUNCS or a[2] is not None for a in aggs):
        return None
    if any(a[1] == "sum" and table.schema.field(a[0]).type != pa.float64() for a in aggs):
        return None
    if len(keys) > 1:
        packed = pack_keys(table, keys)
        if packed is None:
            return None
        out = dense_aggregate(packed[0], [PACKED], aggs)
        return None if out is None else packed[1](out)
    key = table.column(keys[0])
    if not pa.types.is_integer(key.type) or key.null_count:
        return None
    k = key.to_numpy().astype(np.int64, copy=False)
    lo = int(k.min())
    span = int(k.max()) - lo + 1
    groups = _Dense(k - lo, span) if span <= min(DENSE_SPAN * len(k) + 1024, MAX_SPAN) else _Sorted(k - lo)
    cols = {keys[0]: pa.array(groups.keys + lo).cast(key.type)}
    for col, func, _, name in aggs:
        if func == "count_all":
            cols[name] = pa.array(groups.rows)
            continue
        values = table.column(col)
        valid = None if values.null_count == 0 else values.is_valid().to_numpy(zero_copy_only=False)
        counts = groups.rows if valid is None else groups.sum(valid.astype(np.int64))
        if func == "count":
            cols[name] = pa.array(counts)
            continue
        v = (values.fill_null(0.0) if valid is not None else values).to_numpy()
        cols[name] = pa.array(groups.sum(v), mask=None if valid is None else counts == 0)
    return pa.table(cols)


class _Dense:
    """Groups of keys ``0 <= idx < span`` by direct addressing: one `numpy.bincount` per sum."""

    def __init__(self, idx, span):
        self.idx, self.span = idx, span
        counts = np.bincount(idx, minlength=span)
        self.present = np.flatnonzero(counts)
        self.keys, self.rows = self.present, counts[self.present]

    def sum(self, values):
        out = np.bincount(self.idx, weights=values, minlength=self.span)[self.present]
        return out.astype(values.dtype, copy=False) if values.dtype.kind == "i" else out


class _Sorted:
    """Groups of keys too sparse for slots: one sort (of key and row number packed together, so no argsort),
    then `numpy.add.reduceat` per sum."""

    def __init__(self, idx):
        bits = max(1, int(len(idx) - 1).bit_length())
        if int(idx.max()) < 1 << (62 - bits):  # key and row number in one int64: a plain sort, no argsort
            both = np.sort((idx << bits) | np.arange(len(idx), dtype=np.int64))
            self.order, ordered = both & ((1 << bits) - 1), both >> bits
        else:
            self.order = np.argsort(idx, kind="stable")
            ordered = idx[self.order]
        starts = np.empty(len(ordered), dtype=bool)
        starts[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        self.starts = np.flatnonzero(starts)
        self.keys = ordered[self.starts]
        self.rows = np.diff(np.append(self.starts, len(ordered)))

    def sum(self, values):
        return np.add.reduceat(values[self.order], self.starts)


def pack_keys(table, keys):
    """``(table plus a PACKED int64 column holding all keys, unpack)`` or None (fewer than two keys, a key not
    an integer or with nulls, ranges too wide).  ``unpack(out)`` turns a grouped result whose first column is
    PACKED back into one whose first columns are the keys, with their types.

        >>> t = pa.table({"a": [5, 5, 7], "b": [-1, 2, -1]})
        >>> packed, unpack = pack_keys(t, ["a", "b"])
        >>> unpack(packed.select([PACKED])).to_pydict()
        {'a': [5, 5, 7], 'b': [-1, 2, -1]}
    """
    if len(keys) < 2 or table.num_rows == 0:
        return None
    cols = [table.column(k) for k in keys]
    if any(not pa.types.is_integer(c.type) or c.null_count for c in cols):
        return None
    values = [c.to_numpy().astype(np.int64, copy=False) for c in cols]
    los = [int(v.min()) for v in values]
    spans = [int(v.max()) - lo + 1 for v, lo in zip(values, los)]
    if np.prod([float(x) for x in spans]) >= 2.0 ** 62:
        return None
    packed = np.zeros(table.num_rows, dtype=np.int64)
    for v, lo, span in zip(values, los, spans):
        packed *= span
        packed += v - lo
    types = [c.type for c in cols]

    def unpack(out):
        rest = out.column(0).to_numpy().astype(np.int64, copy=True)
        found = []
        for lo, span, t in reversed(list(zip(los, spans, types))):
            found.append(pa.array(rest % span + lo).cast(t))
            rest //= span
        table = out.drop_columns([out.column_names[0]])
        for name, col in zip(reversed(keys), found):
            table = table.add_column(0, name, col)
        return table

    return table.append_column(PACKED, pa.array(packed)), unpack
