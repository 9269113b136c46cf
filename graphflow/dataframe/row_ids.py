"""Row positions as an index, carried through partition-wise steps: what `zipped.attach` matches on when
neither side has an index.

In Dask a partition without a stored index still has one: its reader's
``RangeIndex``, kept by filters and by ``map_partitions`` functions.  So
``df["y"] = df.x.map_partitions(lambda s: s[s > 0])`` aligns on those labels:
``y`` is missing where the function dropped a row.  A graphflow partition
without an index has no labels left after a filter, so the matching labels are
made where both sides part: at their common source, each row's position in its
partition becomes the index (`positions_plan`), and each step from there to
either side is rebuilt to carry it (`replay`):

    source ──positions──> source' ── Filter ─────────> left'    (index: positions in source)
                                 └── PandasFunc ─────> right'   (the function sees them, as in Dask)

Filters and projections carry the index column as they carry any column; a
pandas function (`pandas_edge.PandasFunc`) is given the positions as its
input's index and keeps its output's index; a step that cannot carry it makes
`replay` return None (the caller then matches rows by position, or says it
cannot).  A side that is itself an earlier such attach (``df["a"] = f(df.x)``
then ``df["b"] = g(df.x)``) already holds the positions below its last step,
and is taken from there.

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables
    >>> src = FromTables([pa.table({"x": [5, -1, 7]})])
    >>> positions_plan(src).schema.names
    ['x', '__index_level_0__']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .colexpr import Col
from .labels import index_column, index_names, with_labels
from .pandas_edge import PandasFunc
from .plan import Blockwise, Filter, FilterProject, Project, WithScalars, unwrap_scalars

__all__ = ["RowPositions", "positions_plan", "with_position_index", "replay", "may_change_rows"]

POSITION = index_column(0)


class RowPositions:
    """Op: a partition with an ``__index_level_0__`` column of row positions within it."""

    def __call__(self, table):
        return table.append_column(POSITION, pa.array(np.arange(table.num_rows, dtype=np.int64)))

    def __graphflow_tokenize__(self):
        return "positions"


def with_position_index(schema: pa.Schema) -> pa.Schema:
    """``schema`` (without an index) plus the positions column as its unnamed index, labels kept."""
    return with_labels(schema.append(pa.field(POSITION, pa.int64())), index=(None,))


def positions_plan(plan):
    """``plan`` with each row's position in its partition as its index."""
    return Blockwise(RowPositions(), (plan,), with_position_index(plan.schema), label="positions")


def _chain(plan, *stops):
    """The nodes from ``plan`` down to (not including) the first of ``stops`` along first children; None if
    none is reached that way."""
    names = {s.name for s in stops}
    out = []
    while plan.name not in names:
        children = getattr(plan, "children", ())
        if not isinstance(plan, Blockwise) or not children:
            return None
        out.append(plan)
        plan = children[0]
    return out


def may_change_rows(plan, source) -> bool:
    """Whether a step between ``source`` and ``plan`` may keep other rows than it is given (anything but a
    projection: a filter, a pandas function, ...)."""
    chain = _chain(plan, source)
    return chain is None or not all(isinstance(unwrap_scalars(p.op)[0], Project) for p in chain)


def _carried(op, in_schemas):
    """``op`` rebuilt to pass the positions index through, or None when it cannot."""
    if isinstance(op, Filter):
        return op
    if isinstance(op, Project):
        return Project([*op.exprs, (POSITION, Col(POSITION))])
    if isinstance(op, FilterProject):
        return FilterProject(op.predicate, _carried(op.project, in_schemas))
    if isinstance(op, PandasFunc) and len(op.in_schemas) == 1 and op.out_schema is not None \
            and not index_names(op.out_schema):
        return PandasFunc(op.func, in_schemas, with_position_index(op.out_schema), op.args, op.kwargs, op.series)
    return None


def replay(plan, source, base):
    """``plan`` rebuilt over ``base`` (`positions_plan` of ``source``) in place of ``source``, every step
    carrying the positions index; None when a step cannot (a join, a lazy scalar, several inputs...)."""
    chain = _chain(plan, base, source)
    if chain is None or index_names(source.schema):
        return None
    out, positioned = base, True  # ``out`` is an original node that already has the positions
    for node in reversed(chain):
        if positioned and _has_positions(node.schema):  # an earlier attach's join over ``base``: as it is
            out = node
            continue
        positioned = False
        inner, tokens = unwrap_scalars(node.op)
        if node.broadcast[0] or len(node.children) - len(tokens) != 1:
            return None
        op = _carried(inner, [out.schema])
        if op is None:
            return None
        op = WithScalars(op, tokens) if tokens else op  # lazy scalars (a filter by a mean) stay broadcast inputs
        out = Blockwise(op, (out, *node.children[1:]), with_position_index(node.schema), node.broadcast,
                        label=node.label)
    return out


def _has_positions(schema: pa.Schema) -> bool:
    return index_names(schema) == (None,) and schema.names[-1] == POSITION
