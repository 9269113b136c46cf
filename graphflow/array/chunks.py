"""Chunk arithmetic: normalizing ``chunks=`` arguments, unifying and slicing chunk tuples.

An array's chunks are a tuple with one tuple of block lengths per dimension;
``((2, 2, 1), (3,))`` is a 5x3 array cut into three row blocks.  Every
dimension has at least one block, so a length-0 dimension is ``(0,)``.  A block
length is ``nan`` when it is unknown until compute (after a boolean mask).

    >>> normalize_chunks(2, (5, 3))
    ((2, 2, 1), (2, 1))
    >>> normalize_chunks(((2, 3), -1), (5, 3))
    ((2, 3), (3,))
    >>> common_chunks([(2, 3), (3, 2)])
    (2, 1, 2)
    >>> normalize_chunks("auto", (100, 100), "f8", limit=8000)
    ((10, 10, 10, 10, 10, 10, 10, 10, 10, 10), (100,))

``"auto"`` picks a block that holds about ``limit`` bytes (128 MiB unless told),
growing the last dimensions first so blocks stay contiguous in C order.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["normalize_chunks", "blocks_for", "common_chunks", "offsets", "has_unknown",
           "AUTO_BYTES", "block_slices"]

AUTO_BYTES = 128 * 2**20
nan = math.nan


def blocks_for(size: int, step: int) -> tuple:
    """Block lengths cutting ``size`` into pieces of ``step`` (the last may be shorter)."""
    if size == 0:
        return (0,)
    step = max(1, int(step))
    full, rest = divmod(size, step)
    return (step,) * full + ((rest,) if rest else ())


def _auto_sizes(shape, fixed, itemsize, limit) -> list:
    """Block sizes for dims marked None in ``fixed``, filling ``limit`` bytes."""
    budget = max(1, limit // max(itemsize, 1))
    for f in fixed:
        if f is not None:
            budget = max(1, budget // max(f, 1))
    out = list(fixed)
    # Last dimensions first: whole rows keep each block one contiguous slab of memory.
    for d in reversed(range(len(shape))):
        if out[d] is None:
            out[d] = max(1, min(shape[d], budget))
            budget = max(1, budget // max(out[d], 1))
    return out


def normalize_chunks(chunks, shape, dtype=None, limit=None) -> tuple:
    """``chunks`` (int, tuple per dim, tuple of tuples, "auto", -1/None) as a tuple of tuples."""
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    if isinstance(chunks, dict):
        chunks = tuple(chunks.get(d, chunks.get(d - ndim, -1)) for d in range(ndim))
    if chunks is None or isinstance(chunks, (int, np.integer, str)):
        chunks = (chunks,) * ndim
    chunks = tuple(chunks)
    if len(chunks) != ndim:
        raise ValueError(f"chunks {chunks!r} have {len(chunks)} dimensions but the shape {shape} has {ndim}")
    fixed = []
    for c, s in zip(chunks, shape):
        if isinstance(c, str):
            if c != "auto":
                raise ValueError(f"unknown chunks value {c!r}; use an int, a tuple or 'auto'")
            fixed.append(None)
        elif c is None or (isinstance(c, (int, np.integer)) and c == -1):
            fixed.append(max(s, 1))
        elif isinstance(c, (int, np.integer)):
            if c <= 0:
                raise ValueError(f"chunk sizes must be positive, not {c}")
            fixed.append(int(c))
        else:
            fixed.append(tuple(c))
    if any(f is None for f in fixed):
        itemsize = np.dtype(dtype if dtype is not None else float).itemsize
        sizes = [max(len(f) and max(f), 1) if isinstance(f, tuple) else f for f in fixed]
        auto = _auto_sizes(shape, sizes, itemsize, AUTO_BYTES if limit is None else int(limit))
        fixed = [auto[d] if f is None else f for d, f in enumerate(fixed)]
    out = []
    for f, s in zip(fixed, shape):
        if isinstance(f, tuple):
            f = tuple(int(b) if not _isnan(b) else nan for b in f) or (0,)
            total = sum(f)
            if not _isnan(total) and total != s:
                raise ValueError(f"chunks {f} add up to {total}, not to the dimension's length {s}")
            out.append(f)
        else:
            out.append(blocks_for(s, f))
    return tuple(out)


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def has_unknown(chunks) -> bool:
    """True if any block length is unknown (nan)."""
    return any(_isnan(b) for c in chunks for b in c)


def offsets(blocks) -> tuple:
    """Start of each block along one dimension, plus the total at the end."""
    out = [0]
    for b in blocks:
        out.append(out[-1] + b)
    return tuple(out)


def common_chunks(dims) -> tuple:
    """The coarsest blocking whose boundaries include every boundary of every input."""
    dims = [tuple(d) for d in dims]
    if all(d == dims[0] for d in dims):
        return dims[0]
    cuts = sorted({o for d in dims for o in offsets(d)})
    out = tuple(b - a for a, b in zip(cuts, cuts[1:]))
    return out or (0,)


def block_slices(chunks) -> list:
    """Per dimension, the ``slice`` of each block in the whole array."""
    out = []
    for c in chunks:
        o = offsets(c)
        out.append([slice(a, b) for a, b in zip(o, o[1:])])
    return out
