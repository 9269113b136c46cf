"""Partitions whose last step runs inside the result's assembly: the computed values are written once,
straight into the pandas result's memory.

A ``compute()`` ends by copying every partition's columns into one fresh array per result column
(`graphflow.dataframe.assemble`).  For ``diff`` and ``cumsum`` a partition task would first write its
answer into a fresh Arrow buffer and the assembly would then copy it again: two passes over new memory,
which is most of the time on 10M rows (writing fresh pages costs more than the arithmetic).  Dask pays
the same two passes (each partition's pandas result, then ``pd.concat``).

So when a plan's top node feeds nothing but the result (`PlanNode.edge_form`, used by ``compute()``
only: ``persist``, ``to_arrow`` and every reader of a partition still get Arrow tables), its tasks may
return a `PendingTable`: the partition's other columns as Arrow (the index, zero-copy) and, for each
computed column, a `Deferred` that knows how to write its values into a given slice.  The assembly
hands those slices out (two threads, as for copies) and each deferred column computes into its slice::

    task i:     PendingTable(index columns, {"a": DiffInto(values_i, last value of partition i-1)})
    compute():  out = np.empty(n); DiffInto(...).write_into(out[start_i:end_i]) for each i -> pandas

`join_parts` puts the partitions side by side as one table-like object whose columns are chunk lists
(Arrow arrays and `Deferred` s); `assemble.numeric_frame` takes it like a table.  Whatever that path
does not take (a string index, no rows) is `materialize` d to Arrow first and converted as usual.

    >>> import numpy as np, pyarrow as pa
    >>> part = PendingTable(pa.table({"__index_level_0__": [5, 6, 7]}), {"x": DiffInto(np.array([1., 4., 9.]),
    ...                     np.array([0.5]), 1)}, ["x", "__index_level_0__"])
    >>> part.materialize().column("x").to_pylist()
    [0.5, 3.0, 5.0]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .running import running_into

__all__ = ["Deferred", "DiffInto", "CumulativeInto", "PendingTable", "JoinedParts", "join_parts", "dense_values",
           "is_pending"]


def dense_values(col) -> np.ndarray | None:
    """The values of a null-free float64/int64 column as numpy (no copy when it is one chunk), else None."""
    if col is None or col.null_count or not (pa.types.is_float64(col.type) or pa.types.is_int64(col.type)):
        return None
    chunks = [c for c in col.chunks if len(c)] if isinstance(col, pa.ChunkedArray) else [col]
    if not chunks:
        return np.empty(0, dtype=col.type.to_pandas_dtype())
    return chunks[0].to_numpy() if len(chunks) == 1 else np.concatenate([c.to_numpy() for c in chunks])


class Deferred:
    """One partition's column, computed when the assembly gives it the memory to write into.

    Subclasses set ``type`` (Arrow), ``length``, ``null_count`` and implement `write_into` (nulls as NaN)
    and `null_mask` (where the nulls are, or None).
    """

    __slots__ = ("type", "length", "null_count")

    def __len__(self):
        return self.length

    def write_into(self, dest: np.ndarray) -> None:
        raise NotImplementedError

    def null_mask(self):
        return None

    def to_arrow(self) -> pa.Array:
        """The values as an Arrow array (for the results the fast assembly does not take)."""
        out = np.empty(self.length, dtype=self.type.to_pandas_dtype())
        self.write_into(out)
        return pa.array(out, type=self.type, mask=self.null_mask())


class DiffInto(Deferred):
    """``values[i] - values[i - periods]`` of a null-free float64 column, ``neighbours`` the rows before
    it (``periods`` > 0: the last rows of the partitions before) or after it (< 0); a row whose partner
    lies beyond them is null (NaN), as pandas' ``diff`` at the ends."""

    __slots__ = ("values", "neighbours", "periods")

    def __init__(self, values, neighbours, periods):
        self.values, self.periods = values, int(periods)
        self.neighbours = neighbours if neighbours is not None else values[:0]
        self.type, self.length = pa.float64(), len(values)
        self.null_count = int(self._missing().sum())

    def _edge(self):
        """``(positions of the rows whose partner is a neighbour or missing, the partners' positions in
        neighbours, -1 when missing)``."""
        k, n, m = self.periods, len(self.values), len(self.neighbours)
        if k >= 0:
            pos = np.arange(min(k, n))
            partner = pos - k + m  # into neighbours (the rows just before this partition)
            return pos, np.where(partner >= 0, partner, -1)
        q = -k
        pos = np.arange(max(n - q, 0), n)
        partner = pos + q - n  # into neighbours (the rows just after)
        return pos, np.where(partner < m, partner, -1)

    def _missing(self):
        return self._edge()[1] < 0

    def write_into(self, dest):
        v, k = self.values, self.periods
        n = len(v)
        if k == 0:
            np.subtract(v, v, out=dest)
            return
        q = abs(k)
        if q < n:
            if k > 0:
                np.subtract(v[q:], v[:-q], out=dest[q:])
            else:
                np.subtract(v[:-q], v[q:], out=dest[:-q])
        pos, partner = self._edge()
        if len(pos):
            have = partner >= 0
            other = np.full(len(pos), np.nan)
            other[have] = self.neighbours[partner[have]]
            dest[pos] = v[pos] - other  # a missing partner: NaN - ... is NaN

    def null_mask(self):
        if not self.null_count:
            return None
        mask = np.zeros(self.length, dtype=bool)
        pos, partner = self._edge()
        mask[pos[partner < 0]] = True
        return mask


class CumulativeInto(Deferred):
    """The running sum/product of a null-free int64/float64 column with ``carry`` (the partitions before
    it) folded in, bit for bit what `cumulative` computes (both call `running.running_into`)."""

    __slots__ = ("values", "carry", "how")

    def __init__(self, values, carry, how):
        self.values, self.carry, self.how = values, carry, how
        self.type = pa.from_numpy_dtype(values.dtype)
        self.length, self.null_count = len(values), 0

    def write_into(self, dest):
        running_into(self.values, self.carry, self.how, dest)


class PendingTable:
    """A partition whose ``deferred`` columns are computed at assembly; ``table`` holds the others.
    ``names`` is the partition's column order."""

    __slots__ = ("table", "deferred", "names")

    def __init__(self, table: pa.Table, deferred: dict, names):
        self.table, self.deferred, self.names = table, dict(deferred), list(names)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows if self.table.num_columns else len(next(iter(self.deferred.values())))

    def chunks(self, name) -> list:
        if name in self.deferred:
            return [self.deferred[name]]
        return self.table.column(name).chunks

    def column_type(self, name):
        return self.deferred[name].type if name in self.deferred else self.table.schema.field(name).type

    def select(self, names) -> "PendingTable":
        """Only the columns ``names``, in that order."""
        return PendingTable(self.table.select([n for n in names if n not in self.deferred]),
                            {n: d for n, d in self.deferred.items() if n in names}, names)

    def materialize(self) -> pa.Table:
        """The partition as an Arrow table (the deferred columns computed)."""
        cols = [self.deferred[n].to_arrow() if n in self.deferred else self.table.column(n) for n in self.names]
        return pa.Table.from_arrays(cols, names=self.names)


def is_pending(part) -> bool:
    return isinstance(part, PendingTable)


class _Column:
    """A result column as the assembly sees it: a type and a list of chunks (Arrow arrays, `Deferred` s)."""

    __slots__ = ("type", "chunks", "null_count", "length")

    def __init__(self, type_, chunks):
        self.type, self.chunks = type_, chunks
        self.null_count = sum(c.null_count for c in chunks)
        self.length = sum(len(c) for c in chunks)

    def __len__(self):
        return self.length

    @property
    def num_chunks(self):
        return len(self.chunks)


class JoinedParts:
    """Partitions (Arrow tables and `PendingTable` s) one after another, read as a table by
    `assemble.numeric_frame`: ``column(name)`` is an Arrow ChunkedArray when no partition defers it."""

    def __init__(self, parts, names):
        self.parts, self.column_names = list(parts), list(names)
        self.num_rows = sum(p.num_rows for p in self.parts)

    def column(self, name):
        if not any(is_pending(p) and name in p.deferred for p in self.parts):
            chunks = [c for p in self.parts for c in (p.chunks(name) if is_pending(p) else p.column(name).chunks)]
            t = self.parts[0].column_type(name) if is_pending(self.parts[0]) else self.parts[0].schema.field(
                name).type
            return pa.chunked_array(chunks, t)
        chunks = [c for p in self.parts for c in (p.chunks(name) if is_pending(p) else p.column(name).chunks)]
        return _Column(self.parts[0].column_type(name) if is_pending(self.parts[0]) else
                       self.parts[0].schema.field(name).type, chunks)

    def materialize(self) -> pa.Table:
        tables = [p.materialize() if is_pending(p) else p for p in self.parts]
        return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def join_parts(parts, schema) -> "JoinedParts | None":
    """The partitions side by side for the assembly, or None when none of them is pending."""
    parts = [p for p in parts if p is not None]
    if not any(is_pending(p) for p in parts):
        return None
    return JoinedParts(parts, [f.name for f in schema])
