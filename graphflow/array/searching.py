"""Finding elements: ``nonzero``/``argwhere``/``flatnonzero``/``where``, ``searchsorted``, ``digitize``.

How many elements a block holds that are true is only known once it runs, so
``nonzero``, ``argwhere`` and ``flatnonzero`` return Arrays whose block lengths
are unknown (``nan``), as a boolean mask does and as Dask's do: nothing is
computed until asked, and ``.compute_chunk_sizes()`` fills the lengths in when a
later step needs them.  Each block's indices are shifted by the block's offset,
so they are global:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([[0, 3], [4, 0], [0, 5]]), chunks=(2, 1))
    >>> w = ga.argwhere(x)
    >>> w.shape
    (nan, 2)
    >>> w.compute()
    array([[0, 1],
           [1, 0],
           [2, 1]])
    >>> [i.compute() for i in ga.nonzero(x)]
    [array([0, 1, 2]), array([1, 0, 1])]

``argwhere``'s rows come out in numpy's (C) order: blocks are listed in order
of their first row, then sorted by row within each band of blocks.
"""

from __future__ import annotations

import itertools
import math
import operator

import numpy as np

from ..spec import Ref, Task
from .chunks import has_unknown, offsets
from .core import Array, new_name
from .creation import asarray
from .elementwise import elemwise
from .elementwise import where as where_elementwise
from .manipulation import ravel

__all__ = ["nonzero", "argwhere", "flatnonzero", "where", "searchsorted", "digitize", "NUMPY_FUNCTIONS"]


def _argwhere_band(blocks, starts):
    """Global ``argwhere`` indices of one band of blocks (same first-axis block), in C order."""
    parts = [np.argwhere(b) + np.asarray(s, dtype=np.intp) for b, s in zip(blocks, starts)]
    out = np.concatenate(parts) if parts else np.empty((0, len(starts[0]) if starts else 0), np.intp)
    if len(parts) > 1 and len(out):  # C order across the band's blocks: sort rows lexicographically
        out = out[np.lexsort(out.T[::-1])]
    return out


def argwhere(a) -> Array:
    """``numpy.argwhere``: one row of indices per nonzero element; row blocks of unknown length.

    One task per block of the first axis: it reads that band's blocks and returns
    their indices in C order.
    """
    a = asarray(a)
    if a.ndim == 0:
        a = a[None]
        name = new_name("argwhere0", a)
        nodes = {(name, 0, 0): Task((name, 0, 0), _drop_columns, Ref((a.name, 0)))}
        return Array(name, ((math.nan,), (0,)), np.intp, nodes, [a])
    if has_unknown(a.chunks):
        raise ValueError("argwhere needs the array's block lengths (its indices are global); "
                         "call .compute_chunk_sizes() first")
    starts = [offsets(c) for c in a.chunks]
    name = new_name("argwhere", a)
    nodes = {}
    for i in range(a.numblocks[0]):
        band = list(itertools.product([i], *[range(n) for n in a.numblocks[1:]]))
        refs = [Ref((a.name,) + idx) for idx in band]
        band_starts = [tuple(starts[d][k] for d, k in enumerate(idx)) for idx in band]
        nodes[(name, i, 0)] = Task((name, i, 0), _argwhere_band, refs, band_starts)
    return Array(name, ((math.nan,) * a.numblocks[0], (a.ndim,)), np.intp, nodes, [a])


def _drop_columns(block):
    return np.argwhere(block)[:, :0]


def nonzero(a) -> tuple:
    """``numpy.nonzero``: a tuple of index Arrays, one per dimension (block lengths unknown)."""
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.")
    rows = argwhere(a)
    out = []
    for d in range(a.ndim):
        name = new_name("nonzero", rows, d)
        nodes = {(name, i): Task((name, i), operator.getitem, Ref((rows.name, i, 0)), (slice(None), d))
                 for i in range(rows.numblocks[0])}
        out.append(Array(name, (rows.chunks[0],), np.intp, nodes, [rows]))
    return tuple(out)


def flatnonzero(a) -> Array:
    """``numpy.flatnonzero``: indices of nonzero elements of the flattened array (block lengths unknown)."""
    a = asarray(a)
    return nonzero(ravel(a) if a.ndim != 1 else a)[0]


def where(condition, x=None, y=None):
    """``numpy.where``: elementwise choice with three arguments, `nonzero` of ``condition`` with one."""
    if x is None and y is None:
        return nonzero(condition)
    return where_elementwise(condition, x, y)


def _searchsorted_block(a_blocks, v, side):
    # For a sorted ``a``, "how many elements of a are < v (or <= v)" is the sum of the same count over a's blocks.
    total = np.zeros(np.shape(v), dtype=np.intp)
    for b in a_blocks:
        total += np.searchsorted(b, v, side=side)
    return total


def searchsorted(a, v, side="left", sorter=None) -> Array:
    """``numpy.searchsorted`` of ``v`` (any shape) into the sorted 1-d ``a``.

    Each block of ``v`` counts, block by block of ``a``, the elements before it,
    so ``a`` is never gathered into one piece.  ``sorter`` (an index array) is
    applied to ``a`` first.
    """
    a = asarray(a)
    if a.ndim != 1:
        raise ValueError("object too deep for desired array: searchsorted needs a 1-d array")
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    if sorter is not None:
        a = a[np.asarray(sorter)] if not isinstance(sorter, Array) else a[sorter.compute()]
    scalar = np.ndim(v) == 0 and not isinstance(v, Array)
    v = asarray(np.asarray(v)[None] if scalar else v)
    if has_unknown(a.chunks):
        raise ValueError("searchsorted needs a's block lengths; call .compute_chunk_sizes() first")
    np.searchsorted(np.ones(1, a.dtype), np.ones(1, v.dtype))  # numpy's TypeError for types it cannot compare
    name = new_name("searchsorted", a, v, side)
    refs = [Ref((a.name, j)) for j in range(a.numblocks[0])]
    nodes = {}
    for idx in itertools.product(*[range(n) for n in v.numblocks]):
        nodes[(name,) + idx] = Task((name,) + idx, _searchsorted_block, refs, Ref((v.name,) + idx), side)
    out = Array(name, v.chunks, np.intp, nodes, [a, v])
    return out[0] if scalar else out


def digitize(x, bins, right=False) -> Array:
    """``numpy.digitize`` block by block; ``bins`` is a 1-d numpy array-like (monotonic), as in Dask."""
    if isinstance(bins, Array):
        bins = bins.compute()  # bins are small and every block needs all of them
    bins = np.asarray(bins)
    if bins.ndim != 1:
        raise ValueError("bins must be a 1-d array")
    return elemwise(np.digitize, asarray(x), bins=bins, right=right, dtype=np.intp)


NUMPY_FUNCTIONS = {np.nonzero: nonzero, np.argwhere: argwhere, np.flatnonzero: flatnonzero, np.where: where,
                   np.searchsorted: searchsorted, np.digitize: digitize}
