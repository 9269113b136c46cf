"""Partition pruning: reading some partitions of a shuffle's output shuffles only the rows they hold.

    Partitions[0](Blockwise(op) <- Shuffle[m -> n])   ==>   Blockwise(op) <- Shuffle[m -> 1] keeping [0]

The op must be partition-wise (one child, not broadcast), so output j of the
rewritten node is op(rows of shuffle output only[j]) exactly as before.
``head`` after ``sort_values`` reads partition 0 this way: each input is
filtered to the rows of the first range rather than reordered in full.

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"x": [5, 3, 1, 4]}, npartitions=2).sort_values("x")
    >>> pruned = prune_shuffle_outputs(df.partitions[0].expr)
    >>> pruned.children[0].only, pruned.npartitions
    ((0,), 1)
"""

from __future__ import annotations

from ..plan import Blockwise, Partitions
from ..shuffle import Shuffle
from .transform import parent_counts, transform

__all__ = ["prune_shuffle_outputs"]


def prune_shuffle_outputs(plan):
    """``plan`` with each `Partitions` over a (partition-wise op over a) `Shuffle` read by nobody else
    turned into a shuffle of just those outputs."""
    parents = parent_counts(plan)

    def rewrite(node, original):
        if not isinstance(node, Partitions):
            return node
        inner = node.children[0]
        if parents.get(id(original.children[0]), 0) > 1:
            return node
        if isinstance(inner, Shuffle):
            return inner.keeping(node.indices)
        if not (isinstance(inner, Blockwise) and len(inner.children) == 1 and not inner.broadcast[0]):
            return node
        shuffled = inner.children[0]
        if not isinstance(shuffled, Shuffle) or parents.get(id(original.children[0].children[0]), 0) > 1:
            return node
        return Blockwise(inner.op, (shuffled.keeping(node.indices),), inner.schema, inner.broadcast, inner.label)

    return transform(plan, rewrite)
