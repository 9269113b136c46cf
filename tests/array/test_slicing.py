"""graphflow.array.slicing: a 1-d boolean Array along one axis, and ``x[index] = array``."""

import numpy as np
import pytest

import graphflow.array as ga


@pytest.mark.parametrize("lazy_mask", [True, False])
def test_one_dimensional_mask_along_an_axis(lazy_mask):
    a = np.arange(70.0).reshape(10, 7)
    keep = a[:, 0] % 20 < 10  # rows 0, 2, 3, ...
    x = ga.from_array(a, chunks=(3, 4))
    mask = ga.from_array(keep, chunks=4) if lazy_mask else keep  # chunks unlike x's: rechunked
    out = x[mask]
    if lazy_mask:
        assert np.isnan(out.shape[0]) and out.shape[1] == 7
    np.testing.assert_array_equal(out.compute(), a[keep])
    np.testing.assert_array_equal(x[mask, 2:5].compute(), a[keep, 2:5])
    cols = ga.from_array(a[0] % 2 == 0, chunks=3)
    np.testing.assert_array_equal(x[:, cols].compute(), a[:, a[0] % 2 == 0])
    lazy = x[x[:, 1] > 20]  # a mask computed from x itself
    np.testing.assert_array_equal(lazy.compute(), a[a[:, 1] > 20])
    assert lazy.compute_chunk_sizes().shape == a[a[:, 1] > 20].shape


def test_one_dimensional_mask_of_the_wrong_length():
    x = ga.ones((6, 2), chunks=3)
    with pytest.raises(IndexError, match="did not match"):
        x[ga.from_array(np.ones(5, dtype=bool), chunks=2)]


@pytest.mark.parametrize("index, value", [
    ((slice(1, 8), slice(2, 6)), np.arange(28.0).reshape(7, 4)),
    ((slice(None, None, -2), 3), np.arange(5.0)),
    ((slice(2, 9, 3), slice(None)), np.arange(7.0)),           # broadcast along rows
    ((4, slice(1, 5)), 7.5),
    ((slice(0, 10), slice(5, 6)), np.arange(10.0)[:, None]),
    ((slice(3, 3), slice(None)), np.ones(7)),                   # an empty region: nothing changes
])
@pytest.mark.parametrize("lazy_value", [True, False])
def test_setitem_with_an_array_value_matches_numpy(index, value, lazy_value):
    a = np.arange(70.0).reshape(10, 7)
    x = ga.from_array(a, chunks=(3, 4))
    if lazy_value and np.ndim(value):
        value = ga.from_array(np.asarray(value), chunks=2)
    x[index] = value
    b = a.copy()
    b[index] = value.compute() if isinstance(value, ga.Array) else value
    np.testing.assert_array_equal(x.compute(), b)


def test_setitem_with_an_array_of_another_dtype_casts_like_numpy():
    x = ga.zeros((4, 4), dtype=int, chunks=2)
    x[1:3, 1:3] = np.full((2, 2), 2.7)
    b = np.zeros((4, 4), dtype=int)
    b[1:3, 1:3] = np.full((2, 2), 2.7)
    np.testing.assert_array_equal(x.compute(), b)
    assert x.dtype == b.dtype


def test_setitem_with_an_array_that_does_not_fit():
    x = ga.zeros((4, 4), chunks=2)
    with pytest.raises(ValueError, match="broadcast"):
        x[0:2, 0:3] = np.ones((2, 2))


A3 = np.arange(120.0).reshape(4, 5, 6)


@pytest.mark.parametrize("index, value", [
    ((np.array([0, 2]), slice(1, 3)), np.array([7.0, 8.0]).reshape(1, 2, 1)),
    ((np.array([3, 0, 3]), 1), np.arange(18.0).reshape(3, 6)),       # repeated position: the last wins
    ((0, slice(None), [1, 5, 2]), np.arange(15.0).reshape(3, 5)),    # int and array apart: array dim first
    ((slice(None), [4, -1], 2), 9.5),
    ((slice(None, None, -2), [0, 3]), np.arange(24.0).reshape(2, 2, 6)),
])
def test_setitem_with_an_integer_array_index_matches_numpy(index, value):
    x, expect = ga.from_array(A3, chunks=(3, 2, 4)), A3.copy()
    expect[index] = value
    x[index] = value
    np.testing.assert_array_equal(x.compute(), expect)


def test_setitem_integer_array_errors_at_build_time():
    x = ga.from_array(A3, chunks=2)
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 9]] = 1.0
    with pytest.raises(ValueError, match="could not be broadcast"):
        x[[0, 1], 0:2] = np.ones(3)


def test_setitem_mask_with_an_array_value():
    x = ga.from_array(A3, chunks=2)
    x[x > 50] = ga.from_array(-A3, chunks=3)        # lazy mask, full-shape value (dask's meaning)
    np.testing.assert_array_equal(x.compute(), np.where(A3 > 50, -A3, A3))
    x = ga.from_array(A3, chunks=2)
    x[A3 > 100] = np.arange(6.0)                      # broadcasts to the array's shape
    np.testing.assert_array_equal(x.compute(), np.where(A3 > 100, np.arange(6.0), A3))
    x, expect = ga.from_array(A3, chunks=2), A3.copy()
    x[A3 > 100] = np.arange(19.0)                     # numpy mask, one value per selected element (numpy's)
    expect[A3 > 100] = np.arange(19.0)
    np.testing.assert_array_equal(x.compute(), expect)
    with pytest.raises(ValueError, match="broadcasts to the array's shape"):
        x[A3 > 100] = np.arange(7.0)
