"""Predicate pushdown: a filter right above a Parquet read becomes the read's ``filter``.

    Blockwise(Filter(p)) <- ReadParquet(columns, predicate=q)
      ==>  ReadParquet(columns, predicate=q AND p)

The read task then skips row groups whose statistics exclude ``p`` and filters
the rest as they are decoded; the rows that come out are the same.  The rule
knows no source by name: it asks the node below (`PlanNode.with_predicate`).

    >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> from graphflow.dataframe import read_parquet
    >>> d = tempfile.mkdtemp(); pq.write_table(pa.table({"a": [1, 2, 3]}), os.path.join(d, "x.parquet"))
    >>> df = read_parquet(d)
    >>> pushdown_predicates(df[df.a > 1].expr).describe()
    'ReadParquet[1] columns=[a] filter=((a > 1))'
"""

from __future__ import annotations

from ..colexpr import Col
from ..plan import Blockwise, Filter, Project
from .transform import parent_counts, transform

__all__ = ["pushdown_predicates"]


def _is_filter(node):
    return isinstance(node, Blockwise) and isinstance(node.op, Filter) and len(node.children) == 1


def pushdown_predicates(plan):
    """``plan`` with filters moved into the Parquet reads below them."""
    parents = parent_counts(plan)

    def rewrite(node, original):
        if not _is_filter(node):
            return node
        child = node.children[0]
        pred = node.op.predicate
        pushed = child.with_predicate(pred)  # a new node: a shared source stays as it was for its other readers
        if pushed is not None:
            return pushed
        if parents.get(id(original.children[0]), 0) > 1:
            return node
        if isinstance(child, Blockwise) and isinstance(child.op, Project) and len(child.children) == 1:
            exprs = dict(child.op.exprs)
            if all(exprs.get(c) == Col(c) for c in pred.columns()):
                below = Blockwise(Filter(pred), child.children, child.children[0].schema)
                below = rewrite(below, below)
                return child.with_children((below,))
        return node

    return transform(plan, rewrite)
