"""Broadcasting and index grids: broadcast_to, broadcast_arrays, meshgrid, indices,
fromfunction, atleast_1d/2d/3d, ravel_multi_index, unravel_index, and the
metadata functions result_type, shape, ndim, size.

``broadcast_to`` maps every output block to the input block it stretches
(block 0 along a stretched or new axis) and calls ``np.broadcast_to`` on it,
so nothing is copied until a consumer writes; new axes are one block unless
``chunks=`` says otherwise.

    >>> import graphflow.array as ga
    >>> xx, yy = meshgrid(ga.arange(3, chunks=2), ga.arange(2, chunks=1))
    >>> xx.chunks, yy.compute().tolist()
    (((1, 1), (2, 1)), [[0, 0, 0], [1, 1, 1]])
"""

from __future__ import annotations

import numpy as np

from ..spec import Ref, Task
from .blockmap import fresh
from .blockwise import map_blocks, unify_chunks
from .chunks import normalize_chunks, offsets
from .core import Array, new_name
from .creation import arange, asarray
from .elementwise import elemwise
from .manipulation import reshape, stack, swapaxes
from .rechunk import rechunk

__all__ = ["broadcast_to", "broadcast_arrays", "meshgrid", "indices", "fromfunction", "atleast_1d",
           "atleast_2d", "atleast_3d", "ravel_multi_index", "unravel_index", "result_type", "shape", "ndim",
           "size"]


def _broadcast_block(block, shape):
    return np.broadcast_to(block, shape)


def broadcast_to(x, shape, chunks=None) -> Array:
    """``numpy.broadcast_to``: a read-only view per block; ``chunks`` for the new and stretched axes."""
    x = asarray(x)
    shape = tuple(int(s) for s in ((shape,) if np.ndim(shape) == 0 else shape))
    new = len(shape) - x.ndim
    if new < 0 or any(n != s and n != 1 for n, s in zip(x.shape, shape[new:])) or any(s < 0 for s in shape):
        raise ValueError(f"cannot broadcast an array of shape {x.shape} to the requested shape {shape}")
    if chunks is None:
        out_chunks = [(s,) if s else (0,) for s in shape[:new]]
        out_chunks += [c if n == s else ((s,) if s else (0,)) for c, n, s in zip(x.chunks, x.shape, shape[new:])]
    else:
        out_chunks = list(normalize_chunks(chunks, shape, x.dtype))
        kept = zip(x.chunks, x.shape, shape[new:])
        want = tuple(out_chunks[new + d] if n == s else c for d, (c, n, s) in enumerate(kept))
        x = rechunk(x, want)  # axes that are not broadcast take the blocks asked for
    if tuple(out_chunks) == x.chunks:
        return x
    name = new_name("broadcast_to", x, shape, out_chunks)
    nodes = {}
    for idx in np.ndindex(*[len(c) for c in out_chunks]):
        src = tuple(i if n == s else 0 for i, n, s in zip(idx[new:], x.shape, shape[new:]))
        bshape = tuple(out_chunks[d][i] for d, i in enumerate(idx))
        nodes[(name,) + idx] = Task((name,) + idx, _broadcast_block, Ref((x.name,) + src), bshape)
    return Array(name, out_chunks, x.dtype, nodes, [x])


def broadcast_arrays(*args, subok=False):
    """``numpy.broadcast_arrays``: every argument broadcast to the common shape (a tuple, as numpy 2)."""
    arrays = [asarray(a) for a in args]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])
    ndim = len(shape)
    pairs = [(a, tuple(range(ndim - a.ndim, ndim))) for a in arrays]
    chunks, pairs = unify_chunks(pairs)
    out_chunks = tuple(chunks.get(d, (shape[d],)) if shape[d] != 1 else (1,) for d in range(ndim))
    return tuple(broadcast_to(a, shape, chunks=out_chunks) for a, _ in pairs)


def meshgrid(*xi, sparse=False, indexing="xy"):
    """``numpy.meshgrid``: coordinate arrays from 1-d coordinate vectors (each keeps its blocks)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    xi = [asarray(x).ravel() for x in xi]
    n = len(xi)
    out = []
    for k, x in enumerate(xi):
        shape = [1] * n
        shape[k] = x.shape[0]
        out.append(reshape(x, tuple(shape)))
    if indexing == "xy" and n > 1:
        out = [swapaxes(a, 0, 1) for a in out]
    if sparse:
        return tuple(out)
    full = tuple(int(max(a.shape[d] for a in out)) for d in range(n))
    chunks = tuple(next(a.chunks[d] for a in out if a.shape[d] == full[d]) for d in range(n))
    return tuple(broadcast_to(a, full, chunks=chunks) for a in out)


def indices(dimensions, dtype=int, chunks="auto") -> Array:
    """``numpy.indices``: an ``(ndim, *dimensions)`` grid of coordinates."""
    dimensions = tuple(int(d) for d in dimensions)
    chunks = normalize_chunks(chunks, dimensions, dtype)
    grids = []
    for d, n in enumerate(dimensions):
        shape = [1] * len(dimensions)
        shape[d] = n
        axis = reshape(arange(n, chunks=(chunks[d],), dtype=dtype), tuple(shape))
        grids.append(broadcast_to(axis, dimensions, chunks=chunks))
    if not grids:
        return asarray(np.empty((0,), dtype=dtype))
    return stack(grids)


def _from_function(func, starts, shape, dtype, kwargs):
    coords = np.indices(shape, dtype=dtype)
    return func(*[c + s for c, s in zip(coords, starts)], **kwargs)


def fromfunction(func, chunks="auto", shape=None, dtype=None, **kwargs) -> Array:
    """``numpy.fromfunction``: ``func`` of each block's coordinate arrays (``dtype``: the coordinates')."""
    if shape is None:
        raise TypeError("fromfunction needs shape=")
    shape = tuple(int(s) for s in shape)
    coord = np.dtype(float if dtype is None else dtype)
    chunks = normalize_chunks(chunks, shape, coord)
    out = np.asarray(_from_function(func, (0,) * len(shape), (1,) * len(shape), coord, kwargs))
    starts = [offsets(c) for c in chunks]
    return fresh("fromfunction", chunks, out.dtype, lambda idx: (
        _from_function, func, tuple(starts[d][i] for d, i in enumerate(idx)),
        tuple(chunks[d][i] for d, i in enumerate(idx)), coord, kwargs), token=(func, shape, str(coord), kwargs))


def _at_least(arys, n, put):
    out = []
    for a in arys:
        a = asarray(a)
        if a.ndim < n:
            a = reshape(a, put(a.shape))
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys):
    """``numpy.atleast_1d``."""
    return _at_least(arys, 1, lambda s: (1,))


def atleast_2d(*arys):
    """``numpy.atleast_2d``: a 1-d array becomes one row."""
    return _at_least(arys, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """``numpy.atleast_3d``: ``(N,)`` becomes ``(1, N, 1)``, ``(M, N)`` becomes ``(M, N, 1)``."""
    return _at_least(arys, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _ravel_multi(*coords, dims, mode, order):
    return np.ravel_multi_index(coords, dims, mode=mode, order=order)


def ravel_multi_index(multi_index, dims, mode="raise", order="C") -> Array:
    """``numpy.ravel_multi_index``: flat indices from one coordinate array per dimension."""
    coords = [asarray(c) for c in multi_index] if not isinstance(multi_index, Array) else \
        [multi_index[i] for i in range(multi_index.shape[0])]
    if len(coords) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    return elemwise(_ravel_multi, *coords, dims=tuple(dims), mode=mode, order=order, dtype=np.intp)


def _unravel(block, shape, order, d):
    return np.unravel_index(block, shape, order=order)[d]


def unravel_index(indices, shape, order="C"):
    """``numpy.unravel_index``: a tuple of coordinate arrays, one per dimension of ``shape``."""
    indices = asarray(indices)
    shape = tuple(int(s) for s in ((shape,) if np.ndim(shape) == 0 else shape))
    if indices.dtype.kind not in "iu":
        raise TypeError("only int indices permitted")
    np.unravel_index(np.empty(0, dtype=np.intp), shape, order=order)  # numpy's checks of shape and order
    return tuple(map_blocks(_unravel, indices, shape, order, d, dtype=np.intp) for d in range(len(shape)))


def result_type(*arrays_and_dtypes) -> np.dtype:
    """``numpy.result_type``, reading graphflow Arrays' dtypes."""
    return np.result_type(*[a.dtype if isinstance(a, Array) else a for a in arrays_and_dtypes])


def shape(a) -> tuple:
    """``numpy.shape``."""
    return a.shape if isinstance(a, Array) else np.shape(a)


def ndim(a) -> int:
    """``numpy.ndim``."""
    return a.ndim if isinstance(a, Array) else np.ndim(a)


def size(a, axis=None) -> int:
    """``numpy.size``."""
    if not isinstance(a, Array):
        return np.size(a, axis)
    return a.size if axis is None else a.shape[axis]
