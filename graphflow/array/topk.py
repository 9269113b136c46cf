"""``topk`` and ``argtopk``: the k largest (or, for negative k, smallest) along an axis, as Dask's.

Each block keeps only its own best ``|k|`` (``np.partition``, no sort); groups
of ``split_every`` survivors are joined and cut to ``|k|`` again, level by level,
until one group is left, which is sorted: largest first for ``k > 0``,
smallest first for ``k < 0``.  ``argtopk`` carries each value with its global
index in one structured array, so the two never part.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([5, 1, 9, 3, 7, 2]), chunks=2)
    >>> topk(x, 2).compute(), argtopk(x, -2).compute()
    (array([9, 7]), array([1, 5]))
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .chunks import offsets
from .core import Array, new_name
from .creation import asarray
from .reductions import SPLIT_EVERY

__all__ = ["topk", "argtopk"]


def _best(block, k, axis, field=None):
    """The ``|k|`` best of ``block`` along ``axis``, unordered (by ``field`` of a structured block)."""
    n = block.shape[axis]
    if abs(k) >= n:
        return block
    kth = n - k if k > 0 else -k - 1
    keep = (slice(None),) * axis + (slice(n - k, n) if k > 0 else slice(0, -k),)
    if not field:  # values alone: partition them in place of indices (no gather afterwards)
        return np.partition(block, kth, axis=axis)[keep].copy()  # a view would hold the whole block until the end
    where = np.argpartition(block[field], kth, axis=axis)[keep]
    return np.take_along_axis(block, where, axis=axis)


def _tagged(block, start, axis):
    out = np.empty(block.shape, dtype=[("v", block.dtype), ("i", np.intp)])
    out["v"] = block
    shape = [1] * block.ndim
    shape[axis] = block.shape[axis]
    out["i"] = (np.arange(block.shape[axis]) + start).reshape(shape)
    return out


def _chunk(block, k, axis, start):
    return _best(block if start is None else _tagged(block, start, axis), k, axis, None if start is None else "v")


def _combine(parts, k, axis, field):
    return _best(np.concatenate(parts, axis=axis), k, axis, field)


def _finish(parts, k, axis, field):
    best = _combine(parts, k, axis, field)
    order = np.argsort(best[field] if field else best, axis=axis, kind="stable")
    if k > 0:
        order = np.flip(order, axis=axis)
    out = np.take_along_axis(best, order, axis=axis)
    return out["i"] if field else out


def _top(a, k, axis, split_every, with_index):
    a = asarray(a)
    k = operator.index(k)
    if a.ndim == 0:
        raise ValueError("topk needs an array of at least one dimension")
    axis = normalize_axis_index(axis, a.ndim)
    split = SPLIT_EVERY if split_every is None else max(2, int(split_every))
    starts = offsets(a.chunks[axis])
    field = "v" if with_index else None
    token = new_name("argtopk" if with_index else "topk", a, k, axis, split)
    prefix = token.split("-", 1)[0]
    cur = token.replace(prefix, prefix + "-chunk", 1)
    nodes = {}
    for idx in np.ndindex(*a.numblocks):
        key = (cur,) + idx
        nodes[key] = Task(key, _chunk, Ref((a.name,) + idx), k, axis, starts[idx[axis]] if with_index else None)
    grid, level = a.numblocks, 0
    while True:
        groups = -(-grid[axis] // split)
        last = groups == 1
        nxt = token if last else token.replace(prefix, f"{prefix}-combine{level}", 1)
        out_grid = grid[:axis] + (groups,) + grid[axis + 1:]
        for idx in np.ndindex(*out_grid):
            g = idx[axis]
            refs = [Ref((cur,) + idx[:axis] + (j,) + idx[axis + 1:])
                    for j in range(g * split, min((g + 1) * split, grid[axis]))]
            key = (nxt,) + idx
            nodes[key] = Task(key, _finish if last else _combine, refs, k, axis, field)
        if last:
            break
        cur, grid, level = nxt, out_grid, level + 1
    chunks = list(a.chunks)
    chunks[axis] = (min(abs(k), a.shape[axis]),)
    return Array(token, chunks, np.dtype(np.intp) if with_index else a.dtype, nodes, [a])


def topk(a, k, axis=-1, split_every=None) -> Array:
    """The ``k`` largest elements along ``axis``, largest first; ``k < 0``: the ``-k`` smallest, smallest first."""
    return _top(a, k, axis, split_every, False)


def argtopk(a, k, axis=-1, split_every=None) -> Array:
    """The indices of `topk`'s elements along ``axis``, in the same order."""
    return _top(a, k, axis, split_every, True)
