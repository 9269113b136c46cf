"""Randomized SVD (Halko, Martinsson and Tropp 2011): ``svd_compressed``.

For an ``(m, n)`` array ``A`` and a rank ``k``, draw ``l = k + oversamples``
Gaussian test vectors ``Omega`` ``(n, l)``; the range of ``Y = A Omega`` holds
``A``'s top ``k`` singular directions with high probability, sharpened by
power iterations ``Y = A (A^T Y)``.  An orthonormal basis ``Q`` of ``Y``
(`tsqr`, ``Y`` is tall-and-skinny with one column block) compresses ``A`` to
the small ``B = Q^T A`` ``(l, n)``, whose exact SVD gives ``A``'s:

    Omega (n, l) --.
    A (m, n) ------+--> Y = A Omega --[A (A^T Y)]*q--> Q = tsqr(Y) --> B = Q^T A --> svd(B^T) --> U = Q U_b

``A`` is read ``2 + 2 q`` times.  Blocks of ``Omega`` follow ``A``'s column
blocks, so every product pairs blocks without a rechunk.  When ``A`` is a
random draw, each of those products draws ``A``'s blocks band by band itself
(`graphflow.array.linalg.drawn`): drawing again costs less than holding all of
``A`` from the first product until ``Q`` is known.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.random.random((200, 100), chunks=50, seed=0)
    >>> u, s, vt = svd_compressed(x, k=5, n_power_iter=2, seed=1)
    >>> u.shape, s.shape, vt.shape
    ((200, 5), (5,), (5, 100))
"""

from __future__ import annotations

import numpy as np

from .. import random
from ..creation import asarray
from .tsqr import tsqr

__all__ = ["svd_compressed", "compression_matrix", "compression_level"]

_ITERATORS = ("power", "QR")


def compression_level(n, q, n_oversamples=10, min_subspace_size=20) -> int:
    """How many test vectors to draw for rank ``q`` of an array whose smaller side is ``n``."""
    return min(max(min_subspace_size, q + n_oversamples), n)


def _seed(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(2**31))
    return int(seed)


def compression_matrix(data, q, iterator="power", n_power_iter=0, n_oversamples=10, seed=None, compute=False):
    """``Q^T``, ``(l, m)``: an orthonormal basis of ``data``'s approximate top-``q`` range, transposed.

    ``iterator="power"`` multiplies by ``A A^T`` ``n_power_iter`` times, then
    orthonormalizes once; ``"QR"`` orthonormalizes between every product
    (steadier when singular values decay slowly).  ``compute=True`` computes
    each basis before it is used (``persist``), so ``data`` is not recomputed
    through the chain.
    """
    data = asarray(data)
    if data.ndim != 2:
        raise ValueError(f"svd_compressed needs a 2-dimensional array; this one has shape {data.shape}")
    if iterator not in _ITERATORS:
        raise ValueError(f"iterator must be one of {_ITERATORS}, not {iterator!r}")
    m, n = data.shape
    level = compression_level(min(m, n), q, n_oversamples)
    omega = random.standard_normal((n, level), chunks=(data.chunks[1], (level,)), seed=_seed(seed))
    omega = omega.astype(data.dtype) if data.dtype.kind in "fc" and data.dtype != omega.dtype else omega
    y = data @ omega
    step = (lambda x: x.persist()) if compute else (lambda x: x)
    if iterator == "power":
        for _ in range(n_power_iter):
            y = step(data @ step(data.T @ y))
        basis, _ = tsqr(y)
    else:
        basis, _ = tsqr(step(y))
        for _ in range(n_power_iter):
            basis, _ = tsqr(step(data.T @ basis))
            basis, _ = tsqr(step(data @ basis))
    return basis.T


def svd_compressed(a, k, iterator="power", n_power_iter=0, n_oversamples=10, seed=None, compute=False,
                   coerce_signs=True):
    """Approximate rank-``k`` SVD of ``a`` by random projection: ``(U, S, Vt)`` with ``k`` columns/values/rows.

    ``seed`` (int, numpy Generator or RandomState) makes it reproducible.
    ``n_power_iter`` passes over ``A A^T`` sharpen the estimate when singular
    values decay slowly.  Signs of singular vector pairs are free.
    """
    a = asarray(a)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, not {k!r}")
    comp = compression_matrix(a, k, iterator=iterator, n_power_iter=n_power_iter, n_oversamples=n_oversamples,
                              seed=seed, compute=compute)
    if compute:
        comp = comp.persist()
    small = comp @ a                             # (l, n), one row block
    v, s, u = tsqr(small.T, compute_svd=True)    # small^T = v s u^T
    u = comp.T @ u.T
    return u[:, :k], s[:k], v.T[:k, :]
