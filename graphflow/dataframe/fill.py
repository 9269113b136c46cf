"""``ffill`` / ``bfill`` across partitions: each partition filled by pyarrow, plus the value carried in
from its neighbours.

`Fill` lowers like `cumulative.Cumulative`: a short sequential chain of tiny tasks carries, per column,
the last present value seen so far and how many rows ago it was (forward; for ``bfill`` the chain runs
from the last partition back)::

    edges:   E1 = edge(P0)   E2 = edge(P1, E1)   E3 = edge(P2, E2) ...   (one small row per column)
    output:  fill(P0)        fill(P1, E1)        fill(P2, E2) ...

A partition fills its own gaps first; the missing values before its first present one (after its last,
for ``bfill``) take the carried value, when it is within ``limit`` rows, as pandas'
``ffill(limit=)`` counts them across the whole column.  NaN counts as missing, as in pandas.

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables, lower
    >>> src = FromTables([pa.table({"x": [1.0, None]}), pa.table({"x": [None, None]}), pa.table({"x": [3.0]})])
    >>> node = Fill(src, forward=True, limit=None, schema=src.schema)
    >>> len(lower(node))   # 3 sources, 2 edges, 3 outputs
    8
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import Ref, Task
from .labels import data_names, index_names
from .plan import PlanNode

__all__ = ["Fill"]


def _missing(col: pa.ChunkedArray) -> np.ndarray:
    """Where the column is missing (null, or NaN), as a numpy bool array."""
    if pa.types.is_floating(col.type):
        mask = pc.is_null(col, nan_is_null=True)
    else:
        mask = pc.is_null(col)
    return mask.to_numpy(zero_copy_only=False).astype(bool)


def _edge(table, prev, forward, names):
    """Per column ``(value or None, rows since it)``: the carry after ``table`` given the carry ``prev``
    (the nearest present value on this side of the next partition, and its distance from that partition)."""
    n, out = table.num_rows, []
    for j, name in enumerate(names):
        col = table.column(name)
        present = np.flatnonzero(~_missing(col))
        if len(present):
            pos = int(present[-1] if forward else present[0])
            out.append((col[pos], n - 1 - pos if forward else pos))
        elif prev is not None and prev[j][0] is not None:
            out.append((prev[j][0], prev[j][1] + n))
        else:
            out.append((None, 0))
    return out


def _fill_column(col: pa.ChunkedArray, carry, forward: bool, limit) -> pa.ChunkedArray:
    """``col`` with each missing value replaced by the nearest present one before it (after it, when
    not ``forward``) within ``limit`` rows, the carried value standing just outside the partition."""
    n = len(col)
    if n == 0:
        return col
    missing = _missing(col)
    if not missing.any():
        return col
    pos = np.arange(n)
    if not forward:  # the mirror image: work on reversed positions
        missing = missing[::-1]
    source = np.where(~missing, pos, -1)
    nearest = np.maximum.accumulate(source)  # per row: the last present row at or before it (-1: none)
    dist = pos - nearest
    take = nearest + 1  # in [carry] ++ col
    has_carry = carry is not None and carry[0] is not None
    lead = nearest < 0
    if has_carry:
        take = np.where(lead, 0, take)
        dist = np.where(lead, carry[1] + pos + 1, dist)
    ok = ~lead | has_carry
    if limit is not None:
        ok &= dist <= limit
    if not forward:
        take, ok = take[::-1], ok[::-1]
        # reversed positions index the reversed column; map them back to the column's own positions
        take = np.where(take == 0, 0, n - take + 1)
    head = pa.array([carry[0].as_py() if has_carry else None], type=col.type)
    values = pa.chunked_array([head] + list(col.chunks), col.type)
    idx = pa.array(take, pa.int64(), mask=~ok)
    return values.take(idx)


def _apply(table, carry, forward, limit, names, schema):
    cols = []
    for f in schema:
        col = table.column(f.name)
        if f.name in names:
            c = carry[names.index(f.name)] if carry is not None else None
            col = _fill_column(col, c, forward, limit)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


class Fill(PlanNode):
    """``ffill`` (``forward``) or ``bfill`` of every data column, within ``limit`` rows, across partitions."""

    label = "fill"

    def __init__(self, child, forward, limit, schema):
        self.children = (child,)
        self.forward, self.limit = bool(forward), limit
        self._schema = schema
        self._npartitions = child.npartitions

    def params(self):
        return (self.forward, self.limit, str(self._schema))

    @property
    def divisions(self):
        child = self.children[0]
        return child.divisions if index_names(child.schema) else None

    def with_children(self, children):
        return Fill(children[0], self.forward, self.limit, self._schema)

    def tasks(self):
        child, n = self.children[0], self.npartitions
        names = data_names(self._schema)
        order = list(range(n)) if self.forward else list(range(n - 1, -1, -1))
        out, carry = [], None
        for step, i in enumerate(order):
            out.append(Task((self.name, i), _apply, Ref((child.name, i)), Ref(carry) if carry else None,
                            self.forward, self.limit, names, self._schema))
            if step == n - 1:
                break
            key = (self.name + "-edge", i)
            out.append(Task(key, _edge, Ref((child.name, i)), Ref(carry) if carry else None, self.forward, names))
            carry = key
        return out

    def describe(self):
        return f"Fill[{self.npartitions}] {'ffill' if self.forward else 'bfill'} limit={self.limit}"
