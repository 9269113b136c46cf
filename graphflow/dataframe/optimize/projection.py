"""Projection pushdown: every node computes, and every Parquet read reads, only the columns used above it.

A top-down pass carries the set of columns each node's readers need:
a `Project` needs the columns of the expressions that are still used (and
drops the others); a `Filter` adds its predicate's columns; a source that can
read fewer columns (`PlanNode.with_columns`: a `ReadParquet`) narrows its
``columns``.  Nodes and ops that say which input columns an output needs pass
the pass on (the ``column_needs`` protocol):

- a node's ``column_needs(needed) -> [set | None per child]`` (a hash `Shuffle`: the
  needed columns and its keys; a `GroupbyAgg`: its keys and aggregated columns), or a
  `Reduce` whose ``finalize`` has ``column_needs(needed) -> set`` (the broadcast side of a
  join: the needed columns and the join keys);
- a `Blockwise` op's ``column_needs(needed, child_schemas)`` with ``output_schema(child_schemas)``
  (a join: the columns its needed outputs come from, plus the keys).

Anything else (a function, a sort) needs all of its input, which ends the pass on that branch.

    >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> from graphflow.dataframe import read_parquet
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"a": [1], "b": [2], "c": [3]}), os.path.join(d, "x.parquet"))
    >>> df = read_parquet(d)
    >>> plan = pushdown_projection(df[df.a > 0][["b"]].expr)
    >>> plan.children[0].children[0].describe()
    'ReadParquet[1] columns=[a, b]'
"""

from __future__ import annotations

import pyarrow as pa

from ..plan import Blockwise, Filter, Project, Reduce, WithScalars, unwrap_scalars, walk

__all__ = ["pushdown_projection"]


def _needs(node, needed):
    """The columns each child must provide when ``needed`` of ``node``'s output are used (None: all)."""
    op, tokens = unwrap_scalars(node.op) if isinstance(node, Blockwise) else (None, ())
    scalars = [None] * len(tokens)  # a lazy scalar's plan is whole
    if isinstance(node, Blockwise) and len(node.children) - len(tokens) == 1:
        if isinstance(op, Project):
            cols = set()
            for name, e in op.exprs:
                if needed is None or name in needed:
                    cols |= e.columns()
            return [cols] + scalars
        if isinstance(op, Filter) and needed is not None:
            return [set(needed) | op.predicate.columns()] + scalars
    if needed is not None:
        declared = _declared_needs(node, op, tokens, needed)
        if declared is not None:
            return declared
    return [None] * len(node.children)


def _declared_needs(node, op, tokens, needed):
    """The children's needs a node or op declares (the ``column_needs`` protocol), or None."""
    if isinstance(node, Blockwise):
        if not tokens and hasattr(op, "column_needs") and hasattr(op, "output_schema"):
            return op.column_needs(needed, [c.schema for c in node.children])
        return None
    if isinstance(node, Reduce):
        keeps = getattr(node.finalize, "column_needs", None)
        return None if keeps is None or node.schema is None else [keeps(needed)]
    declared = getattr(node, "column_needs", None)
    return declared(needed) if declared is not None else None


def _narrow(node, needed, kids):
    """``node`` over new children, itself computing only ``needed`` where it can."""
    if needed is not None and not node.children:
        cols = [n for n in node.schema.names if n in needed]
        narrowed = node.with_columns(cols) if cols != node.schema.names else None
        if narrowed is not None:
            return narrowed
    op, tokens = unwrap_scalars(node.op) if isinstance(node, Blockwise) else (None, ())
    if isinstance(op, Project) and needed is not None:
        exprs = [(n, e) for n, e in op.exprs if n in needed]
        if len(exprs) < len(op.exprs):
            schema = pa.schema([node.schema.field(n) for n, _ in exprs])
            return Blockwise(_rewrap(Project(exprs), tokens), kids, schema, node.broadcast)
    if any(k is not c for k, c in zip(kids, node.children)):
        if isinstance(op, Filter):
            return Blockwise(node.op, kids, kids[0].schema, node.broadcast)
        if isinstance(node, Blockwise) and not tokens and hasattr(op, "output_schema"):
            return Blockwise(op, kids, op.output_schema([k.schema for k in kids]), node.broadcast, node.label)
        if isinstance(node, Reduce) and hasattr(node.finalize, "column_needs"):
            return Reduce(kids[0], node.combine, node.finalize, kids[0].schema, node.split_every)
        return node.with_children(kids)
    return node


def _rewrap(op, tokens):
    return WithScalars(op, tokens) if tokens else op


def pushdown_projection(plan):
    """``plan`` with unused columns never read or computed (the root's columns are all kept)."""
    order = walk(plan)  # children first
    needed = {id(plan): None}
    for node in reversed(order):  # parents first: union the needs of every reader
        for child, cols in zip(node.children, _needs(node, needed.get(id(node)))):
            if id(child) in needed and needed[id(child)] is None:
                continue
            if cols is None or id(child) not in needed:
                needed[id(child)] = None if cols is None else set(cols)
            else:
                needed[id(child)] |= cols
    done: dict = {}
    for node in order:
        kids = tuple(done[id(c)] for c in node.children)
        done[id(node)] = _narrow(node, needed.get(id(node)), kids)
    return done[id(plan)]
