"""Comparisons with numpy that name the Dask API they cover (``@pytest.mark.api``).

``python -m benchmarks.api_coverage array`` counts a Dask name for
graphflow.array only when a test marked with it passed.  Each test uses the
same random data in numpy and in graphflow, over chunkings that do and do not
divide the shape.
"""

import numpy as np
import pytest

import graphflow.array as ga


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(5).standard_normal((13, 9))


@pytest.mark.parametrize("chunks", [(13, 9), (4, 4), (5, 2)])
@pytest.mark.api("da.from_array", "Array.sum", "Array.mean")
def test_reductions_match_numpy(x, chunks):
    a = ga.from_array(x, chunks=chunks)
    np.testing.assert_allclose(a.sum().compute(), x.sum())
    for axis in (0, 1):
        np.testing.assert_allclose(a.sum(axis=axis).compute(), x.sum(axis=axis))
        np.testing.assert_allclose(a.mean(axis=axis).compute(), x.mean(axis=axis))


@pytest.mark.parametrize("chunks", [(13, 9), (4, 4), (5, 2)])
@pytest.mark.api("Array.T", "Array.transpose", "da.concatenate")
def test_transpose_and_concatenate_match_numpy(x, chunks):
    a = ga.from_array(x, chunks=chunks)
    np.testing.assert_array_equal(a.T.compute(), x.T)
    np.testing.assert_array_equal(a.transpose().compute(), x.transpose())
    np.testing.assert_array_equal(ga.concatenate([a, a], axis=0).compute(), np.concatenate([x, x], axis=0))
