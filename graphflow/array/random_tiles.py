"""Random draws that do not depend on chunking: a fixed grid of tiles, each with its own generator.

The output's index space is cut into *tiles* whose shape depends only on the
array's shape (about ``TILE_ELEMENTS`` elements, the same side along every
axis, clipped to the shape).  Tile ``t`` holds
``numpy.random.default_rng([seed, TAG, *t]).<method>(size=tile_shape, **params)``;
a block is assembled from the tiles it overlaps, each sliced to the overlap.
So the same seed gives the same numbers whatever the chunks, and blocks still
draw in parallel.  A block that does not line up with the tile grid draws the
whole of each tile it touches (at worst about ``(1 + tile/block)`` per axis
more numbers than it keeps); blocks that are multiples of the tile waste nothing.

    >>> import numpy as np
    >>> tile_shape((1000, 1000))
    (256, 256)
    >>> a = tiled("normal", 0, (300, 10), ((300,), (10,)), np.float64, {}, {})
    >>> b = tiled("normal", 0, (300, 10), ((7, 293), (3, 3, 4)), np.float64, {}, {})
    >>> bool((a.compute() == b.compute()).all())
    True

Distribution parameters given as arrays (``loc=np.arange(10)``) broadcast to
the output shape and each tile reads its own slice of them (``params``);
other keyword arguments (``dtype``, ``p``, ``pvals``) go to every tile as they
are (``fixed``).  Draws with trailing dimensions of their own (``multinomial``:
``size + (len(pvals),)``) tile only the ``size`` dimensions (``extra``).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..spec import Task
from .chunks import normalize_chunks
from .core import Array, new_name

__all__ = ["TILE_ELEMENTS", "TILE_TAG", "tile_shape", "tiled", "broadcast_params"]

TILE_ELEMENTS = 2**16   # 512 KiB of float64: a draw's cost dwarfs making its generator (~20 us)
TILE_TAG = 0x7469           # keeps tile streams apart from `random.random`'s per-block streams ([seed, i, j])


def tile_shape(shape: tuple) -> tuple:
    """The tile grid's tile shape for an array of ``shape``: a cube of ~TILE_ELEMENTS, clipped to the shape."""
    ndim = len(shape)
    if ndim == 0:
        return ()
    side = max(1, int(round(TILE_ELEMENTS ** (1.0 / ndim))))
    return tuple(max(1, min(int(s), side)) for s in shape)


def broadcast_params(params: dict, shape: tuple) -> dict:
    """``params`` with every array-like broadcast to ``shape`` (numpy's ValueError when it cannot)."""
    out = {}
    for k, v in params.items():
        arr = np.asarray(v)
        if arr.ndim == 0:
            out[k] = v
            continue
        try:
            out[k] = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"shape mismatch: parameter {k!r} of shape {arr.shape} cannot be broadcast "
                             f"to size {shape}") from None
    return out


def _draw_block(method, seed, shape, tshape, starts, stops, params, origin, fixed, extra, dtype):
    """One block: the tiles overlapping ``[starts, stops)`` drawn whole and sliced into place.

    Array ``params`` hold only the region of the tiles this block touches, which starts at ``origin``.
    """
    block = tuple(b - a for a, b in zip(starts, stops))
    out = np.empty(block + extra, dtype=dtype)
    if 0 in block:
        return out
    ranges = [range(a // t, (b - 1) // t + 1) for a, b, t in zip(starts, stops, tshape)]
    for tidx in itertools.product(*ranges):
        lo = [i * t for i, t in zip(tidx, tshape)]
        hi = [min(a + t, s) for a, t, s in zip(lo, tshape, shape)]
        region = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin))
        rng = np.random.default_rng([seed, TILE_TAG, *tidx])
        kw = {k: (v[region] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in params.items()}
        vals = getattr(rng, method)(size=tuple(b - a for a, b in zip(lo, hi)), **kw, **fixed)
        src = tuple(slice(max(a, s) - a, min(b, e) - a) for a, b, s, e in zip(lo, hi, starts, stops))
        dst = tuple(slice(max(a, s) - s, min(b, e) - s) for a, b, s, e in zip(lo, hi, starts, stops))
        out[dst] = vals[src]
    return out


def tiled(method: str, seed: int, shape: tuple, chunks, dtype, params: dict, fixed: dict, extra=()) -> Array:
    """An Array of ``Generator.<method>`` draws on the tile grid of ``shape`` (see the module docstring).

    ``chunks`` are for the ``shape`` dimensions; the ``extra`` trailing ones are one chunk each.
    """
    shape = tuple(int(s) for s in shape)
    extra = tuple(int(e) for e in extra)
    dtype = np.dtype(dtype)
    chunks = normalize_chunks(chunks, shape, dtype)
    tshape = tile_shape(shape)
    params = broadcast_params(params, shape)
    name = new_name(f"rng-{method}", seed, shape, chunks, {k: _token(v) for k, v in params.items()},
                    {k: _token(v) for k, v in fixed.items()}, extra)
    nodes = {}
    starts_per_dim = [np.cumsum((0,) + c[:-1]) if c else [] for c in chunks]
    for idx in itertools.product(*[range(len(c)) for c in chunks]):
        starts = tuple(int(starts_per_dim[d][i]) for d, i in enumerate(idx))
        stops = tuple(s + chunks[d][i] for d, (s, i) in enumerate(zip(starts, idx)))
        key = (name,) + idx + (0,) * len(extra)
        origin = tuple((a // t) * t for a, t in zip(starts, tshape))
        end = tuple(min(((b - 1) // t + 1) * t, n) if b > a else a for a, b, t, n in zip(starts, stops, tshape, shape))
        region = tuple(slice(a, b) for a, b in zip(origin, end))
        local = {k: (np.ascontiguousarray(v[region]) if isinstance(v, np.ndarray) and v.ndim else v)
                 for k, v in params.items()}
        nodes[key] = Task(key, _draw_block, method, seed, shape, tshape, starts, stops, local, origin, fixed,
                          extra, dtype)
    return Array(name, chunks + tuple((e,) for e in extra), dtype, nodes)


def _token(v):
    """A hashable stand-in for a parameter in the array's name (arrays by their bytes' hash)."""
    if isinstance(v, np.ndarray):
        return ("ndarray", v.shape, str(v.dtype), hash(np.ascontiguousarray(v).tobytes()))
    return repr(v)
