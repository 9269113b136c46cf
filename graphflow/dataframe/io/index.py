"""Where the readers and writers meet the index: the two functions to wire to the plan's index machinery.

The convention (pyarrow's for a pandas index): index level ``i`` is an
Arrow column named ``__index_level_i__``; the plan's schema lists the
index's names in its metadata, under ``INDEX_KEY`` as JSON
``{"index": [name, ...]}``.  Readers call `set_index_columns` for
``read_parquet(index=)``, ``read_csv(index_col=)``, ``read_orc(index=)`` (and
for the index a pandas-written Parquet file declares); writers call
`stored_index` for ``to_parquet(write_index=)``, ``to_csv(index=)``,
``to_orc(write_index=)``.  Nothing else in ``io/`` knows about the index.

    >>> import graphflow.dataframe as gd
    >>> df = set_index_columns(gd.from_dict({"k": ["a", "b"], "x": [1, 2]}), ["k"])
    >>> df.columns, stored_index(df.schema)
    (['x', '__index_level_0__'], [('__index_level_0__', 'k')])
"""

from __future__ import annotations

import json
import re

import pyarrow as pa

from ..colexpr import Col
from ..frame import DataFrame, check_columns
from ..plan import Blockwise, Project

__all__ = ["INDEX_KEY", "index_level", "set_index_columns", "stored_index", "partition_to_pandas"]

INDEX_KEY = b"graphflow"
_LEVEL = re.compile(r"^__index_level_(\d+)__$")


def index_level(i: int) -> str:
    """The Arrow column name of index level ``i``."""
    return f"__index_level_{i}__"


def set_index_columns(df: DataFrame, columns, names=None) -> DataFrame:
    """``df`` with the data columns ``columns`` as its index (unsorted; divisions unknown), named ``names``
    (default: the columns' names; None for an unnamed level).

    LEAD: wire this to the index machinery (an unsorted ``set_index`` that keeps the row order and
    leaves the divisions unknown, as Dask's readers do).  Until then it renames the columns to
    ``__index_level_i__`` (placed last, as pyarrow places them), with the names in the plan schema's
    metadata; it is a `Project`, so projection and predicate pushdown into the reader still work.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_columns(columns, df.schema)
    names = list(columns) if names is None else list(names)
    existing = stored_index(df.schema)  # a level already set (from a file's metadata) stays outermost
    level0 = len(existing)
    exprs = [(n, Col(n)) for n in df.columns if n not in columns and not _LEVEL.match(n)]
    exprs += [(c, Col(c)) for c, _ in existing]
    exprs += [(index_level(level0 + i), Col(c)) for i, c in enumerate(columns)]
    fields = [pa.field(out, df.schema.field(e.name).type) for out, e in exprs]
    meta = {INDEX_KEY: json.dumps({"index": [n for _, n in existing] + names}).encode()}
    return DataFrame(Blockwise(Project(exprs), (df.expr,), pa.schema(fields, metadata=meta)))


def stored_index(schema: pa.Schema) -> list:
    """``[(arrow column, index name), ...]`` for the index levels ``schema`` holds, outermost first; ``[]``
    when the frame has no stored index (pandas would give it a RangeIndex: there is nothing to write).

    LEAD: wire this to the index machinery's own accessor (e.g. ``labels.index_names``).
    """
    raw = (schema.metadata or {}).get(INDEX_KEY)
    names = json.loads(raw).get("index", []) if raw else []
    levels = [index_level(i) for i in range(len(names))]
    if not all(c in schema.names for c in levels):  # metadata that lost its columns (a projection): none
        return []
    return list(zip(levels, names))


def partition_to_pandas(table: pa.Table, levels):
    """A partition as a pandas DataFrame with the index ``levels`` (from `stored_index`) set, for the writers
    that hand partitions to pandas (``to_json``, ``to_csv`` with pandas-only keywords).

    LEAD: replace with the conversion ``compute()`` uses at the edge, once there is one.
    """
    pdf = table.to_pandas()
    if not levels:
        return pdf
    pdf = pdf.set_index([c for c, _ in levels])
    pdf.index.names = [n for _, n in levels]
    return pdf
