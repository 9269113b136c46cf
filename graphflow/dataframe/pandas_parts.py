"""The pandas slices behind ``from_pandas`` partitions, handed to a user's function as they are.

A ``from_pandas`` frame's partitions are Arrow tables that view the pandas frame's memory.  A function
given to ``map_partitions`` wants pandas again: converting each partition back (`pandas_edge.to_pandas_frame`:
the columns viewed, the index checked, a frame assembled and marked copy-on-write) costs ~0.4 ms a
partition, where a slice of the frame costs ~0.01 ms and is the same frame.  So `remember` records, for
each partition table, the frame (a shallow copy-on-write snapshot taken by ``from_pandas``) and the
rows it holds; `frame_of` answers with a fresh slice for a partition it knows, by identity of the
table object (the threads and sync schedulers hand a task the partition itself; in another process it
is a copy, and the caller converts as before).  An entry lives as long as its table.

Only frames whose conversion would give the same thing are remembered: numpy int/uint/float columns
with unique labels, one index level that is a RangeIndex or numpy numbers.  pandas' copy-on-write
keeps the user's frame unchanged when a function writes into its slice.

    >>> import pandas as pd, pyarrow as pa
    >>> pdf = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> part = pa.table({"x": [2.0, 3.0]})
    >>> remember(part, pdf, 1, 3, part.schema)
    >>> frame_of(part, part.schema).x.tolist()
    [2.0, 3.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils.alive import WhileAlive

__all__ = ["remember", "frame_of", "slices_alike"]

_FRAMES = WhileAlive()  # id(table) -> (frame, start, stop, schema), while the table lives


def slices_alike(pdf: pd.DataFrame) -> bool:
    """Whether slices of ``pdf`` are what converting its Arrow partitions back gives (see the docstring)."""
    numbers = all(isinstance(d, np.dtype) and d.kind in "iuf" for d in pdf.dtypes)
    index = pdf.index
    plain_index = index.nlevels == 1 and (isinstance(index, pd.RangeIndex) or (
        isinstance(index.dtype, np.dtype) and index.dtype.kind in "iuf"))
    return numbers and plain_index and pdf.columns.is_unique and pdf.shape[1] > 0


def remember(table, frame: pd.DataFrame, start: int, stop: int, schema) -> None:
    """Record that partition ``table`` (described by ``schema``) holds rows ``start:stop`` of ``frame``."""
    _FRAMES.put(id(table), table, (frame, start, stop, schema))


def frame_of(table, schema) -> pd.DataFrame | None:
    """A fresh slice of the frame partition ``table`` came from, if it is a remembered one described by
    ``schema``; else None."""
    entry = _FRAMES.get(id(table))
    if entry is None or entry[0] is not table or not entry[1][3].equals(schema):
        return None
    frame, start, stop, _ = entry[1]
    return frame.iloc[start:stop]
