"""merge(indicator=...): pandas' ``_merge`` column, for every how, broadcast and shuffled, against pandas."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


def _frames(seed=3):
    rng = np.random.default_rng(seed)
    left = pd.DataFrame({"k": rng.integers(0, 30, 200), "s": rng.choice(["a", "b", None], 200),
                         "x": rng.normal(size=200)})
    left.loc[::17, "k"] = -1  # keys no right row has
    right = pd.DataFrame({"k": np.r_[rng.integers(0, 40, 60), [5, 5]], "w": rng.normal(size=62)})
    return left, right


def _same(got, want):
    order = list(want.columns)
    got = got.sort_values(order, ignore_index=True)
    want = want.sort_values(order, ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=True)
    assert got["_merge"].dtype == want["_merge"].dtype  # category with left_only, right_only, both


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("broadcast", [None, False])
def test_indicator_matches_pandas(how, broadcast):
    left, right = _frames()
    a, b = gd.from_pandas(left, npartitions=4), gd.from_pandas(right, npartitions=3)
    got = a.merge(b, on="k", how=how, indicator=True, broadcast=broadcast).compute(scheduler="sync")
    _same(got, left.merge(right, on="k", how=how, indicator=True))


@pytest.mark.api("DataFrame.merge")
def test_indicator_named_and_two_keys():
    left, right = _frames(5)
    left["k2"], right["k2"] = left.k % 3, right.k % 2
    a, b = gd.from_pandas(left, npartitions=2), gd.from_pandas(right, npartitions=2)
    got = a.merge(b, left_on=["k", "k2"], right_on=["k", "k2"], how="left", indicator="where")
    want = left.merge(right, on=["k", "k2"], how="left", indicator="where")
    got = got.compute(scheduler="sync").rename(columns={"where": "_merge"})
    _same(got, want.rename(columns={"where": "_merge"}))


def test_left_only_filter_is_not_exists():
    """``_merge == "left_only"`` after a left merge: the rows without a match, through the anti-join rule."""
    left, right = _frames(7)
    a, b = gd.from_pandas(left, npartitions=3), gd.from_pandas(right, npartitions=2)
    for broadcast in (None, False):
        m = a.merge(b, on="k", how="left", indicator=True, broadcast=broadcast)
        got = m[m._merge == "left_only"][["k", "s", "x"]].compute(scheduler="sync")
        want = left[~left.k.isin(right.k)][["k", "s", "x"]]
        pd.testing.assert_frame_equal(got.sort_values(["k", "x"], ignore_index=True),
                                      want.sort_values(["k", "x"], ignore_index=True))


def test_indicator_name_taken_is_an_error():
    left, right = _frames()
    a = gd.from_pandas(left.rename(columns={"s": "_merge"}), npartitions=2)
    with pytest.raises(ValueError, match="column named _merge"):
        a.merge(gd.from_pandas(right, npartitions=1), on="k", indicator=True)
    with pytest.raises(ValueError, match="boolean or string"):
        gd.from_pandas(left, npartitions=1).merge(gd.from_pandas(right, npartitions=1), on="k", indicator=3)
