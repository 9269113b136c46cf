"""Making DataFrames from data in memory: `from_arrow`, `from_pandas`, `from_dict`, `from_delayed`.

In-memory data is cut into ``npartitions`` contiguous slices (zero-copy
``Table.slice``), each a data node in the graph:

    >>> import pyarrow as pa
    >>> df = from_dict({"a": list(range(10))}, npartitions=3)
    >>> df.npartitions, df.divisions
    (3, None)
    >>> [p.num_rows for p in df.expr.parts]
    [4, 4, 2]

`from_delayed` wraps lazy values that compute to tables; their schema is
``meta=`` or, failing that, computed from the first one (as Dask does).
"""

from __future__ import annotations

import pyarrow as pa

from .frame import DataFrame
from .plan import FromKeys, FromTables

__all__ = ["from_arrow", "from_pandas", "from_dict", "from_delayed"]


def from_arrow(table, npartitions: int | None = None, chunksize: int | None = None) -> DataFrame:
    """A DataFrame over a ``pyarrow.Table`` cut into ``npartitions`` (or ``chunksize``-row) slices."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not isinstance(table, pa.Table):
        raise TypeError(f"from_arrow needs a pyarrow.Table, not {type(table).__name__}")
    n = table.num_rows
    if chunksize is None:
        npartitions = npartitions or 1
        chunksize = max(-(-n // npartitions), 1)
    starts = list(range(0, n, chunksize)) or [0]
    return DataFrame(FromTables([table.slice(s, chunksize) for s in starts]))


def from_pandas(frame, npartitions: int | None = None, chunksize: int | None = None,
                preserve_index: bool = False) -> DataFrame:
    """A DataFrame from a pandas DataFrame (its index is dropped unless ``preserve_index``)."""
    table = pa.Table.from_pandas(frame, preserve_index=preserve_index)
    return from_arrow(table.replace_schema_metadata(None), npartitions=npartitions, chunksize=chunksize)


def from_dict(data: dict, npartitions: int | None = None, chunksize: int | None = None) -> DataFrame:
    """A DataFrame from ``{column: values}``."""
    return from_arrow(pa.table(data), npartitions=npartitions, chunksize=chunksize)


def from_delayed(values, meta=None) -> DataFrame:
    """A DataFrame whose partitions are the results of ``Delayed`` values (each a pyarrow.Table)."""
    from ..base import collections_to_graph

    values = list(values)
    if not values:
        raise ValueError("from_delayed needs at least one value")
    if meta is None:
        meta = values[0].compute(scheduler="sync").schema
    schema = meta.schema if isinstance(meta, pa.Table) else meta
    graph = collections_to_graph(values)
    keys = [v.key for v in values]
    return DataFrame(FromKeys(dict(graph), keys, schema))
