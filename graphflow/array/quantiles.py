"""Order statistics: ``percentile``, ``quantile``, ``median`` and their ``nan`` forms, exact as numpy's.

A quantile along an axis needs every value along it at once, so each output
block has one task that reads the blocks lined up along the reduced axes and
joins them into one buffer of its own, with the reduced axes last (so each
lane is contiguous); it sorts the lanes and lets numpy pick the order
statistics in place (``overwrite_input=True``: the buffer is the task's own, so
nothing shared is touched).  The other axes stay chunked, one task per block:

    x: 4 x 3 blocks, percentile along axis 0  ->  3 tasks, each joining a column of 4 blocks

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(12.0).reshape(4, 3), chunks=(2, 2))
    >>> ga.percentile(x, [25, 50], axis=0).compute()
    array([[2.25, 3.25, 4.25],
           [4.5 , 5.5 , 6.5 ]])
    >>> float(ga.median(x))
    5.5

Results are numpy's exactly (not Dask's approximate merge of per-block
percentiles); the price is that one task holds a whole line of the reduced
axes, which ``axis=None`` makes the whole array.
"""

from __future__ import annotations

import builtins
import itertools

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..spec import Ref, Task
from .chunks import has_unknown
from .core import Array, new_name
from .creation import asarray

__all__ = ["percentile", "quantile", "median", "nanpercentile", "nanquantile", "nanmedian", "NUMPY_FUNCTIONS"]


def _gather(nested, axes):
    """The blocks of ``nested`` (lists over the reduced ``axes``) copied once into a new C-ordered buffer
    whose reduced axes come last: ``(kept..., reduced...)``."""
    blocks = []

    def walk(item, index):
        if isinstance(item, list):
            for i, sub in enumerate(item):
                walk(sub, index + (i,))
        else:
            blocks.append((index, np.asarray(item)))

    walk(nested, ())
    first = blocks[0][1]
    ndim = first.ndim
    last = tuple(range(ndim - len(axes), ndim))
    starts = []  # per reduced axis: offset of each block index
    for k, d in enumerate(axes):
        sizes = {}
        for index, b in blocks:
            sizes[index[k]] = b.shape[d]
        offs, total = {}, 0
        for i in sorted(sizes):
            offs[i], total = total, total + sizes[i]
        starts.append((offs, total))
    kept = [first.shape[d] for d in range(ndim) if d not in axes]
    buf = np.empty(kept + [total for _, total in starts], dtype=np.result_type(*[b for _, b in blocks]))
    for index, b in blocks:
        where = tuple(slice(starts[k][0][i], starts[k][0][i] + b.shape[d]) for k, (i, d) in enumerate(zip(index, axes)))
        buf[(Ellipsis,) + where] = np.moveaxis(b, axes, last)
    return buf


def _select(nested, func, q, axes, keepdims, kwargs):
    """``func`` over the gathered blocks: reduced axes last, each lane contiguous and sorted, in our own buffer.

    Sorting each lane first and then letting numpy pick its order statistics is
    faster than numpy's multi-``kth`` partition along a strided axis, and gives
    the same values: a quantile only reads order statistics, whatever their
    arrangement.  The buffer is the task's own copy, so numpy may reorder it.
    """
    buf = _gather(nested, axes)
    full = buf.shape
    kept = full[:buf.ndim - len(axes)]
    buf = buf.reshape(kept + (-1,))
    if buf.dtype.kind in "biuf" and buf.shape[-1]:
        buf.sort(axis=-1)
    if q is None:
        out = func(buf, axis=-1, overwrite_input=True, **kwargs)
    else:
        out = func(buf, q, axis=-1, overwrite_input=True, **kwargs)
    if keepdims:
        q_shape = () if q is None else np.shape(q)
        ndim = len(full)
        kept_iter = iter(kept)
        out = np.reshape(out, q_shape + tuple(1 if d in axes else next(kept_iter) for d in range(ndim)))
    return out


def _nested_refs(name, idx, x, axes):
    """Refs to the blocks of ``x`` that output block ``idx`` joins: nested lists over the reduced axes."""
    def nest(d, prefix):
        if d == x.ndim:
            return Ref((name,) + prefix)
        if d in axes:
            return [nest(d + 1, prefix + (j,)) for j in range(x.numblocks[d])]
        return nest(d + 1, prefix + (idx[d],))

    return nest(0, ())


def _reduce_lines(func, what, x, q, axis, keepdims, kwargs, out_dtype) -> Array:
    """``func(x, q, axis=axis, ...)`` with one task per block of the axes that are not reduced."""
    axes = tuple(sorted(normalize_axis_tuple(tuple(range(x.ndim)) if axis is None else axis, x.ndim)))
    if has_unknown(x.chunks):
        raise ValueError(f"{what} needs the array's block lengths; call .compute_chunk_sizes() first")
    q_shape = () if q is None else np.shape(q)
    name = new_name(what, x, None if q is None else np.asarray(q), axes, keepdims, kwargs)
    kept = [d for d in range(x.ndim) if d not in axes]
    nodes = {}
    for idx in itertools.product(*[range(x.numblocks[d]) if d in kept else range(1) for d in range(x.ndim)]):
        nested = _nested_refs(x.name, idx, x, set(axes))
        out_idx = tuple(idx[d] for d in range(x.ndim) if d in kept or keepdims)
        key = (name,) + (0,) * len(q_shape) + out_idx
        nodes[key] = Task(key, _select, nested, func, q, axes, keepdims, kwargs)
    chunks = [(n,) for n in q_shape] + [x.chunks[d] if d in kept else (1,) for d in range(x.ndim)
                                        if d in kept or keepdims]
    return Array(name, chunks, out_dtype, nodes, [x])


def _check_q(q, scale, what):
    q = np.asarray(q)
    if q.dtype.kind not in "biuf":
        raise TypeError(f"{what}: q must be real numbers, not {q.dtype}")
    if q.size and (np.any(q < 0) or np.any(q > scale) or np.any(np.isnan(q))):
        raise ValueError("Percentiles must be in the range [0, 100]" if scale == 100
                         else "Quantiles must be in the range [0, 1]")
    return q


def _quantile_like(npfunc, scale, what):
    def f(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
        if out is not None:
            raise NotImplementedError(f"{what}(out=...) is not supported on graphflow arrays")
        if weights is not None:
            raise NotImplementedError(f"{what}(weights=...) is not supported on graphflow arrays")
        x = asarray(a)
        q = _check_q(q, scale, what)
        kwargs = {"method": method} if method != "linear" else {}
        sample = np.ones((2,) * builtins.max(x.ndim, 1), dtype=x.dtype)
        dtype = npfunc(sample, q, **kwargs).dtype  # numpy's result dtype, and its errors for bad methods
        return _reduce_lines(npfunc, what, x, q, axis, keepdims, kwargs, dtype)

    f.__name__ = what
    f.__doc__ = (f"``numpy.{what}`` exactly, along ``axis`` (all axes when None): one task per block of the "
                 f"other axes (see graphflow.array.quantiles).")
    return f


percentile = _quantile_like(np.percentile, 100, "percentile")
quantile = _quantile_like(np.quantile, 1, "quantile")
nanpercentile = _quantile_like(np.nanpercentile, 100, "nanpercentile")
nanquantile = _quantile_like(np.nanquantile, 1, "nanquantile")


def _median_like(npfunc, what):
    def f(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        if out is not None:
            raise NotImplementedError(f"{what}(out=...) is not supported on graphflow arrays")
        x = asarray(a)
        dtype = npfunc(np.ones((2,) * builtins.max(x.ndim, 1), dtype=x.dtype)).dtype
        return _reduce_lines(npfunc, what, x, None, axis, keepdims, {}, dtype)

    f.__name__ = what
    f.__doc__ = f"``numpy.{what}`` exactly, along ``axis``: see graphflow.array.quantiles."
    return f


median = _median_like(np.median, "median")
nanmedian = _median_like(np.nanmedian, "nanmedian")

NUMPY_FUNCTIONS = {np.percentile: percentile, np.quantile: quantile, np.nanpercentile: nanpercentile,
                   np.nanquantile: nanquantile, np.median: median, np.nanmedian: nanmedian}
