"""Reordering without arithmetic: flip, roll, rot90, rollaxis, tile, repeat.

Each is a composition of slicing, ``concatenate`` and ``transpose``, so no task
ever holds more than one input block: ``roll(x, 2)`` on blocks ``(3, 3)`` is
``concatenate([x[-2:], x[:-2]])``, four small blocks that only re-slice.

    >>> import graphflow.array as ga
    >>> roll(ga.arange(6, chunks=3), 2).compute()
    array([4, 5, 0, 1, 2, 3])
    >>> repeat(ga.arange(3, chunks=2), 2).chunks
    ((4, 2),)
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .blockmap import per_block
from .chunks import blocks_for
from .creation import asarray
from .manipulation import concatenate, ravel, reshape, transpose
from .rechunk import rechunk

__all__ = ["flip", "flipud", "fliplr", "roll", "rot90", "rollaxis", "tile", "repeat"]


def _cut(x, axis, sl):
    return x[(slice(None),) * axis + (sl,)]


def unflatten(flat, shape):
    """The 1-d ``flat`` reshaped to ``shape``, rechunked first to whole rows of the trailing dimensions."""
    row = math.prod(shape[1:]) if len(shape) > 1 else 1
    if row > 1 and any(c % row for c in flat.chunks[0]):
        rows = max(1, max(flat.chunks[0]) // row)
        flat = rechunk(flat, (blocks_for(flat.shape[0], rows * row),))
    return reshape(flat, shape)


def flip(m, axis=None):
    """``numpy.flip``: reverse the order of elements along ``axis`` (all axes if None)."""
    m = asarray(m)
    axes = tuple(range(m.ndim)) if axis is None else normalize_axis_tuple(axis, m.ndim)
    if not axes:
        return m
    return m[tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(m.ndim))]


def flipud(m):
    """``numpy.flipud``: flip along axis 0."""
    m = asarray(m)
    if m.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def fliplr(m):
    """``numpy.fliplr``: flip along axis 1."""
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def roll(a, shift, axis=None):
    """``numpy.roll``: elements shifted along ``axis`` wrap around (the flattened array if None)."""
    a = asarray(a)
    if axis is None:
        return unflatten(roll(ravel(a), shift, 0), a.shape)
    axes = normalize_axis_tuple(axis, a.ndim, allow_duplicate=True)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axes))
    if shifts.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        total[ax] = total.get(ax, 0) + operator.index(s)
    for ax, s in total.items():
        n = a.shape[ax]
        s = s % n if n else 0
        if s:
            a = concatenate([_cut(a, ax, slice(n - s, None)), _cut(a, ax, slice(0, n - s))], axis=ax)
    return a


def rot90(m, k=1, axes=(0, 1)):
    """``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    m = asarray(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError("Axes must be different.")
    if not (-m.ndim <= axes[0] < m.ndim and -m.ndim <= axes[1] < m.ndim):
        raise ValueError(f"Axes={axes} out of range for array of ndim={m.ndim}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    order = list(range(m.ndim))
    a0, a1 = normalize_axis_index(axes[0], m.ndim), normalize_axis_index(axes[1], m.ndim)
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return transpose(flip(m, axes[1]), order)
    return flip(transpose(m, order), axes[1])


def rollaxis(a, axis, start=0):
    """``numpy.rollaxis``: move ``axis`` to sit before ``start``."""
    a = asarray(a)
    n = a.ndim
    axis = normalize_axis_index(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = list(range(n))
    order.remove(axis)
    order.insert(start, axis)
    return transpose(a, order)


def tile(A, reps):
    """``numpy.tile``: ``A`` repeated ``reps`` times along each axis (copies side by side)."""
    A = asarray(A)
    reps = (operator.index(reps),) if np.ndim(reps) == 0 else tuple(operator.index(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    d = max(len(reps), A.ndim)
    reps = (1,) * (d - len(reps)) + reps
    if A.ndim < d:
        A = reshape(A, (1,) * (d - A.ndim) + A.shape)
    for ax, r in enumerate(reps):
        if r == 0:
            A = _cut(A, ax, slice(0, 0))
        elif r > 1:
            A = concatenate([A] * r, axis=ax)
    return A


def _repeat_block(block, repeats, axis):
    return np.repeat(block, repeats, axis=axis)


def repeat(a, repeats, axis=None):
    """``numpy.repeat`` with one integer ``repeats`` (as Dask): each block repeats its own elements."""
    a = asarray(a)
    if np.ndim(repeats) != 0:
        raise NotImplementedError("only an integer repeats is supported (as in Dask); for per-element counts "
                                  "use numpy.repeat on the computed array")
    repeats = operator.index(repeats)
    if repeats < 0:
        raise ValueError("negative dimensions are not allowed")
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis_index(axis, a.ndim)
    chunks = list(a.chunks)
    chunks[axis] = tuple(c * repeats for c in chunks[axis])
    return per_block("repeat", a, _repeat_block, lambda idx: (repeats, axis), chunks=chunks, token=(repeats, axis))
