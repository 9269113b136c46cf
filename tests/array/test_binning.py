"""graphflow.array.binning: the fine-grid kernel bins exactly as np.histogram, on and around every edge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphflow.array.binning import EqualWidthCounter, equal_width_counts


def _around_edges(edges, dtype):
    """Every edge, the float below it, and the two floats above it (where a guessed bin goes wrong)."""
    down = np.nextafter(edges, np.array(-np.inf, edges.dtype))
    up = np.nextafter(edges, np.array(np.inf, edges.dtype))
    return np.concatenate([edges, down, up, np.nextafter(up, np.array(np.inf, edges.dtype))]).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_counts_are_numpy_s_on_and_next_to_every_edge(dtype):
    rng = np.random.default_rng(3)
    for _ in range(120):
        lo, hi = sorted(rng.standard_normal(2) * rng.choice([1e-3, 1.0, 1e6, 1e12]))
        nbins = int(rng.integers(1, 3000))
        edges = np.histogram_bin_edges(np.zeros(0, dtype), nbins, (lo, hi))
        x = np.concatenate([_around_edges(edges, dtype), rng.uniform(lo, hi, 5000).astype(dtype),
                            np.array([np.nan, np.inf, -np.inf], dtype)])
        rng.shuffle(x)
        np.testing.assert_array_equal(equal_width_counts(x, edges), np.histogram(x, nbins, (lo, hi))[0])


def test_common_ranges_and_a_range_far_from_zero():
    """(0, 1) with 100 bins (the benchmark's), a grid too coarse for its range (the fallback), and empty input."""
    rng = np.random.default_rng(4)
    for lo, hi, nbins in [(0.0, 1.0, 100), (-3.0, 3.0, 50), (1e15, 1e15 + 4, 7), (0.0, 1.0, 1)]:
        edges = np.histogram_bin_edges(np.zeros(0), nbins, (lo, hi))
        x = np.concatenate([_around_edges(edges, np.float64), rng.uniform(lo, hi, 70_000)])
        np.testing.assert_array_equal(equal_width_counts(x, edges), np.histogram(x, nbins, (lo, hi))[0])
    edges = np.histogram_bin_edges(np.zeros(0), 5, (0, 1))
    np.testing.assert_array_equal(equal_width_counts(np.zeros(0), edges), np.zeros(5, np.intp))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_far_outside_the_range_nan_and_infinities_are_dropped(dtype):
    """Nothing is filtered before binning: huge, tiny, negative-signed NaN and infinite values must fall out."""
    rng = np.random.default_rng(5)
    specials = np.array([np.nan, -np.abs(np.float64(np.nan)), np.inf, -np.inf, 1e300, -1e300, 1e30, -1e30,
                         np.finfo(np.float64).max, -np.finfo(np.float64).max, 0.0, -0.0, 5e-324, -5e-324])
    with np.errstate(over="ignore"):
        specials = specials.astype(dtype)
    for lo, hi, nbins in [(0.0, 1.0, 100), (-2.5, 7.0, 13), (3.0, 3.5, 1), (1e4, 1e4 + 10, 400)]:
        edges = np.histogram_bin_edges(np.zeros(0, dtype), nbins, (lo, hi))
        span = hi - lo
        x = np.concatenate([rng.uniform(lo - span, hi + span, 40_000).astype(dtype), specials,
                            _around_edges(edges, dtype)])
        rng.shuffle(x)
        with np.errstate(invalid="ignore"):
            want = np.histogram(x, nbins, (lo, hi))[0]
        np.testing.assert_array_equal(equal_width_counts(x, edges), want)


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-1e9, 1e9), span=st.floats(1e-6, 1e9), nbins=st.integers(1, 400),
       steps=st.lists(st.integers(-3, 3), min_size=1, max_size=40), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**32 - 1))
def test_hypothesis_values_a_few_ulps_from_edges_bin_as_numpy(lo, span, nbins, steps, dtype, seed):
    """Values k ulps (|k| <= 3) from random edges, mixed into a piece-sized uniform sample, bin as np.histogram.

    The sample spans several pieces, so pieces with and without out-of-range
    values (the clamp is skipped when none is) are both exercised.
    """
    hi = lo + span
    edges = np.histogram_bin_edges(np.zeros(0, dtype), nbins, (lo, hi))
    rng = np.random.default_rng(seed)
    near = []
    for k in steps:
        e = edges[rng.integers(0, len(edges))]
        target = np.array(np.inf if k > 0 else -np.inf, edges.dtype)
        for _ in range(abs(k)):
            e = np.nextafter(e, target)
        near.append(e)
    inside = rng.uniform(lo, hi, 70_000).astype(dtype)
    x = np.concatenate([inside, np.array(near, dtype)])
    rng.shuffle(x)
    np.testing.assert_array_equal(equal_width_counts(x, edges), np.histogram(x, nbins, (lo, hi))[0])


def test_threads_binning_at_once_each_get_their_own_counts():
    """Scratch buffers are per thread: two threads binning different data concurrently both match numpy."""
    edges = np.histogram_bin_edges(np.zeros(0), 100, (0.0, 1.0))
    data = [np.random.default_rng(s).random(300_000) ** (s + 1) for s in range(2)]
    want = [np.histogram(d, 100, (0.0, 1.0))[0] for d in data]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(5):
            got = list(pool.map(lambda d: equal_width_counts(d, edges), data))
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_counter_fed_in_uneven_pieces_counts_as_one_call(dtype):
    """EqualWidthCounter.add over pieces of any size (empty, 2-d, across the kernel's piece length) sums to
    np.histogram of the whole, with NaN, infinities, out-of-range values and values on every edge; float32
    values against float64 edges take the corrected path and agree too."""
    rng = np.random.default_rng(11)
    for edge_dtype in (dtype, np.float64):
        edges = np.histogram_bin_edges(np.zeros(0, edge_dtype), 37, (-2.0, 3.0))
        x = np.concatenate([_around_edges(edges, dtype), rng.uniform(-3, 4, 100_000).astype(dtype),
                            np.array([np.nan, np.inf, -np.inf], dtype)])
        rng.shuffle(x)
        counter = EqualWidthCounter(edges, dtype)
        cuts = [0, 0, 7, 40_007, 40_007, 73_000, x.size]
        for a, b in zip(cuts, cuts[1:]):
            piece = x[a:b]
            counter.add(piece.reshape(-1, 1) if b - a == 7 else piece)
        np.testing.assert_array_equal(counter.counts(), np.histogram(x, bins=edges)[0])
    assert EqualWidthCounter(edges, dtype).counts().tolist() == [0] * 37
