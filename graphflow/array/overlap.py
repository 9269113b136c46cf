"""Overlapping blocks: overlap, trim_internal, map_overlap (Dask's semantics).

``overlap(x, depth, boundary)`` gives every block ``depth`` elements of its
neighbours on each side, axis by axis (so corners come from the diagonal
neighbour).  At the array's edges ``boundary`` says what lies beyond:
``"none"`` (nothing: edge blocks grow on their inner side only),
``"reflect"`` (mirrored, edge included), ``"periodic"`` (wrapped),
``"nearest"`` (the edge repeated) or a constant.  Blocks shorter than
``depth`` are merged first (Dask's ``allow_rechunk``).

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(6, chunks=3)
    >>> overlap(x, 1, "periodic").compute()
    array([5, 0, 1, 2, 3, 2, 3, 4, 5, 0])
    >>> map_overlap(lambda b: b + np.roll(b, 1) + np.roll(b, -1), x, depth=1, boundary="periodic").compute()
    array([ 6,  3,  6,  9, 12,  9])

``trim_internal`` cuts the shared strips off again; ``map_overlap`` is overlap,
`map_blocks`, trim.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..spec import Ref, Task
from .blockmap import per_block
from .blockwise import map_blocks
from .chunks import blocks_for
from .core import Array, new_name
from .creation import asarray
from .pad import pad_axis
from .rechunk import rechunk

__all__ = ["overlap", "trim_internal", "map_overlap"]

_MODES = {"reflect": "symmetric", "periodic": "wrap", "nearest": "edge"}


def _per_axis(value, ndim, default, what):
    """``value`` (scalar, tuple per axis, or {axis: value}) as a dict over all axes."""
    if isinstance(value, dict):
        out = {d: default for d in range(ndim)}
        for k, v in value.items():
            if not -ndim <= k < ndim:
                raise ValueError(f"{what} names axis {k}, but the array has {ndim} dimensions")
            out[k % ndim] = v
        return out
    if isinstance(value, (tuple, list)):
        if len(value) != ndim:
            raise ValueError(f"{what} {value!r} has {len(value)} entries; the array has {ndim} dimensions")
        return dict(enumerate(value))
    return {d: value for d in range(ndim)}


def _depths(depth, ndim):
    out = _per_axis(0 if depth is None else depth, ndim, 0, "depth")
    for d, v in out.items():
        if isinstance(v, tuple) or int(v) != v or v < 0:
            raise ValueError(f"depth must be a non-negative int per axis (asymmetric depths are not supported), "
                             f"not {v!r} on axis {d}")
        out[d] = int(v)
    return out


def _boundaries(boundary, ndim):
    return _per_axis("none" if boundary is None else boundary, ndim, "none", "boundary")


def _assemble(blocks, plan, shape):
    """One grown block from its neighbours' pieces: ``plan[k] = (source slices, destination slices)``."""
    if len(blocks) == 1:
        return blocks[0]
    out = np.empty(shape, np.result_type(*blocks))
    for block, (src, dst) in zip(blocks, plan):
        out[dst] = block[src]
    return out


def _wide_enough(x, axis, depth):
    """``x`` with every block along ``axis`` at least ``depth`` long (neighbours must hold the strip)."""
    c = x.chunks[axis]
    if len(c) == 1 or min(c) >= depth:
        return x
    n = x.shape[axis]
    if n < depth:
        raise ValueError(f"the overlap depth {depth} is larger than axis {axis} ({n} elements)")
    new = list(blocks_for(n, max(depth, max(c))))
    if len(new) > 1 and new[-1] < depth:
        last = new.pop()
        new[-1] += last
    return rechunk(x, tuple(tuple(new) if d == axis else x.chunks[d] for d in range(x.ndim)))


def _padded(x, axis, depth, boundary):
    """``(x, first)``: x with blocks long enough for ``depth`` and, unless ``boundary`` is "none",
    a ``depth``-long block of what lies beyond each end (then the core blocks start at ``first = 1``)."""
    if depth == 0:
        return x, 0
    x = _wide_enough(x, axis, depth)
    if boundary == "none":
        return x, 0
    core = x.chunks[axis]
    mode = _MODES.get(boundary, "constant")
    opts = {} if mode != "constant" else {"constant_values": (boundary, boundary)}
    x = pad_axis(x, axis, depth, depth, mode, **opts)
    x = rechunk(x, tuple((depth,) + core + (depth,) if d == axis else x.chunks[d] for d in range(x.ndim)))
    return x, 1


def _pieces(chunks, i, depth):
    """Along one axis, for block ``i``: ``(source block, source slice, length)``, left to right."""
    out = []
    if depth and i > 0:
        out.append((i - 1, slice(chunks[i - 1] - depth, None), depth))
    out.append((i, slice(None), chunks[i]))
    if depth and i + 1 < len(chunks):
        out.append((i + 1, slice(0, depth), depth))
    return out


def _destination(per_axis, combo):
    """Where a piece goes in the grown block: along each axis, after the pieces before it."""
    out = []
    for axis_pieces, piece in zip(per_axis, combo):
        start = sum(p[2] for p in axis_pieces[:axis_pieces.index(piece)])
        out.append(slice(start, start + piece[2]))
    return tuple(out)


def overlap(x, depth, boundary=None) -> Array:
    """Share ``depth`` elements between neighbouring blocks; see the module docstring.

    Every grown block is written once, from the (up to ``3**ndim``) pieces of
    its neighbours, rather than axis by axis (one copy of the block per axis).
    """
    x = asarray(x)
    depths, bounds = _depths(depth, x.ndim), _boundaries(boundary, x.ndim)
    if not any(depths.values()):
        return x
    firsts = []
    for axis in range(x.ndim):
        x, first = _padded(x, axis, depths[axis], bounds[axis])
        firsts.append(first)
    grid = [len(c) - 2 * f for c, f in zip(x.chunks, firsts)]
    name = new_name("overlap", x, depths, repr(bounds))
    nodes = {}
    for idx in np.ndindex(*grid):
        per_axis = [_pieces(x.chunks[d], i + firsts[d], depths[d]) for d, i in enumerate(idx)]
        shape = tuple(sum(p[2] for p in pieces) for pieces in per_axis)
        refs, plan = [], []
        for combo in itertools.product(*per_axis):
            refs.append(Ref((x.name,) + tuple(p[0] for p in combo)))
            plan.append((tuple(p[1] for p in combo), _destination(per_axis, combo)))
        key = (name,) + idx
        nodes[key] = Task(key, _assemble, refs, plan, shape)
    chunks = tuple(tuple(sum(p[2] for p in _pieces(c, k + f, depths[d])) for k in range(n))
                   for d, (c, f, n) in enumerate(zip(x.chunks, firsts, grid)))
    return Array(name, chunks, x.dtype, nodes, [x])


def _trim_block(block, cuts):
    return block[tuple(slice(lo, block.shape[d] - hi) for d, (lo, hi) in enumerate(cuts))]


def trim_internal(x, axes, boundary=None) -> Array:
    """Cut ``axes[axis]`` elements off both sides of every block (not off the outer sides of edge
    blocks on axes whose boundary is ``"none"``: `overlap` did not grow those)."""
    depths, bounds = _depths(axes, x.ndim), _boundaries(boundary, x.ndim)

    def cuts(idx):
        out = []
        for d, i in enumerate(idx):
            k = depths[d]
            inner = bounds[d] == "none"
            out.append((0 if inner and i == 0 else k, 0 if inner and i == x.numblocks[d] - 1 else k))
        return (tuple(out),)

    chunks = []
    for d, c in enumerate(x.chunks):
        lengths = []
        for i, n in enumerate(c):
            lo, hi = cuts(tuple(i if e == d else 0 for e in range(x.ndim)))[0][d]
            lengths.append(n - lo - hi)
        chunks.append(tuple(lengths))
    return per_block("trim", x, _trim_block, cuts, chunks=chunks, token=(depths, bounds))


def map_overlap(func, *args, depth=None, boundary=None, trim=True, dtype=None, chunks=None, **kwargs) -> Array:
    """``func`` on every block grown by ``depth`` (see `overlap`), the strips trimmed off after (``trim``).

    Several arrays are aligned to common chunks first (as `map_blocks` does); ``dtype`` and ``chunks``
    are `map_blocks`'s.  ``func`` must keep each block's shape when ``trim`` is True.
    """
    arrays = [asarray(a) if isinstance(a, (Array, np.ndarray)) else a for a in args]
    first = next((a for a in arrays if isinstance(a, Array)), None)
    if first is None:
        raise TypeError("map_overlap needs at least one array")
    ndim = first.ndim
    depths, bounds = _depths(depth, ndim), _boundaries(boundary, ndim)
    grown = [overlap(a, depths, bounds) if isinstance(a, Array) else a for a in arrays]
    grown = _align(grown)
    out = map_blocks(func, *grown, dtype=dtype, chunks=chunks, **kwargs)
    return trim_internal(out, depths, bounds) if trim else out


def _align(arrays):
    """Overlapped arrays with the same block grid (from inputs whose chunks differed)."""
    arrs = [a for a in arrays if isinstance(a, Array)]
    if all(a.chunks == arrs[0].chunks for a in arrs):
        return arrays
    raise ValueError("map_overlap's arrays must have the same chunks; rechunk them to one blocking first")
