"""Stacking, searching, counting, histograms, order statistics, nan reductions, average/cov and the cumsum
family of graphflow.array, each against numpy on the same data over one-block, even and uneven chunkings.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.array as ga

CHUNKS_2D = [(9, 7), (3, 3), (4, 2), (2, 7)]


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(7).standard_normal((9, 7))


def same(got, want, exact=False):
    got = got.compute() if isinstance(got, ga.Array) else got
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact or got.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True)


# -- stacking


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.block", "da.hstack", "da.vstack", "da.dstack", "da.append")
def test_stacking_matches_numpy(x, chunks):
    a = ga.from_array(x, chunks=chunks)
    b = ga.from_array(x[:, :3].astype(np.float32), chunks=(chunks[0], 2))
    v = ga.from_array(x[0], chunks=chunks[1])
    same(ga.hstack([a, b]), np.hstack([x, x[:, :3].astype(np.float32)]), exact=True)
    same(ga.vstack([a, v, a]), np.vstack([x, x[0], x]), exact=True)
    same(ga.vstack([v, v]), np.vstack([x[0], x[0]]), exact=True)
    same(ga.hstack([v, v]), np.hstack([x[0], x[0]]), exact=True)
    same(ga.dstack([a, a]), np.dstack([x, x]), exact=True)
    same(ga.dstack([v, v]), np.dstack([x[0], x[0]]), exact=True)
    same(ga.append(a, v), np.append(x, x[0]), exact=True)
    same(ga.append(a, a[:2], axis=0), np.append(x, x[:2], axis=0), exact=True)
    top = [[a, b], [ga.from_array(x[:2], chunks=2), ga.from_array(x[:2, :3], chunks=2)]]
    same(ga.block(top), np.block([[x, x[:, :3].astype(np.float32)], [x[:2], x[:2, :3]]]), exact=True)
    same(ga.block([v, 1.0, v]), np.block([x[0], 1.0, x[0]]), exact=True)
    same(ga.block([[v], [v]]), np.block([[x[0]], [x[0]]]), exact=True)
    assert isinstance(np.vstack([a, a]), ga.Array)


def test_stacking_errors_are_numpy_s(x):
    a = ga.from_array(x, chunks=3)
    with pytest.raises(ValueError, match="depths are mismatched"):
        ga.block([[a], a])
    with pytest.raises(TypeError, match="tuple"):
        ga.block((a, a))
    with pytest.raises(ValueError, match="cannot be empty"):
        ga.block([])
    with pytest.raises(ValueError, match="dimensions except for the concatenation axis"):
        ga.hstack([a, a[:3]])
    with pytest.raises(TypeError, match="sequence"):
        ga.vstack(a)


# -- where / nonzero / argwhere / flatnonzero


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.argwhere", "da.nonzero", "da.flatnonzero", "da.where")
def test_nonzero_family_matches_numpy_with_unknown_lengths(x, chunks):
    m = x > 0.3
    a = ga.from_array(m, chunks=chunks)
    w = ga.argwhere(a)
    assert np.isnan(w.shape[0]) and w.shape[1] == 2  # lazy: lengths known only after compute
    same(w, np.argwhere(m))
    for got, want in zip(ga.nonzero(a), np.nonzero(m)):
        same(got, want)
    for got, want in zip(ga.where(a), np.where(m)):
        same(got, want)
    for got, want in zip(np.nonzero(a), np.nonzero(m)):
        same(got, want)
    same(ga.flatnonzero(a), np.flatnonzero(m))
    same(ga.where(a, ga.from_array(x, chunks=chunks), 0.0), np.where(m, x, 0.0), exact=True)
    z = ga.nonzero(a)[0]
    assert z.compute_chunk_sizes().shape == (int(m.sum()),)


@pytest.mark.api("da.argwhere", "da.nonzero", "da.flatnonzero")
def test_nonzero_empty_zero_d_and_three_d():
    same(ga.argwhere(ga.zeros((0, 3), chunks=2)), np.argwhere(np.zeros((0, 3))))
    same(ga.argwhere(ga.asarray(np.array(5))), np.argwhere(np.array(5)))
    same(ga.flatnonzero(ga.zeros(4, chunks=3)), np.flatnonzero(np.zeros(4)))
    with pytest.raises(ValueError, match="0d"):
        ga.nonzero(ga.asarray(np.array(1)))
    c = np.random.default_rng(2).integers(0, 3, (5, 4, 6))
    same(ga.argwhere(ga.from_array(c, chunks=(2, 3, 4))), np.argwhere(c))


# -- searchsorted / digitize / bincount / unique


@pytest.mark.parametrize("achunks,vchunks", [(20, 15), (6, 4), (7, ((2, 8, 5),))])
@pytest.mark.api("da.searchsorted", "da.digitize")
def test_searchsorted_and_digitize_match_numpy(achunks, vchunks):
    rng = np.random.default_rng(3)
    sorted_ = np.sort(rng.integers(0, 10, 20)).astype(float)
    v = rng.integers(-1, 12, 15).astype(float)
    a = ga.from_array(sorted_, chunks=achunks)
    vv = ga.from_array(v, chunks=vchunks)
    for side in ("left", "right"):
        same(ga.searchsorted(a, vv, side=side), np.searchsorted(sorted_, v, side=side))
    same(ga.searchsorted(a, 4.0), np.searchsorted(sorted_, 4.0))
    perm = rng.permutation(20)
    shuffled = sorted_[perm]
    same(ga.searchsorted(ga.from_array(shuffled, chunks=achunks), vv, sorter=np.argsort(shuffled, kind="stable")),
         np.searchsorted(shuffled, v, sorter=np.argsort(shuffled, kind="stable")))
    bins = np.array([0.0, 2.5, 5.0, 9.0])
    for right in (False, True):
        same(ga.digitize(vv, bins, right=right), np.digitize(v, bins, right=right))
    two = v.reshape(3, 5)
    same(ga.digitize(ga.from_array(two, chunks=2), bins), np.digitize(two, bins))
    with pytest.raises(ValueError, match="side"):
        ga.searchsorted(a, vv, side="middle")


@pytest.mark.parametrize("chunks", [40, 7, ((3, 30, 7),)])
@pytest.mark.api("da.bincount", "da.unique")
def test_bincount_and_unique_match_numpy(chunks):
    rng = np.random.default_rng(4)
    v = rng.integers(0, 9, 40)
    w = rng.random(40)
    a = ga.from_array(v, chunks=chunks)
    same(ga.bincount(a), np.bincount(v), exact=True)
    same(ga.bincount(a, weights=ga.from_array(w, chunks=5)), np.bincount(v, weights=w))
    same(ga.bincount(a, minlength=15), np.bincount(v, minlength=15))
    same(ga.unique(a), np.unique(v))
    for flags in [(True, False, False), (False, True, False), (False, False, True), (True, True, True)]:
        got = ga.unique(a, *flags)
        want = np.unique(v, *flags)
        for g, wv in zip(got, want):
            same(g, wv)
    f = rng.standard_normal((6, 5)).round(1)
    f[1, 1] = f[2, 2] = np.nan
    fa = ga.from_array(f, chunks=(4, 3))
    for g, wv in zip(ga.unique(fa, return_index=True, return_inverse=True, return_counts=True),
                     np.unique(f, return_index=True, return_inverse=True, return_counts=True)):
        same(g, wv)
    with pytest.raises(TypeError, match="Cannot cast"):
        ga.bincount(ga.from_array(w, chunks=10))
    with pytest.raises(ValueError, match="1-d"):
        ga.bincount(ga.ones((2, 2), dtype=int, chunks=1))
    with pytest.raises(ValueError):
        ga.bincount(ga.from_array(np.array([1, -1]), chunks=1)).compute()


# -- histograms


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.histogram")
def test_histogram_matches_numpy(x, chunks):
    a = ga.from_array(x, chunks=chunks)
    wts = np.abs(x)
    cases = [dict(bins=10, range=(-2, 2)), dict(bins=np.array([-3.0, -1.0, 0.0, 0.5, 3.0])), dict(bins=7),
             dict(bins=5, range=(-1, 1), density=True), dict(bins=4, range=(-2, 2), weights=True),
             dict(bins=6, weights=True, density=True)]
    for kw in cases:
        kw_np = dict(kw, weights=wts if kw.get("weights") else None)
        kw_ga = dict(kw, weights=ga.from_array(wts, chunks=3) if kw.get("weights") else None)
        hist, edges = ga.histogram(a, **kw_ga)
        want_hist, want_edges = np.histogram(x, **kw_np)
        same(hist, want_hist, exact=not kw.get("density") and not kw.get("weights"))
        same(edges, want_edges)
    assert isinstance(np.histogram(a, bins=3, range=(0, 1))[0], ga.Array)
    with pytest.raises(ValueError, match="monotonically"):
        ga.histogram(a, bins=[1.0, 0.0])
    with pytest.raises(ValueError):
        ga.histogram(a, bins=3, range=(2, 1))


def test_equal_width_counts_are_numpy_s_at_edges_nan_inf_and_float32():
    """The fast equal-width kernel bins exactly as np.histogram, values on the edges included."""
    from graphflow.array.histograms import equal_width_counts

    rng = np.random.default_rng(11)
    for trial in range(60):
        lo, hi = sorted(rng.standard_normal(2) * rng.choice([1e-3, 1.0, 1e6]))
        nbins = int(rng.integers(1, 300))
        x = rng.uniform(lo - (hi - lo) * 0.1, hi + (hi - lo) * 0.1, int(rng.integers(9, 40_000)))
        edges = np.histogram_bin_edges(x[:0], nbins, (lo, hi))
        x[:5] = edges[rng.integers(0, nbins + 1, 5)]
        x[5:9] = [np.nan, np.inf, lo, hi]
        x = x.astype(rng.choice([np.float64, np.float32]))
        edges = np.histogram_bin_edges(x[:0], nbins, (lo, hi))
        np.testing.assert_array_equal(equal_width_counts(x, edges), np.histogram(x, nbins, (lo, hi))[0])
    data = rng.random((40, 30)).astype(np.float32)
    a = ga.from_array(data, chunks=(7, 11))
    same(ga.histogram(a, bins=9, range=(0.1, 0.9))[0], np.histogram(data, bins=9, range=(0.1, 0.9))[0])
    same(ga.histogram(a, bins=9)[0], np.histogram(data, bins=9)[0])


@pytest.mark.parametrize("rows", [30, 7, 11])
@pytest.mark.api("da.histogram2d", "da.histogramdd")
def test_histogram2d_and_dd_match_numpy(rows):
    rng = np.random.default_rng(5)
    s = rng.standard_normal((30, 3))
    w = rng.random(30)
    a = ga.from_array(s, chunks=(rows, 2))
    for kw in [dict(bins=4, range=[(-2, 2)] * 3), dict(bins=[3, 4, 5]), dict(bins=3, density=True),
               dict(bins=[np.array([-2.0, 0.0, 2.0]), 3, 2], range=[None, (-1, 1), None])]:
        hist, edges = ga.histogramdd(a, **kw)
        want, want_edges = np.histogramdd(s, **kw)
        same(hist, want)
        for e, we in zip(edges, want_edges):
            same(e, we)
    hist, edges = ga.histogramdd(a, bins=3, weights=ga.from_array(w, chunks=rows))
    same(hist, np.histogramdd(s, bins=3, weights=w)[0])
    xa, ya = ga.from_array(s[:, 0], chunks=rows), ga.from_array(s[:, 1], chunks=rows)
    for kw in [dict(bins=5), dict(bins=[3, 6], range=[[-1, 1], [-2, 2]]), dict(bins=np.linspace(-3, 3, 7))]:
        got = ga.histogram2d(xa, ya, **kw)
        want = np.histogram2d(s[:, 0], s[:, 1], **kw)
        for g, wv in zip(got, want):
            same(g, wv)


# -- percentile / quantile / median


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.percentile", "da.quantile", "da.median", "da.nanmedian", "da.nanpercentile", "da.nanquantile")
def test_order_statistics_are_numpy_s_exactly(x, chunks):
    xn = x.copy()
    xn[1, 2] = xn[4, 4] = np.nan
    a, an = ga.from_array(x, chunks=chunks), ga.from_array(xn, chunks=chunks)
    for axis in (None, 0, 1, (0, 1)):
        for keepdims in (False, True):
            same(ga.percentile(a, [10, 50, 90], axis=axis, keepdims=keepdims),
                 np.percentile(x, [10, 50, 90], axis=axis, keepdims=keepdims), exact=True)
            same(ga.quantile(a, 0.3, axis=axis, keepdims=keepdims, method="nearest"),
                 np.quantile(x, 0.3, axis=axis, keepdims=keepdims, method="nearest"), exact=True)
            same(ga.median(a, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims), exact=True)
            same(ga.nanmedian(an, axis=axis), np.nanmedian(xn, axis=axis), exact=True)
            same(ga.nanpercentile(an, 75, axis=axis), np.nanpercentile(xn, 75, axis=axis), exact=True)
            same(ga.nanquantile(an, [0.2, 0.8], axis=axis), np.nanquantile(xn, [0.2, 0.8], axis=axis), exact=True)
    same(np.median(a, axis=0), np.median(x, axis=0), exact=True)
    np.testing.assert_array_equal(x, ga.from_array(x, chunks=chunks).compute())  # inputs were not reordered
    with pytest.raises(ValueError, match="range"):
        ga.percentile(a, 101)
    with pytest.raises(ValueError, match="range"):
        ga.quantile(a, -0.1)


def test_order_statistics_of_zero_d_and_one_block_leave_the_input_alone():
    same(ga.median(ga.asarray(np.array(3.0))), np.median(np.array(3.0)))
    data = np.array([5.0, 1.0, 4.0, 2.0])
    a = ga.from_array(data, chunks=4)  # one block: numpy must not sort the shared input in place
    same(ga.median(a), np.median(data))
    np.testing.assert_array_equal(data, [5.0, 1.0, 4.0, 2.0])


# -- nan reductions


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.nanmin", "da.nanmax", "da.nanprod", "da.nanstd", "da.nanvar", "da.nanargmin",
                 "da.nanargmax", "da.nancumsum", "da.nancumprod")
def test_nan_reductions_match_numpy(x, chunks):
    xn = x.copy()
    xn[0, :3] = np.nan
    xn[:, 5] = np.nan
    xn[3, 3] = np.inf
    a = ga.from_array(xn, chunks=chunks)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        for axis in (None, 0, 1):
            same(ga.nanmin(a, axis=axis), np.nanmin(xn, axis=axis), exact=True)
            same(ga.nanmax(a, axis=axis, keepdims=True), np.nanmax(xn, axis=axis, keepdims=True), exact=True)
            same(ga.nanprod(a, axis=axis), np.nanprod(xn, axis=axis))
            same(ga.nanvar(a, axis=axis), np.nanvar(xn, axis=axis))
            same(ga.nanstd(a, axis=axis, ddof=1), np.nanstd(xn, axis=axis, ddof=1))
            same(ga.nancumsum(a, axis=axis), np.nancumsum(xn, axis=axis), exact=True)
            same(ga.nancumprod(a, axis=axis), np.nancumprod(xn, axis=axis), exact=True)
        for axis in (None, 1):
            same(ga.nanargmin(a, axis=axis), np.nanargmin(xn, axis=axis))
            same(ga.nanargmax(a, axis=axis), np.nanargmax(xn, axis=axis))
        np.nanmax(xn, axis=0)  # all-NaN column: numpy warns (and the context above expects it)
    with pytest.raises(ValueError, match="All-NaN"):
        ga.nanargmin(a, axis=0).compute()  # column 5 is all NaN
    same(ga.nanargmax(ga.from_array(np.array([np.nan, np.inf, 1.0]), chunks=1)), np.nanargmax([np.nan, np.inf, 1.0]))
    same(ga.nanmin(ga.from_array(np.arange(7), chunks=3)), np.nanmin(np.arange(7)))


# -- cumulative, across blocks


@settings(max_examples=20)
@given(shape=st.lists(st.integers(0, 9), min_size=1, max_size=3), data=st.data())
@pytest.mark.api("da.cumsum", "da.cumprod", "Array.cumsum", "Array.cumprod")
def test_cumsum_and_cumprod_are_numpy_s_to_the_bit(shape, data):
    chunks = tuple(data.draw(st.integers(1, max(n, 1))) for n in shape)
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 3
    a = ga.from_array(x, chunks=chunks)
    for axis in [None] + list(range(len(shape))):
        same(ga.cumsum(a, axis=axis), np.cumsum(x, axis=axis), exact=True)
        same(a.cumprod(axis=axis), np.cumprod(x, axis=axis), exact=True)
    ints = (x * 10).astype(np.int32)
    same(ga.cumsum(ga.from_array(ints, chunks=chunks), axis=0), np.cumsum(ints, axis=0))
    same(ga.cumsum(ga.from_array(ints, chunks=chunks), dtype=np.float32), np.cumsum(ints, dtype=np.float32))


def test_cumsum_of_wide_blocks_uses_the_slice_step_and_stays_exact():
    x = np.random.default_rng(9).random((50, 300))
    a = ga.from_array(x, chunks=(7, 130))
    same(ga.cumsum(a, axis=0), np.cumsum(x, axis=0), exact=True)
    same(np.cumsum(a, axis=1), np.cumsum(x, axis=1), exact=True)


# -- average / cov / corrcoef


@pytest.mark.parametrize("chunks", CHUNKS_2D)
@pytest.mark.api("da.average", "da.cov", "da.corrcoef")
def test_average_cov_corrcoef_match_numpy(x, chunks):
    a = ga.from_array(x, chunks=chunks)
    w = np.abs(x) + 0.1
    wa = ga.from_array(w, chunks=2)
    same(ga.average(a), np.average(x))
    same(ga.average(a, axis=0, weights=wa), np.average(x, axis=0, weights=w))
    same(ga.average(a, axis=1, weights=w[0]), np.average(x, axis=1, weights=w[0]))
    for g, wv in zip(ga.average(a, axis=1, weights=w[0], returned=True),
                     np.average(x, axis=1, weights=w[0], returned=True)):
        same(g, wv)
    for g, wv in zip(ga.average(a, axis=0, returned=True), np.average(x, axis=0, returned=True)):
        same(g, wv)
    same(ga.average(ga.from_array(np.arange(6), chunks=4), weights=np.arange(6)),
         np.average(np.arange(6), weights=np.arange(6)))
    with pytest.raises(ZeroDivisionError):
        ga.average(a, axis=0, weights=np.zeros(9)).compute()
    with pytest.raises(TypeError, match="Axis must be specified"):
        ga.average(a, weights=w[0])
    same(ga.cov(a), np.cov(x))
    same(ga.cov(a, rowvar=False), np.cov(x, rowvar=False))
    same(ga.cov(a, bias=True), np.cov(x, bias=True))
    same(ga.cov(a[0], a[1], ddof=0), np.cov(x[0], x[1], ddof=0))
    same(ga.cov(a[0]), np.cov(x[0]))
    same(ga.corrcoef(a), np.corrcoef(x))
    same(ga.corrcoef(a, rowvar=False), np.corrcoef(x, rowvar=False))
    same(ga.corrcoef(a[0], a[3]), np.corrcoef(x[0], x[3]))
    assert isinstance(np.cov(a), ga.Array)
