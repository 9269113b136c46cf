"""``drop_duplicates`` of one partition on its key columns only, instead of the whole partition through pandas.

pandas' rule (keep the first, or last, row of each distinct key, in row order) needs only the keys:
each key column becomes integer codes (integers as they are; strings, dates and timestamps through
Arrow's hash ``dictionary_encode``, a null being one more code), pandas' ``duplicated`` marks the
repeats on those codes, and the partition is filtered by the mask.  Rows come back as they were
(index columns included), so the result is pandas' exactly, without converting the other columns:

    >>> import pyarrow as pa
    >>> t = pa.table({"k": [1, 2, 1, 3, 2], "s": ["a", "b", "a", "c", "x"]})
    >>> distinct_rows(t, ["k"], "first").to_pydict()
    {'k': [1, 2, 3], 's': ['a', 'b', 'c']}
    >>> distinct_rows(t, ["k", "s"], "last").to_pydict()
    {'k': [2, 1, 3, 2], 's': ['b', 'a', 'c', 'x']}

Only for keys whose equality Arrow and pandas agree on: integers, strings, booleans, dates and
timestamps.  Floats (pandas counts every NaN as one value), categoricals and nested types give None:
the caller converts the partition and runs pandas' own.  TPC-H q4's semi join
(``lineitem[...][["l_orderkey"]].drop_duplicates()``) spent 1.7 s of 3.7 in that round trip.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["distinct_rows"]


def _plain(t: pa.DataType) -> bool:
    return (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_boolean(t) or pa.types.is_date(t) or pa.types.is_timestamp(t))


def _codes(col):
    """Integer codes equal exactly where the values are equal (nulls equal each other)."""
    if pa.types.is_integer(col.type) and col.null_count == 0:
        return col.to_numpy()
    codes = pc.dictionary_encode(col, null_encoding="encode")
    codes = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    return codes.indices.to_numpy(zero_copy_only=False)


def distinct_rows(table: pa.Table, keys, keep):
    """The rows of ``table`` pandas' ``drop_duplicates(subset=keys, keep=keep)`` keeps, in row order; None
    when Arrow's equality of the keys is not pandas' (see the module note)."""
    if not keys or not all(_plain(table.schema.field(k).type) for k in keys):
        return None
    if table.num_rows < 2:
        return table
    codes = [_codes(table.column(k)) for k in keys]
    if len(codes) == 1:
        repeated = pd.Series(codes[0]).duplicated(keep=keep).to_numpy()
    else:
        repeated = pd.DataFrame(dict(enumerate(codes))).duplicated(keep=keep).to_numpy()
    if not repeated.any():
        return table
    return table.filter(pa.array(~repeated))
