"""A join whose left partition is smaller than its right one builds on the left (pyarrow builds on the right):
the rows, columns, suffixes and order of columns stay pandas' for every how."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("on", ["same", "different"])
def test_small_left_big_right(how, on):
    rng = np.random.default_rng(8)
    small = pd.DataFrame({"k": rng.integers(0, 50, 20), "v": rng.normal(size=20), "s": ["a"] * 20})
    big = pd.DataFrame({"k": rng.integers(0, 80, 3000), "v": rng.normal(size=3000), "t": rng.choice(["x", "y"], 3000)})
    a, b = gd.from_pandas(small, npartitions=2), gd.from_pandas(big, npartitions=3)
    if on == "same":
        got, want = a.merge(b, on="k", how=how, broadcast=False), small.merge(big, on="k", how=how)
    else:
        b2, big2 = b.rename(columns={"k": "k2"}), big.rename(columns={"k": "k2"})
        got = a.merge(b2, left_on="k", right_on="k2", how=how, broadcast=False)
        want = small.merge(big2, left_on="k", right_on="k2", how=how)
    got = got.compute(scheduler="sync")
    assert list(got.columns) == list(want.columns)
    order = list(want.columns)
    pd.testing.assert_frame_equal(got.sort_values(order, ignore_index=True), want.sort_values(order, ignore_index=True),
                                  check_dtype=False)
