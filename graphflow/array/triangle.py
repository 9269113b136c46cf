"""Triangles and diagonals: tril, triu, tri, diag, diagonal, trace, tri*_indices.

A triangle is a per-block mask whose diagonal is shifted by the block's offsets:
block ``(i, j)`` starting at row ``r0`` and column ``c0`` keeps ``np.tril(block,
k - (c0 - r0))``.  A diagonal walks the blocks it crosses: runs of consecutive
positions that stay in one block pair each become one output block,

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(16).reshape(4, 4), chunks=(3, 2))
    >>> diagonal(x).chunks, diagonal(x).compute()
    (((2, 1, 1),), array([ 0,  5, 10, 15]))

and ``diag`` of a vector puts ``np.diag(block)`` on the block diagonal and zeros elsewhere.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .blockmap import fresh, per_block
from .chunks import normalize_chunks, offsets
from .core import Array, new_name
from .creation import asarray, from_array
from .manipulation import transpose
from .reductions import sum as _sum

__all__ = ["tril", "triu", "tri", "diag", "diagonal", "trace", "tril_indices", "triu_indices",
           "tril_indices_from", "triu_indices_from"]


def _triangle_block(block, k, lower):
    return np.tril(block, k) if lower else np.triu(block, k)


def _triangle(m, k, lower):
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'} needs an array of at least 2 dimensions, not {m.ndim}")
    rows, cols = offsets(m.chunks[-2]), offsets(m.chunks[-1])
    return per_block("tril" if lower else "triu", m, _triangle_block,
                     lambda idx: (k - (cols[idx[-1]] - rows[idx[-2]]), lower), token=(k, lower))


def tril(m, k=0):
    """``numpy.tril``: zeros above the ``k``-th diagonal of the last two axes."""
    return _triangle(m, k, True)


def triu(m, k=0):
    """``numpy.triu``: zeros below the ``k``-th diagonal of the last two axes."""
    return _triangle(m, k, False)


def tri(N, M=None, k=0, dtype=float, chunks="auto"):
    """``numpy.tri``: ones at and below the ``k``-th diagonal of an ``N`` x ``M`` array."""
    M = N if M is None else M
    chunks = normalize_chunks(chunks, (N, M), dtype)
    rows, cols = offsets(chunks[0]), offsets(chunks[1])
    return fresh("tri", chunks, np.dtype(dtype), lambda idx: (
        np.tri, chunks[0][idx[0]], chunks[1][idx[1]], k - (cols[idx[1]] - rows[idx[0]]), dtype), token=(N, M, k))


def _zeros(shape, dtype):
    return np.zeros(shape, dtype)


def diag(v, k=0):
    """``numpy.diag``: a 1-d ``v`` on the ``k``-th diagonal of a square array, or a 2-d ``v``'s diagonal."""
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    pad = (abs(k),) if k else ()
    vc = v.chunks[0]
    rows = (pad + vc) if k < 0 else (vc + pad)
    cols = (vc + pad) if k < 0 else (pad + vc)
    shift_r, shift_c = (1, 0) if k < 0 else (0, 1) if k > 0 else (0, 0)
    name = new_name("diag", v, k)
    nodes = {}
    for i, j in itertools.product(range(len(rows)), range(len(cols))):
        key = (name, i, j)
        b = i - shift_r
        if 0 <= b < len(vc) and j - shift_c == b:
            nodes[key] = Task(key, np.diag, Ref((v.name, b)))
        else:
            nodes[key] = Task(key, _zeros, (rows[i], cols[j]), v.dtype)
    return Array(name, (rows, cols), v.dtype, nodes, [v])


def _diagonal_block(block, rows, cols):
    return np.diagonal(block[..., rows, cols], axis1=-2, axis2=-1)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``numpy.diagonal``: the diagonal of ``axis1``/``axis2``, appended as the last axis."""
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    axis1, axis2 = normalize_axis_index(axis1, a.ndim), normalize_axis_index(axis2, a.ndim)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    rest = [d for d in range(a.ndim) if d not in (axis1, axis2)]
    a = transpose(a, rest + [axis1, axis2])
    n1, n2 = a.shape[-2], a.shape[-1]
    start, stop = max(0, -offset), max(max(0, -offset), min(n1, n2 - offset))
    ro, co = np.asarray(offsets(a.chunks[-2])), np.asarray(offsets(a.chunks[-1]))
    t = np.arange(start, stop)
    rb = np.searchsorted(ro, t, side="right") - 1
    cb = np.searchsorted(co, t + offset, side="right") - 1
    cuts = np.flatnonzero((np.diff(rb) != 0) | (np.diff(cb) != 0)) + 1
    runs = []  # (row block, col block, local row slice, local col slice, length)
    for part in np.split(t, cuts) if len(t) else []:
        i, j = int(rb[part[0] - start]), int(cb[part[0] - start])
        r0, c0 = int(part[0] - ro[i]), int(part[0] + offset - co[j])
        runs.append((i, j, slice(r0, r0 + len(part)), slice(c0, c0 + len(part)), len(part)))
    if not runs:
        runs = [(0, 0, slice(0, 0), slice(0, 0), 0)]
    name = new_name("diagonal", a, offset)
    lead = a.chunks[:-2]
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in lead]):
        for r, (i, j, rs, cs, _) in enumerate(runs):
            key = (name,) + idx + (r,)
            nodes[key] = Task(key, _diagonal_block, Ref((a.name,) + idx + (i, j)), rs, cs)
    return Array(name, lead + (tuple(run[4] for run in runs),), a.dtype, nodes, [a])


def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """``numpy.trace``: the sum along a diagonal."""
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _indices(fn, n, k, m, chunks):
    rows, cols = fn(n, k, m)
    return (from_array(rows, chunks=chunks), from_array(cols, chunks=chunks))


def tril_indices(n, k=0, m=None, chunks="auto"):
    """``numpy.tril_indices`` (the index arrays are small and computed here, so their lengths are known)."""
    return _indices(np.tril_indices, n, k, m, chunks)


def triu_indices(n, k=0, m=None, chunks="auto"):
    """``numpy.triu_indices`` (computed here, so their lengths are known)."""
    return _indices(np.triu_indices, n, k, m, chunks)


def _check_2d(arr):
    if np.ndim(arr) != 2:
        raise ValueError("input array must be 2-d")
    return arr.shape


def tril_indices_from(arr, k=0):
    """``numpy.tril_indices_from``."""
    shape = _check_2d(arr)
    return tril_indices(shape[-2], k=k, m=shape[-1])


def triu_indices_from(arr, k=0):
    """``numpy.triu_indices_from``."""
    shape = _check_2d(arr)
    return triu_indices(shape[-2], k=k, m=shape[-1])
