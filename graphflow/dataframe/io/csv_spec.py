"""`CSVSpec`: pandas' ``read_csv`` keywords, resolved once, and how one block of text becomes a partition.

`read_csv` reads the head of the first file and turns the keywords into a
`CSVSpec`: the file's column names (the header row, or ``names=``), which of
them to keep (``usecols=``), the Arrow type of every kept column (``dtype=``,
``parse_dates=``, otherwise inferred from the head), what counts as null
(``na_values=``, ``keep_default_na=``, ``na_filter=``), and the lines a
file's first block drops (``skiprows=``, ``header=``, comments).  Every task
then parses its bytes with `CSVSpec.parse` and gets a table of exactly
``spec.schema``, so partitions agree with each other and with ``df.dtypes``.

pandas' rules kept here: ``header`` counts non-blank lines and ``skiprows``
raw lines; with ``names=`` and no ``header=`` the first line is data; a
header cell that is empty becomes ``"Unnamed: i"`` and a repeated one
``"a.1"``; ``usecols`` keeps the file's order; empty fields and pandas'
null spellings (``"NA"``, ``"null"``, ``"NaN"``, ...) are null in string
columns too; a ``parse_dates`` column that does not parse stays text.
Column names are strings: ``header=None`` without ``names`` names the
columns ``"0"``, ``"1"``, ... (pandas' integer labels, as strings).

    >>> spec = CSVSpec.infer(b"a,b\\n1,x\\n2,\\n", sep=",", usecols=["b"])
    >>> spec.schema.names, spec.parse(b"a,b\\n3,NA\\n", first=True).to_pydict()
    (['b'], {'b': [None]})
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .dtypes import arrow_types

__all__ = ["CSVSpec", "PANDAS_NA", "strip_comments", "drop_lines", "implicit_index"]

# pandas' default null spellings (``keep_default_na=True``).
PANDAS_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
_TRUE, _FALSE = ("True", "TRUE", "true"), ("False", "FALSE", "false")
# Formats a parse_dates column is tried with after ISO 8601, in pandas' month-first order.
_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S",
                 "%d.%m.%Y", "%Y%m%d")
_UNIT = "us"  # the resolution pandas gives parsed dates
_IMPLICIT = "__implicit_index_"


def strip_comments(data: bytes, comment: str, quote: str = '"') -> bytes:
    """``data`` with everything from ``comment`` to the end of its line removed, except inside quotes."""
    c = comment.encode()
    if c not in data:
        return data
    buf = np.frombuffer(data, dtype=np.uint8)
    marks = np.flatnonzero(buf == c[0])
    if quote and quote.encode() in data:
        quotes = np.flatnonzero(buf == ord(quote))
        marks = marks[np.searchsorted(quotes, marks) % 2 == 0]  # an even number of quotes before: outside
    out, pos = [], 0
    for m in marks.tolist():
        if m < pos:
            continue
        end = data.find(b"\n", m)
        end = len(data) if end < 0 else end
        out.append(data[pos:m])
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def drop_lines(data: bytes, raw: int = 0, nonblank: int = 0) -> bytes:
    """``data`` without its first ``raw`` lines, then without its first ``nonblank`` non-blank lines."""
    pos = 0
    for _ in range(raw):
        nl = data.find(b"\n", pos)
        pos = len(data) if nl < 0 else nl + 1
    while nonblank > 0 and pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        if data[pos:end].strip():
            nonblank -= 1
        pos = end
    return data[pos:]


def _header_names(line: bytes, parse, read) -> list:
    names = pacsv.read_csv(io.BytesIO(line + b"\n"), read_options=read, parse_options=parse).column_names
    out, seen = [], {}
    for i, n in enumerate(names):
        n = n if n.strip() else f"Unnamed: {i}"
        base, k = n, seen.get(n, 0)
        while n in seen:  # pandas mangles repeats: a, a.1, a.2
            k += 1
            n = f"{base}.{k}"
        seen[base] = k
        seen[n] = 0
        out.append(n)
    return out


def _first_line(data: bytes) -> bytes:
    for line in data.split(b"\n"):
        if line.strip():
            return line.rstrip(b"\r")
    return b""


@dataclasses.dataclass(frozen=True)
class CSVSpec:
    """Everything a task needs to turn bytes of a CSV file into a partition (see the module docstring)."""

    file_names: tuple        # every column of the file, as named in the result
    schema: pa.Schema        # the kept columns (usecols), in file order, with their final types
    sep: str = ","
    quotechar: str = '"'
    doublequote: bool = True
    escapechar: str | None = None
    skip_blank_lines: bool = True
    comment: str | None = None
    skiprows: int = 0
    header_lines: int = 0    # non-blank lines a file's first block drops after skiprows (header and above)
    null_values: tuple = PANDAS_NA
    na_filter: bool = True
    column_nulls: tuple = ()  # (column, (values...)) for na_values given per column
    dates: tuple = ()         # (column, strptime format or None for ISO 8601) for parse_dates columns
    true_values: tuple = _TRUE
    false_values: tuple = _FALSE
    decimal: str = "."
    encoding: str = "utf8"

    # -- building it from the keywords
    @classmethod
    def infer(cls, head: bytes, sep=",", header="infer", names=None, usecols=None, dtype=None, parse_dates=None,
              date_format=None, na_values=None, keep_default_na=True, na_filter=True, skiprows=0, comment=None,
              quotechar='"', doublequote=True, escapechar=None, skip_blank_lines=True, true_values=None,
              false_values=None, decimal=".", encoding="utf8", assume_missing=False) -> "CSVSpec":
        """The spec for files that look like ``head`` (complete lines from the start of the first file)."""
        header = (None if names is not None else 0) if header == "infer" else header
        base = cls(file_names=(), schema=pa.schema([]), sep=sep, quotechar=quotechar, doublequote=doublequote,
                   escapechar=escapechar, skip_blank_lines=skip_blank_lines, comment=comment, skiprows=skiprows,
                   header_lines=0 if header is None else header + 1, na_filter=bool(na_filter),
                   null_values=_null_values(na_values, keep_default_na, na_filter),
                   column_nulls=_column_nulls(na_values, keep_default_na),
                   true_values=_TRUE + tuple(true_values or ()), false_values=_FALSE + tuple(false_values or ()),
                   decimal=decimal, encoding=encoding)
        body = base.strip_lead(head, first=False)
        body = drop_lines(body, raw=skiprows)
        if not body.strip():
            raise _empty_data_error()
        if header is not None:
            file_names = _header_names(_first_line(drop_lines(body, nonblank=header)), base.parse_options(),
                                       base.read_options(None))
        else:
            line = _first_line(body)
            width = len(pacsv.read_csv(io.BytesIO(line + b"\n"), parse_options=base.parse_options(),
                                       read_options=pacsv.ReadOptions(autogenerate_column_names=True)
                                       ).column_names) if line else 0
            file_names = [str(i) for i in range(width)]
        if names is not None:
            file_names = _apply_names(list(names), file_names)
        keep = _usecols(usecols, file_names)
        types = arrow_types(dtype, keep) if dtype is not None else {}
        spec = dataclasses.replace(base, file_names=tuple(file_names),
                                   schema=pa.schema([(n, types.get(n, pa.string())) for n in keep]))
        sample = spec.read_raw(head, first=True, types=types, infer=True)
        for name, values in spec.column_nulls:
            if name in sample.column_names and name not in types:
                col = pc.if_else(pc.is_in(sample[name], pa.array(values, sample[name].type)), None, sample[name])
                sample = sample.set_column(sample.schema.get_field_index(name), name, _narrowest(col))
        dates = _date_columns(parse_dates, keep, sample, date_format)
        fields = []
        for n in keep:
            t = types.get(n) or (pa.timestamp(_UNIT, tz=dates[n][1]) if n in dates else sample.schema.field(n).type)
            if n not in types and n not in dates and _temporal(t):
                t = pa.string()  # pyarrow would read ISO dates as dates; pandas keeps them text unless parse_dates
            if pa.types.is_null(t):
                t = pa.float64()  # no value in the sample: pandas makes such a column float (all NaN)
            elif assume_missing and pa.types.is_integer(t) and n not in types:
                t = pa.float64()
            fields.append(pa.field(n, t))
        # ISO 8601 dates are parsed by the CSV reader itself (their type is in the schema); others by strptime
        return dataclasses.replace(spec, schema=pa.schema(fields),
                                   dates=tuple((n, f) for n, (f, _) in dates.items() if f is not None))

    def __graphflow_tokenize__(self):
        return tuple((f.name, str(getattr(self, f.name))) for f in dataclasses.fields(self))

    # -- pyarrow's options
    def parse_options(self):
        """pyarrow's ParseOptions for these keywords."""
        return pacsv.ParseOptions(delimiter=self.sep, quote_char=self.quotechar or False,
                                  double_quote=self.doublequote, escape_char=self.escapechar or False,
                                  ignore_empty_lines=self.skip_blank_lines)

    def read_options(self, names):
        """pyarrow's ReadOptions, with ``names`` as the column names (None: read them from a header)."""
        return pacsv.ReadOptions(column_names=names, use_threads=False, encoding=self.encoding)

    def convert_options(self, types, infer):
        """pyarrow's ConvertOptions: ``types`` forced (and the rest inferred) when ``infer``, else the schema's."""
        kept = list(self.schema.names)
        strings = {n for n, _ in self.column_nulls} | {n for n, _ in self.dates}
        if infer:
            column_types = {n: t for n, t in types.items() if n not in strings}
        else:
            column_types = {f.name: f.type for f in self.schema if f.name not in strings}
        column_types.update({n: pa.string() for n in strings if n in kept})
        return pacsv.ConvertOptions(
            column_types=column_types, include_columns=kept, null_values=list(self.null_values),
            strings_can_be_null=self.na_filter, quoted_strings_can_be_null=self.na_filter,
            true_values=list(self.true_values), false_values=list(self.false_values), decimal_point=self.decimal)

    # -- parsing
    def strip_lead(self, data: bytes, first: bool) -> bytes:
        """``data`` without comments and, at the start of a file (``first``), without skiprows and the header."""
        if first:
            data = drop_lines(data, raw=self.skiprows)
        if self.comment:
            data = strip_comments(data, self.comment, self.quotechar)
        if first and self.header_lines:
            data = drop_lines(data, nonblank=self.header_lines)
        return data

    def read_raw(self, data: bytes, first: bool, types=None, infer=False) -> pa.Table:
        """pyarrow's parse of ``data``, before the per-column nulls, dates and casts of `parse`."""
        data = self.strip_lead(data, first)
        if not data.strip():
            return pa.schema([(n, pa.string() if infer else self.schema.field(n).type)
                              for n in self.schema.names]).empty_table()
        return pacsv.read_csv(io.BytesIO(data), read_options=self.read_options(list(self.file_names)),
                              parse_options=self.parse_options(), convert_options=self.convert_options(types, infer))

    def parse(self, data: bytes, first: bool) -> pa.Table:
        """The rows of ``data`` (complete lines; ``first``: the start of a file) as a table of ``schema``."""
        table = self.read_raw(data, first)
        for name, values in self.column_nulls:
            if name in table.column_names:
                col = table[name]
                table = table.set_column(table.schema.get_field_index(name), name,
                                         pc.if_else(pc.is_in(col, pa.array(values, col.type)), None, col))
        for name, fmt in self.dates:
            if name in table.column_names:
                t = self.schema.field(name).type
                table = table.set_column(table.schema.get_field_index(name), name, _to_dates(table[name], fmt, t))
        if table.schema.equals(self.schema):
            return table
        return pa.Table.from_arrays([table[f.name].cast(f.type) for f in self.schema], schema=self.schema)


def _null_values(na_values, keep_default_na, na_filter) -> tuple:
    if not na_filter:
        return ()
    extra = () if isinstance(na_values, dict) or na_values is None else (
        (na_values,) if isinstance(na_values, (str, int, float)) else tuple(na_values))
    return tuple(dict.fromkeys((PANDAS_NA if keep_default_na else ()) + tuple(str(v) for v in extra)))


def _column_nulls(na_values, keep_default_na) -> tuple:
    if not isinstance(na_values, dict):
        return ()
    return tuple((col, tuple(str(v) for v in ([vals] if isinstance(vals, (str, int, float)) else vals)))
                 for col, vals in na_values.items())


def _empty_data_error():
    try:  # pandas' own exception (a ValueError), as pandas.read_csv raises for a file without columns
        from pandas.errors import EmptyDataError
    except ImportError:  # pragma: no cover - pandas is a dependency of graphflow.dataframe
        EmptyDataError = ValueError
    return EmptyDataError("No columns to parse from file")


def implicit_index(spec: "CSVSpec") -> list:
    """The leading columns that got no name from ``names=`` (fewer names than columns): pandas makes them
    the index, unnamed."""
    return [n for n in spec.schema.names if n.startswith(_IMPLICIT)]


def _narrowest(col):
    """A string column as int64 or float64 if every value converts (type inference after per-column nulls)."""
    for t in (pa.int64(), pa.float64()):
        try:
            return col.cast(t)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return col


def _apply_names(names, file_names) -> list:
    if len(set(names)) != len(names):
        raise ValueError("Duplicate names are not allowed.")
    if len(names) > len(file_names) and file_names:
        raise ValueError(f"names= has {len(names)} entries but the file has {len(file_names)} columns "
                         f"({file_names}); give one name per column")
    # Fewer names than columns: pandas makes the leading columns the index (`implicit_index`).
    return [f"{_IMPLICIT}{i}__" for i in range(len(file_names) - len(names))] + names


def _usecols(usecols, names) -> list:
    if usecols is None:
        return list(names)
    if callable(usecols):
        return [n for n in names if usecols(n)]
    usecols = [usecols] if isinstance(usecols, (str, int)) else list(usecols)
    if all(isinstance(u, int) and not isinstance(u, bool) for u in usecols):
        if any(not -len(names) <= u < len(names) for u in usecols):  # pandas lists every position asked for
            raise ValueError(f"Usecols do not match columns, columns expected but not found: {sorted(usecols)}")
        wanted = {names[u] for u in usecols}
    else:
        missing = [u for u in usecols if u not in names]
        if missing:
            raise ValueError(f"Usecols do not match columns, columns expected but not found: {missing}")
        wanted = set(usecols)
    return [n for n in names if n in wanted]


def _date_columns(parse_dates, keep, sample, date_format) -> dict:
    """``{column: (format or None, tz)}`` for the parse_dates columns whose sample values parse."""
    if parse_dates in (None, False, True):  # True means "the index": read_csv handles it with index_col
        return {}
    cols = [parse_dates] if isinstance(parse_dates, (str, int)) else list(parse_dates)
    out = {}
    for c in cols:
        if isinstance(c, (list, tuple, dict)):
            raise TypeError("parse_dates takes column names or positions; combining columns into one date "
                            "(a nested list or dict) is not supported, as in pandas 3")
        name = keep[c] if isinstance(c, int) and not isinstance(c, bool) and c < len(keep) else c
        if name not in keep:
            raise ValueError(f"Missing column provided to 'parse_dates': '{c}'")
        fmt = date_format.get(name) if isinstance(date_format, dict) else date_format
        found = _date_format(sample[name], fmt)
        if found is not None:
            out[name] = found
    return out


def _date_format(col, fmt):
    """(format, tz) that parses every value of the string column ``col``, or None (pandas then keeps text)."""
    if _temporal(col.type):  # the CSV reader's own inference already parsed them (ISO 8601)
        return (None, getattr(col.type, "tz", None))
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        return None
    if col.null_count == len(col):
        return (fmt, None)
    for f in ((fmt,) if fmt else (None,) + _DATE_FORMATS):
        for tz in (None, "UTC"):
            try:
                _to_dates(col, f, pa.timestamp(_UNIT, tz=tz))
                return (f, tz)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                continue
    return None


def _temporal(t) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t)


def _to_dates(col, fmt, t):
    if fmt is None:
        return col.cast(t)
    out = pc.strptime(col, format=fmt, unit=t.unit, error_is_null=False)
    return out if out.type == t else out.cast(t)
