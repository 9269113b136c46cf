"""The ``.str`` and ``.dt`` accessors of a `Series`: one pyarrow kernel per method.

    >>> import pyarrow as pa, datetime
    >>> import graphflow.dataframe as gd
    >>> ts = [datetime.datetime(2024, 3, 5, 14, 30), None]
    >>> df = gd.from_arrow(pa.table({"t": pa.array(ts, pa.timestamp("us")), "s": ["aXb", "y"]}))
    >>> df.t.dt.hour.compute(scheduler="sync").tolist()
    [14.0, nan]
    >>> df.s.str.contains("X").compute(scheduler="sync").tolist()
    [True, False]

``contains``/``replace`` take a regular expression when ``regex=True`` (the
default, as in pandas) and a literal substring otherwise; ``dt.floor`` takes
pandas-style frequencies ("h", "D", "15min", "s").
"""

from __future__ import annotations

import re

import pyarrow.compute as pc

from .colexpr import Call

__all__ = ["StringAccessor", "DatetimeAccessor"]


class StringAccessor:
    """``series.str``: string kernels (utf8)."""

    def __init__(self, series):
        self._s = series

    def _call(self, func, options=None):
        return self._s.derive(Call(func, [self._s.column_expr], options))

    def lower(self):
        return self._call("utf8_lower")

    def upper(self):
        return self._call("utf8_upper")

    def len(self):
        return self._call("utf8_length")

    def strip(self):
        return self._call("utf8_trim_whitespace")

    def contains(self, pat, case: bool = True, regex: bool = True):
        func = "match_substring_regex" if regex else "match_substring"
        return self._call(func, pc.MatchSubstringOptions(pat, ignore_case=not case))

    def startswith(self, pat):
        return self._call("starts_with", pc.MatchSubstringOptions(pat))

    def endswith(self, pat):
        return self._call("ends_with", pc.MatchSubstringOptions(pat))

    def replace(self, pat, repl, regex: bool = True):
        func = "replace_substring_regex" if regex else "replace_substring"
        return self._call(func, pc.ReplaceSubstringOptions(pat, repl))


_UNITS = {"h": "hour", "d": "day", "min": "minute", "t": "minute", "s": "second", "ms": "millisecond",
          "us": "microsecond", "w": "week", "m": "month", "y": "year"}


def _freq(freq: str):
    m = re.fullmatch(r"(\d*)\s*([A-Za-z]+)", freq.strip())
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"unknown frequency {freq!r}; use e.g. 'h', 'D', '15min', 's'")
    return int(m.group(1) or 1), _UNITS[m.group(2).lower()]


class DatetimeAccessor:
    """``series.dt``: temporal kernels on timestamp/date columns."""

    def __init__(self, series):
        self._s = series

    def _call(self, func, options=None):
        return self._s.derive(Call(func, [self._s.column_expr], options))

    @property
    def year(self):
        return self._call("year")

    @property
    def month(self):
        return self._call("month")

    @property
    def day(self):
        return self._call("day")

    @property
    def hour(self):
        return self._call("hour")

    @property
    def minute(self):
        return self._call("minute")

    @property
    def dayofweek(self):
        return self._call("day_of_week")

    def floor(self, freq: str):
        multiple, unit = _freq(freq)
        return self._call("floor_temporal", pc.RoundTemporalOptions(multiple, unit))
