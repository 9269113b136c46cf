"""CholeskyQR2: the QR of a tall block by two Cholesky passes, used by TSQR when it is provably as accurate.

LAPACK's Householder QR of a tall-and-skinny block (``np.linalg.qr`` of
100,000 x 100) is bound by memory traffic: each of its ``n`` reflectors
sweeps the block, and it runs at a few GFLOP/s on one core.  CholeskyQR
(Gram matrix ``G = A^T A``, ``R = chol(G)``, ``Q = A R^-1``) does the same in
three matrix-matrix products, several times faster, but loses orthogonality
as ``cond(A)^2``; running it twice (``Q1 R1 = A``, ``Q R2 = Q1``,
``R = R2 R1``) gives Q orthogonal to working precision, provided

    8 * cond(A) * sqrt(m n u + n (n + 1) u) <= 1        (u = eps / 2)

(Yamamoto, Nakatsukasa, Yanagisawa and Fukaya, "Roundoff error analysis of
the CholeskyQR2 algorithm", 2015).  `cholesky_qr2` checks exactly that, with
``cond(A) = cond(R1)`` (accurate in this range, far from ``1 / eps``), and
returns None otherwise -- an ill-conditioned or rank-deficient block, a
Cholesky that fails, complex or integer data, a block too small to gain --
so the caller falls back to Householder.  For a 100,000 x 100 block the bound
allows ``cond(A)`` up to about 3,700; uniform random data has about 20.

R's diagonal comes out positive (Householder's signs are LAPACK's); either is
a valid QR, and TSQR's own signs were never numpy's.

    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((20_000, 20))
    >>> q, r = cholesky_qr2(a)
    >>> bool(np.allclose(q @ r, a)), bool(np.allclose(q.T @ q, np.eye(20)))
    (True, True)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["cholesky_qr2", "MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 18  # smaller blocks: Householder is fast enough, and tests of small arrays keep numpy's signs
_REAL = (np.dtype(np.float64), np.dtype(np.float32))


def _upper_cholesky(g):
    try:
        return np.linalg.cholesky(g).T  # g = L L^T = R^T R
    except np.linalg.LinAlgError:
        return None


def cholesky_qr2(a):
    """``(q, r)`` with ``a = q r``, q orthonormal to working precision, or None when that is not guaranteed."""
    m, n = a.shape
    if a.dtype not in _REAL or m < 4 * n or m * n < MIN_ELEMENTS or n == 0:
        return None
    u = np.finfo(a.dtype).eps / 2
    r1 = _upper_cholesky(a.T @ a)
    if r1 is None or not np.all(np.isfinite(r1)):
        return None
    kappa = np.linalg.cond(r1)
    if not np.isfinite(kappa) or 8 * kappa * math.sqrt(m * n * u + n * (n + 1) * u) > 1:
        return None
    q1 = a @ np.linalg.inv(r1)
    r2 = _upper_cholesky(q1.T @ q1)
    if r2 is None:
        return None
    return q1 @ np.linalg.inv(r2), r2 @ r1
