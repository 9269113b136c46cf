"""Anti joins: ``merge(how="left", indicator=True)`` kept where ``_merge == "left_only"`` builds no matches.

That filter is how pandas and Dask users write NOT EXISTS / NOT IN.  As
written, every left row is joined with all its right matches (an order with
ten lines makes ten rows) only for the filter to throw those rows away.  The
rule replaces the pattern by the merge's `AntiJoin`, which keeps the left rows
whose key is not on the right and gives them the merge's columns (right ones
null); every row it makes is ``left_only``, so the filter goes too::

    Blockwise(Filter(_merge == "left_only"))            Blockwise(MarkMatches(_merge))
      Blockwise(MarkMatches(_merge, left))        ==>     Blockwise(AntiJoin(join))
        Blockwise(join)                                     <the join's inputs>
          <the join's inputs>

The same rows come out, with the same columns and types.  The rule leaves the
plan alone when the merge or its indicator has other readers (they need the
matched rows), when the merge is not a left one, or when the filter tests
anything else.

    >>> import pandas as pd, graphflow.dataframe as gd
    >>> from graphflow.dataframe.optimize import format_plan
    >>> a = gd.from_pandas(pd.DataFrame({"k": [1, 2, 3]}), npartitions=1)
    >>> b = gd.from_pandas(pd.DataFrame({"k": [2, 2]}), npartitions=1)
    >>> m = a.merge(b, on="k", how="left", indicator=True)
    >>> print(format_plan(rewrite_anti_joins(m[m._merge == "left_only"].expr)).splitlines()[1].strip())
    Blockwise[1] AntiJoin(on ['k'] = ['k'])
"""

from __future__ import annotations

from ..colexpr import Call, Col, Lit, for_filter
from ..indicator import MarkMatches
from ..plan import Blockwise, Filter
from .transform import parent_counts, transform

__all__ = ["rewrite_anti_joins"]


def _left_only_test(pred):
    """The column a predicate tests for ``== "left_only"``, else None."""
    pred = for_filter(pred)
    if isinstance(pred, Call) and pred.func == "equal" and len(pred.args) == 2:
        col, lit = pred.args
        if isinstance(lit, Col):
            col, lit = lit, col
        if isinstance(col, Col) and isinstance(lit, Lit) and lit.value.as_py() == "left_only":
            return col.name
    return None


def rewrite_anti_joins(plan):
    """``plan`` with every left-merge-then-keep-left_only pattern (see the module note) an anti join."""
    parents = parent_counts(plan)

    def rewrite(node, original):
        if not (isinstance(node, Blockwise) and isinstance(node.op, Filter) and len(node.children) == 1):
            return node
        mark = node.children[0]
        if not (isinstance(mark, Blockwise) and isinstance(mark.op, MarkMatches) and mark.op.how == "left"
                and mark.op.anti is not None and _left_only_test(node.op.predicate) == mark.op.name):
            return node
        merged = mark.children[0]
        if parents.get(id(original.children[0]), 0) > 1 or \
                parents.get(id(original.children[0].children[0]), 0) > 1 or not isinstance(merged, Blockwise):
            return node
        anti = Blockwise(mark.op.anti, merged.children, merged.schema, merged.broadcast, label="anti-join")
        return Blockwise(mark.op, (anti,), mark.schema, label="indicator")

    return transform(plan, rewrite)
