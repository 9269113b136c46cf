"""graphflow.array.linalg: matrix products of stacks follow numpy's broadcasting and vector rules."""

import numpy as np
import pytest

import graphflow.array as ga


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 5, 4), (3, 4, 6)),        # same stack
    ((2, 1, 5, 4), (3, 4, 2)),     # stack dims broadcast (1 against 3, missing against 2)
    ((5, 4), (2, 4, 3)),           # a matrix against a stack
    ((4,), (2, 3, 4, 5)),          # a vector on the left of a stack
    ((2, 3, 5, 4), (4,)),          # a stack times a vector
])
def test_matmul_of_stacks_matches_numpy(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.random(shape_a), rng.random(shape_b)
    x, y = ga.from_array(a, chunks=2), ga.from_array(b, chunks=3)
    out = x @ y
    expect = a @ b
    assert out.shape == expect.shape
    np.testing.assert_allclose(out.compute(), expect)
    np.testing.assert_allclose(np.matmul(x, b).compute(), expect)


def test_matmul_of_stacks_sums_long_contractions_by_a_tree():
    a, b = np.ones((2, 3, 40)), np.ones((2, 40, 2))
    out = ga.from_array(a, chunks=(1, 3, 2)) @ ga.from_array(b, chunks=(1, 2, 2))  # 20 blocks along k
    np.testing.assert_allclose(out.compute(), a @ b)


def test_matmul_of_stacks_checks_shapes():
    with pytest.raises(ValueError, match="mismatch"):
        ga.ones((2, 3, 4), chunks=2) @ ga.ones((2, 5, 3), chunks=2)
    with pytest.raises(ValueError):
        ga.ones((2, 3, 4), chunks=2) @ ga.ones((3, 4, 3), chunks=2)
