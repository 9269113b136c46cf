"""Projection pushdown through nodes that pass columns along: joins, shuffles, groupby-aggs, broadcast sides.

`pushdown_projection` narrows `Project` nodes and sources itself; every other
node used to end the pass (it "needs all of its input"), so a merge read every
column of both tables and carried them through both shuffles, although only
the keys and a few values were used above it.  A node (or its op) that knows
which input columns an output needs says so with ``input_columns``, and this
module asks it:

- a node: ``node.input_columns(needed) -> [set | None per child]`` (a
  `Shuffle` over key columns, a `GroupbyAgg`, the broadcast side of a merge);
  the node is then rebuilt with ``with_children``, which derives its schema
  from the narrowed child;
- a `Blockwise` op: ``op.input_columns(needed, child_schemas)`` and
  ``op.output_schema(child_schemas)`` (the join ops, the positional index);
  the node is rebuilt with the op's new output schema, keeping its labels
  metadata.

    lineitem(16 columns) --shuffle--+
                                    +-- join -> project(l_extendedprice, o_orderdate)
    orders(9 columns)   --shuffle--+
      ==> the reads give the keys plus l_extendedprice and o_orderdate only

An op that computes its output from all of its input has no ``input_columns``
and still ends the pass.
"""

from __future__ import annotations

import pyarrow as pa

from ..labels import with_labels
from ..plan import Blockwise, unwrap_scalars

__all__ = ["needs_through", "rebuilt_through"]


def _blockwise_op(node):
    """The op of a Blockwise that declares its column flow (and has no lazy scalars), else None."""
    if not isinstance(node, Blockwise):
        return None
    op, tokens = unwrap_scalars(node.op)
    if tokens or not hasattr(op, "input_columns"):
        return None
    return op


def needs_through(node, needed):
    """The columns each child of ``node`` must give for ``needed`` of its output, or None if it cannot say."""
    if needed is None:
        return None
    op = _blockwise_op(node)
    if op is not None:
        return [set(c) for c in op.input_columns(set(needed), [c.schema for c in node.children])]
    ask = getattr(node, "input_columns", None)
    return None if ask is None else ask(set(needed))


def rebuilt_through(node, kids):
    """``node`` over its narrowed children ``kids``, or None if this module does not know how to rebuild it."""
    op = _blockwise_op(node)
    if op is not None:
        fields = op.output_schema([k.schema for k in kids])
        schema = with_labels(pa.schema(list(fields), metadata=node.schema.metadata))
        return Blockwise(node.op, kids, schema, node.broadcast, node.label)
    if hasattr(node, "input_columns"):
        return node.with_children(kids)
    return None
