"""graphflow.dataframe: lazy partitioned dataframes over ``pyarrow.Table`` partitions.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"k": [1, 2, 1, 2], "x": [1.0, 2.0, 3.0, None]}, npartitions=2)
    >>> out = df.groupby("k").agg({"x": ["sum", "count"]}).compute(scheduler="sync")
    >>> out
         x
       sum count
    k
    1  4.0     2
    2  2.0     1

The API is pandas'/Dask's; the kernels are pyarrow's (they run outside the
GIL); ``compute()`` gives a ``pandas.DataFrame`` (a Series: a ``pandas.Series``), as in Dask, and
``to_arrow()`` the ``pyarrow.Table`` (``ChunkedArray``).
Operations build a plan (`plan`), which is optimized (`optimize`: predicate
and projection pushdown into Parquet reads, partition-wise fusion) and lowered
to tasks when computed.  Nulls behave as in pyarrow (see `series`).

A reduction of a Series is a lazy `Scalar` that behaves like a number
(`scalar_ops`): ``df[df.x > 0.2 * df.x.mean()]`` is one plan, and
``gd.compute(a, b)`` (`together`) optimizes several plans as one.

The modules form a DAG: `collection` (the base, and `Scalar`, whose operators
are `scalar_ops`) under `series` under `frame`, and the operation modules
(`reductions`, `groupby`, `join`, `sort`, `repartitioning`, `io`, `together`)
above them.  DataFrame's and Series' methods reach
those operations through `collection.OPERATIONS`, which this file fills once,
at the bottom, with `collection.bind_operations`.
"""

from . import (aligning, collection, convert, frame, groupby, index_ops, join, reductions, repartitioning, rows, sort,
               stats)
from .combine import concat, merge_asof
from .construct import from_arrow, from_delayed, from_dict, from_pandas
from .convert import assert_eq, from_array, from_map
from .frame import DataFrame, map_partitions
from .functions import map_overlap, repartition
from .groupby_methods import Aggregation
from .io import (read_csv, read_hdf, read_json, read_orc, read_parquet, read_sql, read_sql_query, read_sql_table,
                 to_csv, to_hdf, to_json, to_orc, to_parquet, to_sql)
from .io.text import read_fwf, read_table
from .reductions import Scalar
from .join import merge
from .reshape import get_dummies, melt, pivot_table, to_datetime, to_numeric
from .series import Index, Series
from .to_array import from_dask_array, to_records
from .to_bag import to_bag
from .together import compute

__all__ = [
    "DataFrame", "Series", "Scalar", "from_arrow", "from_pandas", "from_dict", "from_delayed",
    "read_parquet", "read_csv", "to_parquet", "to_csv", "concat", "merge", "merge_asof", "map_partitions",
    "compute", "isna", "Index", "from_array", "from_map", "assert_eq", "get_collection_type", "to_timedelta",
    "read_json", "to_json", "read_orc", "to_orc", "read_hdf", "to_hdf", "read_sql", "read_sql_table",
    "read_sql_query", "to_sql",
    "get_dummies", "melt", "pivot_table", "to_datetime", "to_numeric", "Aggregation", "from_dask_array",
    "to_records", "to_bag",
    "map_overlap", "repartition", "read_fwf", "read_table",
]


def isna(obj):
    """Missing-value mask of a collection (lazy), or ``pandas.isna`` of anything else."""
    import pandas as pd

    return obj.isna() if isinstance(obj, (DataFrame, Series)) else pd.isna(obj)


def get_collection_type(obj):
    """The graphflow collection class for a pandas object (as ``dask.dataframe.get_collection_type``)."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return DataFrame
    if isinstance(obj, pd.Series):
        return Series
    if isinstance(obj, pd.Index):
        return Index
    return Scalar


def to_timedelta(arg, unit=None, errors: str = "raise"):
    """``pandas.to_timedelta`` on every partition of a Series, or directly on anything else."""
    import pandas as pd

    if isinstance(arg, Series):
        return map_partitions(pd.to_timedelta, arg, unit=unit, errors=errors)
    return pd.to_timedelta(arg, unit=unit, errors=errors)


# DataFrame's and Series' methods call these (see the module docstring): the one place that binds them.
collection.bind_operations(
    DataFrame=DataFrame, Series=Series, map_partitions=frame.map_partitions, stats=stats, rows=rows,
    convert=convert, from_pandas=from_pandas, reduce=reductions.reduce_collection, describe=reductions.describe,
    value_counts=reductions.value_counts, unique=reductions.unique, row_count=reductions.row_count,
    GroupBy=groupby.GroupBy, drop_duplicates=groupby.drop_duplicates, merge=join.merge,
    sort_values=sort.sort_values, repartition=repartitioning.repartition, to_parquet=to_parquet, to_csv=to_csv,
    set_index=index_ops.set_index, loc=index_ops.loc, iloc=index_ops.iloc, join=index_ops.join,
    align_series=index_ops.align_series, align_frames=index_ops.align_frames,
    to_json=to_json, to_orc=to_orc, to_hdf=to_hdf, to_sql=to_sql,
    align=aligning.align, combine=aligning.combine, combine_first=aligning.combine_first,
    current_divisions=aligning.compute_current_divisions,
)
