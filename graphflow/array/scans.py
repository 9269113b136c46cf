"""``push``: forward-fill missing values along an axis, as Dask's (bottleneck's) ``push``.

Each block is filled on its own, then fixed up with what comes before it: a
NaN at the top of a block takes the last valid value of the blocks above,
which block ``i - 1`` hands on as a *carry* (that value and how far back it
was seen).  The carries form one chain along the axis; the fills themselves
run in parallel.  ``n`` limits the fill to ``n`` positions after a valid value.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([1.0, np.nan, np.nan, 4.0, np.nan]), chunks=2)
    >>> push(x, None, 0).compute()
    array([1., 1., 1., 4., 4.])
    >>> push(x, 1, 0).compute()
    array([ 1.,  1., nan,  4.,  4.])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .core import Array, new_name
from .creation import asarray

__all__ = ["push"]


def _fill(block, axis, carry, n):
    """``block`` forward-filled along ``axis``, starting from ``carry = (values, age)`` (or None)."""
    moved = np.moveaxis(block, axis, 0)
    length = moved.shape[0]
    valid = ~np.isnan(moved)
    rows = np.arange(length).reshape((length,) + (1,) * (moved.ndim - 1))
    last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)  # row of the last valid value, -1: none
    take = np.take_along_axis(moved, np.maximum(last, 0), axis=0)
    age = rows - last  # distance to that value
    out = np.where(last >= 0, take, np.nan)
    if carry is not None:
        values, carried_age = carry
        from_carry = last < 0
        age = np.where(from_carry, carried_age + rows + 1, age)
        out = np.where(from_carry, values, out)
    if n is not None:
        out = np.where(age <= n, out, np.nan)
    out = out.astype(block.dtype, copy=False)
    return np.moveaxis(out, 0, axis), (out[-1:], age[-1:]) if length else carry


def _first(pair):
    return pair[0]


def _step(block, axis, carry, n):
    return _fill(block, axis, carry, n)


def push(array, n, axis):
    """Fill NaNs with the last valid value before them along ``axis`` (at most ``n`` positions on)."""
    x = asarray(array)
    if x.dtype.kind not in "fc":
        return x  # integers and booleans hold no NaN: nothing to fill
    axis = normalize_axis_index(axis, x.ndim)
    if n is not None and n < 0:
        raise ValueError(f"n must be None or a non-negative integer, not {n}")
    name = new_name("push", x, n, axis)
    step = name.replace("push", "push-step", 1)
    nodes = {}
    for idx in np.ndindex(*x.numblocks):
        i = idx[axis]
        prev = (step,) + idx[:axis] + (i - 1,) + idx[axis + 1:]
        key = (step,) + idx
        if i == 0:
            nodes[key] = Task(key, _step, Ref((x.name,) + idx), axis, None, n)
        else:
            nodes[key] = Task(key, _chain, Ref((x.name,) + idx), axis, Ref(prev), n)
        nodes[(name,) + idx] = Task((name,) + idx, _first, Ref(key))
    return Array(name, x.chunks, x.dtype, nodes, [x])


def _chain(block, axis, previous, n):
    """This block's fill, carrying on from the previous block's ``(filled, carry)`` result."""
    return _fill(block, axis, previous[1], n)
