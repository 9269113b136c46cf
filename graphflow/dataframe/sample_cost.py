"""At most how many rows can a plan have, without computing anything?

`graphflow.dataframe.groupby` picks tree or shuffle by computing the partial
aggregate of the input's first partition once, at lowering time, with the
sync scheduler.  That is cheap when partition 0 comes partition-wise from a
source (a read, then filters and projections).  It is not when a shuffle or a
reduction lies below: partition 0 of a shuffle needs every input partition,
so the "sample" runs most of the query once, on one thread, before the query
runs (TPC-H q18: its final groupby over a join of shuffles sampled the whole
query, doubling its time).  `graphflow.dataframe.first_partition` tells the two
apart, and `row_bound` gives the choice something to go on without computing anything:
the rows of the sources (Parquet metadata, in-memory tables), which no
filter, projection or grouping can exceed.

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables, Blockwise, Filter
    >>> from graphflow.dataframe.colexpr import Call, Col, Lit
    >>> src = FromTables([pa.table({"a": [1, 2]}), pa.table({"a": [3]})])
    >>> kept = Blockwise(Filter(Call("greater", [Col("a"), Lit(1)])), (src,))
    >>> row_bound(kept)
    3
"""

from __future__ import annotations

from .io.metadata import file_metadata
from .plan import FromTables, source_total

__all__ = ["row_bound"]


def row_bound(plan) -> float:
    """An upper bound of the rows of any partition-wise or grouped result of ``plan``'s sources: the sum of
    their rows (inf when a source cannot tell)."""
    return source_total(plan, _source_rows)


def _source_rows(node):
    if isinstance(node, FromTables):
        return sum(p.num_rows for p in node.parts)
    if getattr(node, "pieces", None) is not None:  # a Parquet read: row-group metadata, no data
        return sum(_piece_rows(path, rg) for path, rg in node.pieces)
    return None


def _piece_rows(path, row_group):
    md = file_metadata(path)
    return md.num_rows if row_group is None else md.row_group(row_group).num_rows
