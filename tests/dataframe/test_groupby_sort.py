"""groupby(..., sort=False): the groups in the order their keys are first seen, as pandas gives them, for
agg and for the reduction methods (whose own ``sort=`` keyword defaults to the groupby's), on one
partition and across several (the tree reduction meets the partitions' partials in order).  Dask promises
no order for sort=False; pandas' first-seen order is one its users may rely on, so graphflow gives it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import graphflow.dataframe as gd

REDUCTIONS = ["sum", "mean", "count", "max", "min", "size", "var", "first", "last", "nunique"]


@pytest.mark.api("GroupBy.sum", "GroupBy.mean", "GroupBy.count", "GroupBy.agg")
@settings(max_examples=15, deadline=None)
@given(keys=st.lists(st.integers(-5, 40), min_size=1, max_size=60), parts=st.integers(1, 5),
       how=st.sampled_from(REDUCTIONS))
def test_sort_false_gives_first_seen_order(keys, parts, how):
    pdf = pd.DataFrame({"k": keys, "x": np.arange(len(keys), dtype=float)})
    df = gd.from_pandas(pdf, npartitions=parts)
    want = getattr(pdf.groupby("k", sort=False).x, how)()
    got = getattr(df.groupby("k", sort=False).x, how)().compute(scheduler="sync")
    pd.testing.assert_series_equal(got, want, check_dtype=False, check_names=how != "size")
    assert got.index.tolist() == list(dict.fromkeys(keys))


@pytest.mark.api("GroupBy.agg")
@pytest.mark.parametrize("parts", [1, 3])
def test_sort_false_agg_and_frame_methods(parts):
    """Two keys, a dict agg and a frame-wide sum: pandas' first-seen order of the key pairs; sort=True (the
    default) still sorts."""
    rng = np.random.default_rng(4)
    pdf = pd.DataFrame({"a": rng.integers(0, 4, 50), "b": rng.choice(["p", "q", "r"], 50),
                        "x": rng.random(50), "y": rng.integers(0, 9, 50)})
    df = gd.from_pandas(pdf, npartitions=parts)
    for grouped, pandas_grouped in ((df.groupby(["a", "b"], sort=False), pdf.groupby(["a", "b"], sort=False)),
                                    (df.groupby("b", sort=False), pdf.groupby("b", sort=False))):
        pd.testing.assert_frame_equal(grouped.agg({"x": "sum", "y": "max"}).compute(scheduler="sync"),
                                      pandas_grouped.agg({"x": "sum", "y": "max"}))
        pd.testing.assert_frame_equal(grouped.sum().compute(scheduler="sync"), pandas_grouped.sum())
    pd.testing.assert_series_equal(df.groupby("a").x.sum().compute(scheduler="sync"), pdf.groupby("a").x.sum())
