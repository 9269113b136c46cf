"""graphflow.array.linalg.cholqr: CholeskyQR2 only where its error bound holds; TSQR falls back otherwise."""

import numpy as np
import graphflow as gf
import graphflow.array as ga
from graphflow.array.linalg.cholqr import MIN_ELEMENTS, cholesky_qr2


def _check_qr(q, r, a, tol):
    n = a.shape[1]
    np.testing.assert_allclose(q.T @ q, np.eye(n), atol=tol)
    np.testing.assert_allclose(q @ r, a, atol=tol * np.abs(a).max())
    assert np.all(np.tril(r, -1) == 0)


def test_well_conditioned_tall_blocks_are_factored_to_working_precision():
    a = np.random.default_rng(0).standard_normal((10_000, 30))
    q, r = cholesky_qr2(a)
    assert q.dtype == r.dtype == np.float64 and np.all(np.diag(r) > 0)
    _check_qr(q, r, a, 50 * np.finfo(np.float64).eps)
    # float32's bound allows no condition number at this size (8 sqrt(m n u) > 1): Householder
    assert cholesky_qr2(a.astype(np.float32)) is None


def test_ill_conditioned_rank_deficient_small_and_complex_blocks_are_refused():
    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((10_000, 30)))
    v, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    ill = (u * np.logspace(0, -6, 30)) @ v.T  # cond 1e6: beyond the bound for this size
    deficient = rng.standard_normal((10_000, 30))
    deficient[:, 7] = deficient[:, 3]
    small = rng.standard_normal((100, 10))
    assert small.size < MIN_ELEMENTS
    for a in (ill, deficient, small, np.zeros((10_000, 30)), rng.standard_normal((10_000, 30)) * (1 + 1j),
              rng.standard_normal((1_000, 300))):
        assert cholesky_qr2(a) is None


def test_tsqr_stays_accurate_on_ill_conditioned_blocks():
    """Row blocks of 10,000 x 30 (CholeskyQR2's size), cond 1e6: every block falls back to Householder."""
    rng = np.random.default_rng(2)
    u, _ = np.linalg.qr(rng.standard_normal((30_000, 30)))
    v, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    an = (u * np.logspace(0, -6, 30)) @ v.T
    q, r = gf.compute(*ga.linalg.qr(ga.from_array(an, chunks=(10_000, 30))))
    _check_qr(q, r, an, 1e-12)
    well = rng.standard_normal((30_000, 30))
    q, r = gf.compute(*ga.linalg.qr(ga.from_array(well, chunks=(10_000, 30))))
    _check_qr(q, r, well, 1e-12)
    u_, s_, vt_ = gf.compute(*ga.linalg.svd(ga.from_array(well, chunks=(10_000, 30))))
    np.testing.assert_allclose(s_, np.linalg.svd(well, compute_uv=False), rtol=1e-12)
