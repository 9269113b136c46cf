"""graphflow.dataframe: lazy partitioned dataframes over ``pyarrow.Table`` partitions.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"k": [1, 2, 1, 2], "x": [1.0, 2.0, 3.0, None]}, npartitions=2)
    >>> out = df.groupby("k").agg({"x": ["sum", "count"]}).compute(scheduler="sync")
    >>> out.sort_by("k").to_pydict()
    {'k': [1, 2], 'x_sum': [4.0, 2.0], 'x_count': [2, 1]}

The API is pandas'/Dask's; the kernels are pyarrow's (they run outside the
GIL); ``compute()`` gives a ``pyarrow.Table`` (a Series: a ChunkedArray).
Operations build a plan (`plan`), which is optimized (`optimize`: predicate
and projection pushdown into Parquet reads, partition-wise fusion) and lowered
to tasks when computed.  Nulls behave as in pyarrow (see `series`).

The modules form a DAG: `collection` (the base, and `Scalar`) under `series`
under `frame`, and the operation modules (`reductions`, `groupby`, `join`,
`sort`, `repartition`, `io`) above them.  DataFrame's and Series' methods reach
those operations through `collection.OPERATIONS`, which this file fills once,
at the bottom, with `collection.bind_operations`.
"""

from . import collection, frame, groupby, join, reductions, repartition, sort
from .construct import from_arrow, from_delayed, from_dict, from_pandas
from .frame import DataFrame, map_partitions
from .groupby_methods import Aggregation
from .io import read_csv, read_parquet, to_csv, to_parquet
from .reductions import Scalar
from .series import Series

__all__ = [
    "DataFrame", "Series", "Scalar", "from_arrow", "from_pandas", "from_dict", "from_delayed",
    "read_parquet", "read_csv", "to_parquet", "to_csv", "concat", "Aggregation",
]


def concat(frames) -> DataFrame:
    """The partitions of several DataFrames one after another; missing columns become nulls.

        >>> a, b = from_dict({"x": [1]}), from_dict({"x": [2], "y": ["s"]})
        >>> concat([a, b]).compute(scheduler="sync").to_pydict()
        {'x': [1, 2], 'y': [None, 's']}
    """
    import pyarrow as pa

    from .plan import Concat

    frames = list(frames)
    schema = pa.unify_schemas([f.schema for f in frames], promote_options="permissive")
    return DataFrame(Concat([f.expr for f in frames], schema))


# DataFrame's and Series' methods call these (see the module docstring): the one place that binds them.
collection.bind_operations(
    DataFrame=DataFrame, Series=Series, map_partitions=frame.map_partitions, reduce=reductions.reduce_collection, describe=reductions.describe,
    value_counts=reductions.value_counts, unique=reductions.unique, row_count=reductions.row_count,
    GroupBy=groupby.GroupBy, drop_duplicates=groupby.drop_duplicates, merge=join.merge,
    sort_values=sort.sort_values, repartition=repartition.repartition, to_parquet=to_parquet, to_csv=to_csv,
)
