"""Is the first partition of a plan cheap to compute on its own?  (Before sampling it.)

Some choices are made by computing one partition up front: the groupby picks a tree or a shuffle from
the number of groups in partition 0 (`graphflow.dataframe.groupby`).  That is a good bet when partition
0 is one input partition's worth of work (a read, filters, projections, a join against a small
broadcast side), and a bad one when partition 0 needs every input partition: behind a `Shuffle` (the
output of a hash join), a sort or another aggregation, "one partition" is the whole job, computed once
more, single-threaded, just to decide (TPC-H q3 at SF1: 17 s of sampling for a 20 s query).

`first_partition_is_cheap(plan)` follows the edges partition 0 depends on: partition-wise nodes
(`Blockwise`, `Partitions`) pass to their children; a broadcast input (the small side of a join, a lazy
scalar) is read whole, so it must be a small chain (`BROADCAST_SOURCE_PARTITIONS` source partitions at
most, no shuffle); any other node (a shuffle, a groupby, a sort, a repartition...) makes it expensive.

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"k": [1, 2, 3, 4], "x": [1.0, 2.0, 3.0, 4.0]}, npartitions=2)
    >>> first_partition_is_cheap(df[df.x > 1].expr)
    True
    >>> first_partition_is_cheap(df.merge(df, on="k", broadcast=False).expr)
    False
"""

from __future__ import annotations

from .plan import Blockwise, Partitions, Reduce

__all__ = ["first_partition_is_cheap", "BROADCAST_SOURCE_PARTITIONS"]

BROADCAST_SOURCE_PARTITIONS = 2


def first_partition_is_cheap(plan) -> bool:
    """Whether partition 0 of ``plan`` costs about one input partition (see the module note)."""
    stack = [plan]
    while stack:
        node = stack.pop()
        if not node.children:
            continue
        if isinstance(node, Blockwise):
            for child, whole in zip(node.children, node.broadcast):
                if not whole:
                    stack.append(child)
                elif not _small_whole(child):
                    return False
        elif isinstance(node, Partitions):
            stack.append(node.children[0])
        else:
            return False
    return True


def _small_whole(plan) -> bool:
    """Whether all of ``plan`` is a cheap read: partition-wise nodes and reductions over few source partitions."""
    sources = 0
    stack = [plan]
    while stack:
        node = stack.pop()
        if not node.children:
            sources += node.npartitions
        elif isinstance(node, (Blockwise, Partitions, Reduce)):
            stack.extend(node.children)
        else:
            return False
    return sources <= BROADCAST_SOURCE_PARTITIONS
