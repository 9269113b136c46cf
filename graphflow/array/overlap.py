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


def _glue(left, block, right, axis, depth):
    parts = [] if left is None else [left[(slice(None),) * axis + (slice(left.shape[axis] - depth, None),)]]
    parts.append(block)
    if right is not None:
        parts.append(right[(slice(None),) * axis + (slice(0, depth),)])
    return np.concatenate(parts, axis=axis) if len(parts) > 1 else block


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


def _overlap_axis(x, axis, depth, boundary):
    if depth == 0:
        return x
    x = _wide_enough(x, axis, depth)
    core = x.chunks[axis]
    if boundary != "none":
        mode = _MODES.get(boundary, "constant")
        opts = {} if mode != "constant" else {"constant_values": (boundary, boundary)}
        x = pad_axis(x, axis, depth, depth, mode, **opts)
        x = rechunk(x, tuple((depth,) + core + (depth,) if d == axis else x.chunks[d] for d in range(x.ndim)))
        first, nb = 1, len(core)
    else:
        first, nb = 0, len(core)
    total = x.numblocks[axis]
    name = new_name("overlap", x, axis, depth, repr(boundary))
    chunks = list(x.chunks)
    lengths = []
    nodes = {}
    for idx in np.ndindex(*[len(c) if d != axis else nb for d, c in enumerate(x.chunks)]):
        i = idx[axis] + first
        src = lambda j: Ref((x.name,) + idx[:axis] + (j,) + idx[axis + 1:])  # noqa: E731
        left = src(i - 1) if i > 0 else None
        right = src(i + 1) if i + 1 < total else None
        key = (name,) + idx
        nodes[key] = Task(key, _glue, left, src(i), right, axis, depth)
    for k in range(nb):
        i = k + first
        lengths.append(x.chunks[axis][i] + depth * ((i > 0) + (i + 1 < total)))
    chunks[axis] = tuple(lengths)
    return Array(name, chunks, x.dtype, nodes, [x])


def overlap(x, depth, boundary=None) -> Array:
    """Share ``depth`` elements between neighbouring blocks; see the module docstring."""
    x = asarray(x)
    depths, bounds = _depths(depth, x.ndim), _boundaries(boundary, x.ndim)
    for axis in range(x.ndim):
        x = _overlap_axis(x, axis, depths[axis], bounds[axis])
    return x


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
