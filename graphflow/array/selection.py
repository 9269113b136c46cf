"""Selecting elements: take, compress, extract, choose, select, piecewise, isin, union1d,
delete, insert, shuffle.

Selections by position become slicing plans with lengths known up front:
``compress`` and ``extract`` turn a numpy condition into positions at once, and
a *graphflow* condition is computed first (so the result's block lengths are
known; the arrays it selects from stay lazy).  ``choose``, ``select`` and
``piecewise`` are elementwise over aligned blocks.  ``isin`` compares every
block with every block of the test elements and or-reduces over them, so
neither side is ever gathered into one task.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(6, chunks=4)
    >>> compress([0, 1, 1, 0, 0, 1], x).compute(), isin(x, [1, 5]).compute()
    (array([1, 2, 5]), array([False,  True, False, False, False,  True]))
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .blockwise import blockwise, map_blocks
from .core import Array, new_name
from .creation import asarray
from .elementwise import elemwise
from .manipulation import concatenate, ravel, reshape
from .reductions import any as _any
from .rechunk import rechunk

__all__ = ["take", "compress", "extract", "choose", "select", "piecewise", "isin", "union1d", "delete",
           "insert", "gather", "shuffle"]


def _along(x, axis, index):
    return x[(slice(None),) * axis + (index,)]


def take(a, indices, axis=None):
    """``numpy.take`` (a graphflow ``indices`` is computed first: it decides the result's shape)."""
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis_index(axis, a.ndim)
    idx = np.asarray(indices.compute() if isinstance(indices, Array) else indices)
    if idx.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    if idx.ndim == 0:
        return _along(a, axis, int(idx))
    out = _along(a, axis, idx.ravel())
    if idx.ndim == 1:
        return out
    out = rechunk(out, tuple(-1 if d == axis else c for d, c in enumerate(out.chunks)))
    return reshape(out, a.shape[:axis] + idx.shape + a.shape[axis + 1:])


def _positions(condition, n, axis, what):
    cond = np.asarray(condition.compute() if isinstance(condition, Array) else condition)
    if cond.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    keep = np.flatnonzero(cond)
    if keep.size and keep[-1] >= n:
        raise IndexError(f"index {keep[-1]} is out of bounds for axis {axis} with size {n}")
    return keep


def compress(condition, a, axis=None):
    """``numpy.compress``: the slices along ``axis`` where ``condition`` is true (lengths known: a
    graphflow condition is computed first)."""
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis_index(axis, a.ndim)
    return _along(a, axis, _positions(condition, a.shape[axis], axis, "compress"))


def extract(condition, arr):
    """``numpy.extract``: ``compress(ravel(condition), ravel(arr))``."""
    cond = condition.ravel() if isinstance(condition, Array) else np.ravel(condition)
    return compress(cond, ravel(asarray(arr)))


def _choose(a, *choices, mode="raise"):
    return np.choose(a, choices, mode=mode)


def choose(a, choices, mode="raise"):
    """``numpy.choose``: element-wise pick from ``choices`` by the index array ``a``."""
    choices = [asarray(c) if isinstance(c, Array) else np.asarray(c) for c in choices]
    dtype = np.result_type(*[c.dtype for c in choices])
    return elemwise(_choose, a, *choices, mode=mode, dtype=dtype)


def _select(*args, n, default):
    return np.select(list(args[:n]), list(args[n:]), default)


def select(condlist, choicelist, default=0):
    """``numpy.select``: the first choice whose condition holds, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    for i, c in enumerate(condlist):
        if (c.dtype if isinstance(c, Array) else np.asarray(c).dtype) != bool:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    dtype = np.result_type(*[getattr(c, "dtype", np.asarray(c).dtype) for c in choicelist], np.asarray(default))
    return elemwise(_select, *condlist, *choicelist, n=len(condlist), default=default, dtype=dtype)


def _piecewise(x, *conds, funclist, args, kw):
    return np.piecewise(x, list(conds), funclist, *args, **kw)


def piecewise(x, condlist, funclist, *args, **kw):
    """``numpy.piecewise`` block by block (conditions are aligned with ``x``'s blocks)."""
    x = asarray(x)
    condlist = [condlist] if isinstance(condlist, Array) or np.ndim(condlist) == 0 else list(condlist)
    conds = [c if isinstance(c, Array) else asarray(np.broadcast_to(np.asarray(c, dtype=bool), x.shape))
             for c in condlist]
    return map_blocks(_piecewise, x, *conds, funclist=funclist, args=args, kw=kw, dtype=x.dtype)


def _isin_block(element, test):
    return np.isin(element, test)[..., None]


def isin(element, test_elements, assume_unique=False, invert=False):
    """``numpy.isin``: every block of ``element`` against every block of ``test_elements``, or-reduced."""
    element = asarray(element)
    test = ravel(asarray(test_elements))
    letters = "abcdefghijklmnopqrstuvwxy"[:element.ndim]
    hits = blockwise(_isin_block, letters + "z", element, letters, test, "z", dtype=bool,
                     adjust_chunks={"z": _one})
    out = _any(hits, axis=-1)
    return elemwise(np.logical_not, out) if invert else out


def _one(_):
    return 1


def _unique_block(block):
    return np.unique(block)


def _unique_all(parts):
    return np.unique(np.concatenate(parts))


def union1d(ar1, ar2):
    """``numpy.union1d``: the sorted unique values of both (one output block of unknown length until
    computed; call ``compute_chunk_sizes()`` to learn it)."""
    flat = concatenate([ravel(asarray(ar1)), ravel(asarray(ar2))])
    parts = map_blocks(_unique_block, flat, dtype=flat.dtype, chunks=((np.nan,) * flat.numblocks[0],))
    name = new_name("union1d", parts)
    key = (name, 0)
    nodes = {key: Task(key, _unique_all, [Ref((parts.name, i)) for i in range(parts.numblocks[0])])}
    return Array(name, ((np.nan,),), flat.dtype, nodes, [parts])


def delete(arr, obj, axis=None):
    """``numpy.delete``: the array without the slices ``obj`` (int, slice or ints) along ``axis``."""
    a = asarray(arr)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis_index(axis, a.ndim)
    n = a.shape[axis]
    keep = np.delete(np.arange(n), obj)
    return _along(a, axis, _as_slice(keep))


def _as_slice(positions):
    """A slice when ``positions`` are evenly spaced (plain slicing keeps whole blocks), else the array."""
    if len(positions) > 1 and len(set(np.diff(positions).tolist())) == 1 and positions[1] > positions[0]:
        return slice(int(positions[0]), int(positions[-1]) + 1, int(positions[1] - positions[0]))
    return positions


def insert(arr, obj, values, axis=None):
    """``numpy.insert``: ``values`` placed before the positions ``obj`` (int, slice or ints) along ``axis``."""
    a = asarray(arr)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis_index(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(obj, slice):
        obj = np.arange(*obj.indices(n))
    where = np.asarray(obj)
    if where.dtype.kind not in "iu":
        raise IndexError("index array argument obj to insert must be one dimensional or scalar")
    vals = values.compute() if isinstance(values, Array) else values
    if where.ndim == 0:
        k = operator.index(where[()])
        if not -n <= k <= n:
            raise IndexError(f"index {k} is out of bounds for axis {axis} with size {n}")
        k = k + n if k < 0 else k
        vals = np.moveaxis(np.array(vals, ndmin=a.ndim, dtype=a.dtype), 0, axis)
        shape = list(a.shape)
        shape[axis] = vals.shape[axis]
        pieces = [(k, np.broadcast_to(vals, shape))]
    else:
        where = np.where(where < 0, where + n, where).ravel()
        if ((where < 0) | (where > n)).any():
            raise IndexError(f"index {where[(where < 0) | (where > n)][0]} is out of bounds for axis {axis} "
                             f"with size {n}")
        shape = list(a.shape)
        shape[axis] = len(where)
        vals = np.broadcast_to(np.asarray(vals, dtype=a.dtype), shape)
        order = np.argsort(where, kind="stable")
        pieces = [(int(where[j]), np.take(vals, [j], axis=axis)) for j in order]
    parts, prev = [], 0
    for k, block in pieces:
        if k > prev:
            parts.append(_along(a, axis, slice(prev, k)))
        parts.append(asarray(np.ascontiguousarray(block)))
        prev = k
    if prev < n or not parts:
        parts.append(_along(a, axis, slice(prev, n)))
    return concatenate(parts, axis=axis)


def _gather_rows(blocks_, locals_, positions, axis, length):
    """Rows ``locals_[k]`` of ``blocks_[k]`` (along ``axis``) placed at ``positions[k]`` of one new block."""
    shape = list(blocks_[0].shape)
    shape[axis] = length
    out = np.empty(shape, dtype=blocks_[0].dtype)
    for block, loc, pos in zip(blocks_, locals_, positions):
        out[(slice(None),) * axis + (pos,)] = np.take(block, loc, axis=axis)
    return out


def gather(x, positions, axis, lengths):
    """``x.take(positions, axis)`` cut into blocks of ``lengths`` along ``axis``: each output block
    reads only the input blocks holding its positions."""
    positions = np.asarray(positions, dtype=np.intp)
    n = x.shape[axis]
    bad = positions[(positions < -n) | (positions >= n)]
    if bad.size:
        raise IndexError(f"index {int(bad[0])} is out of bounds for axis {axis} with size {n}")
    positions = np.where(positions < 0, positions + n, positions)
    bounds = np.cumsum((0,) + x.chunks[axis])
    owner = np.searchsorted(bounds, positions, side="right") - 1
    starts = np.cumsum((0,) + tuple(lengths))
    name = new_name("gather", x, positions, axis, tuple(lengths))
    chunks = list(x.chunks)
    chunks[axis] = tuple(lengths)
    nodes = {}
    for idx in np.ndindex(*[len(c) for c in chunks]):
        part = slice(starts[idx[axis]], starts[idx[axis] + 1])
        sub, subowner = positions[part], owner[part]
        refs, locs, poss = [], [], []
        for b in sorted(set(subowner.tolist())) or [0]:
            hit = np.flatnonzero(subowner == b)
            refs.append(Ref((x.name,) + idx[:axis] + (b,) + idx[axis + 1:]))
            locs.append(sub[hit] - bounds[b])
            poss.append(hit)
        nodes[(name,) + idx] = Task((name,) + idx, _gather_rows, refs, locs, poss, axis, len(sub))
    return Array(name, chunks, x.dtype, nodes, [x])


def shuffle(x, indexer, axis, chunks="auto"):
    """Dask's ``shuffle``: reorder ``axis`` as the groups of ``indexer`` (lists of positions) say, each
    group whole in one block; groups are packed into blocks about as long as ``x``'s largest."""
    x = asarray(x)
    axis = normalize_axis_index(axis, x.ndim)
    if chunks != "auto":
        raise NotImplementedError("shuffle supports only chunks='auto' (as Dask)")
    groups = [np.asarray(g, dtype=np.intp).ravel() for g in indexer]
    target = max(x.chunks[axis])
    lengths, current = [], 0
    for g in groups:
        if current and current + len(g) > target:
            lengths.append(current)
            current = 0
        current += len(g)
    lengths.append(current)
    flat = np.concatenate(groups) if groups else np.zeros(0, np.intp)
    return gather(x, flat, axis, lengths)
