"""Other ways to look at an Array's data: ``x.blocks``/``x.partitions``, ``x.vindex``, ``x.view``.

``x.blocks[i, j]`` indexes the *grid of blocks*, not the elements: ints and
slices pick blocks per axis and every axis is kept (an int picks a one-block
range), so ``x.blocks[0]`` is the first row of blocks as an Array.  No data
moves: the result's tasks alias the chosen blocks.

``x.vindex[rows, cols]`` is numpy's pointwise fancy indexing: the index arrays
broadcast together and pick one element each (``x[rows, cols]`` in numpy);
the broadcast shape comes first, axes not indexed follow.  Points are grouped
by the block that holds them, one gather per output block.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(20).reshape(4, 5), chunks=(2, 2))
    >>> x.blocks[1, -1].compute()
    array([[14],
           [19]])
    >>> x.vindex[[0, 3], [4, 1]].compute()
    array([ 4, 16])
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..spec import Ref, Task
from ..utils.traverse import identity
from .blockmap import per_block
from .chunks import offsets
from .core import Array, new_name
from .creation import asarray

__all__ = ["BlockView", "blocks", "vindex", "view"]


class BlockView:
    """``x.blocks``: index the grid of blocks; see the module docstring."""

    __slots__ = ("_array",)

    def __init__(self, array: Array):
        self._array = array

    @property
    def shape(self) -> tuple:
        """The number of blocks per axis."""
        return self._array.numblocks

    @property
    def size(self) -> int:
        """The number of blocks."""
        return self._array.npartitions

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def __len__(self):
        return self.shape[0] if self.shape else 1

    def ravel(self) -> list:
        """Every block as its own Array, in C order."""
        return [self[idx] for idx in np.ndindex(*self.shape)]

    def __getitem__(self, index) -> Array:
        x = self._array
        if not isinstance(index, tuple):
            index = (index,)
        if any(i is None for i in index) or sum(i is Ellipsis for i in index) > 1:
            raise IndexError("blocks[...] takes ints, slices, 1-d int lists and one Ellipsis")
        if Ellipsis in index:
            k = index.index(Ellipsis)
            index = index[:k] + (slice(None),) * (x.ndim - len(index) + 1) + index[k + 1:]
        if len(index) > x.ndim:
            raise IndexError(f"too many indices for the block grid: it has {x.ndim} dimensions")
        index = index + (slice(None),) * (x.ndim - len(index))
        picks = []
        for d, i in enumerate(index):
            nb = x.numblocks[d]
            if isinstance(i, slice):
                picks.append(list(range(nb))[i])
            elif np.ndim(i) == 0:
                k = operator.index(i)
                if not -nb <= k < nb:
                    raise IndexError(f"block index {k} is out of bounds for axis {d} with {nb} blocks")
                picks.append([k % nb])
            else:
                ks = [operator.index(k) for k in np.asarray(i).ravel()]
                if any(not -nb <= k < nb for k in ks):
                    raise IndexError(f"a block index in {ks} is out of bounds for axis {d} with {nb} blocks")
                picks.append([k % nb for k in ks])
        if any(not p for p in picks):
            raise IndexError("blocks[...] selected no block along an axis (an empty slice)")
        name = new_name("blocks", x, tuple(tuple(p) for p in picks))
        nodes = {}
        for idx in np.ndindex(*[len(p) for p in picks]):
            src = tuple(picks[d][i] for d, i in enumerate(idx))
            nodes[(name,) + idx] = Task((name,) + idx, identity, Ref((x.name,) + src))
        chunks = tuple(tuple(x.chunks[d][k] for k in p) for d, p in enumerate(picks))
        return Array(name, chunks, x.dtype, nodes, [x])


def blocks(x: Array) -> BlockView:
    """``x.blocks`` (and ``x.partitions``)."""
    return BlockView(x)


def _gather(blocks_, axes, locals_, positions, length):
    """Points ``locals_[k]`` (one index array per indexed axis) of ``blocks_[k]`` into ``positions[k]``."""
    first = np.moveaxis(blocks_[0], axes, tuple(range(len(axes))))
    out = np.empty((length,) + first.shape[len(axes):], dtype=first.dtype)
    for block, loc, pos in zip(blocks_, locals_, positions):
        moved = np.moveaxis(block, axes, tuple(range(len(axes))))
        out[pos] = moved[tuple(loc)]
    return out


def vindex(x: Array, index: tuple) -> Array:
    """``x.vindex[index]``: ints and integer arrays (numpy or graphflow, computed first) per leading axis."""
    if len(index) > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but {len(index)} were indexed")
    arrays = []
    for i in index:
        i = np.asarray(i.compute() if isinstance(i, Array) else i)
        if i.size == 0:
            i = i.astype(np.intp)  # numpy reads an empty list as an empty integer index
        if i.dtype.kind not in "iu":
            raise IndexError("vindex takes integer arrays (and ints) only; use x[...] for slices and masks")
        arrays.append(i)
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes "
                         + " ".join(str(a.shape) for a in arrays)) from None
    bshape = arrays[0].shape if arrays else ()
    axes = tuple(range(len(arrays)))
    flat = []
    for d, a in enumerate(arrays):
        n = x.shape[d]
        a = a.ravel()
        bad = a[(a < -n) | (a >= n)]
        if bad.size:
            raise IndexError(f"index {int(bad[0])} is out of bounds for axis {d} with size {n}")
        flat.append(np.where(a < 0, a + n, a))
    npoints = math.prod(bshape)
    bounds = [np.asarray(offsets(x.chunks[d])) for d in axes]
    owners = [np.searchsorted(bounds[d], flat[d], side="right") - 1 for d in axes]
    step = max(1, max((max(x.chunks[d]) for d in axes), default=1))
    row = math.prod(bshape[1:])  # whole rows of the broadcast shape per block, so the reshape needs no rechunk
    if row > 1:
        step = max(row, step - step % row)
    point_chunks = tuple(min(step, npoints - s) for s in range(0, npoints, step)) or (0,)
    rest = x.chunks[len(axes):]
    name = new_name("vindex", x, *flat)
    nodes = {}
    for p, start in enumerate(range(0, max(npoints, 1), step)):
        part = slice(start, start + point_chunks[p])
        own = np.stack([o[part] for o in owners], axis=1) if axes else np.zeros((0, 0), int)
        groups = sorted({tuple(r) for r in own.tolist()}) or [(0,) * len(axes)]
        for ridx in np.ndindex(*[len(c) for c in rest]):
            refs, locs, poss = [], [], []
            for g in groups:
                hit = np.flatnonzero((own == np.asarray(g)).all(axis=1)) if len(own) else np.zeros(0, int)
                refs.append(Ref((x.name,) + g + ridx))
                locs.append([flat[d][part][hit] - bounds[d][g[d]] for d in axes])
                poss.append(hit)
            key = (name, p) + ridx
            nodes[key] = Task(key, _gather, refs, axes, locs, poss, point_chunks[p])
    out = Array(name, (point_chunks,) + rest, x.dtype, nodes, [x])
    return out.reshape(bshape + x.shape[len(axes):]) if len(bshape) != 1 else out


def _view_block(block, dtype):
    return block.view(dtype)


def view(x: Array, dtype=None, order="C") -> Array:
    """``ndarray.view(dtype)``: the same bytes read as ``dtype``; a different itemsize rescales the last
    axis (C order, as numpy's), which each block must allow."""
    x = asarray(x)
    if dtype is None:
        return x
    if order != "C":
        raise NotImplementedError("only order='C' views are supported")
    dtype = np.dtype(dtype)
    old, new = x.dtype.itemsize, dtype.itemsize
    chunks = list(x.chunks)
    if old != new:
        if x.ndim == 0:
            raise ValueError("Changing the dtype of a 0d array is only supported if the itemsize is unchanged")
        last = []
        for c in x.chunks[-1]:
            if (c * old) % new:
                raise ValueError(f"a block of {c} elements along the last axis ({c * old} bytes) cannot be "
                                 f"viewed as {dtype} ({new}-byte items); rechunk the last axis first")
            last.append(c * old // new)
        chunks[-1] = tuple(last)
    return per_block("view", x, _view_block, lambda idx: (dtype,), chunks=chunks, dtype=dtype, token=(str(dtype),))
