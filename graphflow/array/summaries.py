"""Summaries built from reductions and elementwise steps: moment, ptp, count_nonzero,
isclose/allclose, coarsen.

``moment`` is two passes (a mean, then the mean of powered deviations), as
numpy's definition; ``allclose`` stays lazy (a 0-d boolean Array) until
``bool()`` or ``compute()``.  ``coarsen`` reduces each block on its own after
cutting its axis into groups of ``factor``; blocks are first rechunked so no
group straddles two blocks:

    >>> import numpy as np, graphflow.array as ga
    >>> coarsen(np.sum, ga.arange(12, chunks=5), {0: 3}).compute()
    array([ 3, 12, 21, 30])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .blockmap import per_block
from .core import Array
from .creation import asarray
from .elementwise import elemwise
from .rechunk import rechunk
from .reductions import all as _all
from .reductions import max as _max
from .reductions import mean as _mean
from .reductions import min as _min
from .reductions import sum as _sum

__all__ = ["moment", "ptp", "count_nonzero", "isclose", "allclose", "coarsen"]


def moment(a, order, axis=None, dtype=None, keepdims=False, ddof=0, split_every=None) -> Array:
    """The ``order``-th central moment, ``sum((a - mean) ** order) / (N - ddof)``, as Dask's ``moment``."""
    a = asarray(a)
    if not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"order must be a non-negative integer, not {order!r}")
    axes = normalize_axis_tuple(tuple(range(a.ndim)) if axis is None else axis, a.ndim)
    n = int(np.prod([a.shape[d] for d in axes]))
    mu = _mean(a, axis=axes, dtype=dtype, keepdims=True, split_every=split_every)
    dev = elemwise(np.power, elemwise(np.subtract, a, mu), order)
    out = _sum(dev, axis=axes, dtype=dtype, keepdims=keepdims, split_every=split_every)
    return elemwise(np.true_divide, out, max(n - ddof, 0))


def ptp(a, axis=None, keepdims=False) -> Array:
    """``numpy.ptp``: maximum minus minimum."""
    a = asarray(a)
    return elemwise(np.subtract, _max(a, axis=axis, keepdims=keepdims), _min(a, axis=axis, keepdims=keepdims))


def count_nonzero(a, axis=None, keepdims=False) -> Array:
    """``numpy.count_nonzero`` (a 0-d Array when ``axis`` is None; numpy's intp)."""
    a = asarray(a)
    return _sum(elemwise(np.not_equal, a, 0), axis=axis, dtype=np.intp, keepdims=keepdims)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Array:
    """``numpy.isclose``, element by element."""
    return elemwise(np.isclose, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan, dtype=bool)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Array:
    """``numpy.allclose`` as a lazy 0-d boolean Array (``bool()`` computes it)."""
    return _all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _coarsen_block(block, reduction, factors, kwargs):
    shape, axes = [], []
    for d, n in enumerate(block.shape):
        f = factors.get(d)
        if f:
            shape.extend([n // f, f])
            axes.append(len(shape) - 1)
        else:
            shape.append(n)
    return reduction(block.reshape(shape), axis=tuple(axes), **kwargs)


def _aligned(blocks, f):
    """Block lengths, each a multiple of ``f``, with the same total (``f`` divides it)."""
    out, carry = [], 0
    for b in blocks:
        carry += b
        take = carry - carry % f
        if take:
            out.append(take)
            carry -= take
    return tuple(out) or (0,)


def coarsen(reduction, x, axes, trim_excess=False, **kwargs) -> Array:
    """``reduction`` over non-overlapping groups of ``axes[axis]`` elements along each axis (as Dask's)."""
    x = asarray(x)
    factors = {d % x.ndim: int(f) for d, f in axes.items()}
    if not trim_excess and any(x.shape[d] % f for d, f in factors.items()):
        raise ValueError(f"Coarsening factors {axes} do not align with array shape {x.shape}.")
    if trim_excess:
        x = x[tuple(slice(0, x.shape[d] - x.shape[d] % factors[d]) if d in factors else slice(None)
                    for d in range(x.ndim))]
    x = rechunk(x, tuple(_aligned(c, factors[d]) if d in factors else c for d, c in enumerate(x.chunks)))
    chunks = tuple(tuple(b // factors[d] for b in c) if d in factors else c for d, c in enumerate(x.chunks))
    sample = _coarsen_block(np.ones(tuple(factors.get(d, 1) for d in range(x.ndim)), dtype=x.dtype),
                            reduction, factors, kwargs)
    return per_block("coarsen", x, _coarsen_block, lambda idx: (reduction, factors, kwargs), chunks=chunks,
                     dtype=np.asarray(sample).dtype, token=(reduction, factors, kwargs))
