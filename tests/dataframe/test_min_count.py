"""sum(min_count=): fewer present values than min_count give a missing value, as in pandas."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


@pytest.mark.api("DataFrame.sum", "Series.sum")
@pytest.mark.parametrize("min_count", [0, 1, 3])
def test_sum_min_count(min_count):
    pdf = pd.DataFrame({"a": [1.0, np.nan, np.nan, 2.0], "b": [np.nan] * 4, "c": [1, 2, 3, 4]})
    df = gd.from_pandas(pdf, npartitions=3)
    pd.testing.assert_series_equal(df.sum(min_count=min_count).compute(scheduler="sync"),
                                   pdf.sum(min_count=min_count), check_dtype=False)
    for col in "ab":
        got = df[col].sum(min_count=min_count).compute(scheduler="sync")
        want = pdf[col].sum(min_count=min_count)
        assert (np.isnan(got) and np.isnan(want)) if np.isnan(want) else got == want


def test_empty_frame_sum_min_count_is_missing():
    df = gd.from_pandas(pd.DataFrame({"x": [1.0, 2.0]}), npartitions=2)
    empty = df[df.x > 5]
    assert empty[["x"]].sum().compute(scheduler="sync")["x"] == 0
    assert np.isnan(empty[["x"]].sum(min_count=1).compute(scheduler="sync")["x"])
