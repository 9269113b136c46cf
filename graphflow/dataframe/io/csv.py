"""`read_csv` and `to_csv`: byte-range blocks of text files, one partition per block.

A file larger than ``blocksize`` is cut into byte ranges; the task for a
range starts after the first newline at or after its start (unless it is the
file's first block, which holds the header) and stops at the first newline
after its end, so every line is read exactly once.  Column names come from the
header; types are inferred from the first block of the first file when the
expression is built (so ``df.dtypes`` is known), and ``dtype={"col": type}``
overrides any of them.  A quoted field containing a newline can be split by a
block boundary: use ``blocksize=None`` (one partition per file) for such files.

    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.csv"), "w") as f:
    ...     _ = f.write("k,x\\n" + "".join(f"{i % 3},{i}.5\\n" for i in range(100)))
    >>> df = read_csv(os.path.join(d, "*.csv"), blocksize=200)
    >>> df.npartitions > 1, df.dtypes["x"], len(df.compute(scheduler="sync"))
    (True, DataType(double), 100)
"""

from __future__ import annotations

import io
import os

import pyarrow as pa
import pyarrow.csv as pacsv

from ...spec import Task
from ..frame import DataFrame, check_columns
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


def read_block(path, start, length, schema, sep):
    """One partition: the complete lines of one byte range of a CSV file."""
    data = _block_bytes(path, start, length)
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
        if blocksize is None or size <= blocksize:
            blocks.append((p, 0, -1))
        else:
            blocks += [(p, s, min(blocksize, size - s)) for s in range(0, size, blocksize)]
    return DataFrame(ReadCSV(blocks, schema, sep))


def _write_csv(table, path, index):
    name = os.path.join(path, f"part.{index}.csv")
    pacsv.write_csv(table, name)
    return pa.table({"path": [name]})


def to_csv(df, path, compute: bool = True, **compute_kwargs):
    """Write one CSV file per partition, ``path/part.{i}.csv`` (with a header); returns the names."""
    os.makedirs(path, exist_ok=True)
    parts = [Blockwise(Func(_write_csv, os.fspath(path), i), (df.partitions[i]._plan,),
                       pa.schema([("path", pa.string())])) for i in range(df.npartitions)]
    out = DataFrame(Concat(parts, parts[0].schema))
    return out.compute(**compute_kwargs).column("path").to_pylist() if compute else out
