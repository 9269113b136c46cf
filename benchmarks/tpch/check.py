"""Is one engine's TPC-H answer the same as the reference (DuckDB's)?

`compare(got, want, query)` takes two pandas DataFrames and raises ``AssertionError`` naming the
query, the column and the row at the first difference.  The rules:

- the same number of columns, matched by POSITION; their names must match too (case-insensitive),
  unless ``check_names=False`` (a query whose frame cannot carry the SQL's alias);
- the same number of rows;
- rows are compared after a stable sort on every column (non-float columns first, then floats
  rounded to 9 significant digits, so an ulp of difference does not reorder ties), unless
  ``ordered=True``: then in the order given (ORDER BY fully determines it);
- numbers (ints and floats alike: DuckDB sums integers to HUGEINT, pandas to int64 or float64)
  equal within 1e-6 relative (and 1e-9 absolute, for zeros); timestamps/dates equal (after both are
  made ``datetime64[ns]``); strings equal; nulls equal nulls.

A scalar ``got`` (a query ending in a lazy scalar, ``SELECT sum(...)``) is the one cell of ``want``.
The index of either frame is ignored: a query turns its group keys into columns (``reset_index``).

    >>> import pandas as pd
    >>> compare(pd.DataFrame({"a": [2, 1], "s": [1.0, 2.0]}), pd.DataFrame({"a": [1, 2], "s": [2.0, 1.0]}), 0)
    >>> compare(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]}), 0)
    Traceback (most recent call last):
    ...
    AssertionError: q0: column 0 ('a'), row 0: got 1.0, want 2.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compare"]

RTOL = 1e-6
ATOL = 1e-9


def compare(got, want: pd.DataFrame, query: int, *, ordered: bool = False, check_names: bool = True) -> None:
    """Raise ``AssertionError`` unless ``got`` is ``want`` up to row order, float noise and dtypes."""
    if isinstance(got, pd.Series):
        got = got.to_frame()
    elif np.isscalar(got) and want.shape == (1, 1):  # a lazy scalar's value (SELECT sum(...) FROM ...)
        got = pd.DataFrame({want.columns[0]: [got]})
    if not isinstance(got, pd.DataFrame):
        raise AssertionError(f"q{query}: got a {type(got).__name__}, want a pandas DataFrame")
    got = got.reset_index(drop=True)
    want = want.reset_index(drop=True)
    if got.shape[1] != want.shape[1]:
        raise AssertionError(f"q{query}: got {got.shape[1]} columns {list(got.columns)}, "
                             f"want {want.shape[1]} {list(want.columns)}")
    if check_names:
        got_names = [str(c).lower() for c in got.columns]
        want_names = [str(c).lower() for c in want.columns]
        if got_names != want_names:
            raise AssertionError(f"q{query}: got columns {list(got.columns)}, want {list(want.columns)}")
    if len(got) != len(want):
        raise AssertionError(f"q{query}: got {len(got)} rows, want {len(want)}\n"
                             f"got (head):\n{got.head(5)}\nwant (head):\n{want.head(5)}")
    got, want = _comparable(got), _comparable(want)
    if not ordered:
        got, want = _sorted(got), _sorted(want)
    for i in range(want.shape[1]):
        _compare_column(got.iloc[:, i], want.iloc[:, i], query, i, want.columns[i])


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as numpy-friendly values: numbers as float64, times as datetime64[ns], others as object."""
    out = {}
    for i, (_, col) in enumerate(df.items()):
        if pd.api.types.is_bool_dtype(col.dtype):
            out[i] = col.astype(object)
        elif pd.api.types.is_numeric_dtype(col.dtype):
            out[i] = col.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[i] = col.astype("datetime64[ns]")
        elif col.dtype == object and len(col) and _all_dates(col):
            out[i] = pd.to_datetime(col).astype("datetime64[ns]")
        else:
            out[i] = col.astype(object).where(col.notna(), None)
    frame = pd.DataFrame(out)
    frame.columns = df.columns
    return frame


def _all_dates(col: pd.Series) -> bool:
    import datetime
    return all(v is None or isinstance(v, (datetime.date, pd.Timestamp)) for v in col)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = {}
    floats = []
    for i, (_, col) in enumerate(df.items()):
        if col.dtype == "float64":
            floats.append(i)
            keys[f"k{i}"] = col.map(_round_sig)
        elif col.dtype == object:
            keys[f"k{i}"] = col.map(lambda v: "" if v is None else str(v))
        else:
            keys[f"k{i}"] = col
    order = [f"k{i}" for i in range(df.shape[1]) if i not in floats] + [f"k{i}" for i in floats]
    if not order:
        return df
    positions = pd.DataFrame(keys).sort_values(order, kind="stable", na_position="first").index
    return df.iloc[positions].reset_index(drop=True)


def _round_sig(v: float) -> float:
    if v != v or v == 0 or np.isinf(v):
        return v
    return float(f"{v:.9g}")


def _compare_column(got: pd.Series, want: pd.Series, query: int, i: int, name) -> None:
    where = f"q{query}: column {i} ({name!r})"
    if want.dtype == "float64" or got.dtype == "float64":
        if not (got.dtype == "float64" and want.dtype == "float64"):
            raise AssertionError(f"{where}: got dtype {got.dtype}, want {want.dtype}")
        g, w = got.to_numpy(), want.to_numpy()
        same = np.isclose(g, w, rtol=RTOL, atol=ATOL) | (np.isnan(g) & np.isnan(w))
    elif pd.api.types.is_datetime64_any_dtype(want.dtype) or pd.api.types.is_datetime64_any_dtype(got.dtype):
        if got.dtype != want.dtype:
            raise AssertionError(f"{where}: got dtype {got.dtype}, want {want.dtype}")
        same = ((got == want) | (got.isna() & want.isna())).to_numpy()
    else:
        same = np.array([(g is None and w is None) or (g is not None and w is not None and g == w)
                         for g, w in zip(got, want)], dtype=bool)
    if not same.all():
        row = int(np.flatnonzero(~same)[0])
        raise AssertionError(f"{where}, row {row}: got {_show(got.iloc[row])}, want {_show(want.iloc[row])}")


def _show(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)
