"""Making DataFrames from data in memory: `from_arrow`, `from_pandas`, `from_dict`, `from_delayed`.

In-memory data is cut into ``npartitions`` contiguous slices (zero-copy
``Table.slice``), each a data node in the graph:

    >>> import pyarrow as pa
    >>> df = from_arrow(pa.table({"a": list(range(10))}), npartitions=3)
    >>> df.npartitions, df.known_divisions    # no index: row positions, as Dask's readers give
    (3, False)
    >>> [p.num_rows for p in df.expr.parts]
    [4, 4, 2]
    >>> from_dict({"a": list(range(10))}, npartitions=3).divisions    # pandas' index, Dask's divisions
    (0, 4, 8, 9)

`from_delayed` wraps lazy values that compute to tables; their schema is
``meta=`` or, failing that, computed from the first one (as Dask does).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import pandas_parts
from .frame import DataFrame
from .plan import FromKeys, FromTables

__all__ = ["from_arrow", "from_pandas", "from_dict", "from_delayed"]


def from_arrow(table, npartitions: int | None = None, chunksize: int | None = None) -> DataFrame:
    """A DataFrame over a ``pyarrow.Table`` cut into ``npartitions`` (or ``chunksize``-row) slices."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not isinstance(table, pa.Table):
        raise TypeError(f"from_arrow needs a pyarrow.Table, not {type(table).__name__}")
    return DataFrame(FromTables(_slices(table, npartitions, chunksize)))


def from_pandas(data, npartitions: int | None = None, chunksize: int | None = None, sort: bool = True):
    """A DataFrame (or Series) from a pandas DataFrame (or Series), its index kept, as Dask does.

    With ``sort=True`` (the default) the rows are sorted by the index first
    unless they already are, so that ``divisions`` are known.

        >>> import pandas as pd
        >>> df = from_pandas(pd.DataFrame({"x": [1, 2, 3]}, index=pd.Index([30, 10, 20], name="i")), 2)
        >>> df.compute(scheduler="sync").index.tolist(), df.divisions
        ([10, 20, 30], (10, 30, 30))
    """
    import pandas as pd

    from .pandas_edge import frame_to_arrow, series_to_arrow

    if not isinstance(data, (pd.DataFrame, pd.Series)):
        raise TypeError(f"from_pandas needs a pandas DataFrame or Series, not {type(data).__name__}")
    if sort and not data.index.is_monotonic_increasing:
        data = data.sort_index()
    if isinstance(data, pd.DataFrame):
        data = data.copy(deep=False)  # a copy-on-write snapshot: a later write into the user's frame copies
    table, schema = (series_to_arrow if isinstance(data, pd.Series) else frame_to_arrow)(data, keep_index=True)
    schema = _known_categories(schema, data)
    parts = _slices(table.cast(schema), npartitions, chunksize, data.index)
    if isinstance(data, pd.DataFrame) and pandas_parts.slices_alike(data):
        start = 0
        for p in parts:  # a function given these partitions gets slices of ``data`` (no conversion back)
            pandas_parts.remember(p, data, start, start + p.num_rows, schema)
            start += p.num_rows
    frame = DataFrame(FromTables(parts, _index_divisions(parts, data.index)))
    out = frame if isinstance(data, pd.DataFrame) else frame[frame.columns[0]]
    return out


def _known_categories(schema: pa.Schema, data) -> pa.Schema:
    """``schema`` knowing the categories of ``data`` 's categorical columns, as Dask's ``from_pandas`` does:
    every slice of one table shares its dictionary, which is the category list.  Categories the schema
    metadata cannot hold (not strings, numbers or booleans) stay unknown."""
    import pandas as pd

    from .labels import data_names, with_categories

    dtypes = [data.dtype] if isinstance(data, pd.Series) else list(data.dtypes)
    known = {}
    for name, dtype in zip(data_names(schema), dtypes):
        if isinstance(dtype, pd.CategoricalDtype):
            cats = dtype.categories.tolist()
            if all(isinstance(c, (str, int, float, bool)) for c in cats):
                known[name] = cats
    return with_categories(schema, known) if known else schema


def _index_divisions(parts, index):
    """Dask's divisions of sorted partitions: each one's first index value, then the last one's last; None
    when the index is not sorted, has several levels, or one value spans two partitions."""
    if index.nlevels != 1 or not index.is_monotonic_increasing or not len(index):
        return None
    starts, pos = [], 0
    for p in parts:
        starts.append(pos)
        pos += p.num_rows
    values = [index[s] for s in starts] + [index[-1]]
    ends = [index[s - 1] for s in starts[1:]]
    if any(e >= v for e, v in zip(ends, values[1:-1])):
        return None
    return tuple(v.item() if hasattr(v, "item") else v for v in values)


def _slices(table, npartitions, chunksize, index=None):
    """``table`` cut into slices of ``chunksize`` rows (or ``npartitions`` slices); with a sorted ``index``,
    each cut moves past the rows repeating the value before it, so no index value spans two partitions
    (divisions stay known, as in Dask; there may then be fewer slices)."""
    n = table.num_rows
    if chunksize is None:
        npartitions = npartitions or 1
        chunksize = max(-(-n // npartitions), 1)
    starts = list(range(0, n, chunksize))
    if index is not None and index.nlevels == 1 and index.is_monotonic_increasing and len(starts) > 1:
        values = index.to_numpy()
        moved = [0]
        for s in starts[1:]:
            s = max(s, moved[-1] + 1)
            s = int(np.searchsorted(values, values[s - 1], side="right")) if s < n else n
            if s < n and s > moved[-1]:
                moved.append(s)
        starts = moved
    ends = starts[1:] + [n]
    return [table.slice(s, e - s) for s, e in zip(starts, ends)] or [table.slice(0, 0)]


def from_dict(data: dict, npartitions: int | None = None, orient: str = "columns", dtype=None, columns=None,
              constructor=None, chunksize: int | None = None) -> DataFrame:
    """A DataFrame from a dict, as Dask's ``from_dict``: pandas' ``DataFrame.from_dict(data, orient, dtype,
    columns)`` (so missing values, dtypes and the index are pandas'), split into partitions with known
    divisions.

        >>> import graphflow.dataframe as gd
        >>> gd.from_dict({"a": [1, None, 3]}, npartitions=2).a.sum().compute(scheduler="sync")
        np.float64(4.0)
    """
    import pandas as pd

    make = constructor if constructor is not None else pd.DataFrame
    if npartitions is None and chunksize is None:
        npartitions = 1
    return from_pandas(make.from_dict(data, orient=orient, dtype=dtype, columns=columns), npartitions=npartitions,
                       chunksize=chunksize)


def from_delayed(values, meta=None, divisions=None, verify_meta: bool = True):
    """A DataFrame whose partitions are the results of ``Delayed`` values (pandas DataFrames, as in Dask, or
    pyarrow Tables).  The columns come from ``meta`` (as ``map_partitions`` takes it) or, failing that, from
    computing the first value (as Dask does)."""
    from ..base import collections_to_graph
    from ..spec import Ref, Task
    from .pandas_edge import meta_schema, sample_meta

    values = list(values)
    if not values:
        raise ValueError("from_delayed needs at least one value")
    if meta is None:
        first = values[0].compute(scheduler="sync")
        meta = first.schema if isinstance(first, pa.Table) else sample_meta(first)
    schema, series = meta_schema(meta)
    graph = dict(collections_to_graph(values))
    keys = []
    for i, v in enumerate(values):
        key = (f"from-delayed-{v.key if isinstance(v.key, str) else v.key[0]}", i)
        graph[key] = Task(key, _as_partition, Ref(v.key), schema)
        keys.append(key)
    frame = DataFrame(FromKeys(graph, keys, schema))
    return frame[frame.columns[0]] if series else frame


def _as_partition(value, schema):
    """A delayed value's result as a partition of ``schema`` (a pandas object is converted, a table
    conformed), with a clear error when it is neither."""
    from .pandas_edge import to_arrow

    if not hasattr(value, "columns") and not hasattr(value, "dtype") and not isinstance(value, pa.Table):
        raise TypeError(f"from_delayed: a value computed to {type(value).__name__}, not a DataFrame or Series")
    return to_arrow(value, schema)[0]
