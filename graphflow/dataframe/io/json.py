"""`read_json` and `to_json`: line-delimited JSON records (Dask's default), and pandas' other layouts.

``orient="records", lines=True`` (what Dask reads and writes by default) is
one JSON object per line; pyarrow parses it, in ``blocksize`` byte ranges
cut at newlines (a JSON line holds no raw newline, so any cut is safe).  The
column types are inferred from the first ``sample`` bytes of the first file
and every block is read with them; a line with a field the sample did not
have is a ValueError naming it (pass ``meta=``).  As in pandas, a column whose
name looks like a date (``date``, ``datetime``, ``modified``, ``timestamp*``,
``*_at``, ``*_time``) holding epoch numbers or ISO strings becomes a datetime
(``convert_dates=``/``keep_default_dates=`` as in pandas), and other
ISO-looking strings stay text.  Any other ``orient``, or ``lines=False``,
reads each file with pandas (one partition per file).

`to_json` writes each partition with pandas' ``DataFrame.to_json`` (its
keywords pass through), to ``path/0.part`` ... or a ``*`` pattern, as Dask.

    >>> import os, tempfile, graphflow.dataframe as gd
    >>> d = tempfile.mkdtemp()
    >>> _ = to_json(gd.from_dict({"a": [1, 2, 3], "s": ["x", None, "z"]}, npartitions=2), d)
    >>> read_json(d).to_arrow(scheduler="sync").to_pydict()
    {'a': [1, 2, 3], 's': ['x', None, 'z']}
"""

from __future__ import annotations

import io
import os

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from ...spec import Task
from ...units import parse_bytes
from ..frame import DataFrame
from ..plan import PlanNode
from .csv import reject_keywords
from .dtypes import arrow_types
from .index import partition_to_pandas
from .paths import byte_ranges, check_local, expand_paths, infer_compression, open_input, open_output, \
    output_paths, read_lines
from .writes import compute_options, write_partitions

__all__ = ["read_json", "to_json", "ReadJSON"]

_SUFFIXES = (".json", ".jsonl", ".ndjson", ".part") + tuple(".json" + s for s in (".gz", ".bz2", ".zst", ".xz"))
_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_MIN_STAMP = {"s": 31536000, "ms": 31536000000, "us": 31536000000000, "ns": 31536000000000000}


def _date_like(name) -> bool:
    """pandas' ``keep_default_dates`` rule for which column names hold dates."""
    low = str(name).lower()
    return low.endswith(("_at", "_time")) or low in ("modified", "date", "datetime") or low.startswith("timestamp")


def _epoch_unit(col):
    """The first of s, ms, us, ns in which every value of an integer column is a datetime pandas can hold
    (after 1971, before 2262), as pandas tries them; None if none fits."""
    vals = col.drop_null().to_numpy(zero_copy_only=False).astype(np.float64) if col.null_count < len(col) else None
    if vals is None:
        return "ms"
    for unit in ("s", "ms", "us", "ns"):
        if (vals > _MIN_STAMP[unit]).all() and (np.abs(vals) * _NS[unit] < 9.2e18).all():
            return unit
    return None


class _Dates:
    """Which columns become datetimes, and how: ``{column: epoch unit, or None for ISO strings}``."""

    @staticmethod
    def choose(sample, convert_dates, keep_default_dates) -> dict:
        asked = set(convert_dates) if isinstance(convert_dates, (list, tuple, set)) else set()
        out = {}
        for f in sample.schema:
            wanted = f.name in asked or (convert_dates is not False and keep_default_dates and _date_like(f.name))
            if not wanted:
                continue
            col = sample[f.name]
            if pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
                unit = _epoch_unit(col)
                if unit is not None:
                    out[f.name] = unit
            elif pa.types.is_timestamp(f.type) or pa.types.is_date(f.type):
                out[f.name] = None
        return out


def _convert(table, dates, schema):
    cols = []
    for f in schema:
        col = table[f.name] if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        if f.name in dates and dates[f.name] is not None:
            col = col.cast(pa.int64()).cast(pa.timestamp(dates[f.name]))
        cols.append(col.cast(f.type) if col.type != f.type else col)
    return pa.Table.from_arrays(cols, schema=schema)


def read_lines_block(path, start, length, read_schema, schema, dates, compression, path_column=None, paths=()):
    """One partition: the JSON lines of one byte range, with ``read_schema``, converted to ``schema``."""
    data = read_lines(path, start, length, compression)
    if not data.strip():
        return _with_path(schema.empty_table(), path_column, path, paths)
    opts = pajson.ParseOptions(explicit_schema=read_schema, unexpected_field_behavior="error")
    try:
        table = pajson.read_json(io.BytesIO(data), read_options=pajson.ReadOptions(use_threads=False),
                                 parse_options=opts)
    except pa.ArrowInvalid as exc:
        raise ValueError(f"cannot read {path} (the block at byte {start}) with the fields and types read_json "
                         f"inferred from the head of the first file ({read_schema}): {exc}. Pass meta= (an "
                         "empty pandas frame or a pyarrow schema) or dtype= with every field and its type"
                         ) from exc
    return _with_path(_convert(table, dates, schema), path_column, path, paths)


def _with_path(table, path_column, path, paths):
    if path_column is None:
        return table
    codes = pa.array(np.full(table.num_rows, paths.index(path), dtype=np.int32))
    return table.append_column(path_column, pa.DictionaryArray.from_arrays(codes, pa.array(list(paths))))


def read_pandas_file(path, start, length, kwargs, schema):
    """One partition: a whole JSON file read by pandas (layouts other than JSON lines)."""
    import pandas as pd

    pdf = pd.read_json(path, **dict(kwargs))
    return pa.Table.from_pandas(pdf, schema=schema, preserve_index=False, nthreads=1)


class ReadJSON(PlanNode):
    """Source node: ``blocks`` are (path, start, length); ``reader(path, start, length, *args)`` reads one."""

    label = "read-json"

    def __init__(self, blocks, schema, reader, args):
        self.blocks = tuple(blocks)
        self._schema = schema
        self.reader, self.args = reader, tuple(args)
        self._npartitions = len(self.blocks)

    def params(self):
        from ...spec import tokenize

        stamps = tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _, _ in self.blocks}))
        return (self.blocks, str(self._schema), tokenize(self.reader, self.args), stamps)

    def tasks(self):
        return [Task((self.name, i), self.reader, p, s, n, *self.args) for i, (p, s, n) in enumerate(self.blocks)]


_PANDAS_READ = {"dtype", "convert_dates", "keep_default_dates", "precise_float", "date_unit", "encoding_errors",
                "nrows", "dtype_backend", "typ", "convert_axes"}


def _lines_for(orient, lines) -> bool:
    """Whether the files are JSON lines: by default for ``orient="records"`` only, and never for another
    layout (Dask's rule and message)."""
    if lines is None:
        lines = orient == "records"
    if orient != "records" and lines:
        raise ValueError('Line-delimited JSON is only available with orient="records".')
    return lines


def read_json(url_path, orient="records", lines=None, storage_options=None, blocksize=None, sample=2**20,
              encoding="utf-8", errors="strict", compression="infer", meta=None, engine=None,
              include_path_column=False, path_converter=None, **kwargs) -> DataFrame:
    """A DataFrame over JSON files (a file, directory, glob or list); keywords as in Dask's ``read_json``
    (``**kwargs``: pandas' ``dtype``, ``convert_dates``, ``keep_default_dates``, ...)."""
    reject_keywords(kwargs, _PANDAS_READ, {}, "read_json")
    check_local(storage_options, what="read_json")
    lines = _lines_for(orient, lines)
    if blocksize is not None and (orient != "records" or not lines):
        raise ValueError("JSON file chunking only allowed for JSON-lines input (orient='records', lines=True).")
    if engine is not None and getattr(engine, "__name__", None) != "read_json":
        raise ValueError("engine=: graphflow reads JSON lines with pyarrow and other layouts with "
                         "pandas.read_json; pass no engine")
    files = expand_paths(url_path, _SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no JSON files found at {url_path!r}")
    path_column = None
    if include_path_column:
        path_column = include_path_column if isinstance(include_path_column, str) else "path"
    shown = [path_converter(f) for f in files] if path_converter else list(files)
    if not (orient == "records" and lines):
        return _read_with_pandas(files, orient, lines, encoding, errors, compression, meta, kwargs)
    with open_input(files[0], compression) as f:
        head = f.read(parse_bytes(sample))
    head = head[:head.rfind(b"\n") + 1] or head
    sample_table = pajson.read_json(io.BytesIO(head))
    read_schema, schema, dates = _schemas(sample_table, meta, kwargs)
    if path_column is not None:
        schema = schema.append(pa.field(path_column, pa.dictionary(pa.int32(), pa.string())))
    limit = None if blocksize is None else parse_bytes(blocksize)
    blocks = byte_ranges(files, limit, lambda p: infer_compression(p, compression) is not None)
    body = schema if path_column is None else pa.schema([f for f in schema if f.name != path_column])
    args = (read_schema, body, dates, compression, path_column, tuple(shown))
    return DataFrame(ReadJSON(blocks, schema, _ShownPaths(files, shown) if path_converter else read_lines_block,
                              args))


class _ShownPaths:
    """``read_lines_block`` with the path column showing ``path_converter(path)``."""

    def __init__(self, files, shown):
        self.names = dict(zip(files, shown))

    def __call__(self, path, start, length, read_schema, schema, dates, compression, path_column, paths):
        table = read_lines_block(path, start, length, read_schema, schema, dates, compression)
        return _with_path(table, path_column, self.names[path], paths)

    def __graphflow_tokenize__(self):
        return ("shown-paths", tuple(sorted(self.names.items())))


def _schemas(sample, meta, kw):
    """(schema to parse with, schema of the result, date conversions) from the sample and the keywords."""
    if meta is not None:
        given = meta if isinstance(meta, pa.Schema) else pa.Schema.from_pandas(meta, preserve_index=False)
        given = given.remove_metadata()
        return given, given, {}
    dates = _Dates.choose(sample, kw.get("convert_dates", True), kw.get("keep_default_dates", True))
    overrides = arrow_types(kw["dtype"], sample.schema.names) if isinstance(kw.get("dtype"), dict) else {}
    read_fields, fields = [], []
    for f in sample.schema:
        t = f.type
        if pa.types.is_null(t):
            t = pa.float64()  # only nulls in the sample: pandas makes the column float (NaN)
        if (pa.types.is_timestamp(t) or pa.types.is_date(t)) and f.name not in dates:
            t = pa.string()  # pyarrow reads ISO strings as timestamps; pandas keeps them text
        read_fields.append(pa.field(f.name, t))
        out = overrides.get(f.name, t)
        if f.name in dates:
            out = pa.timestamp("us")
        fields.append(pa.field(f.name, out))
    return pa.schema(read_fields), pa.schema(fields), dates


def _read_with_pandas(files, orient, lines, encoding, errors, compression, meta, kw):
    import pandas as pd

    opts = tuple(sorted({"orient": orient, "lines": lines, "encoding": encoding, "encoding_errors": errors,
                         "compression": compression, **kw}.items()))
    if meta is not None:
        schema = meta if isinstance(meta, pa.Schema) else pa.Schema.from_pandas(meta, preserve_index=False)
    else:
        schema = pa.Schema.from_pandas(pd.read_json(files[0], **dict(opts)), preserve_index=False)
    schema = schema.remove_metadata()
    return DataFrame(ReadJSON([(f, 0, -1) for f in files], schema, read_pandas_file, (opts, schema)))


def _write_json(table, path, schema, kwargs, encoding, compression):
    # the partition as compute() gives it (its stored index, or a fresh RangeIndex): pandas' to_json decides
    # what of the index each orient writes, as it does for Dask's partitions
    text = partition_to_pandas(table, schema).to_json(None, **dict(kwargs))
    with open_output(path, compression) as f:
        f.write(text.encode(encoding) + (b"\n" if text and not text.endswith("\n") else b""))
    return path


def to_json(df, url_path, orient="records", lines=None, storage_options=None, compute=True, encoding="utf-8",
            errors="strict", compression=None, compute_kwargs=None, name_function=None, **kwargs):
    """Write one JSON file per partition with pandas' ``to_json`` (line-delimited records by default, as
    Dask); returns the file names (``compute=False``: the lazy frame of them)."""
    import inspect

    import pandas as pd

    accepted = set(inspect.signature(pd.DataFrame.to_json).parameters) - {"self", "path_or_buf"}
    reject_keywords(kwargs, accepted, {}, "to_json")
    check_local(storage_options, what="to_json")
    lines = _lines_for(orient, lines)
    options = tuple(sorted({"orient": orient, "lines": lines, **kwargs}.items()))
    paths = output_paths(url_path, df.npartitions, name_function, default="*.part")
    return write_partitions(df, _write_json, paths, df.schema, options, encoding, compression,
                            compute=compute, compute_kwargs=compute_options(compute_kwargs))
