"""`rechunk`: the same array cut into other blocks, in one step of tasks.

Each output block reads the input blocks it overlaps, slices each to the
overlap and joins the pieces (`numpy.block`); a block that lies inside one
input block is a plain slice of it (a view, no copy).  Per dimension the
plan is a list of ``(input block, slice)`` pieces for each output block:

    >>> _plan_dim((3, 3), (2, 4))
    [[(0, slice(0, 2, None))], [(0, slice(2, 3, None)), (1, slice(0, 3, None))]]

``chunks="auto"`` asks for blocks of about ``limit`` bytes (128 MiB by default):

    >>> import graphflow.array as ga
    >>> ga.ones((4096, 4096), chunks=256).rechunk("auto").chunks[1]
    (4096,)
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

from ..spec import Ref, Task
from .chunks import has_unknown, normalize_chunks, offsets
from .core import Array, new_name

__all__ = ["rechunk"]


def _plan_dim(old, new) -> list:
    old_off, new_off = offsets(old), offsets(new)
    plan = []
    i = 0
    for start, stop in zip(new_off, new_off[1:]):
        pieces = []
        while i < len(old) - 1 and old_off[i + 1] <= start:
            i += 1
        j = i
        while True:
            lo, hi = max(start, old_off[j]), min(stop, old_off[j + 1])
            if hi > lo or (stop == start and not pieces):
                pieces.append((j, slice(lo - old_off[j], hi - old_off[j])))
            if old_off[j + 1] >= stop or j == len(old) - 1:
                break
            j += 1
        plan.append(pieces)
    return plan


def _join(pieces, slices):
    """Slice each piece and join them (nested lists, one level per dimension)."""
    def cut(p, s):
        if type(p) is list:
            return [cut(a, b) for a, b in zip(p, s)]
        return p[s]

    cut_pieces = cut(pieces, slices)
    return np.block(cut_pieces) if type(cut_pieces) is list else cut_pieces


def rechunk(x: Array, chunks="auto", limit=None) -> Array:
    """``x`` with new block lengths (int, tuple, tuple of tuples, dict per axis, or "auto").

    >>> import graphflow.array as ga
    >>> ga.ones((5, 4), chunks=2).rechunk((5, 1)).chunks
    ((5,), (1, 1, 1, 1))
    """
    if isinstance(chunks, dict):
        chunks = tuple(chunks.get(d, chunks.get(d - x.ndim, x.chunks[d])) for d in range(x.ndim))
    if has_unknown(x.chunks):
        raise ValueError("cannot rechunk an array with unknown chunk sizes (from a boolean mask); "
                         "call .compute_chunk_sizes() first")
    new = normalize_chunks(chunks, x.shape, x.dtype, limit=limit)
    if new == x.chunks:
        return x
    name = new_name("rechunk", x, new)
    plans = [_plan_dim(o, n) for o, n in zip(x.chunks, new)]
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in new]):
        key = (name,) + idx
        per_dim = [plans[d][i] for d, i in enumerate(idx)]
        if all(len(p) == 1 for p in per_dim):
            src = (x.name,) + tuple(p[0][0] for p in per_dim)
            nodes[key] = Task(key, operator.getitem, Ref(src), tuple(p[0][1] for p in per_dim))
        else:
            refs, slices = _nested(x.name, per_dim, ())
            nodes[key] = Task(key, _join, refs, slices)
    return Array(name, new, x.dtype, nodes, [x])


def _nested(name, per_dim, prefix):
    d = len(prefix)
    if d == len(per_dim):
        return Ref((name,) + tuple(i for i, _ in prefix)), tuple(s for _, s in prefix)
    refs, slices = [], []
    for piece in per_dim[d]:
        r, s = _nested(name, per_dim, prefix + (piece,))
        refs.append(r)
        slices.append(s)
    return refs, slices
