"""`read_csv`: byte-range blocks of text files, one partition per block, with pandas' keywords.

A file larger than ``blocksize`` is cut into byte ranges; the task for a
range starts after the first newline at or after its start (unless it is the
file's first block, which holds the header) and stops at the first newline
after its end, so every line is read exactly once.  The keywords (pandas'
``sep``, ``header``, ``names``, ``usecols``, ``dtype``, ``parse_dates``,
``na_values``, ``skiprows``, ``comment``, ``index_col``, ... and Dask's
``blocksize``, ``sample``, ``assume_missing``, ``include_path_column``) are
resolved once, on the head of the first file, into a `CSVSpec`
(`graphflow.dataframe.io.csv_spec`), so ``df.dtypes`` is known before anything
runs and every partition has exactly those types.  A later value that does
not fit an inferred type is a ValueError naming the file, the column's
inferred type and the ``dtype=`` to pass (Dask's advice).

Compressed files (``compression="infer"`` from the suffix: gzip, bz2, zstd,
xz, lz4, brotli) cannot be cut into byte ranges: each is one partition.

Quoted fields containing newlines: a byte range cannot tell such a newline
from a row break, so a file whose first megabyte holds one (a newline after
an odd number of quotes, counted in data that has quoted fields at all) is
read as a single partition whatever ``blocksize`` says.  A file that reveals
one only later makes the block holding it raise ``ValueError`` ("quoted field
spans lines ... use blocksize=None") instead of returning wrong rows;
``blocksize=None`` (one partition per file) always works.

    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.csv"), "w") as f:
    ...     _ = f.write("k,x\\n" + "".join(f"{i % 3},{i}.5\\n" for i in range(100)))
    >>> df = read_csv(os.path.join(d, "*.csv"), blocksize=200)
    >>> df.npartitions > 1, df.dtypes["x"], len(df.compute(scheduler="sync"))
    (True, dtype('float64'), 100)
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pyarrow as pa

from ...spec import Task
from ...units import parse_bytes
from ..frame import DataFrame
from ..plan import PlanNode
from .csv_spec import CSVSpec, implicit_index
from .index import set_index_columns
from .paths import byte_ranges, check_local, expand_paths, infer_compression, open_input, read_lines

__all__ = ["read_csv", "ReadCSV", "quoted_newline", "DEFAULT_BLOCKSIZE", "reject_keywords"]

DEFAULT_BLOCKSIZE = 64 << 20
_QUOTE_BYTES = 1 << 20  # how much of a file's head is checked for quoted newlines
_CSV_SUFFIXES = (".csv", ".part", ".tsv", ".txt") + tuple(".csv" + s for s in (".gz", ".bz2", ".zst", ".xz"))

# pandas keywords read_csv takes (beyond its own signature), and the pandas keywords it refuses, with why.
_ACCEPTED = {"sep", "delimiter", "header", "names", "index_col", "usecols", "dtype", "parse_dates", "date_format",
             "na_values", "keep_default_na", "na_filter", "skiprows", "comment", "quotechar", "doublequote",
             "escapechar", "skip_blank_lines", "true_values", "false_values", "decimal", "encoding", "engine",
             "low_memory", "memory_map", "dtype_backend", "lineterminator", "on_bad_lines", "verbose"}
_REFUSED = {
    "nrows": "use df.head(n) (or df.partitions[0]) instead",
    "skipfooter": "a block cannot know where the file ends; drop those rows after reading",
    "chunksize": "the partitions are the chunks: use blocksize=",
    "iterator": "the partitions are the chunks: use blocksize= and df.partitions[i]",
    "converters": "use df.assign(...) or map_partitions after reading",
    "thousands": "read the column as text (dtype={col: 'string'}) and convert it with str.replace",
    "date_parser": "removed in pandas 2: use date_format= or to_datetime after reading",
    "dayfirst": "use date_format= with the day first, e.g. '%d/%m/%Y'",
    "header_list": "multi-row headers are not supported",
    "delim_whitespace": "removed in pandas 3: use sep=r'\\s+' ... which is not supported either: use a one-"
                        "character sep",
}


class ReadCSV(PlanNode):
    """Source node: ``blocks`` are (path, start, length); length -1 reads to the end."""

    label = "read-csv"

    def __init__(self, blocks, spec: CSVSpec, compression="infer", path_column=None, paths=()):
        self.blocks = tuple(blocks)
        self.spec = spec
        self.compression = compression
        self.path_column = path_column
        self.paths = tuple(paths)
        schema = spec.schema
        if path_column is not None:
            schema = schema.append(pa.field(path_column, pa.dictionary(pa.int32(), pa.string())))
        self._schema = schema
        self._npartitions = len(self.blocks)

    def params(self):
        stamps = tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _, _ in self.blocks}))
        return (self.blocks, self.spec, self.compression, self.path_column, stamps)

    def with_columns(self, columns) -> "ReadCSV":
        """Parse only ``columns`` (projection pushdown: the CSV reader skips converting the others)."""
        keep = [self.spec.schema.field(c) for c in columns if c != self.path_column]
        spec = dataclasses.replace(self.spec, schema=pa.schema(keep))
        path_column = self.path_column if self.path_column in columns else None
        return ReadCSV(self.blocks, spec, self.compression, path_column, self.paths)

    def tasks(self):
        return [Task((self.name, i), read_block, p, s, n, self.spec, self.compression, self.path_column, self.paths)
                for i, (p, s, n) in enumerate(self.blocks)]

    def describe(self):
        return f"ReadCSV[{self.npartitions}] columns=[{', '.join(self._schema.names)}]"


def quoted_newline(data: bytes, sep: str = ",", quote: str = '"') -> bool:
    """Whether some newline in ``data`` sits inside quotes (an odd number of quotes before it).

    Only data with a quoted field (a quote opening a field) counts: pyarrow reads a stray quote
    inside an unquoted value (``5"``) as a character, and so does this check."""
    if not quote:
        return False
    q = quote.encode()
    if not (data.startswith(q) or sep.encode() + q in data or b"\n" + q in data):
        return False
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord(q))
    newlines = np.flatnonzero(buf == ord("\n"))
    return bool((np.searchsorted(quotes, newlines) % 2).any())


def read_block(path, start, length, spec: CSVSpec, compression="infer", path_column=None, paths=()):
    """One partition: the complete lines of one byte range of a CSV file, parsed by ``spec``."""
    data = read_lines(path, start, length, compression)
    if (start > 0 or length >= 0) and quoted_newline(data, spec.sep, spec.quotechar):
        raise ValueError(f"a quoted field spans lines in {path} (near byte {start}): a block boundary may cut it; "
                         "use read_csv(..., blocksize=None) to read one partition per file")
    try:
        table = spec.parse(data, first=start == 0)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        types = ", ".join(f"{f.name}: {f.type}" for f in spec.schema)
        raise ValueError(f"cannot read {path} (the block at byte {start}) with the column types read_csv "
                         f"inferred from the head of the first file ({types}): {exc}. Pass dtype={{column: type}} "
                         "for the column at fault (e.g. 'float64' or 'string'), or assume_missing=True if an "
                         "integer column has missing values later on") from exc
    if path_column is not None:
        codes = pa.array(np.full(table.num_rows, paths.index(path), dtype=np.int32))
        table = table.append_column(path_column, pa.DictionaryArray.from_arrays(codes, pa.array(paths)))
    return table


def reject_keywords(kwargs, accepted, refused, func: str):
    """TypeError naming the first keyword of ``kwargs`` that ``func`` does not take (pandas' message), or
    that it refuses (with the alternative)."""
    for k in kwargs:
        if k in refused:
            raise TypeError(f"{func}() does not support the pandas keyword {k!r}: {refused[k]}")
        if k not in accepted:
            raise TypeError(f"{func}() got an unexpected keyword argument {k!r}")


def read_csv(urlpath, blocksize="default", lineterminator=None, compression="infer", sample=256000,
             sample_rows=10, enforce=False, assume_missing=False, storage_options=None, include_path_column=False,
             **kwargs) -> DataFrame:
    """A DataFrame over CSV files (a file, directory, glob or list), cut into ``blocksize``-byte partitions.

    The keywords are Dask's (this signature) and pandas' (``**kwargs``: ``sep``/``delimiter``,
    ``header``, ``names``, ``index_col``, ``usecols``, ``dtype``, ``parse_dates``, ``date_format``,
    ``na_values``, ``keep_default_na``, ``na_filter``, ``skiprows`` (a number of lines), ``comment``,
    ``quotechar``, ``escapechar``, ``doublequote``, ``true_values``, ``false_values``, ``decimal``,
    ``encoding``), with their meanings; others are a TypeError naming them.  ``blocksize`` is bytes
    (an int or a string like ``"64MB"``; ``None``: one partition per file).  ``sample`` is how many bytes
    of the first file the types are inferred from; ``sample_rows`` and ``enforce`` are accepted for
    Dask's sake (every partition is always converted to the inferred types).
    """
    reject_keywords(kwargs, _ACCEPTED, _REFUSED, "read_csv")
    check_local(storage_options, what="read_csv")
    opts = _pandas_options(kwargs, lineterminator)
    index_col = kwargs.get("index_col")
    files = expand_paths(urlpath, _CSV_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no CSV files found at {urlpath!r}")
    with open_input(files[0], compression) as f:
        head = f.read(max(parse_bytes(sample), _QUOTE_BYTES))
    complete = head[:head.rfind(b"\n") + 1] if b"\n" in head else head
    infer_from = complete[:max(parse_bytes(sample), 1)]
    infer_from = infer_from[:infer_from.rfind(b"\n") + 1] or complete
    spec = CSVSpec.infer(infer_from, assume_missing=assume_missing, **opts)
    picked = _index_columns(spec, index_col)
    if opts["parse_dates"] is True:  # pandas: True means "parse the index"
        spec = CSVSpec.infer(infer_from, assume_missing=assume_missing, **{**opts, "parse_dates": picked or None})
    path_column = None
    if include_path_column:
        path_column = include_path_column if isinstance(include_path_column, str) else "path"
    df = DataFrame(ReadCSV(_blocks(files, blocksize, compression, spec, complete), spec, compression, path_column,
                           files))
    implicit = implicit_index(spec)
    if implicit:  # fewer names= than columns: pandas' implicit, unnamed index
        df = set_index_columns(df, implicit, [None] * len(implicit))
    if picked:  # after an implicit index, index_col= levels come inside it
        df = set_index_columns(df, picked, append=bool(implicit))
    return df


def _blocks(files, blocksize, compression, spec, head):
    limit = None if blocksize is None else DEFAULT_BLOCKSIZE if blocksize == "default" else parse_bytes(blocksize)
    return byte_ranges(files, limit, lambda p: infer_compression(p, compression) is not None
                       or _has_quoted_newline(p, spec, head if p == files[0] else None))


def _has_quoted_newline(path, spec, head=None) -> bool:
    if head is None:
        with open(path, "rb") as f:
            head = f.read(_QUOTE_BYTES)
        head = head[:head.rfind(b"\n") + 1]
    return quoted_newline(head, spec.sep, spec.quotechar)


def _pandas_options(kw, lineterminator) -> dict:
    """`CSVSpec.infer` 's keywords from pandas' ones, refusing what the Arrow CSV reader cannot do."""
    if kw.get("sep") is not None and kw.get("delimiter") is not None:
        raise ValueError("Specified a sep and a delimiter; you can only specify one.")
    sep = kw.get("delimiter") if kw.get("delimiter") is not None else kw.get("sep", ",")
    if sep is None or len(sep) != 1:
        raise ValueError(f"sep={sep!r}: read_csv takes a one-character separator (pandas' python engine reads "
                         "regular expressions and sniffs sep=None; the Arrow reader does neither)")
    if lineterminator not in (None, "\n", "\r\n"):
        raise ValueError(f"lineterminator={lineterminator!r}: only '\\n' (and '\\r\\n') line ends are supported")
    skiprows = kw.get("skiprows") or 0
    if not isinstance(skiprows, int) or isinstance(skiprows, bool) or skiprows < 0:
        raise ValueError(f"skiprows={skiprows!r}: read_csv skips a number of lines at the start of each file; a "
                         "list of line numbers or a function is not supported (filter the rows after reading)")
    header = kw.get("header", "infer")
    if not (header in ("infer", None) or (isinstance(header, int) and not isinstance(header, bool) and header >= 0)):
        raise ValueError(f"header={header!r}: use a row number (0 by default), or None when the file has no "
                         "header; several header rows (a list) are not supported")
    comment = kw.get("comment")
    if comment is not None and len(comment) != 1:
        raise ValueError("Only length-1 comment characters supported")
    encoding = (kw.get("encoding") or "utf8").lower().replace("-", "").replace("_", "")
    if encoding.startswith(("utf16", "utf32")):
        raise ValueError(f"encoding={kw['encoding']!r}: blocks are cut at newline bytes, which needs an "
                         "ASCII-compatible encoding (utf-8, latin-1, cp1252, ...)")
    if kw.get("engine") not in (None, "c", "pyarrow", "python"):
        raise ValueError(f"engine={kw['engine']!r}: use 'c', 'python' or 'pyarrow' (graphflow always parses "
                         "with pyarrow)")
    if kw.get("on_bad_lines", "error") != "error":
        raise ValueError("on_bad_lines: only 'error' is supported (a malformed line raises)")
    return dict(sep=sep, header=header, names=kw.get("names"), usecols=kw.get("usecols"), dtype=kw.get("dtype"),
                parse_dates=kw.get("parse_dates"), date_format=kw.get("date_format"),
                na_values=kw.get("na_values"), keep_default_na=kw.get("keep_default_na", True),
                na_filter=kw.get("na_filter", True), skiprows=skiprows, comment=comment,
                quotechar=kw.get("quotechar", '"'), doublequote=kw.get("doublequote", True),
                escapechar=kw.get("escapechar"), skip_blank_lines=kw.get("skip_blank_lines", True),
                true_values=kw.get("true_values"), false_values=kw.get("false_values"),
                decimal=kw.get("decimal", "."), encoding=kw.get("encoding") or "utf8")


def _index_columns(spec, index_col) -> list:
    """The columns ``index_col`` names: a column name, a position among the columns read, or a list."""
    if index_col is None or index_col is False:
        return []
    cols = [index_col] if isinstance(index_col, (str, int)) else list(index_col)
    names = [n for n in spec.schema.names if n not in implicit_index(spec)]
    picked = []
    for c in cols:
        if isinstance(c, int) and not isinstance(c, bool):
            if not -len(names) <= c < len(names):
                raise IndexError(f"index_col={c} is out of range: the file has {len(names)} columns ({names})")
            picked.append(names[c])
        elif c in names:
            picked.append(c)
        else:
            raise ValueError(f"Index {c} invalid")
    return picked
