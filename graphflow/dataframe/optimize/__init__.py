"""Plan-level optimization, before any task exists: one rule per module, run in order.

    anti joins -> predicate pushdown -> projection pushdown -> broadcast small join sides
    -> shuffle pruning -> partition-wise fusion

Each rule is a pure function ``plan -> plan`` (`rewrite_anti_joins`, `pushdown_predicates`,
`pushdown_projection`, `broadcast_small_sides`, `prune_shuffle_outputs`, `fuse_partitionwise`);
`optimize_plan` runs them and
`format_plan` draws a plan as an indented tree, which is what
``df.explain()`` prints:

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"a": [1, 2], "b": [3, 4]}))
    >>> _ = df[df.a > 1][["b"]].explain()
    Blockwise[1] Filter((a > 1)) -> Project(b=b)
      FromTables[1]

``until=`` stops after a named stage, so a test can look at one rewrite.
"""

from __future__ import annotations

from .antijoin import rewrite_anti_joins
from .broadcast import broadcast_small_sides
from .fuse import fuse_partitionwise
from .partitions import prune_shuffle_outputs
from .predicate import pushdown_predicates
from .projection import pushdown_projection

__all__ = ["optimize_plan", "format_plan", "STAGES"]

STAGES = (
    ("antijoin", rewrite_anti_joins),
    ("predicates", pushdown_predicates),
    ("projection", pushdown_projection),
    ("broadcast", broadcast_small_sides),
    ("partitions", prune_shuffle_outputs),
    ("fuse", fuse_partitionwise),
)


def optimize_plan(plan, until: str | None = None):
    """``plan`` after the rewrite stages (all of them, or up to and including ``until``)."""
    for name, rule in STAGES:
        plan = rule(plan)
        if name == until:
            break
    return plan


def format_plan(plan) -> str:
    """The plan as an indented tree, root first (shared nodes printed once, then referenced)."""
    lines, seen = [], {}
    stack = [(plan, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            lines.append("  " * depth + f"(see {seen[id(node)]})")
            continue
        seen[id(node)] = node.name
        lines.append("  " * depth + node.describe())
        stack.extend((c, depth + 1) for c in reversed(node.children))
    return "\n".join(lines)
