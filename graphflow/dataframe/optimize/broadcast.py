"""Broadcast a join side that projection pushdown made small: no shuffle of either side.

``merge`` chooses between a broadcast and a hash-shuffle join when it is called, from the size of
each side's files: every column, since it cannot know yet which ones the query will use.  After
projection pushdown a side often reads two key columns of a wide table (TPC-H q5: ``o_orderkey,
o_custkey`` of orders, 24 MB at SF1 instead of 170 MB), and shuffling the big side (lineitem: 6M
rows) to meet it costs more than the whole rest of the query.  This rule runs after the projection
stage and asks each shuffle join (an op with ``may_broadcast``: merge left the choice open) again,
with the bytes of the columns now read:

    Blockwise[13] Join                        Blockwise[13] BroadcastJoin(left)
      Shuffle[3 -> 13] (orders side)    ->      Reduce[3 -> 1] Prepare (orders side)
      Shuffle[13 -> 13] (lineitem)              (lineitem, as read)

Sizes are upper bounds (a source's bytes: `ReadParquet.estimated_bytes` for the columns it reads,
in-memory tables' bytes; filters are ignored), the threshold and the side are the join op's own
policy (``broadcast_side``).  A join whose output would change its number of partitions is left
alone (the nodes above were built for that count), as is one merge was told how to do
(``broadcast=False`` or ``npartitions=``).
"""

from __future__ import annotations

from ..plan import Blockwise, FromTables, source_total
from ..shuffle import Shuffle
from .transform import transform

__all__ = ["broadcast_small_sides", "estimated_bytes"]


def estimated_bytes(plan) -> float:
    """An upper estimate of the bytes ``plan`` produces, from its sources (inf when one cannot say)."""
    return source_total(plan, _source_bytes)


def _source_bytes(node):
    if isinstance(node, FromTables):
        return sum(p.nbytes for p in node.parts)
    size = getattr(node, "estimated_bytes", None)
    return None if size is None else size()


def broadcast_small_sides(plan):
    """``plan`` with every open shuffle join whose side is now small made a broadcast join."""
    return transform(plan, _rewrite)


def _rewrite(node, original):
    op = getattr(node, "op", None)
    if not (isinstance(node, Blockwise) and getattr(op, "may_broadcast", False) and len(node.children) == 2):
        return node
    left, right = node.children
    if not all(isinstance(s, Shuffle) and len(s.children) == 1 and s.only is None for s in (left, right)):
        return node
    lsrc, rsrc = left.children[0], right.children[0]
    side = op.broadcast_side(estimated_bytes(lsrc), estimated_bytes(rsrc), lsrc.npartitions, rsrc.npartitions)
    if side is None:
        return node
    kept = lsrc if side == "right" else rsrc
    if kept.npartitions != node.npartitions:
        return node
    return op.broadcast_plan(lsrc, rsrc, side, node.schema)
