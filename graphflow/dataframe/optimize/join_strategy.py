"""Join strategy from projected sizes: a shuffle join whose side has become small is broadcast instead.

`merge` picks broadcast or shuffle when it is called, from the sizes of the
whole inputs: ``orders.merge(lineitem, ...)`` sees every column of orders
(about 170 MB at TPC-H SF1) and shuffles both sides.  After projection
pushdown the same side may read two columns (about 25 MB); this rule, run
after it, estimates each side again (`ReadParquet.estimated_bytes` of the
columns actually read; in-memory partitions by their bytes; anything else
unknown) and asks the join op which side to broadcast, if any
(``op.side_to_broadcast``; never after ``merge(broadcast=False)``):

    Blockwise(join) <- Shuffle(left), Shuffle(right)
      ==>  Blockwise(broadcast join) <- left, one prepared partition of right

so the big side is neither hashed nor cut nor copied, and a unique key on
the broadcast side is prepared once (a dense slot array) instead of per
partition.  A side of one partition is not broadcast into: the join would be
one task, where the shuffle gives one per partition.  Filters are not counted (an upper bound), so a side that is
small only after its filter keeps its shuffle.
"""

from __future__ import annotations

from ..plan import Blockwise, walk
from .transform import transform

__all__ = ["broadcast_small_sides", "estimated_bytes"]


def estimated_bytes(plan) -> float:
    """An upper estimate of the bytes ``plan`` produces: the sum over its sources (inf if one is unknown)."""
    total = 0.0
    for node in walk(plan):
        if node.children:
            continue
        est = getattr(node, "estimated_bytes", None)
        if est is not None:
            total += est()
        elif hasattr(node, "parts"):  # in-memory partitions
            total += sum(p.nbytes for p in node.parts)
        else:
            return float("inf")
    return total


def _shuffle_join(node):
    """The (left input, right input) of a shuffle join the op can turn into a broadcast, else None."""
    if not isinstance(node, Blockwise) or len(node.children) != 2 or not hasattr(node.op, "side_to_broadcast"):
        return None
    if any(getattr(c, "label", None) != "shuffle" or len(c.children) != 1 for c in node.children):
        return None
    return node.children[0].children[0], node.children[1].children[0]


def broadcast_small_sides(plan):
    """``plan`` with every shuffle join whose (projected) side is small enough made a broadcast join."""

    def rewrite(node, original):
        sides = _shuffle_join(node)
        if sides is None:
            return node
        left, right = sides
        side = node.op.side_to_broadcast(estimated_bytes(left), estimated_bytes(right))
        if side is None or (right if side == "left" else left).npartitions < 2:
            return node  # broadcast into one partition: one task doing the whole join, the shuffle is parallel
        return node.op.broadcast_over(left, right, side, node.schema)

    return transform(plan, rewrite)
