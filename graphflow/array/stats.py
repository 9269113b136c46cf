"""Weighted means and second moments: ``average``, ``cov``, ``corrcoef``, written with Array operations.

``average`` is two sums (of ``a * w`` and of ``w``) divided; ``cov`` centres the
variables on their means and takes ``X @ X.conj().T / (N - ddof)``, so the
work is the matmul's (graphflow.array.linalg); ``corrcoef`` scales the small
``D x D`` covariance in one task.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]), chunks=(1, 2))
    >>> ga.cov(x).compute()
    array([[ 1.        , -0.75      ],
           [-0.75      ,  0.58333333]])
    >>> float(ga.average(ga.arange(4.0, chunks=2), weights=[3, 1, 0, 0]))
    0.25
"""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .blockwise import map_blocks
from .creation import asarray, full_like, zeros_like
from .elementwise import elemwise
from .linalg import matmul
from .manipulation import concatenate
from .reductions import mean
from .reductions import sum as sum_

__all__ = ["average", "cov", "corrcoef", "NUMPY_FUNCTIONS"]


def _divide_weights(total, scale):
    if np.any(scale == 0.0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return total / scale


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """``numpy.average``: the mean, or ``sum(a * w) / sum(w)`` with ``weights``; ``returned`` adds ``sum(w)``.

    ``weights`` has ``a``'s shape, or is 1-d along a single ``axis``.  Weights
    summing to zero raise numpy's ZeroDivisionError when the result is computed.
    """
    x = asarray(a)
    if weights is None:
        avg = mean(x, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        return avg, full_like(avg, avg.dtype.type(x.size / avg.size) if avg.size else 0)
    w = asarray(weights)
    out_type = np.result_type(x.dtype, w.dtype, np.float64 if x.dtype.kind in "biu?" else x.dtype)
    if w.shape != x.shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        axes = normalize_axis_tuple(axis, x.ndim)
        if w.shape != tuple(x.shape[d] for d in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
        if list(axes) != sorted(axes):
            raise NotImplementedError("weights along axes given out of order are not supported")
        w = w.reshape(tuple(x.shape[d] if d in axes else 1 for d in range(x.ndim)))  # numpy's broadcast weights
    scale = sum_(w, axis=axis, keepdims=keepdims, dtype=out_type)
    total = sum_(elemwise(np.multiply, x, w), axis=axis, keepdims=keepdims, dtype=out_type)
    avg = elemwise(_divide_weights, total, scale, dtype=out_type)
    if not returned:
        return avg
    return avg, (scale if scale.shape == avg.shape else elemwise(np.add, scale, zeros_like(avg)))


def _as_variables(m, rowvar, dtype):
    x = asarray(m)
    if x.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if x.ndim < 2:
        x = x.reshape((1, x.size)) if x.ndim == 1 else x.reshape((1, 1))
    elif not rowvar and x.shape[0] != 1:
        x = x.T
    return x.astype(dtype) if dtype is not None else x


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """``numpy.cov``: the covariance of the variables (rows, or columns with ``rowvar=False``)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov(fweights=, aweights=) is not supported on graphflow arrays")
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = asarray(m)
    out_type = np.dtype(dtype) if dtype is not None else np.result_type(m.dtype, np.float64)
    x = _as_variables(m, rowvar, out_type)
    if y is not None:
        x = concatenate([x, _as_variables(y, rowvar, out_type)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    fact = max(n - ddof, 0)
    centred = elemwise(np.subtract, x, mean(x, axis=1, keepdims=True))
    c = matmul(centred, elemwise(np.conj, centred).T)
    c = elemwise(_scale, c, fact, dtype=c.dtype)
    return c.squeeze() if c.shape[0] == 1 or m.ndim < 2 and y is None else c


def _scale(c, fact):
    with np.errstate(divide="ignore", invalid="ignore"):
        return c * np.true_divide(1, fact)


def _normalize(c):
    d = np.diag(c) if c.ndim == 2 else np.asarray(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.ndim == 0:
            return c / c
        std = np.sqrt(d.real)
        out = c / std[:, None]
        out = out / std[None, :]
    if np.iscomplexobj(out):
        np.clip(out.real, -1, 1, out=out.real)
        np.clip(out.imag, -1, 1, out=out.imag)
    else:
        np.clip(out, -1, 1, out=out)
    return out


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """``numpy.corrcoef``: `cov` scaled by the standard deviations (one task on the small D x D matrix)."""
    c = cov(x, y, rowvar, dtype=dtype)
    whole = c.rechunk(c.shape) if c.ndim else c
    return map_blocks(_normalize, whole, dtype=c.dtype)


NUMPY_FUNCTIONS = {np.average: average, np.cov: cov, np.corrcoef: corrcoef}
