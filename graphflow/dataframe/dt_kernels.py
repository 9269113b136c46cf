"""``series.dt.<field>`` of a timestamp column as a pyarrow kernel: a column formula, not a pandas call.

pandas' calendar fields of a datetime64 Series (``dt.year``, ``dt.month``, ...) are int32 numbers; Arrow
has a kernel for each (``pc.year``, ``pc.month``, ...; timezone-aware times in their local time, as
pandas).  Computed as a `Call` on the column, the field stays a formula over the frame's columns, so

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"t": pd.to_datetime(["1995-03-15", "1996-12-31"]), "x": [1, 2]}),
    ...                     npartitions=1)
    >>> df = df[df.x > 0]
    >>> df.assign(year=df.t.dt.year).compute()["year"].tolist()
    [1995, 1996]

works after a filter or a merge (a pandas call per partition makes a new frame, which cannot be lined up
with ``df`` without an index), fuses with the projection around it and runs outside the GIL.  Periods,
durations and Arrow date columns keep pandas' own attribute (`accessors.attribute`).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .colexpr import Call

__all__ = ["DT_KERNELS", "dt_field"]

# pandas' field name -> Arrow kernel giving the same number (day_of_week: Monday=0 in both)
DT_KERNELS = {
    "year": "year", "month": "month", "day": "day", "hour": "hour", "minute": "minute", "second": "second",
    "quarter": "quarter", "dayofyear": "day_of_year", "day_of_year": "day_of_year",
    "dayofweek": "day_of_week", "day_of_week": "day_of_week", "weekday": "day_of_week",
}
_INT32 = pc.CastOptions.safe(pa.int32())


def dt_field(series, name: str):
    """``series.dt.<name>`` as a formula on ``series``' frame, or None where pandas' attribute is needed."""
    kernel = DT_KERNELS.get(name)
    if kernel is None or not pa.types.is_timestamp(series.arrow_type):
        return None
    return series.derive(Call("cast", [Call(kernel, [series.column_expr])], _INT32))
