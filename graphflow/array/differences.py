"""Differences: diff, ediff1d, gradient.

A difference needs one element of the next block: output block ``i`` of
``diff(x)`` is ``np.diff`` of block ``i`` with the first element of block
``i + 1`` appended, so block lengths stay as they were except the last,
which loses one (and is dropped once empty).  ``diff(x, n)`` repeats that ``n`` times.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([1, 4, 9, 16, 25]), chunks=2)
    >>> diff(x).chunks, diff(x).compute()
    (((2, 2),), array([3, 5, 7, 9]))

``gradient`` gives every block its neighbours' facing elements the same way, then
trims: interior points use central differences as numpy's do, the array's
two ends numpy's one-sided formulas.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..spec import Ref, Task
from .chunks import offsets
from .core import Array, new_name
from .creation import asarray, full
from .manipulation import concatenate, ravel
from .rechunk import rechunk

__all__ = ["diff", "ediff1d", "gradient"]


def _take_axis(block, sl, axis):
    return block[(slice(None),) * axis + (sl,)]


def _diff_next(block, nxt, axis):
    return np.diff(np.concatenate([block, _take_axis(nxt, slice(0, 1), axis)], axis=axis), axis=axis)


def _diff_last(block, axis):
    return np.diff(block, axis=axis)


def _no_empty_blocks(a, axis):
    c = tuple(b for b in a.chunks[axis] if b) or (0,)
    if c == a.chunks[axis]:
        return a
    return rechunk(a, tuple(c if d == axis else a.chunks[d] for d in range(a.ndim)))


def _diff_once(a, axis, dtype):
    a = _no_empty_blocks(a, axis)
    nb = a.numblocks[axis]
    chunks = list(a.chunks)
    lengths = list(a.chunks[axis][:-1]) + [max(a.chunks[axis][-1] - 1, 0)]
    if nb > 1 and lengths[-1] == 0:
        lengths.pop()
    chunks[axis] = tuple(lengths)
    name = new_name("diff", a, axis)
    nodes = {}
    for idx in np.ndindex(*[len(c) for c in chunks]):
        key = (name,) + idx
        i = idx[axis]
        if i + 1 < nb:
            nxt = idx[:axis] + (i + 1,) + idx[axis + 1:]
            nodes[key] = Task(key, _diff_next, Ref((a.name,) + idx), Ref((a.name,) + nxt), axis)
        else:
            nodes[key] = Task(key, _diff_last, Ref((a.name,) + idx), axis)
    return Array(name, chunks, dtype, nodes, [a])


def _edge(value, a, axis, what):
    value = asarray(value) if isinstance(value, Array) else np.asarray(value)
    if value.ndim == 0:
        shape = list(a.shape)
        shape[axis] = 1
        chunks = tuple((1,) if d == axis else a.chunks[d] for d in range(a.ndim))
        return full(tuple(shape), value[()] if isinstance(value, np.ndarray) else value, dtype=value.dtype,
                    chunks=chunks)
    return asarray(value)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """``numpy.diff``: the ``n``-th discrete difference along ``axis``."""
    a = asarray(a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, a.ndim)
    parts = [_edge(prepend, a, axis, "prepend")] if prepend is not None else []
    parts.append(a)
    if append is not None:
        parts.append(_edge(append, a, axis, "append"))
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    dtype = np.diff(np.zeros(2, dtype=a.dtype)).dtype
    for _ in range(n):
        a = _diff_once(a, axis, dtype)
    return a


def _ediff_extra(extra, dtype, what):
    extra = np.asarray(extra)
    if not np.can_cast(extra, dtype, casting="same_kind"):
        raise TypeError(f"dtype of `{what}` must be compatible with input `ary` under the `same_kind` rule.")
    return asarray(extra.astype(dtype).ravel())


def ediff1d(ary, to_end=None, to_begin=None):
    """``numpy.ediff1d``: differences of the flattened array, with values before and after."""
    ary = ravel(asarray(ary))
    parts = [diff(ary)]
    if to_begin is not None:
        parts.insert(0, _ediff_extra(to_begin, ary.dtype, "to_begin"))
    if to_end is not None:
        parts.append(_ediff_extra(to_end, ary.dtype, "to_end"))
    return concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


def _grad_block(left, block, right, axis, spacing, edge_order):
    parts = [] if left is None else [_take_axis(left, slice(-1, None), axis)]
    parts.append(block)
    if right is not None:
        parts.append(_take_axis(right, slice(0, 1), axis))
    ext = np.concatenate(parts, axis=axis) if len(parts) > 1 else block
    out = np.gradient(ext, spacing, axis=axis, edge_order=edge_order)
    lo = 0 if left is None else 1
    return _take_axis(out, slice(lo, lo + block.shape[axis]), axis)


def _gradient_axis(f, axis, spacing, edge_order, dtype):
    need = edge_order + 1
    c = f.chunks[axis]
    if len(c) > 1 and (c[0] < need - 1 or c[-1] < need - 1 or min(c) < 1):
        step = max(need, max(c))
        f = rechunk(f, tuple(tuple(_cuts(f.shape[axis], step)) if d == axis else f.chunks[d] for d in range(f.ndim)))
    starts = offsets(f.chunks[axis])
    nb = f.numblocks[axis]
    name = new_name("gradient", f, axis, spacing if np.ndim(spacing) == 0 else np.asarray(spacing), edge_order)
    nodes = {}
    for idx in np.ndindex(*f.numblocks):
        i = idx[axis]
        key = (name,) + idx
        left = Ref((f.name,) + idx[:axis] + (i - 1,) + idx[axis + 1:]) if i > 0 else None
        right = Ref((f.name,) + idx[:axis] + (i + 1,) + idx[axis + 1:]) if i + 1 < nb else None
        sp = spacing
        if np.ndim(spacing):
            lo, hi = starts[i] - (left is not None), starts[i + 1] + (right is not None)
            sp = np.asarray(spacing)[lo:hi]
        nodes[key] = Task(key, _grad_block, left, Ref((f.name,) + idx), right, axis, sp, edge_order)
    return Array(name, f.chunks, dtype, nodes, [f])


def _cuts(n, step):
    full_, rest = divmod(n, step)
    out = [step] * full_
    if rest:
        if out:
            out[-1] += rest  # a short last block would fall below the stencil's width
        else:
            out = [rest]
    return out


def gradient(f, *varargs, axis=None, edge_order=1):
    """``numpy.gradient``: central differences inside, one-sided at the ends, per axis."""
    f = asarray(f)
    axes = tuple(range(f.ndim)) if axis is None else normalize_axis_tuple(axis, f.ndim)
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    for ax, sp in zip(axes, spacings):
        if np.ndim(sp) and len(sp) != f.shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
    dtype = f.dtype if f.dtype.kind in "fc" else np.dtype(np.float64)
    out = [_gradient_axis(f, ax, sp, edge_order, dtype) for ax, sp in zip(axes, spacings)]
    return out[0] if len(out) == 1 else tuple(out)
