"""`read_parquet` and `to_parquet`: one partition per row group (or per file), one file per partition.

The `ReadParquet` plan node carries the columns to read and an optional
predicate (a `ColExpr`); the optimizer fills both in from what happens
downstream (projection and predicate pushdown), so

    df = read_parquet("trips/")
    df[df.fare > 0][["vendor", "tip"]]

reads only ``vendor``, ``tip`` and ``fare`` and hands ``fare > 0`` to the
read task, which skips row groups whose min/max statistics rule it out
(`stats.excluded`), filters the others as soon as they are decoded, and
drops ``fare`` after filtering when nothing downstream reads it.  ``explain()`` shows the result:
``ReadParquet[...] columns=[...] filter=(fare > 0)``.

Every task reads its piece with ``ParquetFile`` on one thread (the
parallelism is across partitions).
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from ...spec import Task
from ..frame import DataFrame, check_columns
from ..colexpr import Call, Col, Lit, evaluate_on
from ..labels import METADATA_KEY, index_names
from ..pandas_edge import to_pandas_frame
from ..plan import Blockwise, Concat, Func, PlanNode, filter_table
from .paths import expand_paths
from .stats import excluded

__all__ = ["read_parquet", "to_parquet", "ReadParquet"]


class ReadParquet(PlanNode):
    """Source node: ``pieces`` are (path, row group or None); ``columns`` and ``predicate`` are pushed in."""

    label = "read-parquet"

    def __init__(self, pieces, full_schema: pa.Schema, columns=None, predicate=None):
        self.pieces = tuple(pieces)
        self.full_schema = full_schema
        self.columns = None if columns is None else tuple(columns)
        self.predicate = predicate
        names = full_schema.names if columns is None else self.columns
        self._schema = pa.schema([full_schema.field(n) for n in names])
        self._npartitions = len(self.pieces)

    def params(self):
        pred = None if self.predicate is None else self.predicate.__graphflow_tokenize__()
        return (self.pieces, self.columns, pred, _mtimes(self.pieces))

    def replace(self, columns="same", predicate="same") -> "ReadParquet":
        return ReadParquet(self.pieces, self.full_schema,
                           self.columns if columns == "same" else columns,
                           self.predicate if predicate == "same" else predicate)

    def with_columns(self, columns) -> "ReadParquet":
        return self.replace(columns=columns)

    def with_predicate(self, predicate) -> "ReadParquet":
        both = predicate if self.predicate is None else Call("and_kleene", [self.predicate, predicate])
        return self.replace(predicate=both)

    def tasks(self):
        cols = list(self._schema.names)
        return [Task((self.name, i), read_piece, path, rg, cols, self.predicate)
                for i, (path, rg) in enumerate(self.pieces)]

    def describe(self):
        pred = "" if self.predicate is None else f" filter=({self.predicate!r})"
        return f"ReadParquet[{self.npartitions}] columns=[{', '.join(self._schema.names)}]{pred}"


def _mtimes(pieces):
    # Part of the name, so a file rewritten between two computations is not served from a stale key.
    return tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _ in pieces}))


def read_piece(path, row_group, columns, predicate):
    """One partition: a row group (or a whole file), some columns, rows matching the predicate.

    ``ParquetFile`` reads are several times faster per call than a dataset
    fragment scan; the predicate is evaluated on the decoded row group (with
    the columns it needs, dropped afterwards) before any other task sees it.
    """
    wanted = list(columns)
    extra = [] if predicate is None else sorted(predicate.columns() - set(wanted))
    f = pq.ParquetFile(path)
    if predicate is not None:
        groups = range(f.metadata.num_row_groups) if row_group is None else [row_group]
        if all(excluded(f.metadata.row_group(g), predicate) for g in groups):
            return pa.schema([f.schema_arrow.field(c) for c in wanted]).empty_table()
    if row_group is None:
        table = f.read(columns=wanted + extra, use_threads=False)
    else:
        table = f.read_row_group(row_group, columns=wanted + extra, use_threads=False)
    table = table.replace_schema_metadata(None)
    if predicate is None:
        return table
    return filter_table(table, evaluate_on(predicate, table)).select(wanted)


def read_parquet(path, columns=None, filters=None, split_row_groups: bool = True) -> DataFrame:
    """A DataFrame over Parquet files: a file, a directory, a glob or a list.

    ``columns`` selects columns; ``filters`` is a boolean Series-free
    predicate in pyarrow's DNF form (``[("x", ">", 0)]``) and is applied while
    reading.  One partition per row group (``split_row_groups=False``: per file).

        >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), os.path.join(d, "p.parquet"),
        ...                row_group_size=2)
        >>> df = read_parquet(d, columns=["a"], filters=[("a", ">=", 2)])
        >>> df.npartitions, df.compute(scheduler="sync").to_dict("list")
        (2, {'a': [2, 3]})
    """
    files = expand_paths(path, ".parquet")
    if not files:
        raise FileNotFoundError(f"no Parquet files found at {path!r}")
    schema = pq.read_schema(files[0]).remove_metadata()
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        check_columns(columns, schema)
    pieces = []
    for f in files:
        n = pq.ParquetFile(f).metadata.num_row_groups if split_row_groups else 0
        pieces += [(f, rg) for rg in range(n)] if n > 1 else [(f, None)]
    predicate = _dnf_to_expr(filters, schema) if filters else None
    return DataFrame(ReadParquet(pieces, schema, columns, predicate))


_OPS = {"=": "equal", "==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal",
        ">": "greater", ">=": "greater_equal"}


def _dnf_to_expr(filters, schema):
    """pyarrow's ``filters=`` (a list of tuples, or a list of such lists: OR of ANDs) as a `ColExpr`."""
    import pyarrow.compute as pc

    groups = filters if isinstance(filters[0], list) else [filters]
    ors = []
    for group in groups:
        ands = []
        for name, op, value in group:
            check_columns([name], schema)
            if op in ("in", "not in"):
                e = Call("is_in", [Col(name)], pc.SetLookupOptions(pa.array(list(value))))
                ands.append(Call("invert", [e]) if op == "not in" else e)
            else:
                ands.append(Call(_OPS[op], [Col(name), Lit(value)]))
        e = ands[0]
        for a in ands[1:]:
            e = Call("and_kleene", [e, a])
        ors.append(e)
    out = ors[0]
    for o in ors[1:]:
        out = Call("or_kleene", [out, o])
    return out


def _write_part(table, path, index, compression, schema=None):
    name = os.path.join(path, f"part.{index}.parquet")
    if schema is not None:  # an index or non-string labels: written with pandas' metadata, as Dask writes them
        table = pa.Table.from_pandas(to_pandas_frame(table, schema), preserve_index=bool(index_names(schema)))
    pq.write_table(table, name, compression=compression)
    return pa.table({"path": [name]})


def to_parquet(df, path, compression: str = "snappy", compute: bool = True, **compute_kwargs):
    """Write one Parquet file per partition, ``path/part.{i}.parquet``; returns the file names.

    With ``compute=False`` returns the lazy DataFrame of written paths instead.
    """
    os.makedirs(path, exist_ok=True)
    labelled = df.schema if METADATA_KEY in (df.schema.metadata or {}) else None
    parts = [Blockwise(Func(_write_part, os.fspath(path), i, compression, labelled), (df.partitions[i].expr,),
                       pa.schema([("path", pa.string())])) for i in range(df.npartitions)]
    out = DataFrame(Concat(parts, parts[0].schema))
    return out.to_arrow(**compute_kwargs).column("path").to_pylist() if compute else out
