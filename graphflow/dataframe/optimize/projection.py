"""Projection pushdown: every node computes, and every Parquet read reads, only the columns used above it.

A top-down pass carries the set of columns each node's readers need:
a `Project` needs the columns of the expressions that are still used (and
drops the others); a `Filter` adds its predicate's columns; a source that can
read fewer columns (`PlanNode.with_columns`: a `ReadParquet`) narrows its
``columns``; joins, shuffles and groupby-aggs pass the need on (`passthrough`).
Anything else (a function) needs all of its input, which ends the pass on that branch.

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

from ..plan import Blockwise, Filter, Project, WithScalars, unwrap_scalars, walk
from .passthrough import needs_through, rebuilt_through

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
    through = needs_through(node, needed)  # joins, shuffles, groupby-aggs (optimize/passthrough.py)
    return through if through is not None else [None] * len(node.children)


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
        through = rebuilt_through(node, kids)
        return through if through is not None else node.with_children(kids)
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
