"""Where dataframes meet `graphflow.array`: ``to_dask_array``, ``values``, ``to_records`` and
``from_dask_array``, with Dask's signatures.

A partition becomes a block, a block (a row of blocks, for 2-d) becomes a partition: one task each,
reading the other collection's keys, so nothing is computed while the graph is built.

    >>> import numpy as np
    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}), npartitions=2)
    >>> x = df.to_dask_array()            # row counts are unknown until computed, as in Dask
    >>> x.chunks
    ((nan, nan), (2,))
    >>> df.to_dask_array(lengths=True).chunks
    ((2, 1), (2,))
    >>> x.sum(axis=0).compute()
    array([ 6., 15.])
    >>> back = gd.from_dask_array(df.to_dask_array(lengths=True), columns=["a", "b"])
    >>> back.divisions, back.compute().b.tolist()
    ((0, 2, 2), [4.0, 5.0, 6.0])

Row counts: ``lengths=None`` leaves them unknown (``nan`` chunks, which `graphflow.array` carries
like Dask: reductions and elementwise work run; ``compute_chunk_sizes()`` finds them),
``lengths=True`` counts the rows of every partition now (on the Arrow tables: no conversion), and a
list gives them; a list that does not match the data fails at compute with the partition named.

dtypes: the array's ``dtype`` is what pandas' ``to_numpy()`` gives for the frame's meta (its
column types without missing values).  A partition whose integer or boolean column holds nulls
converts, as pandas converts it, to float64 or object, so its block has that dtype; the computed
array is promoted as numpy joins blocks, giving what ``to_numpy()`` of the whole pandas frame
gives.  ``meta=`` (an array, or a dtype) fixes the dtype: every block is cast to it.

``from_dask_array`` over unknown chunks still gives every row its position in the whole array as
its index (each partition's offset is the sum of the earlier blocks' lengths, read at compute),
where Dask restarts the index at 0 in each partition; the divisions are then unknown.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..array.core import Array
from ..delayed import Delayed
from ..spec import Ref, Task, tokenize
from .collection import OPERATIONS
from .pandas_edge import frame_to_arrow, meta_schema, series_to_arrow, to_pandas_frame, to_pandas_series
from .plan import FromKeys

__all__ = ["ArrayMethods", "to_dask_array", "to_records", "from_dask_array"]


class ArrayMethods:
    """``to_dask_array``, ``values`` and ``to_records`` of DataFrame and Series."""

    def to_dask_array(self, lengths=None, meta=None) -> Array:
        """This collection as a `graphflow.array.Array` (2-d for a DataFrame, 1-d for a Series), one block
        per partition.  ``lengths``: None (row counts unknown, ``nan``), True (counted now) or the row
        count of each partition; ``meta``: an array or dtype whose dtype every block is cast to."""
        return to_dask_array(self, lengths=lengths, meta=meta)

    @property
    def values(self) -> Array:
        """The data as a `graphflow.array.Array` with unknown row counts (``to_dask_array()``)."""
        return to_dask_array(self)

    def to_records(self, index: bool = False, lengths=None) -> Array:
        """A 1-d Array of records (a numpy record array when computed), as pandas' ``to_records`` of each
        partition; ``index=True`` puts the index first.  A Series gives the records of its one-column
        frame (pandas' Series has no ``to_records``)."""
        return to_records(self, index=index, lengths=lengths)


# ------------------------------------------------------------------ collections -> arrays


def _is_series(coll) -> bool:
    return isinstance(coll, OPERATIONS.Series)


def to_dask_array(coll, lengths=None, meta=None) -> Array:
    """``coll.to_dask_array(lengths, meta)``: see `ArrayMethods.to_dask_array`."""
    series = _is_series(coll)
    if meta is not None:
        dtype = np.dtype(getattr(meta, "dtype", meta))
    else:
        dtype = np.asarray(coll.meta.to_numpy()).dtype
    width = None if series else len(coll.columns)
    return _blocks_of(coll, "values", (series,), lengths, dtype, dtype if meta is not None else None, width)


def to_records(coll, index: bool = False, lengths=None) -> Array:
    """``df.to_records(index)`` as a 1-d Array of records (Dask's ``dd.to_records``)."""
    frame = coll.to_frame() if _is_series(coll) else coll
    dtype = frame.meta.to_records(index=index).dtype
    return _blocks_of(frame, "records", (bool(index),), lengths, dtype, None, None)


def _blocks_of(coll, kind, args, lengths, dtype, cast, width) -> Array:
    """An Array with one block per partition of ``coll``: ``_block(partition, kind, ...)``."""
    plan = coll.optimized_plan()
    keys, schema = plan.keys(), plan.schema
    rows = _row_lengths(coll, keys, lengths)
    name = "to-array-" + tokenize(plan.name, kind, args, rows, str(dtype), str(cast))
    nodes = {}
    for i, key in enumerate(keys):
        block_key = (name, i) if width is None else (name, i, 0)
        expected = None if lengths is None or lengths is True else rows[i]
        nodes[block_key] = Task(block_key, _block, Ref(key), schema, kind, args, cast, i, expected)
    chunks = ((rows,) if width is None else (rows, (width,)))
    return Array(name, chunks, dtype, nodes, parents=(coll,))


def _row_lengths(coll, keys, lengths) -> tuple:
    if lengths is None:
        return (math.nan,) * len(keys)
    if lengths is True:
        name = "partition-lengths-" + tokenize(coll.optimized_plan().name)
        counter = Delayed(name, (Task(name, _count_rows, *[Ref(k) for k in keys]),), parents=(coll,))
        return tuple(counter.compute())
    if isinstance(lengths, bool):
        raise ValueError("lengths must be None, True or a sequence of row counts, not False")
    rows = tuple(int(n) for n in lengths)
    if len(rows) != len(keys):
        raise ValueError(f"The number of items in 'lengths' does not match the number of partitions. "
                         f"{len(rows)} != {len(keys)}")
    return rows


def _count_rows(*tables) -> list:
    return [t.num_rows for t in tables]


def _block(table, schema, kind, args, cast, i, expected):
    """Partition ``i`` (an Arrow table) as a numpy block: pandas' ``to_numpy()`` (``kind`` "values") or
    ``to_records(index)`` ("records")."""
    if expected is not None and table.num_rows != expected:
        raise ValueError(f"partition {i} has {table.num_rows} rows but lengths= gave {expected}; pass the "
                         f"true row counts, or lengths=True to count them")
    if kind == "records":
        out = to_pandas_frame(table, schema).to_records(index=args[0])
    else:
        obj = to_pandas_series(table, schema) if args[0] else to_pandas_frame(table, schema)
        out = np.asarray(obj.to_numpy())
    return out if cast is None else out.astype(cast, copy=False)


# ------------------------------------------------------------------ arrays -> collections


def from_dask_array(x, columns=None, index=None, meta=None):
    """A Series (1-d ``x``) or DataFrame (2-d, or a 1-d record array) with one partition per row of
    blocks of the `graphflow.array.Array` ``x``, as Dask's ``from_dask_array``.  ``columns``: the
    column labels (``meta``'s, else 0, 1, ...) or, for 1-d, the Series' name; ``meta``: an empty pandas
    object (or anything ``map_partitions`` takes as meta) giving the dtypes; ``index``: a lazy Index or
    Series with as many partitions as ``x`` has row blocks, used as the index (its divisions kept);
    otherwise the index is the row position, with divisions from the chunk sizes when known."""
    if not isinstance(x, Array):
        raise TypeError(f"from_dask_array needs a graphflow.array Array, not {type(x).__name__}; for a numpy "
                        f"array use from_array")
    if x.ndim > 2 or x.ndim == 0:
        raise ValueError(f"from_array does not input more than 2D array, got array with shape {x.shape!r}")
    if columns is None and isinstance(meta, pd.DataFrame):
        columns = list(meta.columns)
    elif columns is None and isinstance(meta, pd.Series):
        columns = meta.name
    shape = _frame_shape(x, columns)
    nrows = x.numblocks[0]
    idx = _check_index(index, nrows)
    part_meta = _meta_of(x, shape, idx, meta)
    schema = (series_to_arrow if shape[0] == "series" else frame_to_arrow)(part_meta, keep_index=True)[1]
    name = "from-array-" + tokenize(x.name, shape, None if idx is None else idx.optimized_plan().name,
                                    str(schema))
    nodes, parents = {}, [x]
    known = not any(c != c for c in x.chunks[0])
    offsets, length_keys = _offsets(x), []
    if idx is None and not known:
        for i in range(nrows):  # each block's length, for the later partitions' offsets
            length_keys.append((name + "-len", i))
            nodes[length_keys[-1]] = Task(length_keys[-1], len, Ref(_block_key(x, i, 0)))
    index_plan = None
    if idx is not None:
        index_plan = idx.optimized_plan()
        parents.append(idx)
    keys = []
    for i in range(nrows):
        blocks = [Ref(_block_key(x, i, j)) for j in range(x.numblocks[1] if x.ndim == 2 else 1)]
        where = (Ref(index_plan.keys()[i]), index_plan.schema) if idx is not None else \
            (offsets[i] if known else [Ref(k) for k in length_keys[:i]])
        key = (name, i)
        nodes[key] = Task(key, _partition, blocks, shape, where, part_meta, schema, i)
        keys.append(key)
    graph = dict(_graph_of(parents))
    graph.update(nodes)
    divisions = _divisions(x, idx, offsets) if known or idx is not None else None
    frame = OPERATIONS.DataFrame(_FromArray(graph, keys, schema, divisions))
    return frame[frame.columns[0]] if shape[0] == "series" else frame


def _frame_shape(x, columns) -> tuple:
    """``("series", name)`` or ``("frame", labels, records)`` for ``x`` and ``columns``."""
    if x.dtype.names is not None:
        if x.ndim != 1:
            raise ValueError(f"from_dask_array takes 1-d record arrays, not {x.ndim}-d ones")
        labels = list(x.dtype.names) if columns is None else list(columns)
        return ("frame", tuple(labels), True)
    if x.ndim == 1:
        if columns is None or np.isscalar(columns):
            return ("series", columns)
        if len(columns) == 1:
            return ("frame", tuple(columns), False)
        raise ValueError("Number of column names does not match width of array")
    width = x.shape[1]
    labels = list(range(width)) if columns is None else list(columns)
    if len(labels) != width:
        raise ValueError("Number of column names does not match width of array")
    return ("frame", tuple(labels), False)


def _check_index(index, nrows):
    if index is None:
        return None
    if not isinstance(index, OPERATIONS.Series):
        raise ValueError(f"'index' must be an instance of graphflow.dataframe.Index or Series, not "
                         f"{type(index).__name__}")
    if index.npartitions != nrows:
        raise ValueError(f"The index and array have different numbers of blocks. ({index.npartitions} != {nrows})")
    return index


def _meta_of(x, shape, idx, meta):
    """The empty pandas object every partition conforms to."""
    if meta is not None:
        schema, _ = meta_schema(meta)
        return to_pandas_series(schema.empty_table(), schema) if shape[0] == "series" else \
            to_pandas_frame(schema.empty_table(), schema)
    index = pd.Index(idx.meta) if idx is not None else pd.RangeIndex(0)
    empty = np.empty((0,) + tuple(int(s) if s == s else 0 for s in x.shape[1:]), dtype=x.dtype)
    return _as_pandas(empty, shape, index)


def _as_pandas(block, shape, index):
    if shape[0] == "series":
        return pd.Series(block, name=shape[1], index=index)
    if shape[2]:
        return pd.DataFrame(block, index=index).set_axis(list(shape[1]), axis=1)
    return pd.DataFrame(block.reshape(len(block), len(shape[1])), columns=list(shape[1]), index=index)


def _partition(blocks, shape, where, meta, schema, i):
    """Row block ``i`` (its blocks joined left to right) as a partition: ``where`` is the first row's
    position, the earlier blocks' lengths, or ``(index partition, its schema)``."""
    block = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    n = len(block)
    if isinstance(where, tuple):
        index = pd.Index(to_pandas_series(*where))
        if len(index) != n:
            raise ValueError(f"partition {i}: the index has {len(index)} rows but the array block has {n}")
    else:
        start = where if isinstance(where, int) else int(sum(where))
        index = pd.RangeIndex(start, start + n)
    obj = _as_pandas(block, shape, index)
    obj = obj.astype(meta.dtype) if shape[0] == "series" else obj.astype(meta.dtypes.to_dict())
    return (series_to_arrow if shape[0] == "series" else frame_to_arrow)(obj, schema=schema)[0]


def _block_key(x, i, j):
    return (x.name, i) if x.ndim == 1 else (x.name, i, j)


def _offsets(x) -> list:
    out, total = [], 0
    for n in x.chunks[0]:
        out.append(int(total) if total == total else 0)
        total += n
    return out


def _divisions(x, idx, offsets):
    if idx is not None:
        return idx.divisions if idx.known_divisions else None
    total = int(sum(x.chunks[0]))
    if total == 0:
        return None
    return tuple(offsets) + (total - 1,)


def _graph_of(collections) -> dict:
    from ..base import collections_to_graph

    return collections_to_graph(collections)


class _FromArray(FromKeys):
    """Partitions made from an Array's blocks, with the divisions their positions give."""

    label = "from-array"

    def __init__(self, nodes, keys, schema, divisions):
        super().__init__(nodes, keys, schema, name=keys[0][0])
        self._divisions = divisions

    def params(self):
        return (tuple(self.source_keys), self._divisions)

    @property
    def divisions(self):
        return self._divisions
