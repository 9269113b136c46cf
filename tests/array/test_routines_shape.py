"""graphflow.array's routines (issue 20, part 3's second half) against numpy on the same data.

Every test runs over several chunkings of one input -- one block, blocks that
divide the shape, blocks that do not, blocks of one -- and, where numpy allows
them, empty and 0-d arrays.  Each names the Dask functions it proves with
``@pytest.mark.api`` (counted by ``python -m benchmarks.api_coverage array``).
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.array as ga

FAST = settings(max_examples=20, deadline=None)
RNG = np.random.default_rng(20)
X = RNG.standard_normal((7, 9))
XI = RNG.integers(-5, 10, (7, 9))
CHUNKS = [(7, 9), (3, 4), (2, 5), (1, 9)]


def same(got, want):
    """Same values, shape and dtype (floats to a rounding)."""
    got = got.compute() if hasattr(got, "compute") else got
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(got, want)


@st.composite
def array_and_chunks(draw, min_ndim=1, max_ndim=3, min_side=0):
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.lists(st.integers(min_side, 7), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, 4)) for _ in shape)
    return np.random.default_rng(draw(st.integers(0, 1000))).integers(-9, 9, shape), chunks


# -- differences


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.diff", "da.ediff1d", "da.gradient")
def test_differences(chunks):
    a, ai = ga.from_array(X, chunks=chunks), ga.from_array(XI, chunks=chunks)
    for n in range(4):
        for axis in (0, 1, -1):
            same(ga.diff(ai, n, axis), np.diff(XI, n, axis))
            same(ga.diff(a, n, axis), np.diff(X, n, axis))
    same(ga.diff(ai, 2, 0, prepend=3, append=XI[:2]), np.diff(XI, 2, 0, prepend=3, append=XI[:2]))
    same(ga.diff(ai > 0, axis=1), np.diff(XI > 0, axis=1))
    same(ga.ediff1d(ai, to_begin=[1, 2], to_end=-1), np.ediff1d(XI, to_begin=[1, 2], to_end=-1))
    for edge_order in (1, 2):
        for got, want in zip(ga.gradient(a, edge_order=edge_order), np.gradient(X, edge_order=edge_order)):
            same(got, want)
        coords = np.cumsum(RNG.random(9))
        same(ga.gradient(ai, 0.5, coords, edge_order=edge_order)[1],
             np.gradient(XI, 0.5, coords, edge_order=edge_order)[1])
        same(ga.gradient(a, axis=0, edge_order=edge_order), np.gradient(X, axis=0, edge_order=edge_order))


def test_difference_errors_are_numpys():
    a = ga.from_array(X, chunks=3)
    with pytest.raises(ValueError, match="order must be non-negative"):
        ga.diff(a, -1)
    with pytest.raises(ValueError, match="at least one dimensional"):
        ga.diff(ga.from_array(np.array(3.0)))
    with pytest.raises(ValueError, match="too small"):
        ga.gradient(ga.ones(2, chunks=1), edge_order=2)


@FAST
@given(array_and_chunks())
@pytest.mark.api("da.diff", "da.flip", "da.roll")
def test_diff_flip_roll_any_shape(data):
    x, chunks = data
    a = ga.from_array(x, chunks=chunks)
    same(ga.diff(a, 2, axis=0), np.diff(x, 2, axis=0))
    same(ga.flip(a), np.flip(x))
    same(ga.roll(a, 3, axis=0), np.roll(x, 3, axis=0))
    same(ga.roll(a, -4), np.roll(x, -4))


# -- einsum, vdot


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.einsum", "da.vdot")
def test_einsum_and_vdot(chunks):
    a = ga.from_array(X, chunks=chunks)
    sq = X[:, :7].copy()
    s = ga.from_array(sq, chunks=chunks[0])
    y = RNG.standard_normal((9, 4))
    b = ga.from_array(y, chunks=(chunks[1], 3))
    t = RNG.standard_normal((2, 7, 9))
    c = ga.from_array(t, chunks=(1,) + chunks)
    for spec, ops, nps in [("ij,jk->ik", (a, b), (X, y)), ("ij,jk", (a, b), (X, y)), ("ii->i", (s,), (sq,)),
                           ("ii", (s,), (sq,)), ("ij->", (a,), (X,)), ("ij->ji", (a,), (X,)),
                           ("...ij,jk->...ik", (c, b), (t, y)), ("bij,ij->b", (c, a), (t, X)),
                           ("ij,kj->ikj", (a, a), (X, X))]:
        same(ga.einsum(spec, *ops), np.einsum(spec, *nps))
    same(ga.einsum("ij->i", ga.from_array(XI, chunks=chunks)), np.einsum("ij->i", XI))
    same(ga.einsum("ij->i", ga.from_array(XI, chunks=chunks), dtype=float), np.einsum("ij->i", XI, dtype=float))
    z = X + 1j * X[::-1]
    same(ga.vdot(ga.from_array(z, chunks=chunks), a), np.vdot(z, X))
    same(ga.vdot(ga.from_array(XI, chunks=chunks), ga.from_array(XI, chunks=chunks)), np.vdot(XI, XI))


# -- triangles and diagonals


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.tril", "da.triu", "da.diag", "da.diagonal", "da.trace", "da.tri")
def test_triangles_and_diagonals(chunks):
    a = ga.from_array(XI, chunks=chunks)
    cube = RNG.integers(0, 9, (3, 7, 9))
    c = ga.from_array(cube, chunks=(2,) + chunks)
    for k in (-8, -2, 0, 1, 3, 20):
        same(ga.tril(a, k), np.tril(XI, k))
        same(ga.triu(c, k), np.triu(cube, k))
        same(ga.diagonal(a, k), np.diagonal(XI, k))
        for axes in ((0, 1), (1, 2), (2, 0), (-1, -2)):
            same(ga.diagonal(c, k, *axes), np.diagonal(cube, k, *axes))
        same(ga.trace(c, k, 1, 2), np.trace(cube, k, 1, 2))
        v = ga.from_array(XI[0], chunks=chunks[1])
        same(ga.diag(v, k), np.diag(XI[0], k))
        same(ga.diag(a, k), np.diag(XI, k))
        same(ga.tri(7, 9, k, chunks=chunks), np.tri(7, 9, k))
        same(ga.tri(5, k=k, dtype=int, chunks=2), np.tri(5, k=k, dtype=int))
    same(ga.trace(a, dtype=float), np.trace(XI, dtype=float))
    with pytest.raises(ValueError):
        ga.diagonal(ga.ones(3, chunks=2))
    with pytest.raises(ValueError):
        ga.diagonal(a, 0, 1, 1)


@pytest.mark.api("da.tril_indices", "da.triu_indices", "da.tril_indices_from", "da.triu_indices_from")
def test_triangle_indices():
    for k in (-1, 0, 2):
        for got, want in zip(ga.tril_indices(5, k, 7, chunks=4), np.tril_indices(5, k, 7)):
            same(got, want)
        for got, want in zip(ga.triu_indices(6, k), np.triu_indices(6, k)):
            same(got, want)
        a = ga.from_array(XI, chunks=3)
        for got, want in zip(ga.tril_indices_from(a, k), np.tril_indices_from(XI, k)):
            same(got, want)
        for got, want in zip(ga.triu_indices_from(a, k), np.triu_indices_from(XI, k)):
            same(got, want)
    with pytest.raises(ValueError, match="2-d"):
        ga.tril_indices_from(ga.ones(3, chunks=2))


# -- reordering


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.flip", "da.fliplr", "da.flipud", "da.roll", "da.rot90", "da.rollaxis", "da.tile",
                 "da.repeat")
def test_reordering(chunks):
    a = ga.from_array(XI, chunks=chunks)
    cube = RNG.integers(0, 9, (3, 7, 9))
    c = ga.from_array(cube, chunks=(2,) + chunks)
    same(ga.flip(a), np.flip(XI))
    same(ga.flip(c, (0, 2)), np.flip(cube, (0, 2)))
    same(ga.fliplr(a), np.fliplr(XI))
    same(ga.flipud(a), np.flipud(XI))
    for shift, axis in [(3, None), (-11, 0), ((2, -5), (0, 1)), ((1, 1), (1, 1)), (0, 1)]:
        same(ga.roll(a, shift, axis), np.roll(XI, shift, axis))
    for k in range(-1, 5):
        same(ga.rot90(a, k), np.rot90(XI, k))
        same(ga.rot90(c, k, (2, 0)), np.rot90(cube, k, (2, 0)))
    for axis, start in [(2, 0), (0, 3), (1, -1), (0, 0)]:
        same(ga.rollaxis(c, axis, start), np.rollaxis(cube, axis, start))
    for reps in (2, (2, 3), (2, 1, 3), (0, 2), 1):
        same(ga.tile(a, reps), np.tile(XI, reps))
    same(ga.tile(ga.from_array(np.array(4)), 3), np.tile(np.array(4), 3))
    for repeats, axis in [(3, 0), (2, 1), (2, None), (0, 1)]:
        same(ga.repeat(a, repeats, axis), np.repeat(XI, repeats, axis))
    same(ga.flip(ga.from_array(np.array(2.5))), np.flip(np.array(2.5)))
    same(ga.roll(ga.from_array(np.zeros((0, 3))), 2, 0), np.roll(np.zeros((0, 3)), 2, 0))


def test_reordering_errors_are_numpys():
    a = ga.from_array(XI, chunks=3)
    with pytest.raises(ValueError, match=">= 2-d"):
        ga.fliplr(ga.ones(3, chunks=2))
    with pytest.raises(ValueError, match="len\\(axes\\) must be 2"):
        ga.rot90(a, 1, (0,))
    with pytest.raises(ValueError, match="negative dimensions"):
        ga.tile(a, -1)
    with pytest.raises(NotImplementedError, match="integer repeats"):
        ga.repeat(a, [1, 2])
    with pytest.raises(np.exceptions.AxisError):
        ga.flip(a, 2)


# -- pad


PAD_MODES = [("constant", {}), ("constant", {"constant_values": ((1, 2), (3, 4))}), ("edge", {}),
             ("reflect", {}), ("symmetric", {}), ("wrap", {}), ("reflect", {"reflect_type": "odd"}),
             ("linear_ramp", {"end_values": (5, -3)}), ("maximum", {}), ("minimum", {"stat_length": 2}),
             ("mean", {}), ("median", {"stat_length": ((2, 3), (1, 4))})]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("mode,kwargs", PAD_MODES)
@pytest.mark.api("da.pad")
def test_pad_every_mode(chunks, mode, kwargs):
    for x in (XI, X):
        a = ga.from_array(x, chunks=chunks)
        for width in (1, (2, 3), ((1, 12), (9, 0))):
            same(ga.pad(a, width, mode, **kwargs), np.pad(x, width, mode, **kwargs))


@pytest.mark.api("da.pad")
def test_pad_callable_empty_and_errors():
    a = ga.from_array(XI, chunks=3)

    def fill(vector, width, axis, kw):
        vector[:width[0]] = kw.get("value", 7)
        vector[len(vector) - width[1]:] = -1

    same(ga.pad(a, (2, 1), fill, value=4), np.pad(XI, (2, 1), fill, value=4))
    assert ga.pad(a, 2, "empty").shape == (11, 13)
    same(ga.pad(ga.from_array(np.zeros((0, 3))), 1), np.pad(np.zeros((0, 3)), 1))
    with pytest.raises(ValueError, match="can't extend empty axis"):
        ga.pad(ga.from_array(np.zeros((0, 3))), 1, "edge")
    with pytest.raises(ValueError, match="negative"):
        ga.pad(a, -1)
    with pytest.raises(TypeError, match="integral"):
        ga.pad(a, 1.5)
    with pytest.raises(ValueError, match="not supported"):
        ga.pad(a, 1, "nonsense")
    with pytest.raises(ValueError, match="unsupported keyword"):
        ga.pad(a, 1, "edge", constant_values=3)


# -- selection


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.take", "da.compress", "da.extract", "da.choose", "da.select", "da.piecewise")
def test_selection(chunks):
    a = ga.from_array(XI, chunks=chunks)
    for indices, axis in [([0, 5, 2, 2], 0), (np.array([[1, 0], [3, 8]]), 1), (3, None), ([4, 40], None),
                          ([], 0)]:
        indices = np.asarray(indices, dtype=int)
        same(ga.take(a, indices, axis=axis), np.take(XI, indices, axis=axis))
    cond = np.array([1, 0, 1, 1, 0, 0, 1], dtype=bool)
    same(ga.compress(cond, a, 0), np.compress(cond, XI, 0))
    same(ga.compress(cond[:5], a), np.compress(cond[:5], XI))
    same(ga.compress(ga.from_array(cond[:6]), a, 1), np.compress(cond[:6], XI, 1))
    same(ga.extract(XI > 4, a), np.extract(XI > 4, XI))
    same(ga.extract(a > 4, a), np.extract(XI > 4, XI))
    pick = np.abs(XI) % 3
    choices = [XI, XI * 10, XI * 100]
    same(ga.choose(ga.from_array(pick, chunks=chunks), [ga.from_array(c, chunks=3) for c in choices]),
         np.choose(pick, choices))
    same(ga.select([a < 0, a > 7], [a, a ** 2], -1), np.select([XI < 0, XI > 7], [XI, XI ** 2], -1))
    f = ga.from_array(X, chunks=chunks)
    same(ga.piecewise(f, [f < 0, f >= 1], [lambda v: -v, lambda v: v * 2, 0.5]),
         np.piecewise(X, [X < 0, X >= 1], [lambda v: -v, lambda v: v * 2, 0.5]))
    with pytest.raises(IndexError):
        ga.compress(np.ones(9, dtype=bool), a, 0)
    with pytest.raises(TypeError, match="boolean"):
        ga.select([a], [a])
    with pytest.raises(ValueError, match="same length"):
        ga.select([a > 0], [a, a])


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.isin", "da.union1d", "da.delete", "da.insert")
def test_membership_delete_insert(chunks):
    a = ga.from_array(XI, chunks=chunks)
    same(ga.isin(a, [1, 3, 9]), np.isin(XI, [1, 3, 9]))
    same(ga.isin(a, ga.from_array(np.array([1, 3, 9, 4, -5]), chunks=2), invert=True),
         np.isin(XI, [1, 3, 9, 4, -5], invert=True))
    same(ga.union1d(a, ga.from_array(np.array([20, 1]), chunks=1)), np.union1d(XI, [20, 1]))
    for obj in (1, [0, -1], slice(1, 5, 2), [2, 2, 3], []):
        for axis in (None, 0, 1):
            same(ga.delete(a, obj, axis), np.delete(XI, obj, axis))
    for obj, values in [(1, [[7], [8]]), ([1, 0, 1], [7, 8, 9]), (6, 5), (slice(0, 3), -1), (0, 2)]:
        for axis in (1, 0):
            try:
                want = np.insert(XI, obj, values, axis)
            except ValueError:
                continue
            same(ga.insert(a, obj, values, axis), want)
    same(ga.insert(a, [3, 0], [50, 60]), np.insert(XI, [3, 0], [50, 60]))
    with pytest.raises(IndexError):
        ga.insert(a, 10, 1, axis=0)


# -- numbers out of arrays


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.isclose", "da.allclose", "da.moment", "da.ptp", "da.count_nonzero")
def test_summaries(chunks):
    a = ga.from_array(X, chunks=chunks)
    noisy = X + RNG.standard_normal(X.shape) * 1e-7
    same(ga.isclose(a, noisy), np.isclose(X, noisy))
    same(ga.isclose(a, noisy, rtol=0, atol=1e-9), np.isclose(X, noisy, rtol=0, atol=1e-9))
    lazy = ga.allclose(a, noisy)
    assert isinstance(lazy, ga.Array) and bool(lazy) is np.allclose(X, noisy)
    assert bool(ga.allclose(a, a + 1)) is False
    for order in range(5):
        for axis in (None, 0, 1):
            n = X.size if axis is None else X.shape[axis]
            want = ((X - X.mean(axis=axis, keepdims=True)) ** order).sum(axis=axis) / (n - 1)
            same(ga.moment(a, order, axis, ddof=1), want)
    ai = ga.from_array(XI, chunks=chunks)
    for axis in (None, 0, 1):
        same(ga.ptp(ai, axis), np.ptp(XI, axis))
        same(ga.count_nonzero(ai, axis), np.count_nonzero(XI, axis))
    same(ga.ptp(ai, 1, keepdims=True), np.ptp(XI, 1, keepdims=True))
    same(ga.count_nonzero(ga.from_array(np.zeros((0, 4)))), np.count_nonzero(np.zeros((0, 4))))


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.topk", "da.argtopk")
def test_topk(chunks):
    x = RNG.permutation(63).reshape(7, 9).astype(float)
    a = ga.from_array(x, chunks=chunks)
    for k in (1, 3, -4, 9, -9, 20):
        for axis in (0, 1):
            n = min(abs(k), x.shape[axis])
            order = np.argsort(x, axis=axis)
            order = np.flip(order, axis) if k > 0 else order
            want = np.take(order, np.arange(n), axis=axis)
            same(ga.argtopk(a, k, axis, split_every=2), want)
            same(ga.topk(a, k, axis, split_every=3), np.take_along_axis(x, want, axis=axis))
    same(ga.topk(ga.from_array(XI[0], chunks=2), 2), np.sort(XI[0])[::-1][:2])


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.coarsen")
def test_coarsen(chunks):
    x = RNG.standard_normal((6, 10))
    a = ga.from_array(x, chunks=chunks)
    same(ga.coarsen(np.mean, a, {0: 3, 1: 2}), x.reshape(2, 3, 5, 2).mean(axis=(1, 3)))
    same(ga.coarsen(np.max, a, {1: 5}), x.reshape(6, 2, 5).max(axis=2))
    same(ga.coarsen(np.sum, ga.from_array(XI, chunks=chunks), {0: 2}, trim_excess=True),
         XI[:6].reshape(3, 2, 9).sum(axis=1))
    with pytest.raises(ValueError, match="do not align"):
        ga.coarsen(np.sum, a, {0: 4})


# -- grids and broadcasting


@pytest.mark.parametrize("chunks", [2, 3, 5])
@pytest.mark.api("da.meshgrid", "da.indices", "da.fromfunction", "da.broadcast_to", "da.broadcast_arrays")
def test_grids_and_broadcasting(chunks):
    x, y, z = np.arange(5.0), np.arange(3.0) * 2, np.arange(2.0)
    for sparse in (False, True):
        for indexing in ("xy", "ij"):
            got = ga.meshgrid(ga.from_array(x, chunks=chunks), ga.from_array(y, chunks=chunks), z, sparse=sparse,
                              indexing=indexing)
            for g, w in zip(got, np.meshgrid(x, y, z, sparse=sparse, indexing=indexing)):
                same(g, w)
    same(ga.indices((3, 4, 2), chunks=chunks), np.indices((3, 4, 2)))
    same(ga.indices((3, 4), dtype=float, chunks=chunks), np.indices((3, 4), dtype=float))

    def f(i, j):
        return i * 10 + j

    same(ga.fromfunction(f, chunks=chunks, shape=(5, 4)), np.fromfunction(f, (5, 4)))
    same(ga.fromfunction(f, chunks=chunks, shape=(5, 4), dtype=int), np.fromfunction(f, (5, 4), dtype=int))
    base = np.arange(6).reshape(2, 3, 1)
    b = ga.from_array(base, chunks=chunks)
    for shape in [(4, 2, 3, 5), (2, 3, 7), (2, 3, 0)]:
        same(ga.broadcast_to(b, shape), np.broadcast_to(base, shape))
    same(ga.broadcast_to(b, (4, 2, 3, 5), chunks=(2, 1, 3, 2)), np.broadcast_to(base, (4, 2, 3, 5)))
    got = ga.broadcast_arrays(b, ga.from_array(np.arange(4.0), chunks=chunks), 7)
    for g, w in zip(got, np.broadcast_arrays(base, np.arange(4.0), 7)):
        same(g, w)
    with pytest.raises(ValueError, match="cannot broadcast"):
        ga.broadcast_to(b, (2, 4, 1))


@pytest.mark.api("da.atleast_1d", "da.atleast_2d", "da.atleast_3d", "da.result_type", "da.shape", "da.ndim",
                 "da.ravel_multi_index", "da.unravel_index")
def test_dimensions_and_index_conversions():
    for f in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for v in (np.array(3.0), np.arange(3), np.ones((2, 3)), np.ones((2, 1, 3, 1))):
            same(getattr(ga, f)(ga.from_array(v, chunks=2)), getattr(np, f)(v))
        got = getattr(ga, f)(ga.ones(2, chunks=1), np.array(1))
        assert isinstance(got, tuple) and [g.shape for g in got] == [w.shape for w in getattr(np, f)(np.ones(2), 1)]
    a = ga.from_array(XI, chunks=3)
    assert ga.result_type(a, np.float32) == np.result_type(XI, np.float32)
    assert ga.result_type(a.astype("i1"), "u1") == np.result_type(np.int8, np.uint8)
    assert (ga.shape(a), ga.ndim(a), ga.size(a), ga.size(a, 1)) == (XI.shape, 2, XI.size, 9)
    assert (ga.shape([1, 2]), ga.ndim(3.0), ga.size([[1, 2]])) == ((2,), 0, 2)
    coords = (np.array([3, 6, 6, 0]), np.array([4, 5, 1, 0]))
    same(ga.ravel_multi_index([ga.from_array(c, chunks=3) for c in coords], (7, 6)),
         np.ravel_multi_index(coords, (7, 6)))
    same(ga.ravel_multi_index(coords, (7, 6), order="F"), np.ravel_multi_index(coords, (7, 6), order="F"))
    same(ga.ravel_multi_index((np.array([9]), np.array([1])), (7, 6), mode="clip"),
         np.ravel_multi_index((np.array([9]), np.array([1])), (7, 6), mode="clip"))
    flat = np.array([22, 41, 37, 0, 5])
    for order in ("C", "F"):
        for g, w in zip(ga.unravel_index(ga.from_array(flat, chunks=2), (7, 6), order=order),
                        np.unravel_index(flat, (7, 6), order=order)):
            same(g, w)
    with pytest.raises(TypeError):
        ga.unravel_index(ga.from_array(np.array([1.5])), (3,))


# -- functions over blocks


@pytest.mark.parametrize("chunks", [(5, 4, 3), (2, 3, 3), (1, 1, 3)])
@pytest.mark.api("da.apply_gufunc", "da.as_gufunc", "da.gufunc", "da.apply_along_axis", "da.apply_over_axes")
def test_gufuncs_and_along_axis(chunks):
    cube = RNG.standard_normal((5, 4, 3))
    c = ga.from_array(cube, chunks=chunks)
    same(ga.apply_gufunc(lambda b: b.mean(-1), "(i)->()", c), cube.mean(-1))
    mats = RNG.standard_normal((6, 3, 3))
    same(ga.apply_gufunc(np.linalg.inv, "(i,j)->(i,j)", ga.from_array(mats, chunks=(2, 1, 3)), allow_rechunk=True),
         np.linalg.inv(mats))
    lo, hi = ga.apply_gufunc(lambda b: (b.min(-1), b.max(-1)), "(i)->(),()", c, output_dtypes=(float, float))
    same(lo, cube.min(-1))
    same(hi, cube.max(-1))
    same(ga.apply_gufunc(lambda b: b.mean(-1), "(i)->()", c, axis=0, allow_rechunk=True), cube.mean(0))
    same(ga.apply_gufunc(lambda b: b.mean(-1), "(i)->()", c, axis=1, keepdims=True, allow_rechunk=True),
         cube.mean(1, keepdims=True))
    same(ga.apply_gufunc(lambda u, v: np.einsum("...i,...i->...", u, v), "(i),(i)->()", c,
                         ga.from_array(cube[0, 0], chunks=3)), cube @ cube[0, 0])
    same(ga.apply_gufunc(lambda b: np.stack([b.sum(-1), b.prod(-1)], -1), "(i)->(k)", c, output_sizes={"k": 2}),
         np.stack([cube.sum(-1), cube.prod(-1)], -1))
    same(ga.apply_gufunc(lambda v: max(v), "(i)->()", c, vectorize=True, output_dtypes=float), cube.max(-1))

    @ga.as_gufunc("(i)->()", output_dtypes=float)
    def total(b):
        return b.sum(-1)

    same(total(c), cube.sum(-1))
    norm = ga.gufunc(lambda b: np.sqrt((b * b).sum(-1)), signature="(i)->()", output_dtypes=float)
    same(norm(c), np.linalg.norm(cube, axis=-1))
    for func in (lambda v: v.sum(), lambda v: v[::2] * 2, lambda v: np.outer(v, v)):
        for axis in (0, 1, 2):
            same(ga.apply_along_axis(func, axis, c), np.apply_along_axis(func, axis, cube))
    same(ga.apply_over_axes(ga.sum, c, [0, 2]), np.apply_over_axes(np.sum, cube, [0, 2]))
    same(ga.apply_over_axes(ga.mean, c, 1), np.apply_over_axes(np.mean, cube, 1))


def test_gufunc_errors_name_the_fix():
    c = ga.from_array(RNG.standard_normal((5, 4)), chunks=2)
    with pytest.raises(ValueError, match="allow_rechunk=True"):
        ga.apply_gufunc(lambda b: b.mean(-1), "(i)->()", c)
    with pytest.raises(ValueError, match="output_sizes"):
        ga.apply_gufunc(lambda b: b, "(i)->(k)", c, allow_rechunk=True)
    with pytest.raises(ValueError, match="takes 2 inputs"):
        ga.apply_gufunc(np.add, "(),()->()", c)


# -- overlapping blocks


@pytest.mark.parametrize("chunks", [(4, 4), (3, 5), (1, 2), (9, 11)])
@pytest.mark.api("da.map_overlap")
def test_map_overlap_matches_a_global_stencil(chunks):
    x = RNG.standard_normal((9, 11))
    a = ga.from_array(x, chunks=chunks)

    def stencil(b):
        return b + np.roll(b, 1, 0) + np.roll(b, -1, 0) + np.roll(b, 2, 1)

    same(ga.map_overlap(stencil, a, depth=2, boundary="periodic"), stencil(x))
    same(ga.map_overlap(stencil, a, depth={0: 1, 1: 2}, boundary="periodic"), stencil(x))
    padded = np.pad(x, 2, mode="constant", constant_values=0.5)
    same(ga.map_overlap(stencil, a, depth=2, boundary=0.5), stencil(padded)[2:-2, 2:-2])
    padded = np.pad(x, 2, mode="symmetric")
    same(ga.map_overlap(stencil, a, depth=2, boundary="reflect"), stencil(padded)[2:-2, 2:-2])
    padded = np.pad(x, 2, mode="edge")
    same(ga.map_overlap(stencil, a, depth=2, boundary="nearest"), stencil(padded)[2:-2, 2:-2])
    same(ga.map_overlap(lambda u, v: u - v, a, a * 2, depth=1), -x)


def test_overlap_chunks_and_values_follow_dask():
    """Dask's documented example: 8x8 in 4x4 blocks, depth {0: 2, 1: 1}, boundary {0: 100, 1: "reflect"}.

    Block (i, j) of the result is the padded array's window that starts at the block's own start::

        padded = pad rows by 2 with 100, columns by 1 mirrored (edge included)
        block (i, j) = padded[4i : 4i + 8, 4j : 4j + 6]
    """
    x = np.arange(64).reshape(8, 8)
    got = ga.overlap(ga.from_array(x, chunks=(4, 4)), depth={0: 2, 1: 1}, boundary={0: 100, 1: "reflect"})
    assert got.chunks == ((8, 8), (6, 6))
    padded = np.pad(np.pad(x, ((2, 2), (0, 0)), constant_values=100), ((0, 0), (1, 1)), mode="symmetric")
    same(got, np.block([[padded[4 * i:4 * i + 8, 4 * j:4 * j + 6] for j in range(2)] for i in range(2)]))
    inner = ga.overlap(ga.from_array(x, chunks=(4, 4)), depth=1, boundary="none")
    assert inner.chunks == ((5, 5), (5, 5))
    same(ga.trim_internal(inner, {0: 1, 1: 1}, boundary="none"), x)
    with pytest.raises(ValueError, match="larger than axis"):
        ga.overlap(ga.from_array(x, chunks=(1, 8)), depth={0: 9}, boundary="none")


def test_overlap_builds_each_grown_block_once_from_its_neighbours():
    """3x3 blocks, depth 1, boundary "none": block (1, 1) reads its 9 neighbours directly (one copy, not one
    per axis), a corner block reads 4; the result is still the window of the array around each block::

        (0,0) (0,1) (0,2)
        (1,0) (1,1) (1,2)      overlap(1,1) <- all nine
        (2,0) (2,1) (2,2)
    """
    x = np.arange(81.0).reshape(9, 9)
    a = ga.from_array(x, chunks=3)
    got = ga.overlap(a, depth=1, boundary="none")
    nodes = got.graph_nodes
    assert len(nodes) == 9  # the overlap tasks alone: no per-axis intermediate array
    assert {r.key for r in nodes[(got.name, 1, 1)].args[0]} == {(a.name, i, j) for i in range(3) for j in range(3)}
    assert len(nodes[(got.name, 0, 0)].args[0]) == 4
    same(got, np.block([[x[max(3 * i - 1, 0):3 * i + 4, max(3 * j - 1, 0):3 * j + 4] for j in range(3)]
                        for i in range(3)]))


def test_from_npy_stack_reads_what_dask_writes(tmp_path):
    da = pytest.importorskip("dask.array")
    x = RNG.standard_normal((6, 10))
    da.to_npy_stack(str(tmp_path / "d"), da.from_array(x, chunks=(6, 3)), axis=1)
    same(ga.from_npy_stack(str(tmp_path / "d")), x)
    ga.to_npy_stack(str(tmp_path / "g"), ga.from_array(x, chunks=(4, 5)), axis=0)
    np.testing.assert_array_equal(da.from_npy_stack(str(tmp_path / "g")).compute(), x)
    assert sorted(os.listdir(tmp_path / "g")) == ["0.npy", "1.npy", "info"]


@pytest.mark.parametrize("chunks", CHUNKS)
def test_numpy_functions_on_graphflow_arrays_stay_lazy(chunks):
    """``np.<routine>(graphflow array)`` reaches graphflow's routine through ``__array_function__``."""
    a = ga.from_array(XI, chunks=chunks)
    calls = [(np.diff, (2,)), (np.ediff1d, ()), (np.flip, ()), (np.fliplr, ()), (np.flipud, ()), (np.roll, (2,)),
             (np.rot90, ()), (np.rollaxis, (1,)), (np.tile, ((2, 1),)), (np.repeat, (2,)), (np.pad, (1,)),
             (np.tril, ()), (np.triu, (1,)), (np.diag, ()), (np.diagonal, ()), (np.trace, ()),
             (np.take, ([0, 2],)), (np.isin, ([1, 5],)), (np.delete, (1,)),
             (np.insert, (1, 9)), (np.ptp, ()), (np.count_nonzero, ()), (np.broadcast_to, ((2, 7, 9),)),
             (np.atleast_3d, ()), (np.union1d, ([100],))]
    for func, args in calls:
        got = func(a, *args)
        assert isinstance(got, ga.Array), func.__name__
        same(got, func(XI, *args))
    same(np.einsum("ij->j", a), np.einsum("ij->j", XI))
    same(np.vdot(a, a), np.vdot(XI, XI))
    same(np.gradient(a.astype(float), axis=1), np.gradient(XI.astype(float), axis=1))
    same(np.extract(XI > 2, a), np.extract(XI > 2, XI))
    same(np.compress([1, 0, 1], a, axis=0), np.compress([1, 0, 1], XI, axis=0))
    same(np.choose(np.abs(a) % 2, [XI, -XI]), np.choose(np.abs(XI) % 2, [XI, -XI]))
    same(np.select([a > 2], [a]), np.select([XI > 2], [XI]))
    same(np.piecewise(a, [a > 2], [1, 0]), np.piecewise(XI, [XI > 2], [1, 0]))
    same(np.apply_along_axis(np.sum, 1, a), np.apply_along_axis(np.sum, 1, XI))
    same(np.apply_over_axes(np.sum, a, [0]), np.apply_over_axes(np.sum, XI, [0]))
    for got, want in zip(np.meshgrid(a[0], a[:, 0]), np.meshgrid(XI[0], XI[:, 0])):
        same(got, want)
    for got, want in zip(np.broadcast_arrays(a, a[0]), np.broadcast_arrays(XI, XI[0])):
        same(got, want)
    same(np.ravel_multi_index((np.abs(a) % 3, np.abs(a) % 2), (3, 2)),
         np.ravel_multi_index((np.abs(XI) % 3, np.abs(XI) % 2), (3, 2)))
    for got, want in zip(np.unravel_index(np.abs(a), (4, 5)), np.unravel_index(np.abs(XI), (4, 5))):
        same(got, want)
    assert bool(np.allclose(a, XI)) and not bool(np.allclose(a, XI + 1))


@FAST
@given(array_and_chunks(min_ndim=2, max_ndim=3), st.integers(-4, 4))
@pytest.mark.api("da.tril", "da.triu", "da.diagonal", "da.trace", "da.tile", "da.repeat", "da.rot90")
def test_triangles_tiles_any_shape(data, k):
    x, chunks = data
    a = ga.from_array(x, chunks=chunks)
    same(ga.tril(a, k), np.tril(x, k))
    same(ga.triu(a, k), np.triu(x, k))
    same(ga.diagonal(a, k, -1, 0), np.diagonal(x, k, -1, 0))
    same(ga.trace(a, k), np.trace(x, k))
    same(ga.tile(a, (2, 1)), np.tile(x, (2, 1)))
    same(ga.repeat(a, 2, axis=-1), np.repeat(x, 2, axis=-1))
    same(ga.rot90(a, k), np.rot90(x, k))


@FAST
@given(array_and_chunks(min_side=1), st.integers(0, 9),
       st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap", "mean"]))
@pytest.mark.api("da.pad", "da.map_overlap")
def test_pad_and_overlap_any_shape(data, width, mode):
    x, chunks = data
    a = ga.from_array(x, chunks=chunks)
    if mode == "reflect" and min(x.shape) == 1 and width:
        width = 0  # numpy cannot reflect a single element either
    same(ga.pad(a, width, mode), np.pad(x, width, mode))
    depth = min(width, min(x.shape))
    same(ga.map_overlap(lambda b: b * 2, a, depth=depth, boundary="reflect"), x * 2)
    same(ga.map_overlap(lambda b: b + 1, a, depth=depth, boundary="none"), x + 1)


@pytest.mark.api("da.topk", "da.einsum", "da.isin", "da.diagonal", "da.moment", "da.count_nonzero")
def test_empty_and_zero_d_inputs():
    empty = np.zeros((0, 4))
    e = ga.from_array(empty, chunks=2)
    same(ga.einsum("ij->j", e), np.einsum("ij->j", empty))
    same(ga.einsum("ij,ij->", e, e), np.einsum("ij,ij->", empty, empty))
    same(ga.isin(e, [1.0]), np.isin(empty, [1.0]))
    same(ga.diagonal(e), np.diagonal(empty))
    same(ga.tril(e), np.tril(empty))
    same(ga.topk(e, 2, axis=1), np.zeros((0, 2)))
    same(ga.count_nonzero(e, axis=0), np.count_nonzero(empty, axis=0))
    scalar = ga.from_array(np.array(3.5))
    same(ga.einsum(",->", scalar, scalar), np.einsum(",->", np.array(3.5), np.array(3.5)))
    same(ga.isin(scalar, [3.5]), np.isin(np.array(3.5), [3.5]))
    same(ga.count_nonzero(scalar), np.count_nonzero(np.array(3.5)))
    same(ga.atleast_2d(scalar), np.atleast_2d(np.array(3.5)))
    same(ga.broadcast_to(scalar, (2, 3)), np.broadcast_to(np.array(3.5), (2, 3)))
    same(ga.moment(ga.from_array(np.arange(5.0), chunks=2), 2), np.var(np.arange(5.0)))


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.push")
def test_push_forward_fills_like_pandas(chunks):
    pd = pytest.importorskip("pandas")
    x = RNG.standard_normal((7, 9))
    x[RNG.random(x.shape) < 0.6] = np.nan
    a = ga.from_array(x, chunks=chunks)
    for n in (None, 1, 3):
        same(ga.push(a, n, 0), pd.DataFrame(x).ffill(limit=n).to_numpy())
        same(ga.push(a, n, 1), pd.DataFrame(x.T).ffill(limit=n).to_numpy().T)
    same(ga.push(a, 0, 0), x)
    same(ga.push(ga.from_array(XI, chunks=chunks), None, 0), XI)


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.shuffle", "Array.shuffle")
def test_shuffle_keeps_each_group_in_one_block(chunks):
    a = ga.from_array(XI, chunks=chunks)
    groups = [[6, 5, 2], [4, 1], [3, 0, 8, 7]]
    got = ga.shuffle(a, groups, axis=1)
    same(got, XI[:, [6, 5, 2, 4, 1, 3, 0, 8, 7]])
    assert set(np.cumsum(got.chunks[1]).tolist()) <= {3, 5, 9}  # blocks end only where groups end
    same(a.shuffle([[1, 1], [0]], axis=0), XI[[1, 1, 0]])
    with pytest.raises(IndexError):
        a.shuffle([[9]], axis=0)
