"""``solve``, ``inv`` and ``lstsq``, composed from `lu`, `qr` and `solve_triangular`.

    solve(a, b):  a = P L U   ->  y = L^-1 (P^T b),  x = U^-1 y
    inv(a):       solve(a, I)
    lstsq(a, b):  a = Q R (tall-and-skinny)  ->  x = R^-1 (Q^H b)

    >>> import numpy as np, graphflow.array as ga
    >>> a = ga.from_array(np.array([[3.0, 1], [1, 2]]), chunks=1)
    >>> solve(a, ga.from_array(np.array([9.0, 8]), chunks=1)).compute()
    array([2., 3.])
"""

from __future__ import annotations

import numpy as np

from ...spec import Ref, Task
from ..core import Array, new_name
from ..creation import asarray, eye
from ..rechunk import rechunk
from .triangular import lu, solve_triangular, square_blocks
from .tsqr import tsqr

__all__ = ["solve", "inv", "lstsq"]


def solve(a, b, sym_pos=None, assume_a="gen"):
    """Solve ``a x = b`` for a square ``a`` (numpy.linalg.solve); ``b`` 1-d or 2-d.

    ``assume_a="pos"`` (or Dask's older ``sym_pos=True``) uses the Cholesky factor instead of LU.
    """
    a, b = square_blocks(asarray(a), "solve"), asarray(b)
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"solve: a is {a.shape} but b is {b.shape}; b needs {a.shape[0]} rows")
    if sym_pos or assume_a == "pos":
        from .triangular import cholesky

        low = cholesky(a, lower=True)
        return solve_triangular(low.T.conj() if low.dtype.kind == "c" else low.T,
                                solve_triangular(low, b, lower=True), lower=False)
    if assume_a != "gen":
        raise ValueError(f"assume_a must be 'gen' or 'pos', not {assume_a!r}")
    p, low, up = lu(a)
    b = rechunk(b, (a.chunks[0],) + b.chunks[1:])
    return solve_triangular(up, solve_triangular(low, p.T @ b, lower=True), lower=False)


def inv(a):
    """The inverse of a square ``a`` (numpy.linalg.inv); a singular ``a`` raises LinAlgError when computed."""
    a = square_blocks(asarray(a), "inv")
    return solve(a, eye(a.shape[0], chunks=a.chunks[0][0] if len(set(a.chunks[0][:-1])) <= 1 else a.chunks[0],
                        dtype=np.result_type(a.dtype, np.float64)))


def _rank(r, rtol):
    s = np.linalg.svd(r, compute_uv=False)
    tol = s.max(initial=0) * (rtol if rtol is not None else max(r.shape) * np.finfo(s.dtype).eps)
    return np.int64((s > tol).sum())


def _singular_values(r):
    return np.linalg.svd(r, compute_uv=False)


def lstsq(a, b, rcond=None):
    """Least squares ``argmin |a x - b|`` for a tall-and-skinny ``a`` of full column rank: ``(x, residuals,
    rank, s)`` as Dask (``residuals`` are the squared residual norms per column of ``b``, shape ``(1,)``
    for 1-d ``b``; ``rank`` and the singular values ``s`` are those of ``a``'s R factor)."""
    a, b = asarray(a), asarray(b)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"lstsq: a must be 2-d and b 1-d or 2-d with as many rows; got {a.shape} and {b.shape}")
    if a.numblocks[1] != 1:
        a = rechunk(a, {1: -1}) if a.shape[1] <= 4096 else a
    q, r = tsqr(a)
    b = rechunk(b, (a.chunks[0],) + b.chunks[1:])
    qtb = q.T.conj() @ b if q.dtype.kind == "c" else q.T @ b
    x = solve_triangular(r, qtb, lower=False)
    diff = b - a @ x
    residuals = (abs(diff) ** 2).sum(axis=0, keepdims=b.ndim == 1)
    name = new_name("lstsq-r", r)
    rank_key, s_key = (f"{name}-rank",), (f"{name}-s", 0)
    rank = Array(rank_key[0], (), np.int64, {rank_key: Task(rank_key, _rank, Ref((r.name, 0, 0)), rcond)}, [r])
    s = Array(s_key[0], ((min(r.shape),),), np.finfo(r.dtype).dtype,
              {s_key: Task(s_key, _singular_values, Ref((r.name, 0, 0)))}, [r])
    return x, residuals, rank, s
