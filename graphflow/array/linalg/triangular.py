"""Blocked triangular solves, Cholesky and LU, written with numpy alone (scipy is not a dependency).

A square array is first cut into square blocks (the same block lengths along
both axes).  Each algorithm is then a graph over block indices:

- ``solve_triangular(T, B)``: ``X_i = T_ii^-1 (B_i - sum_{j<i} T_ij X_j)``
  (forward substitution for lower ``T``, backward for upper); one task per
  block of ``X``.
- ``cholesky``: left-looking, ``L_kk = chol(A_kk - sum_j L_kj L_kj^H)`` and
  ``L_ik = (A_ik - sum_j L_ij L_kj^H) L_kk^-H``; reads only ``A``'s lower triangle, as numpy.
- ``lu``: right-looking with partial pivoting over the whole block column
  (as LAPACK's blocked getrf): step ``k`` factors the panel of blocks ``(i>=k, k)``
  in one task, swaps the rows of every later block column the same way,
  solves for the row of ``U`` and updates the trailing blocks; the row swaps of
  later steps are applied to the earlier columns of ``L`` at the end.

        step k:   panel (i>=k, k) --lu--> perm_k, L[:, k], U_kk
                  block column j>k --swap rows, solve--> U_kj, then A'_ij = A_ij - L_ik U_kj

    >>> import numpy as np, graphflow.array as ga
    >>> a = np.array([[4.0, 2, 0], [2, 5, 1], [0, 1, 3]])
    >>> p, l, u = lu(ga.from_array(a, chunks=2))
    >>> bool(np.allclose((p @ l @ u).compute(), a))
    True

Blocks on the diagonal are solved with ``numpy.linalg.solve``, so a singular
block raises numpy's ``LinAlgError`` when computed.
"""

from __future__ import annotations

import numpy as np

from ...spec import Ref, Task
from ..chunks import common_chunks
from ..core import Array, new_name
from ..creation import asarray
from ..rechunk import rechunk

__all__ = ["solve_triangular", "cholesky", "lu", "square_blocks", "panel_lu"]


def square_blocks(a: Array, func: str) -> Array:
    """``a`` (square, 2-d) rechunked so its row and column blocks have the same lengths."""
    if a.ndim != 2:
        raise np.linalg.LinAlgError(f"{func}: {a.ndim}-dimensional array given. Array must be two-dimensional")
    if a.shape[0] != a.shape[1]:
        raise np.linalg.LinAlgError(f"{func}: Last 2 dimensions of the array must be square (shape {a.shape})")
    if a.chunks[0] == a.chunks[1]:
        return a
    c = common_chunks([a.chunks[0], a.chunks[1]])
    return rechunk(a, (c, c))


def _float_dtype(*dtypes) -> np.dtype:
    return np.result_type(*dtypes, np.float64) if not any(np.dtype(d).kind == "c" for d in dtypes) \
        else np.result_type(*dtypes, np.complex128)


# ------------------------------------------------------------------ triangular solve


def _subtract_solve(diag, rhs, pairs):
    """``diag^-1 (rhs - sum t @ x for t, x in pairs)``."""
    acc = np.array(rhs, dtype=np.result_type(diag, rhs, np.float64), copy=True)
    for t, x in pairs:
        acc -= t @ x
    return np.linalg.solve(diag, acc)


def solve_triangular(a, b, lower=False):
    """Solve ``a x = b`` for a triangular ``a`` (only its ``lower`` or upper triangle is read).

    ``b`` is 1-d or 2-d with as many rows as ``a``; the result is blocked as ``a``'s rows.
    """
    a, b = asarray(a), asarray(b)
    a = square_blocks(a, "solve_triangular")
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"solve_triangular: a is {a.shape} but b is {b.shape}; b needs {a.shape[0]} rows")
    c = a.chunks[0]
    b = rechunk(b, (c,) + b.chunks[1:])
    vector = b.ndim == 1
    dtype = _float_dtype(a.dtype, b.dtype)
    tri = np.tril if lower else np.triu
    name = new_name("solve-triangular", a, b, lower)
    nodes = {}
    n = len(c)
    order = range(n) if lower else range(n - 1, -1, -1)
    for col in range(1 if vector else b.numblocks[1]):
        bidx = () if vector else (col,)
        for i in order:
            js = range(i) if lower else range(i + 1, n)
            pairs = [(Ref((a.name, i, j)), Ref((name, j) + bidx)) for j in js]
            diag = Task((f"{name}-diag", i), tri, Ref((a.name, i, i)))
            nodes[(f"{name}-diag", i)] = diag
            nodes[(name, i) + bidx] = Task((name, i) + bidx, _subtract_solve, Ref((f"{name}-diag", i)),
                                           Ref((b.name, i) + bidx), pairs)
    return Array(name, (c,) + b.chunks[1:], dtype, nodes, [a, b])


# ------------------------------------------------------------------ Cholesky


def _chol_diag(block, products):
    acc = np.array(block, dtype=np.result_type(block, np.float64), copy=True)
    for left in products:
        acc -= left @ left.conj().T
    return np.linalg.cholesky(acc)


def _chol_below(block, pairs, diag):
    acc = np.array(block, dtype=np.result_type(block, np.float64), copy=True)
    for li, lk in pairs:
        acc -= li @ lk.conj().T
    # X L_kk^H = acc  <=>  L_kk X^H = acc^H
    return np.linalg.solve(diag, acc.conj().T).conj().T


def cholesky(a, lower=False):
    """Cholesky factor of a Hermitian positive-definite ``a``: upper ``U`` (``U^H U = a``) by default, as
    Dask; ``lower=True`` gives numpy's lower ``L`` (``L L^H = a``).  Not positive definite: LinAlgError."""
    a = square_blocks(asarray(a), "cholesky")
    c = a.chunks[0]
    n = len(c)
    name = new_name("cholesky", a)
    nodes = {}
    for k in range(n):
        for i in range(k, n):
            key = (name, i, k)
            if i == k:
                nodes[key] = Task(key, _chol_diag, Ref((a.name, k, k)), [Ref((name, k, j)) for j in range(k)])
            else:
                pairs = [(Ref((name, i, j)), Ref((name, k, j))) for j in range(k)]
                nodes[key] = Task(key, _chol_below, Ref((a.name, i, k)), pairs, Ref((name, k, k)))
        for i in range(k):
            nodes[(name, i, k)] = Task((name, i, k), np.zeros, (c[i], c[k]), _float_dtype(a.dtype))
    low = Array(name, (c, c), _float_dtype(a.dtype), nodes, [a])
    return low if lower else low.T.conj() if low.dtype.kind == "c" else low.T


# ------------------------------------------------------------------ LU with partial pivoting


def panel_lu(panel):
    """Partial-pivoting LU of a tall ``(m, n)`` panel, ``m >= n``: ``(perm, L, U)`` with ``panel[perm] = L U``.

    ``L`` is ``(m, n)`` unit lower trapezoidal, ``U`` ``(n, n)`` upper.  One
    rank-1 update per column (vectorized over the rows).
    """
    work = np.array(panel, dtype=np.result_type(panel, np.float64), copy=True)
    m, n = work.shape
    perm = np.arange(m)
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(work[j:, j])))
        if p != j:
            work[[j, p]] = work[[p, j]]
            perm[[j, p]] = perm[[p, j]]
        pivot = work[j, j]
        if pivot != 0:  # a zero column below the diagonal: nothing to eliminate, U gets a zero pivot
            work[j + 1:, j] /= pivot
            work[j + 1:, j + 1:] -= np.outer(work[j + 1:, j], work[j, j + 1:])
    low = np.tril(work[:, :n], -1)
    low[np.arange(n), np.arange(n)] = 1
    return perm, low, np.triu(work[:n, :n])


def _panel(blocks):
    return panel_lu(np.concatenate(blocks, axis=0))


def _swap_solve(panel, blocks, top):
    """Rows of the block column ``blocks`` swapped as the panel's; returns ``(U_kj, the rows below)``."""
    perm, low, _ = panel
    stacked = np.concatenate(blocks, axis=0)[perm]
    u = np.linalg.solve(low[:top], stacked[:top])
    return u, stacked[top:]


def _trailing(panel, swapped, start, stop, top):
    _, low, _ = panel
    u, rest = swapped
    return rest[start - top:stop - top] - low[start:stop] @ u


def _item(pair, i):
    return pair[i]


def _final_l(panel, later, offsets, top_start):
    """Column ``k`` of L: the panel's L with the row swaps of every later step applied."""
    low = panel[1].copy()
    for (perm, _, _), start in zip(later, offsets):
        low[start - top_start:] = low[start - top_start:][perm]
    return low


def _global_perm(panels, offsets, n):
    perm = np.arange(n)
    for (p, _, _), start in zip(panels, offsets):
        perm[start:] = perm[start:][p]
    return perm


def _p_block(perm, r0, r1, c0, c1, dtype):
    """Block of P (``P[perm[i], i] = 1``, so ``a = P L U``)."""
    out = np.zeros((r1 - r0, c1 - c0), dtype=dtype)
    cols = np.arange(c0, c1)
    rows = perm[c0:c1]
    inside = (rows >= r0) & (rows < r1)
    out[rows[inside] - r0, cols[inside] - c0] = 1
    return out


def lu(a):
    """``(P, L, U)`` with ``a = P @ L @ U`` (scipy's convention, as Dask): partial pivoting over whole
    block columns, so the factorization is as stable as LAPACK's."""
    a = square_blocks(asarray(a), "lu")
    c = a.chunks[0]
    n = len(c)
    starts = [sum(c[:i]) for i in range(n + 1)]
    dtype = _float_dtype(a.dtype)
    name = new_name("lu", a)
    nodes = {}
    cur = {(i, j): Ref((a.name, i, j)) for i in range(n) for j in range(n)}
    for k in range(n):
        pk = (f"{name}-panel", k)
        nodes[pk] = Task(pk, _panel, [cur[(i, k)] for i in range(k, n)])
        for j in range(k + 1, n):
            sk = (f"{name}-swap", k, j)
            nodes[sk] = Task(sk, _swap_solve, Ref(pk), [cur[(i, j)] for i in range(k, n)], c[k])
            nodes[(f"{name}-U", k, j)] = Task((f"{name}-U", k, j), _item, Ref(sk), 0)
            for i in range(k + 1, n):
                tk = (f"{name}-trail", k, i, j)
                nodes[tk] = Task(tk, _trailing, Ref(pk), Ref(sk), starts[i] - starts[k], starts[i + 1] - starts[k],
                                 c[k])
                cur[(i, j)] = Ref(tk)
    panels = [Ref((f"{name}-panel", k)) for k in range(n)]
    perm = (f"{name}-perm",)
    nodes[perm] = Task(perm, _global_perm, panels, starts[:n], starts[n])
    l_name, u_name, p_name = f"{name}-L", f"{name}-UU", f"{name}-P"
    for k in range(n):
        lk = (f"{name}-Lcol", k)
        nodes[lk] = Task(lk, _final_l, panels[k], panels[k + 1:], starts[k + 1:n], starts[k])
        for i in range(n):
            if i >= k:
                nodes[(l_name, i, k)] = Task((l_name, i, k), _slice_rows, Ref(lk), starts[i] - starts[k],
                                             starts[i + 1] - starts[k])
            else:
                nodes[(l_name, i, k)] = Task((l_name, i, k), np.zeros, (c[i], c[k]), dtype)
            if i == k:
                nodes[(u_name, i, k)] = Task((u_name, i, k), _item, panels[k], 2)
            elif i < k:
                nodes[(u_name, i, k)] = Task((u_name, i, k), _identity, Ref((f"{name}-U", i, k)))
            else:
                nodes[(u_name, i, k)] = Task((u_name, i, k), np.zeros, (c[i], c[k]), dtype)
            nodes[(p_name, i, k)] = Task((p_name, i, k), _p_block, Ref(perm), starts[i], starts[i + 1], starts[k],
                                         starts[k + 1], dtype)
    return (Array(p_name, (c, c), dtype, nodes, [a]), Array(l_name, (c, c), dtype, nodes, [a]),
            Array(u_name, (c, c), dtype, nodes, [a]))


def _slice_rows(x, start, stop):
    return x[start:stop]


def _identity(x):
    return x
