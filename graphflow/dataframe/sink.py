"""A user function's new columns copied into the pandas result as each partition finishes.

``compute()`` of ``from_pandas(pdf).map_partitions(f)`` ends with the partitions' pandas frames
concatenated (`pandas_edge.concat_pandas`): columns ``f`` passed through are views of ``pdf``'s memory
(no copy), each new column is copied into one result array.  Until then every partition's new
columns stay alive, so each one ``f`` computes lands in memory fresh from the OS: on 10M rows in 20
partitions, 20 x 4 MB of page faults for one new float column, more than half the function's time.

When the source's partitions are in memory (`plan.FromTables`: their row counts, hence each one's
place in the result, are known before anything runs) and the compute runs in this process (threads
or sync), the edge op of the function (`pandas_edge.PandasFuncAtEdge`) hands its result to a
`ResultSink`: each new number column is copied into its rows of one result array while it is still in
cache, and the partition keeps only the rest (`SunkFrame`).  The function's array is freed at once,
so the next partition's allocation reuses its warm memory::

    partition i (offset o, n rows):  out = f(pdf_i)  ->  result_c[o:o+n] = out.c;  SunkFrame(rest, ...)
    assembly:                        result columns = the sink's arrays + the passed-through views

The assembly uses the sink's arrays as the result's columns when every partition was placed where
expected (same length as its input); otherwise it rebuilds each partition as a frame (the placed
columns as views of the sink) and concatenates as before.  In another process (processes scheduler,
a cluster) the source partitions are copies: nothing is placed there and the frames travel as they
are (a pickled sink is an empty one).  Rows are written once per set of arrays: the same graph computed again,
or by two threads at once, places its partitions in new arrays (`_Generation`), so no compute writes
into rows another one reads or has returned.

    >>> import numpy as np, pandas as pd, pyarrow as pa
    >>> parts = [pa.table({"a": [1.0, 2.0]}), pa.table({"a": [3.0]})]
    >>> sink = ResultSink(parts)
    >>> p0 = sink.place(parts[0], pd.DataFrame({"a": [1.0, 2.0], "c": [10.0, 20.0]}))
    >>> p1 = sink.place(parts[1], pd.DataFrame({"a": [3.0], "c": [30.0]}, index=[2]))
    >>> p0.placed, p1.sink is p0.sink, p0.sink.columns[1].tolist()
    ((0, 1), True, [10.0, 20.0, 30.0])
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from .assemble import column_values

__all__ = ["ResultSink", "SunkFrame", "is_sunk", "placed_columns"]


def _buffer_ranges(table) -> list:
    """``(start, end)`` addresses of the value buffers of ``table`` 's columns (what passes through)."""
    out = []
    for col in table.columns:
        for chunk in col.chunks:
            bufs = chunk.buffers()
            if len(bufs) > 1 and bufs[1] is not None:
                out.append((bufs[1].address, bufs[1].address + bufs[1].size))
    return out


class SunkFrame:
    """A partition's frame whose new number columns were copied into the sink: ``rest`` holds the other
    columns (labelled 0, 1, ... in their order), ``placed`` the positions now in the arrays of ``sink`` (a
    `_Generation`) at rows ``offset`` to ``offset + length``."""

    __slots__ = ("rest", "placed", "columns", "sink", "offset", "length")

    def __init__(self, rest, placed, columns, sink, offset, length):
        self.rest, self.placed, self.columns = rest, tuple(placed), columns
        self.sink, self.offset, self.length = sink, offset, length

    def __len__(self):
        return self.length

    def to_frame(self) -> pd.DataFrame:
        """The partition's frame again, its placed columns as (read-only) views of the sink's rows."""
        blocks, k = [], 0
        for pos in range(len(self.columns)):
            if pos in self.placed:
                values = self.sink.columns[pos][self.offset:self.offset + self.length]
            else:
                values, k = column_values(self.rest, k), k + 1
            view = values.view()
            view.flags.writeable = False  # the sink's rows belong to every partition's result
            blocks.append((view.reshape(1, -1), np.array([pos])))
        return create_dataframe_from_blocks(blocks, index=self.rest.index, columns=self.columns)


def is_sunk(part) -> bool:
    return isinstance(part, SunkFrame)


class _Generation:
    """One set of result arrays and the row offsets already written into them.  Each offset is written
    once: a partition placed again (the same graph computed again, maybe at the same time in another
    thread) goes to another generation, so no compute writes into rows that another one reads."""

    __slots__ = ("owner", "columns", "claimed", "total", "__weakref__")

    def __init__(self, owner, total):
        self.owner, self.columns, self.claimed, self.total = owner, {}, set(), total

    def array(self, pos, dtype) -> np.ndarray | None:
        out = self.columns.get(pos)
        if out is None:
            out = self.columns[pos] = np.empty(self.total, dtype=dtype)
        return out if out.dtype == dtype else None


class ResultSink:
    """The result's arrays for the new columns of a function over in-memory partitions ``parts`` (Arrow
    tables, in order), filled as partitions finish (`place`), allocated on first use.

    The arrays live in generations (`_Generation`): a partition goes to the first one whose rows at its
    offset are unwritten.  The sink holds its generations weakly: the `SunkFrame` s placed in one keep it
    alive, and a result given its arrays (`detach`) takes it out of the sink for good."""

    __slots__ = ("_where", "total", "_generations", "_lock")

    def __init__(self, parts):
        where, pos = {}, 0
        for p in parts:
            where[id(p)] = (p, pos)  # by identity: the partition object itself, as the scheduler passes it
            pos += p.num_rows
        self._where, self.total = where, pos
        self._generations, self._lock = [], threading.Lock()

    def __reduce__(self):
        return (ResultSink, ([],))  # another process holds copies of the partitions: place nothing there

    def detach(self, generation) -> dict:
        """``{position: array}`` of ``generation``, handed over to a result: no later placement (the same
        edge graph computed again) writes into that result."""
        with self._lock:
            self._generations = [g for g in self._generations if g() not in (None, generation)]
        return dict(generation.columns)

    def _claim(self, offset):
        """The generation whose rows at ``offset`` are free, now claimed (a new one when none is)."""
        with self._lock:
            for ref in self._generations:
                gen = ref()
                if gen is not None and offset not in gen.claimed:
                    break
            else:
                gen = _Generation(self, self.total)
                self._generations = [g for g in self._generations if g() is not None] + [weakref.ref(gen)]
            gen.claimed.add(offset)
            return gen

    def place(self, table, out, dtypes=None):
        """``out`` (the function's frame for source partition ``table``; ``dtypes`` its dtypes if known)
        with its new number columns copied into the sink (a `SunkFrame`), or ``out`` itself when nothing
        can be placed."""
        found = self._where.get(id(table))
        if found is None or found[0] is not table or len(out) != table.num_rows or not len(out):
            return out
        if not all(isinstance(d, np.dtype) and d.kind in "iuf" for d in (dtypes or list(out.dtypes))):
            return out
        offset, n = found[1], len(out)
        inputs = _buffer_ranges(table)
        arrays = [column_values(out, j) for j in range(out.shape[1])]
        gen, placed = None, []
        for pos, values in enumerate(arrays):
            address = values.ctypes.data
            if values.ndim != 1 or any(lo <= address < hi for lo, hi in inputs):
                continue  # passed through from the input: the assembly views it, no copy
            gen = gen or self._claim(offset)
            dest = gen.array(pos, values.dtype)  # only this placement writes rows offset..offset+n of it
            if dest is None:
                continue
            np.copyto(dest[offset:offset + n], values)
            placed.append(pos)
        if not placed:
            return out
        kept = [a for pos, a in enumerate(arrays) if pos not in placed]
        rest = create_dataframe_from_blocks([(a.reshape(1, -1), np.array([k])) for k, a in enumerate(kept)],
                                            index=out.index, columns=pd.RangeIndex(len(kept)))
        return SunkFrame(rest, placed, out.columns, gen, offset, n)


def placed_columns(parts):
    """``({position: the sink's array}, the partitions' rest frames)`` when ``parts`` are `SunkFrame` s of
    one sink that cover its rows in order with the same placed columns; else None."""
    first = parts[0]
    gen, pos = first.sink, 0
    for p in parts:
        if not is_sunk(p) or p.sink is not gen or p.offset != pos or p.placed != first.placed:
            return None
        pos += p.length
    if pos != gen.total:
        return None
    return gen.owner.detach(gen), [p.rest for p in parts]
