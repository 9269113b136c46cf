"""Partition-wise fusion: a chain of `Blockwise` nodes becomes one node whose op is a `Chain`.

    Blockwise(op2) <- Blockwise(op1) <- X      ==>      Blockwise(Chain(op1, op2)) <- X

when the inner node has no other reader (lazy scalars broadcast to either
node become inputs of the fused one).  The result is one task per
partition instead of one per operation: intermediate tables never become
results the scheduler must track (or, on a cluster, place and transfer).

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"a": [1, 2]}))
    >>> fused = fuse_partitionwise(df[df.a > 1].assign(b=df.a + 1).expr)
    >>> type(fused.op).__name__, type(fused.children[0]).__name__
    ('Chain', 'FromTables')
"""

from __future__ import annotations

from ..plan import Blockwise, Chain, WithScalars, unwrap_scalars
from .transform import parent_counts, transform

__all__ = ["fuse_partitionwise"]


def fuse_partitionwise(plan):
    """``plan`` with every linear run of partition-wise nodes merged into one."""
    parents = parent_counts(plan)

    def rewrite(node, original):
        if not isinstance(node, Blockwise):
            return node
        op, tokens = unwrap_scalars(node.op)
        if len(node.children) - len(tokens) != 1 or node.broadcast[0]:  # one partitioned input (+ lazy scalars)
            return node
        inner = node.children[0]
        if not isinstance(inner, Blockwise) or parents.get(id(original.children[0]), 0) > 1:
            return node
        inner_op, inner_tokens = unwrap_scalars(inner.op)
        fused = Chain([inner_op, op])
        if tokens or inner_tokens:  # the scalars of both, after the inner node's inputs, bound in one place
            fused = WithScalars(fused, inner_tokens + tokens)
        return Blockwise(fused, inner.children + node.children[1:], node.schema,
                         inner.broadcast + node.broadcast[1:], node.label)

    return transform(plan, rewrite)
