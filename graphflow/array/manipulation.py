"""Shape manipulation: transpose, reshape, squeeze, expand_dims, concatenate, stack.

All of these only re-label or re-cut blocks; each output block comes from one
input block (``concatenate`` picks whose), except where ``reshape`` first
rechunks.  ``reshape`` works group by group: input and output dimensions are
matched into groups of equal size (``(6, 4) -> (24,)`` is one group); inside
a group the trailing input dimensions are made whole blocks, and each block
of the first dimension must hold a whole number of output rows:

    >>> import graphflow.array as ga
    >>> ga.ones((6, 4), chunks=(2, 2)).reshape(24).chunks
    ((8, 8, 8),)
    >>> ga.ones((24,), chunks=8).reshape(6, 4).chunks
    ((2, 2, 2), (4,))

When blocks cannot be cut that way (``(24,)`` in blocks of 5 into rows of 4)
reshape raises ValueError saying which rechunk would make it possible.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..spec import Ref, Task
from .chunks import common_chunks, has_unknown
from .core import Array, new_name
from .creation import asarray
from .rechunk import rechunk

__all__ = ["transpose", "reshape", "ravel", "squeeze", "expand_dims", "concatenate", "stack", "moveaxis",
           "swapaxes"]


def _relabel(x, name, chunks, func, index_map, *args, dtype=None) -> Array:
    """One task per output block: ``func(input block, *args)``; ``index_map(out idx) -> in idx``."""
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in chunks]):
        key = (name,) + idx
        nodes[key] = Task(key, func, Ref((x.name,) + index_map(idx)), *args)
    return Array(name, chunks, x.dtype if dtype is None else dtype, nodes, [x])


def transpose(x, axes=None) -> Array:
    """``numpy.transpose``: block ``(i, j)`` of ``x.T`` is the transpose of block ``(j, i)``."""
    x = asarray(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else normalize_axis_tuple(axes, x.ndim)
    if len(axes) != x.ndim:
        raise ValueError("axes don't match array")
    if axes == tuple(range(x.ndim)):
        return x
    inverse = [axes.index(d) for d in range(x.ndim)]
    chunks = [x.chunks[a] for a in axes]
    out = _relabel(x, new_name("transpose", x, axes), chunks, np.transpose,
                   lambda idx: tuple(idx[inverse[d]] for d in range(x.ndim)), axes)
    out.recipe = ("transpose", axes)
    return out


def moveaxis(x, source, destination) -> Array:
    """``numpy.moveaxis`` as a transpose."""
    source = normalize_axis_tuple(source, x.ndim)
    destination = normalize_axis_tuple(destination, x.ndim)
    order = [d for d in range(x.ndim) if d not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, tuple(order))


def swapaxes(x, axis1, axis2) -> Array:
    """``numpy.swapaxes`` as a transpose."""
    order = list(range(x.ndim))
    a, b = normalize_axis_index(axis1, x.ndim), normalize_axis_index(axis2, x.ndim)
    order[a], order[b] = order[b], order[a]
    return transpose(x, tuple(order))


def squeeze(x, axis=None) -> Array:
    """``numpy.squeeze``: drop length-1 axes (all of them, or those named)."""
    axes = tuple(d for d, n in enumerate(x.shape) if n == 1) if axis is None else normalize_axis_tuple(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    if not axes:
        return x
    chunks = [c for d, c in enumerate(x.chunks) if d not in axes]
    keep = [d for d in range(x.ndim) if d not in axes]

    def index_map(idx):
        full = [0] * x.ndim
        for d, i in zip(keep, idx):
            full[d] = i
        return tuple(full)

    return _relabel(x, new_name("squeeze", x, axes), chunks, np.squeeze, index_map, axes)


def expand_dims(x, axis) -> Array:
    """``numpy.expand_dims``: insert length-1 axes."""
    x = asarray(x)
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axis)
    axes = normalize_axis_tuple(axis, ndim)
    chunks, rest = [], iter(x.chunks)
    for d in range(ndim):
        chunks.append((1,) if d in axes else next(rest))
    keep = [d for d in range(ndim) if d not in axes]
    return _relabel(x, new_name("expand_dims", x, axes), chunks, np.expand_dims,
                    lambda idx: tuple(idx[d] for d in keep), axes)


def _groups(shape_in, shape_out):
    """Pairs (input dims, output dims) of equal total size (shapes without 1s)."""
    groups, i, j = [], 0, 0
    while i < len(shape_in):
        gi, go = [i], [j]
        pi, po = shape_in[i], shape_out[j]
        while pi != po:
            if pi < po:
                i += 1
                gi.append(i)
                pi *= shape_in[i]
            else:
                j += 1
                go.append(j)
                po *= shape_out[j]
        groups.append((gi, go))
        i, j = i + 1, j + 1
    return groups


def resolve_shape(shape, size: int) -> tuple:
    """``shape`` (an int or a tuple, at most one -1) made concrete for ``size`` elements, or numpy's ValueError."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or size % rest:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // rest if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def _multiples_of(step: int, total: int, typical: int) -> tuple:
    """Block lengths that are multiples of ``step``, sum to ``total`` (itself a multiple), near ``typical``."""
    size = max(step, typical // step * step)
    return tuple(min(size, total - start) for start in range(0, total, size)) or (0,)


def reshape(x, shape) -> Array:
    """``numpy.reshape`` (C order) where block boundaries allow; see the module docstring."""
    x = asarray(x)
    if has_unknown(x.chunks):
        raise ValueError("cannot reshape an array with unknown chunk sizes; call .compute_chunk_sizes() first")
    shape = resolve_shape(shape, x.size)
    if shape == x.shape:
        return x
    if x.size == 0 or x.npartitions == 1:
        x = rechunk(x, tuple(-1 for _ in x.shape))
        return _relabel(x, new_name("reshape", x, shape), [(n,) if n else (0,) for n in shape], np.reshape,
                        lambda idx: (0,) * x.ndim, shape)
    core_in = squeeze(x)
    core_out = tuple(n for n in shape if n != 1)
    groups = _groups(core_in.shape, core_out)
    want = list(core_in.chunks)
    for gi, go in groups:
        for d in gi[1:]:
            want[d] = (core_in.shape[d],)
        # A block along the group's leading axis must hold whole output rows: as numpy and Dask accept
        # any chunking, regroup that axis into multiples of the row length where it does not.
        r_in = math.prod(core_in.shape[d] for d in gi[1:])
        step = math.prod(core_out[d] for d in go[1:]) // math.gcd(r_in, math.prod(core_out[d] for d in go[1:]))
        if any(c % step for c in want[gi[0]]):
            want[gi[0]] = _multiples_of(step, core_in.shape[gi[0]], max(want[gi[0]]))
    core_in = rechunk(core_in, tuple(want))
    out_chunks = [None] * len(core_out)
    for gi, go in groups:
        r_in = math.prod(core_in.shape[d] for d in gi[1:])
        r_out = math.prod(core_out[d] for d in go[1:])
        first = []
        for c in core_in.chunks[gi[0]]:
            if (c * r_in) % r_out:
                raise ValueError(
                    f"reshape {x.shape} -> {shape}: a block of {c} along axis {gi[0]} does not hold whole rows of "
                    f"{r_out} elements; rechunk that axis to multiples of {r_out // math.gcd(r_in, r_out)} first")
            first.append(c * r_in // r_out)
        out_chunks[go[0]] = tuple(first)
        for d in go[1:]:
            out_chunks[d] = (core_out[d],)
    lead = {go[0]: gi[0] for gi, go in groups}

    def index_map(idx):
        full = [0] * core_in.ndim
        for o, i in lead.items():
            full[i] = idx[o]
        return tuple(full)

    name = new_name("reshape", core_in, core_out)
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in out_chunks]):
        bshape = tuple(out_chunks[d][i] for d, i in enumerate(idx))
        nodes[(name,) + idx] = Task((name,) + idx, np.reshape, Ref((core_in.name,) + index_map(idx)), bshape)
    out = Array(name, out_chunks, x.dtype, nodes, [core_in])
    ones = [d for d, n in enumerate(shape) if n == 1]
    return expand_dims(out, ones) if ones else out


def ravel(x) -> Array:
    """``numpy.ravel``: a 1-d reshape."""
    return reshape(x, (-1,))


def _cast(block, dtype):
    return block.astype(dtype, copy=False)


def concatenate(seq, axis=0) -> Array:
    """``numpy.concatenate``: the blocks of each input, one after another along ``axis``."""
    seq = [asarray(a) for a in seq]
    if not seq:
        raise ValueError("need at least one array to concatenate")
    ndim = seq[0].ndim
    if ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if any(a.ndim != ndim for a in seq):
        raise ValueError("all the input arrays must have same number of dimensions")
    axis = normalize_axis_index(axis, ndim)
    for a in seq:
        for d in range(ndim):
            if d != axis and a.shape[d] != seq[0].shape[d]:
                raise ValueError(f"all the input array dimensions except for the concatenation axis must match "
                                 f"exactly, but along dimension {d} the arrays have sizes {seq[0].shape[d]} "
                                 f"and {a.shape[d]}")
    dtype = np.result_type(*[a.dtype for a in seq])
    common = [common_chunks([a.chunks[d] for a in seq]) if d != axis else None for d in range(ndim)]
    seq = [rechunk(a, tuple(a.chunks[d] if d == axis else common[d] for d in range(ndim))) for a in seq]
    name = new_name("concatenate", *seq, axis, str(dtype))
    owner = [(k, j) for k, a in enumerate(seq) for j in range(a.numblocks[axis])]
    chunks = list(seq[0].chunks)
    chunks[axis] = tuple(b for a in seq for b in a.chunks[axis])
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in chunks]):
        k, j = owner[idx[axis]]
        src = (seq[k].name,) + idx[:axis] + (j,) + idx[axis + 1:]
        nodes[(name,) + idx] = Task((name,) + idx, _cast, Ref(src), dtype)
    return Array(name, chunks, dtype, nodes, seq)


def stack(seq, axis=0) -> Array:
    """``numpy.stack``: a new axis, then `concatenate` along it."""
    seq = list(seq)
    if not seq:
        raise ValueError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in seq}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis_index(axis, len(seq[0].shape) + 1)
    return concatenate([expand_dims(a, axis) for a in seq], axis=axis)
