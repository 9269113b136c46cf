"""QR and SVD of tall-and-skinny (and, by transposing, short-and-fat) arrays: TSQR.

An ``(m, n)`` array with one block along its columns is a stack of row blocks
``A_i``.  Each block is factored on its own, ``A_i = q_i r_i``; the small
``r_i`` (at most ``n`` rows each) are stacked and factored once more,
``[r_0; r_1; ...] = Q2 R``; then ``A = Q R`` with ``Q_i = q_i Q2_i``, where
``Q2_i`` is the slice of ``Q2`` facing ``r_i``.  The SVD follows from ``R``:
``R = U_r S V^T`` gives ``A = (Q U_r) S V^T``, and each output block
``U_i = q_i (Q2_i U_r)`` costs one product, as a block of ``Q`` does:

    A_0 --qr--> q_0, r_0 ---.                 .--> Q_0 = q_0 @ Q2_0   (or q_0 @ (Q2_0 @ U_r))
    A_1 --qr--> q_1, r_1 ---+--> qr([r_i]) ---+--> Q_1 = q_1 @ Q2_1
    A_2 --qr--> q_2, r_2 ---'     Q2, R       '--> Q_2 = ...

A block's own QR is CholeskyQR2 (three matrix products, several times faster
than Householder on a tall block) when its error bound guarantees a Q
orthogonal to working precision, else numpy's Householder (`cholqr`).

Every block task holds only its own rows; the one task in the middle holds
``sum(min(rows_i, n)) x n`` numbers.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.random.random((60, 4), chunks=(20, 4), seed=1)
    >>> q, r = ga.linalg.qr(x)
    >>> bool(np.allclose((q @ r).compute(), x.compute()))
    True

An array blocked along both axes raises ValueError naming the chunking that is
needed (one column block, or one row block) and the rechunk that gives it.
"""

from __future__ import annotations

import numpy as np

from ...spec import Ref, Task
from ..core import Array, new_name
from ..creation import asarray
from ..sink import block_slices, block_view
from ...local.blas import shared_cores
from .cholqr import cholesky_qr2

__all__ = ["tsqr", "qr", "svd", "sfqr", "check_tall_skinny", "chunking_error"]


def chunking_error(func: str, a: Array) -> ValueError:
    """The error for an array blocked along both axes, naming what ``func`` needs."""
    return ValueError(
        f"{func} supports only tall-and-skinny arrays (a single block along the columns) and "
        f"short-and-fat arrays (a single block along the rows); this array has shape {a.shape} "
        f"in blocks of {a.chunksize} ({a.numblocks[0]} x {a.numblocks[1]} blocks). "
        f"Rechunk it first, e.g. a.rechunk({{1: -1}}) or a.rechunk({{0: -1}}).")


def check_tall_skinny(func: str, a: Array) -> None:
    """Raise unless ``a`` is 2-d with one block along its columns."""
    if a.ndim != 2:
        raise ValueError(f"{func} needs a 2-dimensional array; this one has {a.ndim} dimensions "
                         f"(shape {a.shape})")
    if a.numblocks[1] != 1:
        raise ValueError(
            f"{func} needs a single block along the columns (a tall-and-skinny array); this array "
            f"has shape {a.shape} in blocks of {a.chunksize} ({a.numblocks[1]} column blocks). "
            f"Rechunk it first: a.rechunk({{1: -1}}).")


def _block_qr(block):
    """``(q, r)`` of one block: CholeskyQR2 where it is provably accurate (linalg/cholqr.py), else Householder."""
    with shared_cores():
        fast = cholesky_qr2(block)
        if fast is not None:
            return fast
        q, r = np.linalg.qr(block)
    return q, r


def _first(pair):
    return pair[0]


def _second(pair):
    return pair[1]


def _stacked_qr(rs, ncols, want_svd):
    """QR of the stacked small R's; with ``want_svd`` also the SVD of the final R.

    Returns ``(Q2, R, U_r, s, Vt)`` (the last three None without ``want_svd``).
    """
    stacked = np.concatenate(rs, axis=0) if len(rs) > 1 else rs[0]
    if stacked.shape[0] == 0:
        stacked = np.zeros((0, ncols), dtype=stacked.dtype)
    q2, r = np.linalg.qr(stacked)
    if not want_svd:
        return q2, r, None, None, None
    u_r, s, vt = np.linalg.svd(r, full_matrices=False)
    return q2, r, u_r, s, vt


def _q_block(q_i, middle, start, stop, want_svd, sink):
    """Block ``i`` of Q (or of U): ``q_i @ Q2[start:stop]`` (``@ U_r`` for the SVD), written into its rows
    of the whole Q when this process holds it (graphflow/array/sink.py)."""
    q2 = middle[0][start:stop]
    if want_svd:
        q2 = q2 @ middle[2]
    view = block_view(*sink)
    with shared_cores():
        if view is None or view.dtype != np.result_type(q_i, q2):
            return q_i @ q2
        return np.matmul(q_i, q2, out=view)


def _pick(middle, index):
    return middle[index]


def _tsqr_graph(a: Array, want_svd: bool, dtype):
    """The graph shared by `tsqr` and `svd`: ``(name, nodes, k, middle key)``; Q (or U) has blocks ``(name, i, 0)``."""
    m_chunks, n = a.chunks[0], a.shape[1]
    k = min(a.shape[0], n)
    q_chunks = (m_chunks, (k,))
    name = new_name("tsqr-svd" if want_svd else "tsqr", a)
    nodes = {}
    r_refs, q_refs, offsets = [], [], []
    start = 0
    for i, rows in enumerate(m_chunks):
        key = (f"{name}-local", i)
        nodes[key] = Task(key, _block_qr, Ref((a.name, i, 0)))
        nodes[(f"{name}-q", i)] = Task((f"{name}-q", i), _first, Ref(key))
        nodes[(f"{name}-r", i)] = Task((f"{name}-r", i), _second, Ref(key))
        q_refs.append(Ref((f"{name}-q", i)))
        r_refs.append(Ref((f"{name}-r", i)))
        offsets.append((start, start + min(rows, n)))
        start += min(rows, n)
    middle = (f"{name}-middle",)
    nodes[middle] = Task(middle, _stacked_qr, r_refs, n, want_svd)
    for i, (lo, hi) in enumerate(offsets):
        sink = (name, (a.shape[0], k), dtype, (i, 0), block_slices(q_chunks, (i, 0)), len(m_chunks))
        nodes[(name, i, 0)] = Task((name, i, 0), _q_block, q_refs[i], Ref(middle), lo, hi, want_svd, sink)
    return name, nodes, k, middle


def _small(name, middle, index, chunks, dtype, a, shared):
    """An Array of one block, item ``index`` of the middle task's result; ``shared`` are the TSQR tasks
    (the same node objects in every output, so a graph holding Q and R has them once)."""
    key = (name,) + (0,) * len(chunks)
    return Array(name, chunks, dtype, {**shared, key: Task(key, _pick, Ref(middle), index)}, [a])


def _factor_dtype(a: Array) -> np.dtype:
    return np.linalg.qr(np.ones((1, 1), dtype=a.dtype))[0].dtype


def tsqr(a, compute_svd=False, _max_vchunk_size=None):
    """QR of a tall-and-skinny array (one block along the columns): ``(Q, R)``.

    ``Q`` is ``(m, k)`` blocked as ``a``'s rows, ``R`` is ``(k, n)`` in one
    block, ``k = min(m, n)`` (numpy's ``mode="reduced"``).  With
    ``compute_svd=True`` returns ``(U, S, Vt)`` instead, as Dask's ``tsqr``.
    Signs are numpy's per block: they may differ from ``np.linalg.qr(a)``'s.
    """
    a = asarray(a)
    check_tall_skinny("tsqr", a)
    dtype = _factor_dtype(a)
    name, nodes, k, middle = _tsqr_graph(a, compute_svd, dtype)
    shared = {key: node for key, node in nodes.items() if key[0] != name}
    first = Array(name, (a.chunks[0], (k,)), dtype, nodes, [a])
    n = a.shape[1]
    if not compute_svd:
        r = _small(f"{name}-R", middle, 1, ((k,), (n,)), dtype, a, shared)
        return first, r
    real = np.finfo(dtype).dtype
    s = _small(f"{name}-S", middle, 3, ((k,),), real, a, shared)
    vt = _small(f"{name}-V", middle, 4, ((k,), (n,)), dtype, a, shared)
    return first, s, vt


def _sf_r_block(q, block, triangular_cols, start):
    """Column block ``Q^H A_j`` of R (its columns start at ``start``)."""
    out = q.T.conj() @ block
    if triangular_cols:  # the leading m columns of Q^H A are R_0: zero what rounding left below the diagonal
        out[:, :triangular_cols] = np.triu(out[:, :triangular_cols], -start)
    return out


def sfqr(a):
    """QR of a short-and-fat array (one block along the rows): ``(Q, R)``.

    ``Q`` comes from the first ``m`` columns (``A[:, :m] = Q R_0``) and every
    column block of ``R`` is ``Q^H A_j``.
    """
    a = asarray(a)
    if a.ndim != 2 or a.numblocks[0] != 1:
        raise chunking_error("sfqr", a)
    m = a.shape[0]
    k = min(m, a.shape[1])
    lead = a[:, :k].rechunk({0: -1, 1: -1})
    dtype = _factor_dtype(a)
    name = new_name("sfqr", a)
    qkey, local = (f"{name}-Q", 0, 0), (f"{name}-lead",)
    qnodes = {local: Task(local, _block_qr, Ref((lead.name, 0, 0))), qkey: Task(qkey, _first, Ref(local))}
    q = Array(f"{name}-Q", ((m,), (k,)), dtype, qnodes, [lead])
    rnodes, start = {}, 0
    for j, cols in enumerate(a.chunks[1]):
        tri = max(0, min(cols, k - start))
        rnodes[(name, 0, j)] = Task((name, 0, j), _sf_r_block, Ref(qkey), Ref((a.name, 0, j)), tri, start)
        start += cols
    r = Array(name, ((k,), a.chunks[1]), dtype, rnodes, [q, a])
    return q, r


def qr(a):
    """``numpy.linalg.qr(a)`` (reduced) for tall-and-skinny or short-and-fat arrays: ``(Q, R)``.

    >>> import graphflow.array as ga
    >>> q, r = qr(ga.ones((40, 3), chunks=(10, 3)))
    >>> q.shape, r.shape
    ((40, 3), (3, 3))
    """
    a = asarray(a)
    if a.ndim != 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    if a.numblocks[1] == 1:
        return tsqr(a)
    if a.numblocks[0] == 1:
        return sfqr(a)
    raise chunking_error("qr", a)


def svd(a, coerce_signs=True):
    """``numpy.linalg.svd(a, full_matrices=False)`` for tall-and-skinny or short-and-fat arrays.

    Returns ``(U, S, Vt)``: ``U`` blocked as ``a``'s rows, ``S`` and ``Vt`` one
    block each (the other way round for short-and-fat ``a``).  Singular vectors
    are unique up to sign (a flipped pair ``u_i, v_i`` gives the same ``U S Vt``);
    ``coerce_signs`` is accepted for Dask's signature and changes nothing.
    """
    a = asarray(a)
    if a.ndim != 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    if a.numblocks[1] == 1:
        u, s, vt = tsqr(a, compute_svd=True)
    elif a.numblocks[0] == 1:
        vt_t, s, u_t = tsqr(a.T.conj() if np.iscomplexobj(np.empty(0, a.dtype)) else a.T, compute_svd=True)
        u, vt = u_t.T, vt_t.T
        if np.iscomplexobj(np.empty(0, a.dtype)):
            u, vt = u.conj(), vt.conj()
    else:
        raise chunking_error("svd", a)
    return u, s, vt
