"""`read_csv` and `to_csv`: byte-range blocks of text files, one partition per block.

A file larger than ``blocksize`` is cut into byte ranges; the task for a
range starts after the first newline at or after its start (unless it is the
file's first block, which holds the header) and stops at the first newline
after its end, so every line is read exactly once.  Column names come from the
header; types are inferred from the first block of the first file when the
expression is built (so ``df.dtypes`` is known), and ``dtype={"col": type}``
overrides any of them.

Quoted fields containing newlines: a byte range cannot tell such a newline
from a row break, so a file whose first megabyte holds one (a newline after
an odd number of ``"``, counted in data that has quoted fields at all) is
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

import io
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ...spec import Task
from ..frame import DataFrame, check_columns
from ..labels import METADATA_KEY
from ..pandas_edge import to_pandas_frame
from ..plan import Blockwise, Concat, Func, PlanNode
from .paths import expand_paths

__all__ = ["read_csv", "to_csv", "ReadCSV"]

_INFER_BYTES = 1 << 20


class ReadCSV(PlanNode):
    """Source node: ``blocks`` are (path, start, length); length -1 reads to the end."""

    label = "read-csv"

    def __init__(self, blocks, schema: pa.Schema, sep: str):
        self.blocks = tuple(blocks)
        self._schema = schema
        self.sep = sep
        self._npartitions = len(self.blocks)

    def params(self):
        stamps = tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _, _ in self.blocks}))
        return (self.blocks, str(self._schema), self.sep, stamps)

    def tasks(self):
        return [Task((self.name, i), read_block, p, s, n, self._schema, self.sep)
                for i, (p, s, n) in enumerate(self.blocks)]

    def describe(self):
        return f"ReadCSV[{self.npartitions}] columns=[{', '.join(self._schema.names)}]"


def _block_bytes(path, start, length):
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()  # finish the line that straddles our start: the previous block reads it
        data = f.read(max(start + length - f.tell(), 0)) if length >= 0 else f.read()
        if length >= 0 and data and not data.endswith(b"\n"):
            data += f.readline()
    return data


def quoted_newline(data: bytes, sep: str = ",") -> bool:
    """Whether some newline in ``data`` sits inside double quotes (an odd number of quotes before it).

    Only data with a quoted field (a quote opening a field) counts: pyarrow reads a stray quote
    inside an unquoted value (``5"``) as a character, and so does this check."""
    opener = sep.encode() + b'"'
    if not (data.startswith(b'"') or opener in data or b'\n"' in data):
        return False
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    newlines = np.flatnonzero(buf == ord("\n"))
    return bool((np.searchsorted(quotes, newlines) % 2).any())


def read_block(path, start, length, schema, sep):
    """One partition: the complete lines of one byte range of a CSV file."""
    data = _block_bytes(path, start, length)
    if (start > 0 or length >= 0) and quoted_newline(data, sep):
        raise ValueError(f"a quoted field spans lines in {path} (near byte {start}): a block boundary may cut it; "
                         "use read_csv(..., blocksize=None) to read one partition per file")
    read = pacsv.ReadOptions(column_names=schema.names, skip_rows=1 if start == 0 else 0, use_threads=False)
    conv = pacsv.ConvertOptions(column_types=schema)
    if not data.strip():
        return schema.empty_table()
    return pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=pacsv.ParseOptions(delimiter=sep),
                          convert_options=conv)


def read_csv(path, blocksize: int | None = 64 << 20, dtype: dict | None = None, sep: str = ",") -> DataFrame:
    """A DataFrame over CSV files (a file, directory, glob or list), cut into ``blocksize``-byte partitions."""
    files = expand_paths(path, ".csv")
    if not files:
        raise FileNotFoundError(f"no CSV files found at {path!r}")
    with open(files[0], "rb") as f:
        head = f.read(_INFER_BYTES)
    if len(head) == _INFER_BYTES:
        head = head[:head.rfind(b"\n") + 1]
    sample = pacsv.read_csv(io.BytesIO(head), parse_options=pacsv.ParseOptions(delimiter=sep))
    schema = sample.schema
    check_columns(list(dtype or {}), schema)
    for name, t in (dtype or {}).items():
        t = t if isinstance(t, pa.DataType) else pa.type_for_alias(str(t))
        schema = schema.set(schema.get_field_index(name), pa.field(name, t))
    blocks = []
    for p in files:
        size = os.path.getsize(p)
        sample = head if p == files[0] else None
        if blocksize is None or size <= blocksize or _sample_has_quoted_newline(p, sep, sample):
            blocks.append((p, 0, -1))
        else:
            blocks += [(p, s, min(blocksize, size - s)) for s in range(0, size, blocksize)]
    return DataFrame(ReadCSV(blocks, schema, sep))


def _write_csv(table, path, index, schema=None):
    name = os.path.join(path, f"part.{index}.csv")
    if schema is not None:  # an index or non-string labels: written as pandas writes them (Dask: index=True)
        to_pandas_frame(table, schema).to_csv(name)
    else:
        pacsv.write_csv(table, name)
    return pa.table({"path": [name]})


def to_csv(df, path, compute: bool = True, **compute_kwargs):
    """Write one CSV file per partition, ``path/part.{i}.csv`` (with a header); returns the names."""
    os.makedirs(path, exist_ok=True)
    labelled = df.schema if METADATA_KEY in (df.schema.metadata or {}) else None
    parts = [Blockwise(Func(_write_csv, os.fspath(path), i, labelled), (df.partitions[i].expr,),
                       pa.schema([("path", pa.string())])) for i in range(df.npartitions)]
    out = DataFrame(Concat(parts, parts[0].schema))
    return out.to_arrow(**compute_kwargs).column("path").to_pylist() if compute else out


def _sample_has_quoted_newline(path, sep, head=None) -> bool:
    if head is None:
        with open(path, "rb") as f:
            head = f.read(_INFER_BYTES)
    return quoted_newline(head[:head.rfind(b"\n") + 1], sep)
