"""Grouped sums and counts over one dense integer key, by ``numpy.bincount`` instead of a hash table.

TPC-H's order keys, part keys and supplier keys are integers whose range is a
small multiple of the number of rows.  For such a key the group of a row is
simply ``key - min``: one `numpy.bincount` per aggregate gives every group's
sum or count in a single pass, several times faster than pyarrow's hash
aggregation (which, on shuffled keys, pays a cache miss per row).

`dense_aggregate` answers exactly what ``Table.group_by(keys).aggregate(aggs)``
would (the groups in key order rather than first-seen order, which no caller
relies on), or None when it does not apply: more than one key, a key that is
not an integer or has nulls, a range wider than ``DENSE_SPAN`` times the rows
(or than ``MAX_SPAN``), or an aggregate other than ``sum`` of float64 values,
``count`` or ``count_all``.  A float64 sum of a group without present values
is null, as pyarrow's.

    >>> import pyarrow as pa
    >>> t = pa.table({"k": [3, 1, 3, 3], "x": [1.0, 2.0, None, 4.0]})
    >>> dense_aggregate(t, ["k"], [("x", "sum", None, "s"), ("x", "count", None, "n"),
    ...                            ([], "count_all", None, "rows")]).to_pydict()
    {'k': [1, 3], 's': [2.0, 5.0], 'n': [1, 2], 'rows': [1, 3]}
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["dense_aggregate", "DENSE_SPAN", "MAX_SPAN"]

DENSE_SPAN = 32  # a key range up to this many times the rows (the slots cost 8 bytes per value in the range)
MAX_SPAN = 1 << 23
_FUNCS = ("sum", "count", "count_all")


def _keys(col, rows):
    if not pa.types.is_integer(col.type) or col.null_count:
        return None
    k = col.to_numpy()
    lo, hi = int(k.min()), int(k.max())
    span = hi - lo + 1
    if span > min(DENSE_SPAN * rows + 1024, MAX_SPAN):
        return None
    return (k - lo).astype(np.intp, copy=False), lo, span


def dense_aggregate(table, keys, aggs):
    """``table`` grouped by its one dense integer key: the key then one column per (column, func, options,
    name) of ``aggs``; None when the fast path does not apply (see the module note)."""
    if len(keys) != 1 or table.num_rows == 0 or any(a[1] not in _FUNCS or a[2] is not None for a in aggs):
        return None
    if any(a[1] == "sum" and table.schema.field(a[0]).type != pa.float64() for a in aggs):
        return None
    key = table.column(keys[0])
    found = _keys(key, table.num_rows)
    if found is None:
        return None
    idx, lo, span = found
    rows = np.bincount(idx, minlength=span)
    present = np.flatnonzero(rows)
    cols = {keys[0]: pa.array(present + lo).cast(key.type)}
    for col, func, _, name in aggs:
        if func == "count_all":
            cols[name] = pa.array(rows[present])
            continue
        values = table.column(col)
        valid = None if values.null_count == 0 else values.is_valid().to_numpy(zero_copy_only=False)
        counts = rows if valid is None else np.bincount(idx[valid], minlength=span)
        if func == "count":
            cols[name] = pa.array(counts[present])
            continue
        v = (values.fill_null(0.0) if valid is not None else values).to_numpy()
        sums = np.bincount(idx, weights=v, minlength=span)[present]
        cols[name] = pa.array(sums, mask=None if valid is None else counts[present] == 0)
    return pa.table(cols)
