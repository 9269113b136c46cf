"""graphflow.array.linalg.drawn: thin products draw their random operand band by band inside the product task."""

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga
from graphflow.array.linalg import drawn


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows, so the tests' blocks are cut into many bands (and band sizes differ per block)."""
    monkeypatch.setattr(drawn, "BAND_BYTES", 8 * 7 * 3)


def _graph_keys(x):
    return {k[0] if isinstance(k, tuple) else k for k in gf.base.collections_to_graph([x]).keys()}


@pytest.mark.parametrize("method, kwargs", [("random", {}), ("uniform", {"low": -1, "high": 3}),
                                            ("normal", {"loc": 1, "scale": 2}), ("standard_normal", {})])
def test_products_with_a_drawn_operand_match_numpy_and_hold_no_random_block(small_bands, method, kwargs):
    """A (50, 37) random in (20, 15) blocks; omega (37, 4) and q (6, 50) make the two thin products:

        A @ omega   -> (50, 4): A's blocks are drawn by the product tasks (omega stays tasks)
        q @ A       -> (6, 37): the same, A's rows being the contracted axis
    """
    a = getattr(ga.random, method)(size=(50, 37), chunks=(20, 15), seed=3, **kwargs)
    omega = ga.random.standard_normal((37, 4), chunks=(15, 4), seed=5)
    q = ga.from_array(np.random.default_rng(1).random((6, 50)), chunks=(6, 20))
    an, omegan, qn = a.compute(), omega.compute(), q.compute()
    assert drawn.drawn_side(a, omega) == "a" and drawn.drawn_side(q, a) == "b"
    for product, want in [(a @ omega, an @ omegan), (q @ a, qn @ an)]:
        assert a.name not in _graph_keys(product)  # the random blocks are never tasks of their own
        np.testing.assert_allclose(product.compute(), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(product.compute(scheduler="sync"), want, rtol=1e-12, atol=1e-12)


def test_products_that_read_a_random_block_more_than_once_keep_the_blocks():
    """Both operands big and random (arr-matmul's shape) or a transposed/rechunked operand: no drawing."""
    a = ga.random.random((40, 40), chunks=(20, 20), seed=1)
    b = ga.random.random((40, 40), chunks=(20, 20), seed=2)
    assert drawn.drawn_side(a, b) is None  # each block of a feeds two output blocks
    assert drawn.drawn_side(a.T, ga.ones((40, 3), chunks=(20, 3))) is None  # a.T has no random recipe
    np.testing.assert_allclose((a @ b).compute(), a.compute() @ b.compute())
    c = ga.random.random((40, 40), chunks=(20, 40), seed=1)  # same blocks, rechunked for the product
    np.testing.assert_allclose((c @ ga.ones((40, 3), chunks=(10, 3))).compute(), c.compute() @ np.ones((40, 3)))


def test_svd_compressed_of_a_random_array_keeps_its_answer():
    """The same decomposition as of the stored numbers (where nothing is drawn), to rounding."""
    x = ga.random.random((300, 200), chunks=(100, 100), seed=0)
    xn = x.compute()
    stored = ga.from_array(xn, chunks=(100, 100))
    got = gf.compute(*ga.linalg.svd_compressed(x, 5, n_power_iter=1, seed=1))
    want = gf.compute(*ga.linalg.svd_compressed(stored, 5, n_power_iter=1, seed=1))
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
    for g, w in ((got[0], want[0]), (got[2].T, want[2].T)):  # singular vectors up to sign
        np.testing.assert_allclose(np.abs(g), np.abs(w), atol=1e-8)
    np.testing.assert_allclose(got[0].T @ got[0], np.eye(5), atol=1e-10)


def test_drawn_blocks_pickle_and_tokenize_by_value():
    import pickle

    from graphflow.spec import tokenize

    block = drawn.DrawnBlock("normal", 7, (1, 2), (5, 4), {"loc": 1.0, "scale": 2.0})
    again = pickle.loads(pickle.dumps(block))
    bands = [band.copy() for _, _, band in again.bands(2)]
    whole = np.random.Generator(np.random.SFC64([7, 1, 2])).normal(size=(5, 4), loc=1.0, scale=2.0)
    np.testing.assert_array_equal(np.concatenate(bands), whole)
    assert tokenize(block) == tokenize(drawn.DrawnBlock("normal", 7, (1, 2), (5, 4), {"loc": 1.0, "scale": 2.0}))
    assert tokenize(block) != tokenize(drawn.DrawnBlock("normal", 7, (1, 3), (5, 4), {"loc": 1.0, "scale": 2.0}))
