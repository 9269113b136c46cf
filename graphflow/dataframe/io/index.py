"""Where the readers and writers meet the index: the plan's own index convention (`graphflow.dataframe.labels`).

Index level ``i`` is an Arrow column named ``__index_level_i__`` (pyarrow's
name for a pandas index level) and the plan's schema lists the index's names
in its metadata (`labels.index_names`).  Readers call `set_index_columns` for
``read_parquet(index=)``, ``read_csv(index_col=)``, ``read_orc(index=)`` (and
for the index a pandas-written Parquet file declares); writers call
`stored_index` for ``to_parquet(write_index=)``, ``to_csv(index=)``,
``to_orc(write_index=)``, and `partition_to_pandas` where pandas writes a
partition.  Nothing else in ``io/`` knows about the index.

    >>> import graphflow.dataframe as gd
    >>> df = set_index_columns(gd.from_dict({"k": ["a", "b"], "x": [1, 2]}), ["k"])
    >>> list(df.columns), stored_index(df.schema)
    (['x'], [('__index_level_0__', 'k')])
"""

from __future__ import annotations

import pyarrow as pa

from ..colexpr import Col
from ..frame import DataFrame, check_columns
from ..labels import (carry_categories, column_labels, data_names, index_column, index_columns, index_names,
                      with_labels)
from ..pandas_edge import to_pandas_frame
from ..plan import Blockwise, Project

__all__ = ["index_level", "set_index_columns", "stored_index", "partition_to_pandas"]

index_level = index_column  # the Arrow column name of index level ``i``


def set_index_columns(df: DataFrame, columns, names=None, append: bool = False) -> DataFrame:
    """``df`` with its data columns ``columns`` (Arrow names) as its index, named ``names`` (default: the
    columns' labels; None for an unnamed level), keeping the row order and leaving the divisions unknown,
    as Dask's readers do.  The index ``df`` had is dropped, as pandas' ``set_index`` drops it, unless
    ``append`` (then it stays outermost: an implicit CSV index before ``index_col``).

    A `Project` (the columns renamed to ``__index_level_i__``, placed last as pyarrow places them), so
    projection and predicate pushdown into the reader still work.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_columns(columns, df.schema)
    schema = df.schema
    labels = dict(zip(data_names(schema), column_labels(schema)))
    names = [labels.get(c, c) for c in columns] if names is None else list(names)
    existing = stored_index(schema) if append else []
    level0 = len(existing)
    exprs = [(n, Col(n)) for n in data_names(schema) if n not in columns]
    exprs += [(index_column(i), Col(c)) for i, (c, _) in enumerate(existing)]
    exprs += [(index_column(level0 + i), Col(c)) for i, c in enumerate(columns)]
    fields = [pa.field(out, schema.field(e.name).type) for out, e in exprs]
    out = with_labels(pa.schema(fields, metadata=schema.metadata), index=[n for _, n in existing] + names,
                      labels={n: labels[n] for n, _ in exprs if n in labels})
    out = carry_categories(schema, out, {o: e.name for o, e in exprs})
    return DataFrame(Blockwise(Project(exprs), (df.expr,), out))


def stored_index(schema: pa.Schema) -> list:
    """``[(arrow column, index name), ...]`` for the index levels ``schema`` holds, outermost first; ``[]``
    when the frame has no stored index (pandas would give it a RangeIndex: there is nothing to write)."""
    levels, names = index_columns(schema), index_names(schema)
    if not all(c in schema.names for c in levels):  # metadata that lost its columns (a projection): none
        return []
    return list(zip(levels, names))


def partition_to_pandas(table: pa.Table, schema: pa.Schema, index: bool = True):
    """A partition as the pandas DataFrame ``compute()`` would give for it (its stored index as the index,
    its columns' labels), for the writers that hand partitions to pandas (``to_json``, ``to_csv`` with
    pandas-only keywords); ``index=False``: a fresh RangeIndex instead of the stored one."""
    pdf = to_pandas_frame(table, schema)
    return pdf if index else pdf.reset_index(drop=True)
