"""The ``.str`` and ``.dt`` accessors of a `Series`, to Dask's breadth, with pandas' answers.

Each method is either one pyarrow kernel in the column's formula (a `Call`,
fused with the rest of the projection: ``lower``, ``upper``, ``len``,
``strip``, ``contains``, ``startswith``/``endswith``, ``slice``, literal
``replace``, ``split`` without ``expand``, ``cat`` with others), or pandas'
own method run on every partition (``Series.partitionwise("str.wrap", 10)``)
where no kernel gives pandas' answer.  The partition-wise result's dtypes come
from running the method on an *empty* pandas Series of the column's dtype
(Dask's ``meta``), so nothing is computed while the graph is built:

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> s = gd.from_pandas(pd.Series(["a-b", None, "c-d-e"], name="s"), npartitions=2)
    >>> s.str.split("-", n=1, expand=True).compute(scheduler="sync")[1].tolist()
    ['b', nan, 'd-e']
    >>> s.str.upper().compute(scheduler="sync").tolist()
    ['A-B', nan, 'C-D-E']

Booleans over strings follow pandas' ``str`` dtype: a missing value answers
False (``contains(na=...)`` says otherwise).  ``split(expand=True)`` and
``rsplit(expand=True)`` need ``n`` (the number of columns must be known
without computing; Dask's rule and message), and always give ``n + 1``
columns, as Dask's do (pandas gives fewer when no value splits ``n`` times).  ``cat()`` without ``others``
reduces the whole column to one lazy string.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .collection import OPERATIONS, CallMethod, Scalar
from .colexpr import Call, Lit
from .dt_kernels import dt_field
from .pandas_edge import to_pandas_series
from .plan import Reduce

__all__ = ["StringAccessor", "DatetimeAccessor", "empty_pandas", "partitionwise", "attribute"]


def empty_pandas(coll):
    """The empty pandas Series (or DataFrame) of ``coll`` 's schema: Dask's ``meta``."""
    from .pandas_edge import to_pandas_frame

    schema = coll.expr.schema
    if getattr(coll, "column_expr", None) is not None:
        out = to_pandas_series(schema.empty_table(), schema)
    else:
        out = to_pandas_frame(schema.empty_table(), schema)
    fix = getattr(coll, "known_meta", None)  # categoricals with known categories (graphflow.dataframe.categorical)
    return fix(out) if fix is not None else out


def partitionwise(coll, method: str, *args, meta=None, **kwargs):
    """pandas' ``method`` on every partition of ``coll``; the result's meta is the method's answer on the
    empty meta (falling back to inference on made-up rows if pandas refuses the empty input)."""
    if meta is None:
        try:
            meta = CallMethod(method, args, kwargs)(empty_pandas(coll))
        except Exception:  # noqa: BLE001 - pandas refusing an empty input: infer on made-up rows instead
            meta = None
        if meta is not None and not isinstance(meta, (pd.Series, pd.DataFrame)):
            meta = None
    return coll.partitionwise(method, *args, meta=meta, **kwargs)


def _is_stringlike(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


class _Accessor:
    def __init__(self, series):
        self._s = series

    @property
    def series(self):
        """The Series this accessor works on."""
        return self._s

    @property
    def prefix(self) -> str:
        """The pandas accessor's name (``"str"``, ``"dt"``)."""
        return self._prefix

    def _call(self, func, *args, options=None):
        return self._s.derive(Call(func, [self._s.column_expr, *args], options))

    def _pw(self, method, *args, meta=None, **kwargs):
        return partitionwise(self._s, f"{self._prefix}.{method}", *args, meta=meta, **kwargs)


def _pw_method(name, doc):
    def method(self, *args, **kwargs):
        return partitionwise(self.series, f"{self.prefix}.{name}", *args, **kwargs)

    method.__name__ = name
    method.__doc__ = doc
    return method


def _no_nulls(series):
    """``series`` 's boolean formula with a missing value counted False (pandas' ``str`` dtype)."""
    return series.derive(Call("coalesce", [series.column_expr, Lit(False)]))


class StringAccessor(_Accessor):
    """``series.str``: pandas' string methods; see the module docstring for which run as kernels."""

    _prefix = "str"

    def __init__(self, series):
        t = series.arrow_type
        ok = (_is_stringlike(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_list(t)
              or pa.types.is_large_list(t) or (pa.types.is_dictionary(t) and _is_stringlike(t.value_type)))
        if not ok:
            raise AttributeError("Can only use .str accessor with string values!")
        super().__init__(series)
        self._kernels = _is_stringlike(t)

    # -- kernels where they give pandas' answer
    def lower(self):
        """Lower case."""
        return self._call("utf8_lower") if self._kernels else self._pw("lower")

    def upper(self):
        """Upper case."""
        return self._call("utf8_upper") if self._kernels else self._pw("upper")

    def len(self):
        """Length in characters (of a list: its number of elements)."""
        return self._call("utf8_length") if self._kernels else self._pw("len")

    def _trim(self, which, to_strip):
        if not self._kernels:
            return self._pw(which, to_strip)
        kernel = {"strip": "utf8_trim", "lstrip": "utf8_ltrim", "rstrip": "utf8_rtrim"}[which]
        if to_strip is None:
            return self._call(kernel + "_whitespace")
        return self._call(kernel, options=pc.TrimOptions(to_strip))

    def strip(self, to_strip=None):
        """Remove leading and trailing whitespace (or the characters in ``to_strip``)."""
        return self._trim("strip", to_strip)

    def lstrip(self, to_strip=None):
        """Remove leading whitespace (or the characters in ``to_strip``)."""
        return self._trim("lstrip", to_strip)

    def rstrip(self, to_strip=None):
        """Remove trailing whitespace (or the characters in ``to_strip``)."""
        return self._trim("rstrip", to_strip)

    def contains(self, pat, case: bool = True, flags: int = 0, na=None, regex: bool = True):
        """Whether ``pat`` (a regular expression unless ``regex=False``) occurs; a missing value gives ``na``
        (False by default, as pandas' ``str`` dtype)."""
        if not self._kernels or flags or na not in (None, False, True) or not isinstance(pat, str):
            kw = {"na": na} if na is not None else {}
            return self._pw("contains", pat, case=case, flags=flags, regex=regex, **kw)
        func = "match_substring_regex" if regex else "match_substring"
        out = self._call(func, options=pc.MatchSubstringOptions(pat, ignore_case=not case))
        return out.derive(Call("coalesce", [out.column_expr, Lit(bool(na))]))

    def startswith(self, pat, na=None):
        """Whether each value starts with ``pat`` (a string or a tuple of strings)."""
        if not self._kernels or not isinstance(pat, str) or na not in (None, False):
            return self._pw("startswith", pat, **({"na": na} if na is not None else {}))
        return _no_nulls(self._call("starts_with", options=pc.MatchSubstringOptions(pat)))

    def endswith(self, pat, na=None):
        """Whether each value ends with ``pat`` (a string or a tuple of strings)."""
        if not self._kernels or not isinstance(pat, str) or na not in (None, False):
            return self._pw("endswith", pat, **({"na": na} if na is not None else {}))
        return _no_nulls(self._call("ends_with", options=pc.MatchSubstringOptions(pat)))

    def slice(self, start=None, stop=None, step=None):
        """Characters ``start:stop:step`` of each value, as Python slices them."""
        if not self._kernels or (step is not None and step < 0):
            return self._pw("slice", start, stop, step)
        stop = stop if stop is not None else (2 ** 63 - 1)
        return self._call("utf8_slice_codeunits",
                          options=pc.SliceOptions(start or 0, stop, step if step is not None else 1))

    def replace(self, pat, repl, n: int = -1, case=None, flags: int = 0, regex: bool = False):
        """Replace occurrences of ``pat`` with ``repl`` (a regular expression with ``regex=True``; at most
        ``n`` replacements when ``n >= 0``)."""
        literal = (self._kernels and not regex and isinstance(pat, str) and isinstance(repl, str)
                   and case in (None, True) and not flags)
        if not literal:
            kw = {} if case is None else {"case": case}
            return self._pw("replace", pat, repl, n=n, flags=flags, regex=regex, **kw)
        return self._call("replace_substring",
                          options=pc.ReplaceSubstringOptions(pat, repl, max_replacements=None if n < 0 else n))

    def _split(self, method, pat, n, expand, regex):
        if expand:
            if n is None or n == -1 or n == 0:
                raise NotImplementedError(
                    "To use the expand parameter you must specify the number of expected splits with the n= "
                    "parameter. Usually n splits result in n+1 output columns.")
            meta = pd.DataFrame({i: pd.Series([], dtype=empty_pandas(self._s).dtype) for i in range(n + 1)})
            kw = {"regex": regex} if regex is not None else {}
            return OPERATIONS.map_partitions(_SplitExpand(method, pat, n, kw), self._s, meta=meta)
        # Arrow's whitespace split keeps empty pieces at the ends, Python's does not: pandas for that
        if not self._kernels or regex or pat is None or (len(pat) > 1 and regex is None):
            kw = {"regex": regex} if regex is not None else {}
            return self._pw(method, pat, n=n, meta=self._list_meta(), **kw)
        max_splits = None if n is None or n <= 0 else n
        reverse = method == "rsplit"
        opts = pc.SplitPatternOptions(pat, max_splits=max_splits, reverse=reverse)
        return self._call("split_pattern", options=opts)

    def _list_meta(self):
        return pd.Series([], name=self._s.name, dtype=pd.ArrowDtype(pa.list_(pa.large_string())))

    def split(self, pat=None, n: int = -1, expand: bool = False, regex=None):
        """Split each value at ``pat`` (whitespace by default) into a list, or into ``n + 1`` columns with
        ``expand=True`` (``n`` required, as in Dask)."""
        return self._split("split", pat, n, expand, regex)

    def rsplit(self, pat=None, n: int = -1, expand: bool = False):
        """`split` from the right."""
        return self._split("rsplit", pat, n, expand, None)

    def findall(self, pat, flags: int = 0):
        """All matches of ``pat`` in each value, as a list."""
        return self._pw("findall", pat, flags=flags, meta=self._list_meta())

    def extract(self, pat, flags: int = 0, expand: bool = True):
        """The regex groups of the first match: one column per group (a Series for one group with
        ``expand=False``)."""
        return self._pw("extract", pat, flags=flags, expand=expand)

    def extractall(self, pat, flags: int = 0):
        """Every match's groups: one row per match, indexed by the original index and ``match``."""
        return OPERATIONS.map_partitions(CallMethod("str.extractall", (pat,), {"flags": flags}), self._s)

    def _partition(self, method, sep, expand):
        if not expand:
            raise NotImplementedError(f"str.{method}(expand=False) gives tuples, which graphflow cannot keep in "
                                      f"Arrow partitions; use expand=True (three columns)")
        meta = pd.DataFrame({i: pd.Series([], dtype=empty_pandas(self._s).dtype) for i in range(3)})
        return OPERATIONS.map_partitions(_SplitExpand(method, sep, 2, {}), self._s, meta=meta)

    def partition(self, sep: str = " ", expand: bool = True):
        """Split at the first ``sep`` into three columns (before, sep, after)."""
        return self._partition("partition", sep, expand)

    def rpartition(self, sep: str = " ", expand: bool = True):
        """Split at the last ``sep`` into three columns (before, sep, after)."""
        return self._partition("rpartition", sep, expand)

    def cat(self, others=None, sep=None, na_rep=None):
        """Concatenate element-wise with ``others`` (Series of the same frame, or a list of them), or, without
        ``others``, the whole column into one lazy string."""
        if others is None:
            combine = _CatStrings(self._s.arrow_column, self._s.expr.schema, sep, na_rep)
            return Scalar(Reduce(self._s.expr, combine, _cat_finish, None))
        series_type = type(self._s)
        others = [others] if isinstance(others, series_type) else list(others) if isinstance(others, (list, tuple)) \
            else None
        if others is None or not all(isinstance(o, series_type) for o in others):
            raise TypeError("others must be Series/Index")
        args = [self._s.column_expr] + [o.column_expr_on(self._s.source) for o in others]
        opts = pc.JoinOptions("emit_null" if na_rep is None else "replace", na_rep or "")
        sep_lit = Lit(pa.scalar(sep or "", pa.large_string()))
        return self._s.derive(Call("binary_join_element_wise", [*args, sep_lit], opts))

    def encode(self, encoding, errors: str = "strict"):
        """Bytes of each value in ``encoding``."""
        meta = pd.Series([], name=self._s.name, dtype=pd.ArrowDtype(pa.binary()))
        return self._pw("encode", encoding, errors, meta=meta)

    def decode(self, encoding, errors: str = "strict"):
        """Strings from bytes in ``encoding``."""
        meta = pd.Series([], name=self._s.name, dtype="str")
        return self._pw("decode", encoding, errors, meta=meta)

    def __getitem__(self, key):
        """``s.str[i]`` / ``s.str[a:b]``: a character or a slice of each value."""
        if isinstance(key, slice):
            return self.slice(key.start, key.stop, key.step)
        return self.get(key)


_STR_PARTITIONWISE = {
    "capitalize": "First character upper case, the rest lower.",
    "casefold": "Case-folded (aggressive lower case).",
    "swapcase": "Upper case to lower and back.",
    "title": "Title case.",
    "center": "Padded on both sides to ``width``.",
    "ljust": "Padded on the right to ``width``.",
    "rjust": "Padded on the left to ``width``.",
    "pad": "Padded to ``width`` on ``side``.",
    "zfill": "Padded with zeros on the left to ``width``.",
    "count": "Occurrences of the regex ``pat``.",
    "find": "Lowest index of ``sub`` (-1 when absent).",
    "rfind": "Highest index of ``sub`` (-1 when absent).",
    "index": "Lowest index of ``sub`` (ValueError when absent).",
    "rindex": "Highest index of ``sub`` (ValueError when absent).",
    "get": "The element at position ``i`` (of a string or a list).",
    "join": "Elements of each list (or characters of each string) joined with ``sep``.",
    "match": "Whether the regex matches at the start.",
    "fullmatch": "Whether the regex matches the whole value.",
    "isalpha": "Whether all characters are alphabetic.",
    "isdigit": "Whether all characters are digits.",
    "isnumeric": "Whether all characters are numeric.",
    "isalnum": "Whether all characters are alphanumeric.",
    "isspace": "Whether all characters are whitespace.",
    "islower": "Whether all cased characters are lower case.",
    "isupper": "Whether all cased characters are upper case.",
    "istitle": "Whether the value is title case.",
    "isdecimal": "Whether all characters are decimal.",
    "repeat": "Each value repeated ``repeats`` times.",
    "wrap": "Lines wrapped at ``width``.",
    "normalize": "Unicode normal form ``form``.",
    "translate": "Characters mapped through ``table``.",
    "removeprefix": "Without the prefix ``prefix``.",
    "removesuffix": "Without the suffix ``suffix``.",
    "slice_replace": "Characters ``start:stop`` replaced by ``repl``.",
}
for _name, _doc in _STR_PARTITIONWISE.items():
    setattr(StringAccessor, _name, _pw_method(_name, _doc))


class _SplitExpand:
    """Op body: pandas' ``str.split(pat, n=n, expand=True)`` on a partition, always ``n + 1`` columns."""

    def __init__(self, method, pat, n, kwargs):
        self.method, self.pat, self.n, self.kwargs = method, pat, n, kwargs

    def __call__(self, s):
        if self.method in ("partition", "rpartition"):
            out = getattr(s.str, self.method)(self.pat, expand=True)
        else:
            out = getattr(s.str, self.method)(self.pat, n=self.n, expand=True, **self.kwargs)
        return out.reindex(columns=range(self.n + 1)).astype(s.dtype)

    def __graphflow_tokenize__(self):
        return ("str-split-expand", self.method, self.pat, self.n, tuple(sorted(self.kwargs.items())))


class _CatStrings:
    """Reduce step of ``str.cat()``: partitions (tables) or partial strings to one string (None: no values)."""

    def __init__(self, column, schema, sep, na_rep):
        self.column, self.schema, self.sep, self.na_rep = column, schema, sep, na_rep

    def __call__(self, parts):
        pieces = []
        for p in parts:
            if isinstance(p, pa.Table):
                s = to_pandas_series(p, self.schema)
                if self.na_rep is None:
                    s = s.dropna()
                p = s.str.cat(sep=self.sep, na_rep=self.na_rep) if len(s) else None
            if p is not None:
                pieces.append(p)
        return (self.sep or "").join(pieces) if pieces else None

    def __graphflow_tokenize__(self):
        return ("str-cat", self.column, str(self.schema), self.sep, self.na_rep)


def _cat_finish(value):
    return "" if value is None else value


# ------------------------------------------------------------------ dt


_DT_PROPERTIES = [
    "year", "month", "day", "hour", "minute", "second", "microsecond", "nanosecond", "dayofweek", "day_of_week",
    "weekday", "dayofyear", "day_of_year", "quarter", "is_month_start", "is_month_end", "is_quarter_start",
    "is_quarter_end", "is_year_start", "is_year_end", "is_leap_year", "days_in_month", "daysinmonth",
    "days", "seconds", "microseconds", "nanoseconds", "components", "qyear", "start_time", "end_time",
]
_DT_METHODS = {
    "strftime": "Formatted with the strftime format ``date_format``.",
    "floor": "Rounded down to a multiple of ``freq``.",
    "ceil": "Rounded up to a multiple of ``freq``.",
    "round": "Rounded to the nearest multiple of ``freq``.",
    "normalize": "Times set to midnight.",
    "tz_localize": "Naive times made aware in ``tz`` (None: aware made naive).",
    "tz_convert": "Aware times converted to ``tz``.",
    "total_seconds": "A duration in seconds (float).",
    "day_name": "The weekday's name.",
    "month_name": "The month's name.",
    "isocalendar": "ISO year, week and day: a DataFrame.",
    "to_period": "The periods of frequency ``freq`` holding each time.",
    "to_timestamp": "A period's start (or ``how='end'``) as a timestamp.",
}


def _dt_property(name):
    def get(self):
        fast = dt_field(self.series, name)  # a pyarrow kernel where one gives pandas' number
        if fast is not None:
            return fast
        return attribute(self.series, f"dt.{name}", getattr(empty_pandas(self.series).dt, name))

    get.__name__ = name
    get.__doc__ = f"pandas' ``Series.dt.{name}`` of each value."
    return property(get)


class DatetimeAccessor(_Accessor):
    """``series.dt``: pandas' datetime/timedelta/period properties and methods, on every partition."""

    _prefix = "dt"

    def __init__(self, series):
        t = series.arrow_type
        ok = pa.types.is_temporal(t) or (isinstance(t, pa.ExtensionType) and "period" in str(t.extension_name))
        if not ok:
            raise AttributeError("Can only use .dt accessor with datetimelike values")
        super().__init__(series)

    def _pw_attr(self, name, meta):
        return attribute(self._s, f"dt.{name}", meta)

    @property
    def date(self):
        """The date part (``datetime.date`` objects)."""
        meta = pd.Series([], name=self._s.name, dtype=pd.ArrowDtype(pa.date32()))
        return self._pw_attr("date", meta=meta)

    @property
    def time(self):
        """The time part (``datetime.time`` objects)."""
        meta = pd.Series([], name=self._s.name, dtype=pd.ArrowDtype(pa.time64("us")))
        return self._pw_attr("time", meta=meta)

    @property
    def timetz(self):
        """The time part with the time zone (``datetime.time`` objects)."""
        return self.time

    @property
    def tz(self):
        """The time zone of the values (from the dtype; None when naive)."""
        return empty_pandas(self._s).dt.tz

    @property
    def freq(self):
        raise NotImplementedError("Series.dt.freq is inferred from all the values, which a lazy Series cannot do "
                                  "without computing; use s.compute().dt.freq")

    @property
    def week(self):
        """The ISO week number (pandas 2 removed ``dt.week``; this is ``dt.isocalendar().week``)."""
        return self._pw_attr("week", meta=empty_pandas(self._s).dt.isocalendar().week.rename(self._s.name))

    weekofyear = week

    def to_pydatetime(self):
        """The values as ``datetime.datetime`` objects."""
        return self._pw_attr("to_pydatetime", meta=pd.Series([], name=self._s.name, dtype=empty_pandas(
            self._s).dtype))

    def to_pytimedelta(self):
        """The durations as ``datetime.timedelta`` objects."""
        return self.to_pydatetime()


for _name in _DT_PROPERTIES:
    setattr(DatetimeAccessor, _name, _dt_property(_name))
for _name, _doc in _DT_METHODS.items():
    setattr(DatetimeAccessor, _name, _pw_method(_name, _doc))


class _Attr:
    """Op body: ``obj.<path>`` (a dotted attribute; a method found there is called without arguments)."""

    def __init__(self, path):
        self.path = path

    def __call__(self, obj):
        if self.path == "dt.week":
            return obj.dt.isocalendar().week.rename(obj.name)
        if self.path in ("dt.to_pydatetime", "dt.to_pytimedelta"):
            return obj  # the values themselves: Arrow keeps them as timestamps/durations
        out = obj
        for part in self.path.split("."):
            out = getattr(out, part)
        return out() if callable(out) else out

    def __graphflow_tokenize__(self):
        return ("attribute", self.path)


def attribute(coll, path: str, meta=None):
    """pandas' ``obj.<path>`` (``"dt.year"``, ``"cat.codes"``) of every partition of ``coll``; its meta is
    the attribute of the empty meta unless given."""
    if meta is None:
        meta = _Attr(path)(empty_pandas(coll))
    return OPERATIONS.map_partitions(_Attr(path), coll, meta=meta)
