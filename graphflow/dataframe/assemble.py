"""Numeric Arrow columns to pandas in one pass: the copy into each result column split between threads.

A computed DataFrame or Series is its partitions' tables concatenated (a
zero-copy list of chunks) and converted to pandas.  pyarrow's ``to_pandas``
copies each column on one thread (a Series has one: the whole 80 MB copy of a
10M-row float column runs on one core), makes the index an ordinary column,
and pandas' ``set_index`` then copies it once more and scans it to see whether
it is a range.  For the common case this module does it directly:

- every column (data and index) is a plain number (signed/unsigned ints,
  float32/64) or a timestamp without a time zone, ints without nulls (pandas
  would make them floats: left to pyarrow), at most one index level (an int
  one: int64);
- each column's chunks are copied into one ``numpy.empty`` result (the number
  columns of one dtype into one 2-D block: a consolidated frame), the copies
  (numpy releases the GIL) split into byte-balanced halves run by two threads,
  as `graphflow.comm.vmcopy` does (faulting in the fresh pages is much of the
  cost, and each thread faults in its own); a null becomes NaN (NaT);
- an integer index is checked chunk by chunk in place (no copy) for a constant
  step, the rule pandas' ``set_index`` applies, and becomes a ``RangeIndex``
  when it is one, else it is copied like the data.

A one-chunk column without nulls is not copied at all (a read-only view of
the Arrow buffer, as pyarrow's ``split_blocks`` conversion gives); nor are
null-free chunks lying end to end in one buffer (`joined_view`: the
partitions of a ``from_pandas`` frame are consecutive slices of its columns,
and a ``map_partitions`` function often passes columns through unchanged).

    >>> import pyarrow as pa
    >>> t = pa.table({"x": [1.5, None], "__index_level_0__": [10, 11]})
    >>> pdf = numeric_frame(t, ["x"], ["__index_level_0__"], [None])
    >>> pdf.x.tolist(), pdf.index
    ([1.5, nan], RangeIndex(start=10, stop=12, step=1))

`numeric_frame` returns None when the table is not of that kind; the caller
then takes pyarrow's general path.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks

from .known_ranges import range_of

__all__ = ["numeric_frame", "concat_frames", "joined_view", "column_values", "PARALLEL_BYTES"]

PARALLEL_BYTES = 16 * 2**20  # results this big are copied by two threads
_CHECK_BLOCK = 1 << 16  # the range check's working block (512 KB of int64: stays in cache)


def _numpy_dtype(t: pa.DataType):
    """The numpy dtype of a column of Arrow type ``t`` this module converts, else None."""
    if pa.types.is_integer(t) or pa.types.is_float32(t) or pa.types.is_float64(t):
        return np.dtype(t.to_pandas_dtype())
    if pa.types.is_timestamp(t) and t.tz is None:
        return np.dtype(f"datetime64[{t.unit}]")  # pandas keeps the unit, as pyarrow's conversion does
    return None


# what a null becomes, per numpy kind (ints with nulls are left to pyarrow: pandas makes them floats)
_MISSING = {"f": np.nan, "M": np.datetime64("NaT")}


def _convertible(col: pa.ChunkedArray) -> bool:
    dtype = _numpy_dtype(col.type)
    return dtype is not None and (dtype.kind in _MISSING or col.null_count == 0)


def _values(chunk: pa.Array, dtype) -> np.ndarray:
    """The chunk's value buffer as numpy (no copy; nulls' slots hold whatever is there)."""
    return np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)


def _copy_into(dest: np.ndarray, chunk) -> None:
    if isinstance(chunk, np.ndarray):  # a pandas partition's column (`concat_frames`)
        np.copyto(dest, chunk)
        return
    write = getattr(chunk, "write_into", None)
    if write is not None:  # a deferred column (`graphflow.dataframe.pending`): computed straight into dest
        write(dest)
        return
    np.copyto(dest, _values(chunk, dest.dtype))
    if chunk.null_count:
        dest[chunk.is_null().to_numpy(zero_copy_only=False)] = _MISSING[dest.dtype.kind]


def _run_copies(jobs: list, nbytes: int, alongside=None, alongside_bytes: int = 0):
    """Run the copies ``(dest, chunk)``; big totals in two byte-balanced halves, one on a helper thread.
    ``alongside()`` (a scan reading ``alongside_bytes``) runs first on the caller's thread, while the helper
    copies, its share counted in the balance; its result is returned."""
    if nbytes < PARALLEL_BYTES or not jobs or (os.cpu_count() or 1) < 2:
        out = alongside() if alongside is not None else None
        for dest, chunk in jobs:
            _copy_into(dest, chunk)
        return out
    half, first, acc = (nbytes + alongside_bytes) / 2, [], 0
    while jobs and acc < half:
        job = jobs.pop(0)
        first.append(job)
        acc += job[0].nbytes
    errors = []

    def helper():
        try:
            for dest, chunk in first:
                _copy_into(dest, chunk)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=helper, name="graphflow-assemble", daemon=True)
    thread.start()
    try:
        out = alongside() if alongside is not None else None
        for dest, chunk in jobs:
            _copy_into(dest, chunk)
    finally:
        thread.join()
    if errors:
        raise errors[0]
    return out


def _root_region(a: np.ndarray):
    """``(owner, address, size)`` of the memory ``a`` views (its base chain's root: a numpy array or any
    buffer, e.g. a ``pyarrow.Buffer``), or None when that root exposes no contiguous buffer."""
    root = a
    while isinstance(root, np.ndarray) and root.base is not None:
        if not isinstance(root.base, np.ndarray) and _bytes_of(root.base) is None:
            break  # an opaque owner (pyarrow's blocks of a to_pandas frame: a capsule): the array over it is the root
        root = root.base
    raw = _bytes_of(root)
    return None if raw is None else (root, raw.ctypes.data, raw.nbytes)


def _bytes_of(root):
    """The whole memory of ``root`` as a flat uint8 array (no copy), or None."""
    if isinstance(root, np.ndarray):
        return root.reshape(-1).view(np.uint8) if root.flags.c_contiguous else None
    try:
        return np.frombuffer(root, dtype=np.uint8)
    except (TypeError, ValueError, BufferError):
        return None


def joined_view(pieces: list):
    """One read-only array over ``pieces`` (1-D arrays of one dtype) without a copy when they lie end to end
    in one allocation (a frame made by ``from_pandas`` keeps each column in one buffer, and its partitions,
    or a function's columns it passed through, are consecutive slices of it); else None.

        >>> base = np.arange(6.0)
        >>> joined_view([base[:2], base[2:5]]).tolist(), joined_view([base[:2], base[3:]])
        ([0.0, 1.0, 2.0, 3.0, 4.0], None)
    """
    if not pieces or any(p.ndim != 1 or not p.flags.c_contiguous or p.dtype != pieces[0].dtype
                         for p in pieces):
        return None
    for a, b in zip(pieces, pieces[1:]):
        if a.ctypes.data + a.nbytes != b.ctypes.data:
            return None
    regions = [_root_region(p) for p in (pieces[0], pieces[-1])]
    if regions[0] is None or regions[1] is None or regions[0][1:] != regions[1][1:]:
        return None  # two allocations that happen to touch: no one owner keeps the whole span alive
    owner, address, _ = regions[0]
    n = sum(len(p) for p in pieces)
    # the region's start and end lie in one allocation, so every piece between them does too
    out = _bytes_of(owner)
    start = pieces[0].ctypes.data - address
    out = out[start:start + n * pieces[0].itemsize].view(pieces[0].dtype)
    out.flags.writeable = False  # the memory is shared (with the input, other results): never written through
    return out


def _view(col: pa.ChunkedArray):
    """A numpy view of a column made of null-free chunks lying end to end in one buffer (one chunk, or the
    consecutive slices of one), else None (it must be copied)."""
    chunks = [c for c in col.chunks if len(c)]
    if not chunks or any(c.null_count or not isinstance(c, pa.Array) for c in chunks):
        return None
    dtype = _numpy_dtype(col.type)
    if len(chunks) == 1:
        return _values(chunks[0], dtype)
    return joined_view([_values(c, dtype) for c in chunks])


def _fill(out: np.ndarray, col: pa.ChunkedArray, jobs: list) -> np.ndarray:
    """``out`` (empty), with the copies of ``col`` 's chunks into it appended to ``jobs``."""
    pos = 0
    for c in col.chunks:
        if len(c):
            jobs.append((out[pos:pos + len(c)], c))
            pos += len(c)
    return out


def _column(col: pa.ChunkedArray, jobs: list) -> np.ndarray:
    view = _view(col)
    return view if view is not None else _fill(np.empty(len(col), dtype=_numpy_dtype(col.type)), col, jobs)


def _data_blocks(cols: list, jobs: list) -> list:
    """pandas blocks ``(2-D values, column positions)`` of the data columns: the copied columns of one
    dtype share one block (a consolidated frame, as pandas builds one: groupby/resample would otherwise
    merge the columns into a block first, one more copy), a viewed column is a block of its own."""
    blocks, by_dtype = [], {}
    for pos, col in enumerate(cols):
        view = _view(col)
        if view is not None:
            blocks.append((view.reshape(1, -1), np.array([pos])))
        else:
            by_dtype.setdefault(_numpy_dtype(col.type), []).append(pos)
    for dtype, where in by_dtype.items():
        block = np.empty((len(where), len(cols[where[0]])), dtype=dtype)
        for row, pos in enumerate(where):
            _fill(block[row], cols[pos], jobs)
        blocks.append((block, np.array(where)))
    return blocks


def _steps_by_numpy(v: np.ndarray, step: int) -> bool:
    """Whether every value of ``v`` is the one before it plus ``step`` (read in cache-sized blocks)."""
    buf = np.empty(_CHECK_BLOCK, dtype=np.int64)
    for s in range(0, len(v) - 1, _CHECK_BLOCK):
        a = v[s:s + _CHECK_BLOCK + 1]
        d = np.subtract(a[1:], a[:-1], out=buf[:len(a) - 1])
        if d.min() != step or d.max() != step:
            return False
    return True


try:  # pandas' own check behind set_index (one pass, no temporaries): 5 ms for 10M values, numpy's 10
    from pandas._libs.lib import is_sequence_range as _steps_by
except ImportError:  # pragma: no cover - a pandas without it
    _steps_by = _steps_by_numpy


def _as_range(col: pa.ChunkedArray):
    """``range`` of an int64 column without nulls when its values go up or down by one constant step
    (pandas' rule for an index made from a column), else None."""
    chunks = [c for c in col.chunks if len(c)]
    n = len(col)
    if n < 2 or not pa.types.is_int64(col.type):
        return None
    known = range_of(col)  # slices of a written-out RangeIndex (from_pandas): no need to read them
    if known is not None:
        return known
    views = [_values(c, np.dtype(np.int64)) for c in chunks]
    first = int(views[0][0])
    second = int(views[0][1]) if len(views[0]) > 1 else int(views[1][0])
    step = second - first
    stop = first + step * n
    if step == 0 or not -(2**63) <= stop < 2**63:
        return None
    pos = 0
    for v in views:
        if int(v[0]) != first + step * pos or (len(v) > 1 and not _steps_by(v, step)):
            return None
        pos += len(v)
    return range(first, stop, step)


def numeric_frame(table: pa.Table, data: list, index: list, index_names: list):
    """The pandas DataFrame of ``table`` 's ``data`` columns indexed by its ``index`` columns (at most one,
    named ``index_names[0]``; none: a fresh RangeIndex), the columns named as in ``data``;
    None unless every column is a plain number column this module converts (see the module docstring).
    ``table`` may be a `pending.JoinedParts`: its deferred chunks compute into the result as it is filled."""
    if len(index) > 1 or table.num_rows == 0 or not data:
        return None
    cols = [table.column(n) for n in data + index]
    if not all(_convertible(c) for c in cols):
        return None
    if index and pa.types.is_integer(cols[-1].type) and not pa.types.is_int64(cols[-1].type):
        return None  # other int types: pandas' set_index makes ranges of them too; left to that path
    jobs = []
    numbers = all(_numpy_dtype(c.type).kind in "iuf" for c in cols[:len(data)])
    if numbers:
        blocks = _data_blocks(cols[:len(data)], jobs)
    else:  # timestamps: pandas wraps them in its own arrays; let its constructor do that
        arrays = [_column(c, jobs) for c in cols[:len(data)]]
    nbytes = sum(dest.nbytes for dest, _ in jobs)
    if index:  # the index's range check (a read of 8 bytes a row, about half a copy's cost) overlaps the copies
        where = _run_copies(jobs, nbytes, lambda: _as_range(cols[-1]), len(cols[-1]) * 4)
        values = None
        if where is None:  # not a range: the index is copied (viewed) after all
            values = _column(cols[-1], jobs := [])
            _run_copies(jobs, sum(dest.nbytes for dest, _ in jobs))
    else:
        where = range(table.num_rows)
        _run_copies(jobs, nbytes)
    name = index_names[0] if index else None
    idx = pd.RangeIndex(where.start, where.stop, where.step, name=name) if where is not None \
        else pd.Index(values, name=name, copy=False)
    if numbers:
        return create_dataframe_from_blocks(blocks, index=idx, columns=pd.Index(data))
    return pd.DataFrame(dict(zip(data, arrays)), index=idx, copy=False)


def column_values(frame: pd.DataFrame, j: int):
    """Column ``j`` 's values (numpy for a numpy dtype), without building a Series: pandas' own accessor,
    50x cheaper than ``frame.iloc[:, j].to_numpy()`` (which matters at a few columns x 20 partitions)."""
    get = getattr(frame, "_get_column_array", None)  # pandas >= 1.3; the public form otherwise
    return get(j) if get is not None else frame.iloc[:, j].to_numpy()


def concat_frames(frames: list, index_names, placed: dict | None = None) -> pd.DataFrame | None:
    """``pd.concat(frames)`` for pandas frames of the same number columns (numpy int/uint/float dtypes, in
    the same order), the copies split between two threads, the columns of one dtype in one block; the
    index is the frames' indexes appended (ranges that follow on stay a RangeIndex, as pandas does)
    named ``index_names`` (one level), or a fresh RangeIndex when ``index_names`` is None.  ``placed``
    (``{position: whole column}``, `sink`) are result columns already assembled; the frames then hold
    the others, in order.  None when the frames are of another kind.  The caller labels the columns."""
    placed = placed or {}
    dtypes = list(frames[0].dtypes)
    ncols = len(dtypes) + len(placed)
    free = [pos for pos in range(ncols) if pos not in placed]  # the result position of each frame column
    if not all(isinstance(d, np.dtype) and d.kind in "iuf" for d in dtypes) or not ncols:
        return None
    if any(list(f.dtypes) != dtypes for f in frames[1:]):
        return None
    if index_names is not None and (len(index_names) != 1 or any(f.index.nlevels != 1 for f in frames)):
        return None
    n = sum(len(f) for f in frames)
    jobs, by_dtype = [], {}
    blocks = [(values.reshape(1, -1), np.array([pos])) for pos, values in placed.items()]
    for pos, d in enumerate(dtypes):
        by_dtype.setdefault(d, []).append(pos)
    for d, where in by_dtype.items():
        pieces = {pos: [column_values(f, pos) for f in frames if len(f)] for pos in where}
        views = {pos: joined_view(p) for pos, p in pieces.items()}
        for pos, view in views.items():
            if view is not None:  # columns a function passed through from a from_pandas frame: no copy
                blocks.append((view.reshape(1, -1), np.array([free[pos]])))
        where = [pos for pos in where if views[pos] is None]
        if not where:
            continue
        block = np.empty((len(where), n), dtype=d)
        for row, pos in enumerate(where):
            start = 0
            for piece in pieces[pos]:
                jobs.append((block[row, start:start + len(piece)], piece))
                start += len(piece)
        blocks.append((block, np.array([free[pos] for pos in where])))
    _run_copies(jobs, sum(dest.nbytes for dest, _ in jobs))
    if index_names is None:
        idx = pd.RangeIndex(n)
    else:
        idx = frames[0].index.append([f.index for f in frames[1:]]) if len(frames) > 1 else frames[0].index
        idx = idx.rename(index_names[0])
    return create_dataframe_from_blocks(blocks, index=idx, columns=pd.RangeIndex(ncols))
