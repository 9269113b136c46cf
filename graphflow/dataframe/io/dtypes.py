"""The Arrow type for a dtype as a pandas or Dask user writes it.

Readers take ``dtype=`` in pandas' spelling: a numpy dtype or its name
(``"int64"``, ``np.float32``, ``"datetime64[ms]"``), a Python type (``int``,
``str``), a pandas extension dtype or its name (``"Int64"``, ``"string"``,
``"category"``, ``"boolean"``, ``pd.ArrowDtype(...)``), or directly a pyarrow
type or alias (``pa.int32()``, ``"large_string"``).  Partitions are Arrow, so
every one of these becomes the Arrow type whose pandas conversion gives that
dtype back (nullable or not: Arrow columns are always nullable).

    >>> arrow_type("Int32"), arrow_type("datetime64[ms]"), arrow_type("category")
    (DataType(int32), TimestampType(timestamp[ms]), DictionaryType(dictionary<values=string, indices=int32, ordered=0>))
    >>> arrow_type("object"), arrow_type(float)
    (DataType(string), DataType(double))
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["arrow_type", "arrow_types"]


def _from_numpy(dt: np.dtype) -> pa.DataType:
    if dt.kind in "OUS":  # object (text read from a file), numpy unicode and bytes strings
        return pa.string() if dt.kind != "S" else pa.binary()
    return pa.from_numpy_dtype(dt)


def _from_pandas(dt) -> pa.DataType:
    import pandas as pd

    if isinstance(dt, np.dtype):
        return _from_numpy(dt)
    if isinstance(dt, pd.ArrowDtype):
        return dt.pyarrow_dtype
    if isinstance(dt, pd.StringDtype):
        return pa.string()
    if isinstance(dt, pd.CategoricalDtype):
        values = pa.string() if dt.categories is None else _from_pandas(dt.categories.dtype)
        return pa.dictionary(pa.int32(), values, ordered=bool(dt.ordered))
    if isinstance(dt, pd.DatetimeTZDtype):
        return pa.timestamp(dt.unit, tz=str(dt.tz))
    if isinstance(dt, pd.BooleanDtype):
        return pa.bool_()
    numpy = getattr(dt, "numpy_dtype", None)  # the masked Int64/UInt8/Float32 ... dtypes
    if isinstance(numpy, np.dtype) and numpy.kind in "iuf":
        return pa.from_numpy_dtype(numpy)
    raise TypeError(f"data type {str(dt)!r} has no Arrow equivalent")


def arrow_type(dtype, column=None) -> pa.DataType:
    """The Arrow type for ``dtype`` (see the module docstring); TypeError, as pandas', if not understood."""
    if isinstance(dtype, pa.DataType):
        return dtype
    where = "" if column is None else f" (the dtype given for column {column!r})"
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency of graphflow.dataframe
        pd = None
    try:
        if pd is not None:
            return _from_pandas(pd.api.types.pandas_dtype(dtype))
        return _from_numpy(np.dtype(dtype))
    except TypeError as exc:
        if isinstance(dtype, str):
            try:  # Arrow's own names: "large_string", "timestamp[ms]", "date32", "halffloat", ...
                return pa.type_for_alias(dtype)
            except ValueError:
                pass
        if "no Arrow equivalent" in str(exc):
            raise TypeError(f"{exc}{where}") from None
        raise TypeError(f"data type {dtype!r} not understood{where}") from None


def arrow_types(dtype, names) -> dict:
    """``{column: Arrow type}`` for ``dtype``: one dtype for every column of ``names``, or a mapping (whose
    keys not in ``names`` are ignored, as pandas ignores them)."""
    if isinstance(dtype, dict):
        return {n: arrow_type(t, n) for n, t in dtype.items() if n in names}
    t = arrow_type(dtype)
    return {n: t for n in names}
