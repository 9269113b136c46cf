"""running.running_into: the running sum/product both cumsum paths use, against numpy's sequential one
(floats to a few ulps, ints exactly), over block boundaries, odd lengths and unaligned slices; and
``compute()`` equal to ``to_arrow()`` bit for bit when partitions span several blocks."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd
from graphflow.dataframe.running import BLOCK, running_into


@settings(max_examples=40, deadline=None)
@given(n=st.sampled_from([0, 1, 2, 3, 7, 64, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3]),
       offset=st.integers(0, 3), start=st.sampled_from([None, 0.0, -2.5, 1e6]), seed=st.integers(0, 50))
def test_float_sums_match_numpy_from_any_offset(n, offset, start, seed):
    base = np.random.default_rng(seed).random(n + offset) - 0.3
    x = base[offset:]  # an odd offset: the complex view is unaligned
    out = np.empty(n + 1)[1:]  # the destination unaligned too
    running_into(x, start, "sum", out)
    want = np.cumsum(x) + (start or 0.0)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("how", ["sum", "prod"])
@pytest.mark.parametrize("start", [None, 3, -(2**62)])
def test_int_runs_are_numpys_exactly(how, start):
    x = np.random.default_rng(1).integers(-3, 4, 2 * BLOCK + 5)
    out = np.empty_like(x)
    running_into(x, start, how, out)
    run = np.cumsum(x) if how == "sum" else np.cumprod(x)
    want = run if start is None else (run + np.int64(start) if how == "sum" else run * np.int64(start))
    np.testing.assert_array_equal(out, want)


def test_float_products_and_a_strided_source():
    x = np.random.default_rng(2).random(2 * BLOCK + 9) / 2 + 0.75
    out = np.empty_like(x)
    running_into(x, 2.0, "prod", out)
    np.testing.assert_allclose(out, np.cumprod(x) * 2.0, rtol=1e-10)
    strided = np.random.default_rng(3).random(2 * 1001)[::2]  # not contiguous: numpy's run instead
    out = np.empty(len(strided))
    running_into(strided, None, "sum", out)
    np.testing.assert_allclose(out, np.cumsum(strided), rtol=1e-12)


@pytest.mark.parametrize("nparts", [1, 3, 7])
def test_compute_equals_to_arrow_over_blocks(nparts):
    """Partitions of ~10k-100k rows (several blocks, odd lengths): pandas' answer, and the result's assembly
    writes exactly the Arrow path's values."""
    rng = np.random.default_rng(nparts)
    pdf = pd.DataFrame({"a": rng.random(100_003) - 0.5, "k": rng.integers(-9, 9, 100_003)})
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = df.cumsum().compute(scheduler="threads")
    pd.testing.assert_frame_equal(got, pdf.cumsum())
    arrow = df.a.cumsum().to_arrow(scheduler="threads").to_numpy()
    np.testing.assert_array_equal(df.a.cumsum().compute(scheduler="threads").to_numpy(), arrow)
    np.testing.assert_array_equal(got.k.to_numpy(), np.cumsum(pdf.k.to_numpy()))
