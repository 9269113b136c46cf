"""Partitions that see their neighbours' rows: the plan node under ``shift``, ``diff``, ``rolling`` and
``map_overlap``.

`Overlap` gives the op of partition i three tables: the last ``before`` rows that come before it (from
as many earlier partitions as it takes: partitions may hold fewer rows than the window), the partition,
and the first ``after`` rows that follow it.  Those edge tables are built by two short sequential chains
of tiny tasks, never by gathering partitions::

    before chain:  T1 = tail(P0)   T2 = tail(T1 ++ P1)   T3 = tail(T2 ++ P2) ...
    after chain:   H2 = head(P3)   H1 = head(P2 ++ H2)   ...
    output i:      op(T_i, P_i, H_i)          (T_0 and H_last are None)

Each chain task reads one partition and the previous (small) edge, so a window of 7 rows over
partitions of 2 rows reaches back through four partitions, as pandas would.  ``before``/``after`` may
be a row count or a ``pandas.Timedelta`` (then the rows whose index is within that time of the
partition's first/last index; with known divisions the boundary comes from them, else from the
partition itself).

    >>> import pyarrow as pa
    >>> from graphflow.dataframe.plan import FromTables, Func
    >>> src = FromTables([pa.table({"a": [1]}), pa.table({"a": [2]}), pa.table({"a": [3]})])
    >>> node = Overlap(src, 2, 0, Func(lambda prev, part, nxt: part if prev is None else
    ...                                 pa.concat_tables([prev, part])), src.schema)
    >>> from graphflow.dataframe.plan import lower
    >>> len(lower(node))     # 3 sources + 2 chain tasks + 3 outputs
    8
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..spec import Ref, Task, tokenize
from .labels import index_column, index_names
from .plan import Func, PlanNode

__all__ = ["Overlap", "OverlapCall", "Func", "as_overlap_amount", "time_index_ns", "time_index"]


def as_overlap_amount(value, what: str):
    """A row count (int >= 0) or a ``pandas.Timedelta`` from what a user passed as ``before``/``after``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer or a timedelta, not {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"{what} must be a non-negative integer or a timedelta, got {value}")
        return int(value)
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be an integer or a timedelta (like '2h'), not {value!r}") from exc
    if delta < pd.Timedelta(0):
        raise ValueError(f"{what} must not be a negative timedelta, got {value!r}")
    return delta


def time_index_ns(table: pa.Table) -> np.ndarray:
    """The (datetime) index of a partition as int64 nanoseconds since the epoch."""
    values, ns_per_unit = time_index(table)
    return values if ns_per_unit == 1 else values * ns_per_unit


_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def time_index(table: pa.Table):
    """``(values, ns per unit)``: the (datetime) index of a partition as int64 in its own unit (the Arrow
    buffer itself when it is one chunk without nulls: no cast, no copy)."""
    col = table.column(index_column(0))
    if not pa.types.is_timestamp(col.type):
        raise TypeError(f"a time-based window needs a datetime index, not {col.type}")
    chunks = [c for c in col.chunks if len(c)]
    if len(chunks) == 1 and not col.null_count:
        return chunks[0].view(pa.int64()).to_numpy(), _NS_PER[col.type.unit]
    return col.cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy(), 1


def _ns(value) -> int:
    return pd.Timestamp(value).as_unit("ns").value


def _concat(a, b):
    if a is None or a.num_rows == 0:
        return b
    if b is None or b.num_rows == 0:
        return a
    return pa.concat_tables([a, b], promote_options="permissive")


def _tail_rows(carry, part, n):
    """The last ``n`` rows of ``carry ++ part``."""
    both = _concat(carry, part) if part.num_rows < n else part
    return both.slice(max(both.num_rows - n, 0))


def _head_rows(part, carry, n):
    """The first ``n`` rows of ``part ++ carry``."""
    both = _concat(part, carry) if part.num_rows < n else part
    return both.slice(0, n)


def _bound(bound, first: bool):
    """A boundary in ns: a division value, or the first/last index value of a partition table."""
    if isinstance(bound, pa.Table):
        idx = time_index_ns(bound)
        if not len(idx):
            return None
        return int(idx[0] if first else idx[-1])
    return _ns(bound)


def _tail_time(carry, part, nxt, delta_ns):
    """Rows of ``carry ++ part`` whose index is after (the start of the next partition ``nxt``) - delta."""
    both = _concat(carry, part)
    start = _bound(nxt, first=True)
    if start is None:  # the next partition is empty: keep what reaches into the one after it
        return both
    idx = time_index_ns(both)
    return both.slice(int(np.searchsorted(idx, start - delta_ns, side="right")))


def _head_time(part, carry, prev, delta_ns):
    """Rows of ``part ++ carry`` whose index is before (the end of the previous partition ``prev``) + delta."""
    both = _concat(part, carry)
    end = _bound(prev, first=False)
    if end is None:
        return both
    idx = time_index_ns(both)
    return both.slice(0, int(np.searchsorted(idx, end + delta_ns, side="left")))


class Overlap(PlanNode):
    """``op(before_rows, partition, after_rows) -> table`` on each partition (see the module docstring)."""

    label = "overlap"

    def __init__(self, child, before, after, op, schema, label=None):
        self.children = (child,)
        self.before, self.after, self.op = before, after, op
        self._schema = schema
        self._npartitions = child.npartitions
        if label is not None:
            self.label = label

    def params(self):
        return (str(self.before), str(self.after), tokenize(self.op), str(self._schema))

    @property
    def divisions(self):
        # the rows and the index stay where they were; only values change (a sort's key bounds would not
        # hold, so only an index's divisions are passed on)
        child = self.children[0]
        return child.divisions if index_names(child.schema) else None

    def with_children(self, children):
        return Overlap(children[0], self.before, self.after, self.op, self._schema, self.label)

    def edge_form(self):
        """This node with the op's form for a compute's last step (``op.at_edge()``), if it has one."""
        at_edge = getattr(self.op, "at_edge", None)
        op = at_edge() if at_edge is not None else None
        return None if op is None else Overlap(self.children[0], self.before, self.after, op, self._schema,
                                               self.label)

    def _time_bounds(self, i, first: bool):
        """What tells the time chain where partition i starts (first) / ends: a division, or the partition."""
        divs = self.children[0].divisions
        if divs is not None and None not in divs and index_names(self.children[0].schema):
            return divs[i] if first else divs[i + 1]
        return Ref((self.children[0].name, i))

    def tasks(self):
        child, n = self.children[0], self.npartitions
        part = [Ref((child.name, i)) for i in range(n)]
        out, before, after = [], [None] * n, [None] * n
        if self.before:
            for i in range(1, n):
                key = (self.name + "-before", i)
                prev = before[i - 1]
                if isinstance(self.before, int):
                    out.append(Task(key, _tail_rows, prev, part[i - 1], self.before))
                else:
                    out.append(Task(key, _tail_time, prev, part[i - 1], self._time_bounds(i, True),
                                    self.before.value))
                before[i] = Ref(key)
        if self.after:
            for i in range(n - 2, -1, -1):
                key = (self.name + "-after", i)
                nxt = after[i + 1]
                if isinstance(self.after, int):
                    out.append(Task(key, _head_rows, part[i + 1], nxt, self.after))
                else:
                    out.append(Task(key, _head_time, part[i + 1], nxt, self._time_bounds(i, False),
                                    self.after.value))
                after[i] = Ref(key)
        for i in range(n):
            out.append(Task((self.name, i), self.op, before[i], part[i], after[i]))
        return out

    def describe(self):
        return f"Overlap[{self.npartitions}] before={self.before} after={self.after} {self.op!r}"


class OverlapCall:
    """Op for `Overlap`: ``func`` (an op on one table) on ``before ++ partition ++ after``, and the rows that
    came from the neighbours cut off again (by position: ``func`` must keep one output row per input row)."""

    __slots__ = ("func",)

    def __init__(self, func):
        self.func = func

    def __call__(self, prev, part, nxt):
        n_prev = prev.num_rows if prev is not None else 0
        n_next = nxt.num_rows if nxt is not None else 0
        combined = _concat(_concat(prev, part), nxt) if (n_prev or n_next) else part
        out = self.func(combined)
        if out.num_rows != combined.num_rows:
            raise ValueError(
                f"map_overlap: the function returned {out.num_rows} rows for {combined.num_rows} input rows; "
                f"it must return one row per input row so the overlap can be trimmed (use map_partitions "
                f"for functions that change the length)")
        return out.slice(n_prev, out.num_rows - n_prev - n_next)

    def __graphflow_tokenize__(self):
        return ("OverlapCall", tokenize(self.func))

    def __repr__(self):
        return f"OverlapCall({self.func!r})"
