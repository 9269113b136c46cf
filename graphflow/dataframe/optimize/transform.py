"""The walk every rule uses: rebuild a plan bottom-up, each node once.

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables
    >>> src = FromTables([pa.table({"a": [1]})])
    >>> transform(src, lambda node, original: node) is src
    True
"""

from __future__ import annotations

from ..plan import walk

__all__ = ["transform", "parent_counts"]


def transform(plan, rewrite):
    """``rewrite(node, original)`` on every node after its children were rewritten (memoized by identity).

    ``node`` is the original over the rewritten children; ``original`` is the
    node of the input plan, whose identity keys `parent_counts`.
    """
    done: dict = {}
    for node in walk(plan):
        kids = tuple(done[id(c)] for c in node.children)
        if any(k is not c for k, c in zip(kids, node.children)):
            node2 = node.with_children(kids)
        else:
            node2 = node
        done[id(node)] = rewrite(node2, node)
    return done[id(plan)]


def parent_counts(plan) -> dict:
    """``{id(node): number of parents}`` over the plan (a node read twice must not be fused away)."""
    counts: dict = {}
    for node in walk(plan):
        for c in node.children:
            counts[id(c)] = counts.get(id(c), 0) + 1
    return counts
