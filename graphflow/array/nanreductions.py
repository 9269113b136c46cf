"""Reductions that skip NaN: ``nanmin``, ``nanmax``, ``nanprod``, ``nanvar``, ``nanstd``, ``nanargmin``, ``nanargmax``.

All are trees built by `graphflow.array.reductions.reduction` (chunk per block,
combine groups, aggregate at the root), with NaN-aware steps:

* ``nanmin``/``nanmax`` reduce with ``np.fmin``/``np.fmax``, which keep the
  non-NaN operand, so an all-NaN block simply passes NaN along (no warning per block);
* ``nanvar``/``nanstd`` carry (count of non-NaN, mean, M2) per lane and merge
  them with Chan's formula; a lane with no values gives NaN, as numpy;
* ``nanargmin``/``nanargmax`` carry (value, global index, seen-a-value) and raise
  numpy's ValueError for an all-NaN lane when the result is computed.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([[np.nan, 2.0, 5.0], [1.0, np.nan, -3.0]]), chunks=(1, 2))
    >>> ga.nanmin(x, axis=1).compute(), ga.nanargmax(x, axis=0).compute()
    (array([ 2., -3.]), array([1, 0, 0]))
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .chunks import offsets
from .core import Array
from .creation import asarray
from .manipulation import ravel
from .reductions import reduction

__all__ = ["nanmin", "nanmax", "nanprod", "nanvar", "nanstd", "nanargmin", "nanargmax", "NUMPY_FUNCTIONS"]


def _ufunc_reduce(op, block, axis, keepdims):
    return op.reduce(block, axis=axis, keepdims=keepdims)


def _extreme(x, axis, keepdims, split_every, op, what) -> Array:
    x = asarray(x)
    axes = normalize_axis_tuple(tuple(range(x.ndim)) if axis is None else axis, x.ndim)
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"zero-size array to reduction operation {op.__name__} which has no identity")
    step = partial(_ufunc_reduce, op)
    return reduction(x, step, step, step, axis, keepdims, x.dtype, split_every, name=what)


def nanmin(a, axis=None, out=None, keepdims=False, split_every=None):
    """``numpy.nanmin``: a tree of ``np.fmin`` reductions (NaN only where a lane is all NaN)."""
    return _extreme(a, axis, keepdims, split_every, np.fmin, "nanmin")


def nanmax(a, axis=None, out=None, keepdims=False, split_every=None):
    """``numpy.nanmax``: a tree of ``np.fmax`` reductions (NaN only where a lane is all NaN)."""
    return _extreme(a, axis, keepdims, split_every, np.fmax, "nanmax")


def _nanprod_chunk(block, axis, keepdims, dtype=None):
    return np.nanprod(block, axis=axis, keepdims=keepdims, dtype=dtype)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None):
    """``numpy.nanprod``: NaNs count as one."""
    x = asarray(a)
    out_dtype = np.nanprod(np.ones(1, x.dtype), dtype=dtype).dtype
    return reduction(x, partial(_nanprod_chunk, dtype=dtype), np.prod, np.prod, axis, keepdims, out_dtype,
                     split_every, name="nanprod")


# -- nanvar / nanstd: (count, mean, M2) of the non-NaN values


def _nanmoment_chunk(block, axis, keepdims):
    valid = ~np.isnan(block)
    n = np.sum(valid, axis=axis, keepdims=True)
    total = np.nansum(block, axis=axis, keepdims=True, dtype=np.result_type(block.dtype, np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(n > 0, total / np.where(n > 0, n, 1), 0)
    d = np.where(valid, block - mu, 0)
    m2 = np.sum((d * np.conj(d)).real if np.iscomplexobj(d) else d * d, axis=axis, keepdims=True)
    return {"n": n, "mu": mu, "m2": m2}


def _nanmoment_combine(part, axis, keepdims=True):
    n, mu, m2 = part["n"], part["mu"], part["m2"]
    total = np.sum(n, axis=axis, keepdims=True)
    safe = np.where(total > 0, total, 1)
    mean = np.where(total > 0, np.sum(n * mu, axis=axis, keepdims=True) / safe, 0)
    d = mu - mean
    spread = (d * np.conj(d)).real if np.iscomplexobj(d) else d * d
    m2_ = np.sum(m2, axis=axis, keepdims=True) + np.sum(n * spread, axis=axis, keepdims=True)
    out = {"n": total, "mu": mean, "m2": m2_}
    if not keepdims:
        out = {k: np.squeeze(v, axis=axis) for k, v in out.items()}
    return out


def _nanmoment_agg(part, axis, keepdims, ddof=0, root=False, dtype=None):
    c = _nanmoment_combine(part, axis, keepdims)
    dof = c["n"] - ddof
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(dof > 0, c["m2"] / np.where(dof > 0, dof, 1), np.nan)  # numpy: NaN when dof <= 0
    v = np.sqrt(v) if root else v
    return np.asarray(v).astype(dtype, copy=False)


def _nanmoment(a, axis, dtype, ddof, keepdims, split_every, root):
    x = asarray(a)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"nan{'std' if root else 'var'} needs a numeric array, not dtype {x.dtype}")
    out_dtype = np.dtype(dtype) if dtype is not None else np.nanvar(np.ones(2, x.dtype)).dtype
    agg = partial(_nanmoment_agg, ddof=ddof, root=root, dtype=out_dtype)
    return reduction(x, _nanmoment_chunk, _nanmoment_combine, agg, axis, keepdims, out_dtype, split_every,
                     name="nanstd" if root else "nanvar")


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None):
    """``numpy.nanvar``: variance of the non-NaN values (NaN where fewer than ``ddof + 1``)."""
    return _nanmoment(a, axis, dtype, ddof, keepdims, split_every, root=False)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None):
    """``numpy.nanstd``: the square root of `nanvar`."""
    return _nanmoment(a, axis, dtype, ddof, keepdims, split_every, root=True)


# -- nanargmin / nanargmax: (value, global index, seen) per lane along one axis


def _nanarg_chunk(block, start, kind, axis, keepdims):
    (a,) = axis
    nan = np.isnan(block) if block.dtype.kind in "fc" else np.zeros(block.shape, bool)
    fill = np.inf if kind == "min" else -np.inf
    if block.shape[a] == 0:  # an empty block along the axis: nothing seen
        shape = block.shape[:a] + (1,) + block.shape[a + 1:]
        return {"v": np.full(shape, fill), "i": np.zeros(shape, np.intp), "s": np.zeros(shape, bool)}
    filled = np.where(nan, fill, block)
    best = (np.min if kind == "min" else np.max)(filled, axis=a, keepdims=True)
    hit = (filled == best) & ~nan  # the first non-NaN position holding the extreme (it may be +-inf itself)
    seen = np.any(hit, axis=a, keepdims=True)
    first = np.argmax(hit, axis=a, keepdims=True)
    return {"v": best, "i": first.astype(np.intp) + start, "s": seen}


def _nanarg_combine(part, axis, keepdims, kind="min"):
    (a,) = axis
    v, i, s = part["v"], part["i"], part["s"]
    fill = np.inf if kind == "min" else -np.inf
    v = np.where(s, v, fill)
    best = (np.min if kind == "min" else np.max)(v, axis=a, keepdims=True)
    hit = (v == best) & s
    idx = np.where(hit, i, np.iinfo(np.intp).max).min(axis=a, keepdims=True)
    return {"v": best, "i": idx, "s": np.any(s, axis=a, keepdims=True)}


def _nanarg_agg(part, axis, keepdims, kind="min"):
    c = _nanarg_combine(part, axis, keepdims, kind)
    if not np.all(c["s"]):
        raise ValueError("All-NaN slice encountered")
    return c["i"] if keepdims else np.squeeze(c["i"], axis=axis)


def _nanarg(a, axis, keepdims, split_every, kind):
    x = asarray(a)
    if x.size == 0:
        raise ValueError(f"attempt to get nanarg{kind} of an empty sequence")
    if axis is None:
        x, axis, flat = (ravel(x) if x.ndim != 1 else x), 0, True
    else:
        flat = False
    (axis,) = normalize_axis_tuple(axis, x.ndim)
    starts = offsets(x.chunks[axis])

    def extra(idx):
        return (starts[idx[axis]], kind)

    out = reduction(x, _nanarg_chunk, partial(_nanarg_combine, kind=kind), partial(_nanarg_agg, kind=kind), axis,
                    keepdims and not flat, np.dtype(np.intp), split_every, name=f"nanarg{kind}", chunk_extra=extra)
    if flat and keepdims:
        out = out.reshape((1,) * asarray(a).ndim)
    return out


def nanargmin(a, axis=None, keepdims=False, split_every=None):
    """``numpy.nanargmin``: global index of the smallest non-NaN value (ValueError for an all-NaN lane)."""
    return _nanarg(a, axis, keepdims, split_every, "min")


def nanargmax(a, axis=None, keepdims=False, split_every=None):
    """``numpy.nanargmax``: global index of the largest non-NaN value (ValueError for an all-NaN lane)."""
    return _nanarg(a, axis, keepdims, split_every, "max")


NUMPY_FUNCTIONS = {np.nanmin: nanmin, np.nanmax: nanmax, np.nanprod: nanprod, np.nanvar: nanvar,
                   np.nanstd: nanstd, np.nanargmin: nanargmin, np.nanargmax: nanargmax}
