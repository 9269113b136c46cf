"""`to_parquet`: one Parquet file per partition, as Dask writes them.

Files are ``path/part.{i}.parquet`` (``name_function(i)`` names them
instead).  ``partition_on=[cols]`` writes hive directories instead,
``path/col=value/.../part.{i}.parquet``, one file per partition and value
combination, without those columns in the files (`read_parquet` gives them
back as categorical columns).  ``write_index=True`` (the default) stores
the frame's index as pandas does: its columns plus pandas' metadata, so
pandas, Dask and `read_parquet` all read it back as the index.
``append=True`` adds files numbered after the existing ones (same columns
required); ``overwrite=True`` empties the directory first.

    >>> import tempfile, graphflow.dataframe as gd
    >>> d = tempfile.mkdtemp()
    >>> df = gd.from_dict({"k": ["a", "b", "a"], "x": [1, 2, 3]}, npartitions=2)
    >>> [p[len(d):] for p in to_parquet(df, d, partition_on=["k"])]
    ['/k=a/part.0.parquet', '/k=b/part.0.parquet', '/k=a/part.1.parquet']
    >>> gd.read_parquet(d).compute(scheduler="sync")["x"].tolist()
    [1, 3, 2]
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..labels import column_labels
from .csv import reject_keywords
from .hive import partition_dir
from .index import partition_to_pandas, stored_index
from .parquet import check_engine
from .paths import check_local, expand_paths
from .writes import compute_options, write_partitions

__all__ = ["to_parquet"]

# pyarrow.parquet.write_table's keywords, passed through (Dask passes its **kwargs to the engine too).
_WRITE_TABLE = {"row_group_size", "version", "use_dictionary", "write_statistics", "data_page_size",
                "use_deprecated_int96_timestamps", "coerce_timestamps", "allow_truncated_timestamps",
                "data_page_version", "compression_level", "use_byte_stream_split", "column_encoding",
                "use_compliant_nested_type", "write_batch_size", "dictionary_pagesize_limit",
                "store_schema", "write_page_index", "write_page_checksum", "sorting_columns"}
_DASK = {"ignore_divisions", "storage_options", "filesystem", "engine", "write_metadata_file"}


@dataclasses.dataclass(frozen=True)
class _ParquetWriter:
    """Writes one partition (to one file, or one per ``partition_on`` value combination)."""

    columns: tuple              # the Arrow columns to write, in order (data, then index levels)
    names: tuple                # their names in the file (pandas' names for index levels)
    metadata: tuple             # (key, value) schema metadata (pandas' index description, custom)
    partition_on: tuple
    compression: object
    schema: pa.Schema | None
    options: tuple = ()

    def __call__(self, table, path):
        table = table.select(list(self.columns)).rename_columns(list(self.names))
        if not self.partition_on:
            return [self._write(table, path)]
        root, name = os.path.split(path)
        out = []
        for values, rows in _groups(table, list(self.partition_on)):
            part = table.take(rows).drop_columns(list(self.partition_on))
            target = os.path.join(root, partition_dir(values), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            out.append(self._write(part, target))
        return out

    def _write(self, table, path):
        if self.schema is not None:
            given = {f.name: f for f in self.schema}
            table = table.cast(pa.schema([given.get(f.name, f) for f in table.schema]))
        if self.metadata:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **dict(self.metadata)})
        pq.write_table(table, path, compression=self.compression, **dict(self.options))
        return path


def _groups(table, keys):
    """``[(values dict, row indices), ...]`` for each combination of ``keys`` in ``table`` (first-seen order)."""
    rows = pa.array(np.arange(table.num_rows))
    decoded = table.select(keys)
    for i, name in enumerate(keys):  # group_by wants plain values; dictionaries are decoded first
        col = decoded.column(name)
        if pa.types.is_dictionary(col.type):
            decoded = decoded.set_column(i, name, col.cast(col.type.value_type))
    grouped = decoded.append_column("__row__", rows).group_by(keys, use_threads=False).aggregate(
        [("__row__", "list")])
    out = []
    for i in range(grouped.num_rows):
        values = {k: grouped.column(k)[i].as_py() for k in keys}
        out.append((values, grouped.column("__row___list")[i].values))
    return out


def _pandas_layout(df, levels, data):
    """(file column names, pandas metadata) for writing the ``data`` columns (Arrow names) plus the index
    ``levels``: what pyarrow gives the frame ``compute()`` returns, so pandas reads the index back."""
    labels = dict(zip(df.arrow_names(), column_labels(df.schema)))
    if not levels:
        return tuple(str(labels[c]) for c in data), ()
    empty = partition_to_pandas(df.schema.empty_table(), df.schema)[[labels[c] for c in data]]
    pschema = pa.Schema.from_pandas(empty, preserve_index=True)
    return tuple(pschema.names), ((b"pandas", pschema.metadata[b"pandas"]),)


def _existing_offset(path, df_names) -> int:
    """For ``append=True``: the first free part number, after checking the columns match the existing files."""
    files = expand_paths(path, (".parquet",)) if os.path.isdir(path) else []
    if not files:
        return 0
    old = pq.read_schema(files[0])
    old_names = [n for n in old.names]
    if sorted(old_names) != sorted(df_names):
        raise ValueError(f"Appended columns not the same.\nPrevious: {old_names} | New: {list(df_names)}")
    nums = [int(m.group(1)) for f in files if (m := re.search(r"part\.(\d+)\.parquet$", f))]
    return max(nums, default=-1) + 1


def _clear(path):
    here = os.path.abspath(os.getcwd())
    target = os.path.abspath(path)
    if here == target or here.startswith(target + os.sep):
        raise ValueError(f"overwrite=True would delete {path!r}, which holds the current working directory; "
                         "refusing")
    if os.path.exists(target):
        shutil.rmtree(target)


def to_parquet(df, path, compression="snappy", write_index: bool = True, append: bool = False,
               overwrite: bool = False, partition_on=None, custom_metadata=None, compute: bool = True,
               compute_kwargs=None, schema="infer", name_function=None, **kwargs):
    """Write one Parquet file per partition (hive directories with ``partition_on``); returns the file names
    (``compute=False``: the lazy frame of them).  Keywords as in Dask's ``to_parquet``; others are
    pyarrow's ``write_table`` keywords (``row_group_size``, ...), or a TypeError.
    """
    reject_keywords(kwargs, _WRITE_TABLE | _DASK, {}, "to_parquet")
    check_engine(kwargs.get("engine"), "to_parquet")
    check_local(kwargs.get("storage_options"), kwargs.get("filesystem"), "to_parquet")
    if kwargs.get("write_metadata_file"):
        raise ValueError("write_metadata_file=True is not supported: read_parquet needs no _metadata file")
    if append and overwrite:
        raise ValueError("Cannot use both `overwrite=True` and `append=True`!")
    path = os.fspath(path)
    partition_on = [partition_on] if isinstance(partition_on, str) else list(partition_on or [])
    levels = stored_index(df.schema) if write_index else []
    data = df.arrow_names()
    missing = [c for c in partition_on if c not in data]
    if missing:
        raise KeyError(f"partition_on column(s) {missing} not found; the columns are {data}")
    names, metadata = _pandas_layout(df, levels, data)
    if custom_metadata:
        if b"pandas" in custom_metadata or "pandas" in custom_metadata:
            raise ValueError("User-defined key/value metadata (custom_metadata) can not contain a b'pandas' key.")
        metadata += tuple((k if isinstance(k, bytes) else str(k).encode(),
                           v if isinstance(v, bytes) else str(v).encode()) for k, v in custom_metadata.items())
    columns = tuple(data) + tuple(c for c, _ in levels)
    target = _target_schema(schema, df, columns, names, partition_on)
    if overwrite:
        _clear(path)
    offset = _existing_offset(path, [n for n in names if n not in partition_on]) if append else 0
    os.makedirs(path, exist_ok=True)
    writer = _ParquetWriter(columns=columns, names=names, metadata=metadata,
                            partition_on=tuple(partition_on), compression=compression, schema=target,
                            options=tuple((k, v) for k, v in kwargs.items() if k in _WRITE_TABLE))
    name = name_function or (lambda i: f"part.{i}.parquet")
    paths = [os.path.join(path, name(i + offset)) for i in range(df.npartitions)]
    if len(set(paths)) != len(paths):
        raise ValueError("name_function gives the same name to several partitions; it must give each its own")
    out = write_partitions(df, writer, paths, compute=compute, compute_kwargs=compute_options(compute_kwargs))
    return out


def _target_schema(schema, df, columns, names, partition_on):
    """The schema to cast each file to: None for ``"infer"``; a ``pa.Schema``; or ``{column: type}``
    overriding some columns (as in Dask)."""
    if schema in ("infer", None):
        return None
    written = [(n, df.schema.field(c).type) for n, c in zip(names, columns) if n not in partition_on]
    if isinstance(schema, pa.Schema):
        return schema
    if isinstance(schema, dict):
        return pa.schema([pa.field(n, schema.get(n, t)) for n, t in written])
    raise TypeError(f"schema= takes 'infer', a pyarrow.Schema or {{column: pyarrow type}}, not {schema!r}")
