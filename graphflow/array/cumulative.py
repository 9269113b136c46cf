"""Cumulative sums and products across blocks, bit for bit numpy's: ``cumsum``, ``cumprod``, ``nancum*``.

numpy accumulates one step at a time, ``out[i] = out[i-1] + x[i]``.  Each block
here starts from the last slice of the block before it along the axis (its
*carry*) and continues exactly that recurrence, so the result is numpy's to the
last bit, floats included (a per-block cumsum plus a separately summed offset,
Dask's way, rounds differently).  Blocks along the axis therefore run one after
another; blocks across the other axes run in parallel:

    block (i, j) = accumulate(carry(i-1, j) then x[i, j]);  carry(i, j) = last row of block (i, j)

    >>> import numpy as np, graphflow.array as ga
    >>> x = np.random.default_rng(0).random((6, 4))
    >>> bool((ga.cumsum(ga.from_array(x, chunks=(2, 2)), axis=0).compute() == np.cumsum(x, axis=0)).all())
    True

Within a block, a step over whole slices (``np.add(out[i-1], out[i], out=out[i])``)
replaces numpy's element-by-element accumulate along a non-last axis, which is
several times slower; the arithmetic, and so the result, is the same.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .core import Array, new_name
from .creation import asarray
from .manipulation import ravel

__all__ = ["cumsum", "cumprod", "nancumsum", "nancumprod", "NUMPY_FUNCTIONS"]

# A slice this big makes a Python-level step per slice cheaper than numpy's accumulate along the axis.
_SLICE_STEP_MIN = 64


def _accumulate_in_place(view, op):
    """``view[i] = op(view[i-1], view[i])`` down the first axis, numpy's recurrence."""
    n = view.shape[0]
    if n > 1 and view[0].size >= _SLICE_STEP_MIN:
        for i in range(1, n):
            op(view[i - 1], view[i], out=view[i])
    elif n > 1:
        op.accumulate(view, axis=0, out=view)


def _cum_block(block, carry, axis, op, dtype, nan):
    """The block's cumulative op, continuing from ``carry`` (the previous block's last slice) if given."""
    out = np.empty(block.shape, dtype)
    np.copyto(out, block, casting="unsafe")
    if nan:
        out[np.isnan(block)] = op.identity  # numpy's nancum*: NaN counts as 0 (sum) or 1 (product)
    view = np.moveaxis(out, axis, 0)
    if carry is not None and view.shape[0]:
        op(np.moveaxis(carry, axis, 0)[:1], view[:1], out=view[:1])
    _accumulate_in_place(view, op)
    return out


def _last_slice(block, axis, carry):
    """The running value at the end of ``block`` (``carry`` through an empty block)."""
    if block.shape[axis] == 0:
        return carry
    return np.take(block, [block.shape[axis] - 1], axis=axis)


def _cumulative(x, axis, dtype, op, what, nan):
    x = asarray(x)
    if axis is None:
        x, axis = (ravel(x) if x.ndim != 1 else x), 0
    axis = normalize_axis_index(axis, x.ndim)
    if x.dtype.kind not in "biufcmM?O":
        raise TypeError(f"{what} needs a numeric array, not dtype {x.dtype}")
    sample = np.ones(1, x.dtype)
    out_dtype = np.dtype(dtype) if dtype is not None else getattr(np, what)(sample).dtype
    name = new_name(what, x, axis, str(out_dtype))
    carry = name.replace(what, what + "-carry", 1)
    nodes = {}
    n = x.numblocks[axis]
    for idx in itertools.product(*[range(k) for k in x.numblocks]):
        i = idx[axis]
        before = idx[:axis] + (i - 1,) + idx[axis + 1:]
        prev = Ref((carry,) + before) if i > 0 else None
        nodes[(name,) + idx] = Task((name,) + idx, _cum_block, Ref((x.name,) + idx), prev, axis, op, out_dtype, nan)
        if i < n - 1:
            nodes[(carry,) + idx] = Task((carry,) + idx, _last_slice, Ref((name,) + idx), axis, prev)
    return Array(name, x.chunks, out_dtype, nodes, [x])


def cumsum(x, axis=None, dtype=None, out=None):
    """``numpy.cumsum`` exactly: each block continues from the previous block's last value."""
    _no_out(out, "cumsum")
    return _cumulative(x, axis, dtype, np.add, "cumsum", nan=False)


def cumprod(x, axis=None, dtype=None, out=None):
    """``numpy.cumprod`` exactly: each block continues from the previous block's last value."""
    _no_out(out, "cumprod")
    return _cumulative(x, axis, dtype, np.multiply, "cumprod", nan=False)


def nancumsum(x, axis=None, dtype=None, out=None):
    """``numpy.nancumsum``: NaNs count as zero."""
    _no_out(out, "nancumsum")
    return _cumulative(x, axis, dtype, np.add, "nancumsum", nan=True)


def nancumprod(x, axis=None, dtype=None, out=None):
    """``numpy.nancumprod``: NaNs count as one."""
    _no_out(out, "nancumprod")
    return _cumulative(x, axis, dtype, np.multiply, "nancumprod", nan=True)


def _no_out(out, what):
    if out is not None:
        raise NotImplementedError(f"{what}(out=...) is not supported on graphflow arrays")


NUMPY_FUNCTIONS = {np.cumsum: cumsum, np.cumprod: cumprod, np.nancumsum: nancumsum, np.nancumprod: nancumprod}
