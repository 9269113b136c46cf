"""graphflow.array.linalg decompositions and solvers, checked against numpy on the same input.

Factorizations are unique only up to signs (a column of Q and the matching
row of R may both flip), so the checks are the defining properties: Q has
orthonormal columns, ``Q @ R == A`` with R upper triangular, ``U S Vt == A``,
singular values equal numpy's, ``P L U == A`` with L unit lower triangular.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.array as ga
from graphflow.array import linalg

RNG = np.random.default_rng(20)


def _data(shape, dtype=np.float64):
    x = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def _assert_orthonormal_columns(q, rtol=1e-10):
    np.testing.assert_allclose(q.conj().T @ q, np.eye(q.shape[1]), atol=rtol * 10 + 1e-12)


def _assert_qr(a, q, r, atol=1e-10):
    expect_q, expect_r = np.linalg.qr(a)
    assert q.shape == expect_q.shape and r.shape == expect_r.shape
    assert q.dtype == expect_q.dtype and r.dtype == expect_r.dtype
    _assert_orthonormal_columns(q, atol)
    np.testing.assert_allclose(np.triu(r), r, atol=atol)
    np.testing.assert_allclose(q @ r, a, atol=atol * max(1, np.abs(a).max()))


# ------------------------------------------------------------------ qr, tsqr, sfqr


@pytest.mark.parametrize("shape, chunks", [
    ((60, 5), (20, 5)),          # even row blocks
    ((61, 5), (17, 5)),          # uneven, last block short
    ((30, 6), (4, 6)),           # blocks with fewer rows than columns
    ((12, 4), (12, 4)),          # one block
    ((5, 5), (2, 5)),            # square
])
@pytest.mark.api("linalg.qr", "linalg.tsqr")
def test_qr_of_tall_and_skinny_arrays(shape, chunks):
    a = _data(shape)
    q, r = linalg.qr(ga.from_array(a, chunks=chunks))
    assert q.chunks[0] == ga.from_array(a, chunks=chunks).chunks[0]
    _assert_qr(a, q.compute(), r.compute())
    q2, r2 = linalg.tsqr(ga.from_array(a, chunks=chunks))
    _assert_qr(a, q2.compute(), r2.compute())


@pytest.mark.parametrize("dtype", [np.float32, np.complex128, np.int64])
@pytest.mark.api("linalg.qr")
def test_qr_dtypes_follow_numpy(dtype):
    a = (_data((40, 3), dtype) * (10 if dtype == np.int64 else 1)).astype(dtype)
    q, r = linalg.qr(ga.from_array(a, chunks=(15, 3)))
    _assert_qr(a, q.compute(), r.compute(), atol=1e-4 if dtype == np.float32 else 1e-10)


@given(rows=st.lists(st.integers(1, 9), min_size=1, max_size=6), ncols=st.integers(1, 5))
@settings(max_examples=20, deadline=None)
@pytest.mark.api("linalg.qr")
def test_qr_on_any_row_chunking(rows, ncols):
    a = _data((sum(rows), ncols))
    q, r = linalg.qr(ga.from_array(a, chunks=(tuple(rows), ncols)))
    _assert_qr(a, q.compute(), r.compute())


@pytest.mark.parametrize("shape, chunks", [((5, 40), (5, 12)), ((4, 9), (4, 2)), ((3, 3), (3, 1))])
@pytest.mark.api("linalg.qr", "linalg.sfqr")
def test_qr_of_short_and_fat_arrays(shape, chunks):
    a = _data(shape)
    q, r = linalg.qr(ga.from_array(a, chunks=chunks))
    _assert_qr(a, q.compute(), r.compute())
    q2, r2 = linalg.sfqr(ga.from_array(a, chunks=chunks))
    _assert_qr(a, q2.compute(), r2.compute())


@pytest.mark.parametrize("func", [linalg.qr, linalg.svd])
def test_blocked_both_ways_names_the_chunking_needed(func):
    x = ga.ones((40, 40), chunks=10)
    with pytest.raises(ValueError, match=r"single block along the columns.*rechunk"):
        func(x)


def test_tsqr_needs_one_column_block_and_two_dimensions():
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        linalg.tsqr(ga.ones((40, 4), chunks=(10, 2)))
    with pytest.raises(ValueError, match="2-dimensional"):
        linalg.tsqr(ga.ones((40,), chunks=10))
    with pytest.raises(np.linalg.LinAlgError):
        linalg.qr(ga.ones((40,), chunks=10))


# ------------------------------------------------------------------ svd


def _assert_svd(a, u, s, vt, atol=1e-9):
    expect = np.linalg.svd(a, full_matrices=False)
    assert (u.shape, s.shape, vt.shape) == tuple(e.shape for e in expect)
    assert u.dtype == expect[0].dtype and s.dtype == expect[1].dtype
    np.testing.assert_allclose(s, expect[1], atol=atol)
    _assert_orthonormal_columns(u)
    _assert_orthonormal_columns(vt.conj().T)
    np.testing.assert_allclose((u * s) @ vt, a, atol=atol * max(1, np.abs(a).max()))


@pytest.mark.parametrize("shape, chunks", [((60, 5), (20, 5)), ((61, 4), (9, 4)), ((5, 61), (5, 9)),
                                           ((7, 30), (7, 30))])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.api("linalg.svd", "linalg.tsqr")
def test_svd_of_tall_and_short_arrays(shape, chunks, dtype):
    a = _data(shape, dtype)
    u, s, vt = linalg.svd(ga.from_array(a, chunks=chunks))
    _assert_svd(a, u.compute(), s.compute(), vt.compute())
    if chunks[1] == shape[1]:
        u, s, vt = linalg.tsqr(ga.from_array(a, chunks=chunks), compute_svd=True)
        _assert_svd(a, u.compute(), s.compute(), vt.compute())


# ------------------------------------------------------------------ svd_compressed


def _low_rank(m, n, k):
    return _data((m, k)) @ np.diag(np.arange(k, 0, -1.0) * 3) @ _data((k, n))


@pytest.mark.parametrize("iterator, n_power_iter, compute", [("power", 0, False), ("power", 2, False),
                                                             ("QR", 1, True)])
@pytest.mark.api("linalg.svd_compressed", "linalg.compression_matrix", "linalg.compression_level")
def test_svd_compressed_recovers_a_low_rank_array(iterator, n_power_iter, compute):
    a = _low_rank(90, 70, 4)
    x = ga.from_array(a, chunks=(25, 30))
    u, s, vt = linalg.svd_compressed(x, 4, iterator=iterator, n_power_iter=n_power_iter, seed=3, compute=compute)
    u, s, vt = u.compute(), s.compute(), vt.compute()
    assert (u.shape, s.shape, vt.shape) == ((90, 4), (4,), (4, 70))
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False)[:4], rtol=1e-8)
    np.testing.assert_allclose((u * s) @ vt, a, atol=1e-8 * np.abs(a).max())
    _assert_orthonormal_columns(u)
    comp = linalg.compression_matrix(x, 4, seed=3).compute()
    assert comp.shape == (linalg.compression_level(70, 4), 90) == (20, 90)
    np.testing.assert_allclose(comp.T @ (comp @ a), a, atol=1e-8 * np.abs(a).max())


@pytest.mark.api("linalg.svd_compressed")
def test_svd_compressed_is_reproducible_for_a_seed_and_close_for_decaying_spectra():
    a = _data((120, 80)) @ np.diag(0.6 ** np.arange(80)) @ np.linalg.qr(_data((80, 80)))[0]
    x = ga.from_array(a, chunks=40)
    first = linalg.svd_compressed(x, 5, n_power_iter=3, seed=11)[1].compute()
    again = linalg.svd_compressed(x, 5, n_power_iter=3, seed=np.random.default_rng(0))[1].compute()
    np.testing.assert_array_equal(first, linalg.svd_compressed(x, 5, n_power_iter=3, seed=11)[1].compute())
    np.testing.assert_allclose(first, np.linalg.svd(a, compute_uv=False)[:5], rtol=1e-6)
    np.testing.assert_allclose(again, first, rtol=1e-6)


def test_svd_compressed_rejects_bad_arguments():
    x = ga.ones((20, 20), chunks=10)
    with pytest.raises(ValueError, match="iterator"):
        linalg.svd_compressed(x, 2, iterator="lanczos")
    with pytest.raises(ValueError, match="positive integer"):
        linalg.svd_compressed(x, 0)


# ------------------------------------------------------------------ norm


VECTOR_ORDS = [None, 1, 2, 3, 0.5, 0, np.inf, -np.inf, -1]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("chunks", [4, 5, 13])
@pytest.mark.api("linalg.norm")
def test_vector_norms_match_numpy(ord, chunks):
    v = _data(13)
    v[3] = 0
    np.testing.assert_allclose(linalg.norm(ga.from_array(v, chunks=chunks), ord=ord).compute(),
                               np.linalg.norm(v, ord=ord))
    m = _data((13, 6))
    for axis in (0, 1, -1):
        got = linalg.norm(ga.from_array(m, chunks=chunks), ord=ord, axis=axis, keepdims=True)
        np.testing.assert_allclose(got.compute(), np.linalg.norm(m, ord=ord, axis=axis, keepdims=True))


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("chunks", [(13, 6), (4, 6), (13, 2), (5, 4)])
@pytest.mark.api("linalg.norm")
def test_matrix_norms_match_numpy(ord, chunks):
    m = _data((13, 6))
    np.testing.assert_allclose(linalg.norm(ga.from_array(m, chunks=chunks), ord=ord).compute(),
                               np.linalg.norm(m, ord=ord))
    t = _data((3, 13, 6))
    got = linalg.norm(ga.from_array(t, chunks=(2,) + chunks), ord=ord, axis=(2, 1))
    np.testing.assert_allclose(got.compute(), np.linalg.norm(t, ord=ord, axis=(2, 1)))
    got = linalg.norm(ga.from_array(t, chunks=(2,) + chunks), ord=ord, axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got.compute(), np.linalg.norm(t, ord=ord, axis=(1, 2), keepdims=True))


@pytest.mark.api("linalg.norm")
def test_norm_of_empty_zero_d_and_integer_arrays():
    for x in (np.zeros((0,)), np.array(3.5), np.arange(12).reshape(3, 4)):
        np.testing.assert_allclose(linalg.norm(ga.from_array(x)).compute(), np.linalg.norm(x))
    with pytest.raises(ValueError, match="Invalid norm order"):
        linalg.norm(ga.ones((4, 4), chunks=2), ord="bad")
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        linalg.norm(ga.ones((2, 2, 2), chunks=1), ord=2)


# ------------------------------------------------------------------ solvers


def _well_conditioned(n):
    return _data((n, n)) + n * np.eye(n)


@pytest.mark.parametrize("chunks", [3, 7, (2, 5), 10])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.api("linalg.solve_triangular")
def test_solve_triangular_matches_numpy(chunks, lower):
    a = _well_conditioned(10)
    tri = np.tril(a) if lower else np.triu(a)
    for b in (_data(10), _data((10, 4))):
        x = linalg.solve_triangular(ga.from_array(a, chunks=chunks), ga.from_array(b, chunks=3), lower=lower)
        assert x.shape == b.shape
        np.testing.assert_allclose(x.compute(), np.linalg.solve(tri, b), rtol=1e-10)


@pytest.mark.parametrize("chunks", [3, 5, 11, (4, 3)])
@pytest.mark.api("linalg.lu")
def test_lu_pivots_over_whole_columns(chunks):
    a = _data((11, 11))
    a[0, 0] = 0.0  # the first pivot must come from another row
    a[:4, 3] = 0.0  # and a zero panel top further on
    p, low, up = (r.compute() for r in linalg.lu(ga.from_array(a, chunks=chunks)))
    np.testing.assert_allclose(p @ low @ up, a, atol=1e-12)
    np.testing.assert_array_equal(np.sort(p.sum(axis=0)), np.ones(11))
    np.testing.assert_array_equal(p @ p.T, np.eye(11))
    np.testing.assert_allclose(np.tril(low), low)
    np.testing.assert_allclose(np.diag(low), np.ones(11))
    assert np.abs(low).max() <= 1 + 1e-12  # partial pivoting bounds the multipliers
    np.testing.assert_allclose(np.triu(up), up)


@pytest.mark.parametrize("chunks", [4, 9, (3, 6)])
@pytest.mark.api("linalg.solve", "linalg.inv")
def test_solve_and_inv_match_numpy(chunks):
    a = _data((9, 9))
    b = _data((9, 2))
    x = ga.from_array(a, chunks=chunks)
    np.testing.assert_allclose(linalg.solve(x, ga.from_array(b, chunks=4)).compute(), np.linalg.solve(a, b))
    np.testing.assert_allclose(linalg.solve(x, b[:, 0]).compute(), np.linalg.solve(a, b[:, 0]))
    np.testing.assert_allclose(linalg.inv(x).compute(), np.linalg.inv(a), rtol=1e-9, atol=1e-12)
    spd = a @ a.T + np.eye(9)
    np.testing.assert_allclose(linalg.solve(ga.from_array(spd, chunks=chunks), b, assume_a="pos").compute(),
                               np.linalg.solve(spd, b))


@pytest.mark.api("linalg.solve", "linalg.inv")
def test_singular_systems_raise_numpys_error():
    a = np.ones((6, 6))
    with pytest.raises(np.linalg.LinAlgError):
        linalg.inv(ga.from_array(a, chunks=3)).compute()
    with pytest.raises(np.linalg.LinAlgError):
        linalg.solve(ga.ones((4, 5), chunks=2), ga.ones(4, chunks=2))


@pytest.mark.parametrize("chunks", [4, 10, (3, 7)])
@pytest.mark.api("linalg.cholesky")
def test_cholesky_matches_numpy(chunks):
    a = _data((10, 10))
    spd = a @ a.T + np.eye(10)
    expect = np.linalg.cholesky(spd)
    x = ga.from_array(spd, chunks=chunks)
    np.testing.assert_allclose(linalg.cholesky(x, lower=True).compute(), expect, atol=1e-12)
    np.testing.assert_allclose(linalg.cholesky(x).compute(), expect.T, atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        linalg.cholesky(ga.from_array(-spd, chunks=chunks)).compute()


@pytest.mark.parametrize("chunks", [(10, 4), (7, 4), (40, 4)])
@pytest.mark.parametrize("bshape", [(40,), (40, 3)])
@pytest.mark.api("linalg.lstsq")
def test_lstsq_matches_numpy(chunks, bshape):
    a, b = _data((40, 4)), _data(bshape)
    x, residuals, rank, s = linalg.lstsq(ga.from_array(a, chunks=chunks), ga.from_array(b, chunks=9))
    ex, eres, erank, es = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(x.compute(), ex)
    np.testing.assert_allclose(residuals.compute(), eres)
    assert int(rank.compute()) == erank
    np.testing.assert_allclose(s.compute(), es)


# ------------------------------------------------------------------ np.linalg on graphflow arrays


def test_numpy_linalg_functions_dispatch_to_graphflow():
    a = _data((30, 4))
    x = ga.from_array(a, chunks=(10, 4))
    q, r = np.linalg.qr(x)
    assert isinstance(q, ga.Array)
    _assert_qr(a, q.compute(), r.compute())
    np.testing.assert_allclose(abs(np.linalg.qr(x, mode="r").compute()), abs(np.linalg.qr(a, mode="r")))
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    _assert_svd(a, u.compute(), s.compute(), vt.compute())
    np.testing.assert_allclose(np.linalg.svd(x, full_matrices=False, compute_uv=False).compute(),
                               np.linalg.svd(a, compute_uv=False))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        np.linalg.svd(x)
    with pytest.raises(NotImplementedError, match="mode"):
        np.linalg.qr(x, mode="complete")
    np.testing.assert_allclose(np.linalg.norm(x, axis=0).compute(), np.linalg.norm(a, axis=0))
    sq = _well_conditioned(6)
    y = ga.from_array(sq, chunks=4)
    np.testing.assert_allclose(np.linalg.solve(y, sq[:, 0]).compute(), np.linalg.solve(sq, sq[:, 0]))
    np.testing.assert_allclose(np.linalg.inv(y).compute(), np.linalg.inv(sq))
    spd = sq @ sq.T
    np.testing.assert_allclose(np.linalg.cholesky(ga.from_array(spd, chunks=4)).compute(), np.linalg.cholesky(spd))
    np.testing.assert_allclose(np.linalg.lstsq(x, a[:, 0])[0].compute(), np.linalg.lstsq(a, a[:, 0])[0],
                               atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
@pytest.mark.api("linalg.qr")
def test_qr_of_empty_arrays_has_numpys_shapes(shape):
    q, r = linalg.qr(ga.from_array(np.zeros(shape)))
    expect_q, expect_r = np.linalg.qr(np.zeros(shape))
    assert q.compute().shape == expect_q.shape and r.compute().shape == expect_r.shape
