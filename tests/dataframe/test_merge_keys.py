"""graphflow/dataframe/merge_keys.py: merging a float key against an int key (or ints of two widths) matches
them as numbers, as pandas does, with pandas' key dtypes in the result, on broadcast and shuffle joins."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


def _sorted(pdf):
    return pdf.sort_values(list(pdf.columns), ignore_index=True)


def _pandas_merge(a, b, **kwargs):
    with warnings.catch_warnings():  # pandas warns when a float key has values that are not ints
        warnings.simplefilter("ignore", UserWarning)
        return a.merge(b, **kwargs)


def _frames(seed, left_type, right_type):
    rng = np.random.default_rng(seed)
    left = pd.DataFrame({"k": rng.integers(0, 12, 40).astype(left_type), "x": rng.random(40)})
    right = pd.DataFrame({"k": rng.integers(0, 12, 9).astype(right_type), "y": rng.integers(0, 99, 9)})
    if np.dtype(right_type).kind == "f":
        right.loc[0, "k"] = 2.5  # a float key no int equals: matches nothing
    return left, right


@pytest.mark.api("DataFrame.merge", "merge")
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("types", [("int64", "float64"), ("float64", "int64"), ("int32", "int64"),
                                   ("float32", "int64")])
@pytest.mark.parametrize("broadcast", [True, False])
def test_number_keys_of_two_types_match_as_pandas(how, types, broadcast):
    left, right = _frames(1, *types)
    want = _pandas_merge(left, right, on="k", how=how)
    if broadcast and how == "outer":
        broadcast = None  # an outer join cannot broadcast: the default
    got = gd.from_pandas(left, npartitions=3).merge(gd.from_pandas(right, npartitions=2), on="k", how=how,
                                                    broadcast=broadcast).compute(scheduler="sync")
    assert got.k.dtype == want.k.dtype
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want))


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_left_on_right_on_keep_each_sides_key_dtype(how):
    left, right = _frames(2, "float64", "int64")
    right = right.rename(columns={"k": "j"})
    want = _pandas_merge(left, right, left_on="k", right_on="j", how=how)
    got = gd.from_pandas(left, npartitions=2).merge(right, left_on="k", right_on="j", how=how).compute(
        scheduler="sync")
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want))


def test_keys_that_are_not_numbers_still_raise():
    left = gd.from_pandas(pd.DataFrame({"k": [1.0, 2.0]}), npartitions=1)
    with pytest.raises(TypeError, match="cannot merge on"):
        left.merge(pd.DataFrame({"k": ["a", "b"]}), on="k")
