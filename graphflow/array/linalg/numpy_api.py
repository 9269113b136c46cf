"""``np.linalg.<f>(x)`` on a graphflow Array: the table `npfuncs` consults for numpy's linalg functions.

numpy's signatures differ from Dask's in a few keywords (``full_matrices``,
``mode``, ``upper``); the adapters here take numpy's and say clearly what is
not supported instead of ignoring it.

    >>> import numpy as np, graphflow.array as ga
    >>> q, r = np.linalg.qr(ga.ones((8, 2), chunks=(4, 2)))
    >>> type(q).__name__, r.shape
    ('Array', (2, 2))
"""

from __future__ import annotations

import numpy as np

from .norms import norm
from .solve import inv, lstsq, solve
from .triangular import cholesky
from .tsqr import qr, svd

__all__ = ["NUMPY_FUNCTIONS"]


def _qr(a, mode="reduced"):
    if mode == "reduced":
        return qr(a)
    if mode == "r":
        return qr(a)[1]
    raise NotImplementedError(f"np.linalg.qr(mode={mode!r}) is not supported on graphflow arrays; "
                              f"use mode='reduced' or mode='r'")


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if full_matrices and a.ndim == 2 and a.shape[0] != a.shape[1]:
        raise NotImplementedError("np.linalg.svd(full_matrices=True) of a non-square graphflow array is not "
                                  "supported (U or Vt would be square in the long side); pass full_matrices=False")
    u, s, vt = svd(a)
    return (u, s, vt) if compute_uv else s


def _cholesky(a, upper=False):
    return cholesky(a, lower=not upper)


def _lstsq(a, b, rcond=None):
    return lstsq(a, b, rcond=rcond)


def _solve(a, b):
    return solve(a, b)


def _norm(x, ord=None, axis=None, keepdims=False):
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


NUMPY_FUNCTIONS = {
    np.linalg.qr: _qr, np.linalg.svd: _svd, np.linalg.cholesky: _cholesky, np.linalg.lstsq: _lstsq,
    np.linalg.solve: _solve, np.linalg.inv: inv, np.linalg.norm: _norm,
}
