"""Merge keys of different number types meet as numbers, as in pandas: cast to a common type for the join,
then given back the key dtypes pandas' result has.

pyarrow joins only keys of one type (a float64 key against an int64 one raises), while pandas compares
them as numbers.  So before the join each key pair of two different number types is cast, on both sides,
to numpy's common type (int + float: float64; int32 + int64: int64), and both sides are hashed and
matched in it.  The result's key columns then get pandas' dtypes back:

- with ``on=`` (one key column, holding either side's key): the left key's type for ``inner``/``left``
  joins (its rows come from the left), the common type for ``right``/``outer`` ones;
- with ``left_on=``/``right_on=`` (both columns kept): each its own side's type (a row without a match
  holds null there, which pandas shows as NaN as for any int column with missing values).

    >>> import pandas as pd, graphflow.dataframe as gd
    >>> a = gd.from_pandas(pd.DataFrame({"k": [1, 2, 3], "x": [1, 2, 3]}), npartitions=2)
    >>> b = pd.DataFrame({"k": [1.0, 3.0, 4.5], "y": [10, 30, 45]})
    >>> out = a.merge(b, on="k").compute(scheduler="sync").sort_values("k")
    >>> out.k.dtype, out.k.tolist(), out.y.tolist()
    (dtype('int64'), [1, 3], [10, 30])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["common_key_types"]


def _number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _common(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    return pa.from_numpy_dtype(np.result_type(a.to_pandas_dtype(), b.to_pandas_dtype()))


def common_key_types(left, right, left_on, right_on, how):
    """``(left, right, restore)``: the two DataFrames with each key pair of different number types cast to
    their common type, and ``restore(result)``, which casts the joined frame's key columns back to pandas'
    dtypes (the identity when no key was cast)."""
    lcast, rcast, back = {}, {}, {}
    for lk, rk in zip(left_on, right_on):
        lt, rt = left.schema.field(lk).type, right.schema.field(rk).type
        if lt == rt or not (_number(lt) and _number(rt)):
            continue  # the same type, or not numbers: the join's own type check decides
        common = _common(lt, rt)
        if lt != common:
            lcast[lk] = common
        if rt != common:
            rcast[rk] = common
        if lk == rk:  # one coalesced column: pandas keeps the left key's type where the rows are the left's
            want = lt if how in ("inner", "left") else common
            if want != common:
                back[lk] = want
        else:
            if lt != common:
                back[lk] = lt
            if rt != common:
                back[rk] = rt
    if lcast:
        left = left.astype(lcast)
    if rcast:
        right = right.astype(rcast)
    return left, right, (lambda result: _restored(result, back)) if back else (lambda result: result)


def _restored(result, back: dict):
    """``result`` with the columns ``back`` names cast to their types (a right key's column may carry a
    suffix when the left side has a column of that name)."""
    have = set(result.arrow_names())
    return result.astype({name: t for name, t in back.items() if name in have})
