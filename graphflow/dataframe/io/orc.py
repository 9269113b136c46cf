"""`read_orc` and `to_orc`: ORC files through ``pyarrow.orc``, with Dask's keywords.

`read_orc` makes one partition per ``split_stripes`` stripes of each file
(``split_stripes=False``: one per file); ``columns`` are read, and nothing
else; ``index=`` names the column to use as the index.  `to_orc` writes
``path/part.{i}.orc``, one file per partition; ORC has no place for pandas'
index description, so ``write_index=True`` writes the index levels as
ordinary columns named as the index is (``"index"`` when unnamed), as Dask
does with ``reset_index``.

    >>> import tempfile, graphflow.dataframe as gd
    >>> d = tempfile.mkdtemp()
    >>> _ = to_orc(gd.from_dict({"a": [1, 2, 3], "s": ["x", None, "z"]}, npartitions=2), d)
    >>> read_orc(d, columns=["s"]).to_arrow(scheduler="sync").to_pydict()
    {'s': ['x', None, 'z']}
"""

from __future__ import annotations

import os

import pyarrow as pa

from ...spec import Task
from ..frame import DataFrame, check_columns
from ..labels import column_labels
from ..plan import PlanNode
from .index import set_index_columns, stored_index
from .parquet import check_engine
from .paths import check_local, expand_paths
from .writes import compute_options, write_partitions

__all__ = ["read_orc", "to_orc", "ReadORC"]


def read_stripes(path, stripes, columns):
    """One partition: some stripes (None: all) of an ORC file, some columns."""
    from pyarrow import orc

    f = orc.ORCFile(path)
    if stripes is None:
        return f.read(columns=list(columns)).select(list(columns))  # the ORC reader gives the file's order
    parts = [f.read_stripe(i, columns=list(columns)) for i in stripes]
    table = pa.Table.from_batches(parts) if parts else f.schema.empty_table()
    return table.select(list(columns))


class ReadORC(PlanNode):
    """Source node: ``pieces`` are (path, stripe numbers or None for the whole file)."""

    label = "read-orc"

    def __init__(self, pieces, schema):
        self.pieces = tuple(pieces)
        self._schema = schema
        self._npartitions = len(self.pieces)

    def params(self):
        stamps = tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _ in self.pieces}))
        return (self.pieces, tuple(self._schema.names), stamps)

    def with_columns(self, columns):
        return ReadORC(self.pieces, pa.schema([self._schema.field(c) for c in columns]))

    def tasks(self):
        return [Task((self.name, i), read_stripes, p, s, tuple(self._schema.names))
                for i, (p, s) in enumerate(self.pieces)]

    def describe(self):
        return f"ReadORC[{self.npartitions}] columns=[{', '.join(self._schema.names)}]"


def read_orc(path, engine="pyarrow", columns=None, index=None, split_stripes=1, aggregate_files=None,
             storage_options=None) -> DataFrame:
    """A DataFrame over ORC files (a file, directory, glob or list): one partition per ``split_stripes``
    stripes (``False``: per file)."""
    from pyarrow import orc

    check_engine(engine, "read_orc")
    check_local(storage_options, what="read_orc")
    if aggregate_files:
        raise ValueError("aggregate_files=True is not supported: use split_stripes=False, then repartition")
    files = expand_paths(path, (".orc",))
    if not files:
        raise FileNotFoundError(f"no ORC files found at {path!r}")
    schema = orc.ORCFile(files[0]).schema.remove_metadata()
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        check_columns(columns, schema)
        index_cols = [] if index is None else ([index] if isinstance(index, str) else list(index))
        schema = pa.schema([schema.field(c) for c in columns + [c for c in index_cols if c not in columns]])
    if split_stripes is not False and (not isinstance(split_stripes, int) or split_stripes < 1):
        raise ValueError(f"split_stripes={split_stripes!r}: a positive number of stripes per partition, or False")
    pieces = []
    for f in files:
        n = orc.ORCFile(f).nstripes
        if split_stripes is False or n <= 1:
            pieces.append((f, None))
        else:
            pieces += [(f, tuple(range(s, min(s + split_stripes, n)))) for s in range(0, n, split_stripes)]
    df = DataFrame(ReadORC(pieces, schema))
    if index is not None and index is not False:
        df = set_index_columns(df, index)
    return df


def _write_orc(table, path, columns, names):
    from pyarrow import orc

    orc.write_table(table.select(list(columns)).rename_columns(list(names)), path)
    return path


def to_orc(df, path, engine="pyarrow", write_index=True, storage_options=None, compute=True, compute_kwargs=None):
    """Write one ORC file per partition, ``path/part.{i}.orc``; returns the file names (``compute=False``:
    the lazy frame of them)."""
    check_engine(engine, "to_orc")
    check_local(storage_options, what="to_orc")
    levels = stored_index(df.schema) if write_index else []
    data = df.arrow_names()
    index_names = [("index" if len(levels) == 1 else f"level_{i}") if n is None else str(n)
                   for i, (_, n) in enumerate(levels)]
    columns = tuple(c for c, _ in levels) + tuple(data)
    names = tuple(index_names) + tuple(str(label) for label in column_labels(df.schema))
    os.makedirs(path, exist_ok=True)
    paths = [os.path.join(os.fspath(path), f"part.{i}.orc") for i in range(df.npartitions)]
    return write_partitions(df, _write_orc, paths, columns, names, compute=compute,
                            compute_kwargs=compute_options(compute_kwargs))
