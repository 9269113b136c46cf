"""drop_duplicates on key codes (graphflow/dataframe/distinct.py) equals pandas', row order, index
and dtypes included; keys Arrow and pandas disagree on (floats with NaN) still go through pandas."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.distinct import distinct_rows


def _frame(seed, n=200):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "i": rng.integers(0, 6, n),
        "s": pd.Series(rng.choice(["a", "b", None], n), index=pd.RangeIndex(100, 100 + n)),
        "t": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D"),
        "f": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 3, n).astype(float)),
    }, index=pd.RangeIndex(100, 100 + n))


@pytest.mark.api("DataFrame.drop_duplicates")
@pytest.mark.parametrize("subset", [["i"], ["i", "s"], ["s", "t"], ["f"], None])
@pytest.mark.parametrize("keep", ["first", "last", False])
@pytest.mark.parametrize("nparts", [1, 4])
def test_drop_duplicates_equals_pandas(subset, keep, nparts):
    pdf = _frame(5)
    got = gd.from_pandas(pdf, npartitions=nparts).drop_duplicates(subset=subset, keep=keep).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(subset=subset, keep=keep))


@pytest.mark.api("DataFrame.drop_duplicates")
def test_without_an_index_after_a_merge():
    pdf = _frame(6)
    g = gd.from_pandas(pdf, npartitions=3).reset_index(drop=True)
    got = g[["i", "s"]].drop_duplicates().compute(scheduler="sync")
    want = pdf.reset_index(drop=True)[["i", "s"]].drop_duplicates()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_float_keys_are_left_to_pandas():
    import pyarrow as pa

    t = pa.table({"f": [1.0, float("nan"), float("nan")]})
    assert distinct_rows(t, ["f"], "first") is None
    assert distinct_rows(pa.table({"k": [1, 1, 2]}), ["k"], False).to_pydict() == {"k": [2]}
    assert distinct_rows(pa.table({"k": [1, 1, 2]}), ["k"], "last").to_pydict() == {"k": [1, 2]}
