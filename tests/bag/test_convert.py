"""Bag.to_dataframe into graphflow.dataframe, against pandas built from the same records."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.bag as db

from .strategies import npartitions

SYNC = {"scheduler": "sync"}
records_st = st.lists(st.fixed_dictionaries({"a": st.integers(-100, 100), "b": st.sampled_from(["x", "y", "z"]),
                                             "c": st.floats(-1e6, 1e6)}), min_size=1, max_size=30)


@pytest.mark.api("Bag.to_dataframe")
@settings(max_examples=20, deadline=None)
@given(records_st, npartitions)
def test_to_dataframe_of_dicts_and_tuples(records, n):
    b = db.from_sequence(records, npartitions=n)
    expected = pd.DataFrame(records, columns=["a", "b", "c"])
    meta = {"a": "int64", "b": "object", "c": "float64"}
    got = b.to_dataframe(meta=meta).compute(**SYNC)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    assert (str(got.dtypes["a"]), str(got.dtypes["c"])) == ("int64", "float64")
    tuples = b.map(lambda r: (r["a"], r["b"], r["c"]))
    inferred = tuples.to_dataframe(columns=["a", "b", "c"]).compute(**SYNC)  # meta from the first element
    pd.testing.assert_frame_equal(inferred.reset_index(drop=True), expected, check_dtype=False)


def test_to_dataframe_with_a_pandas_meta_and_bad_meta():
    b = db.from_sequence([(1, "x"), (2, "y")], npartitions=2)
    meta = pd.DataFrame({"n": pd.Series([], dtype="int64"), "s": pd.Series([], dtype="object")})
    df = b.to_dataframe(meta=meta)
    assert list(df.columns) == ["n", "s"] and df.npartitions == 2
    assert df.n.sum().compute(**SYNC) == 3
    with pytest.raises(TypeError, match="meta must be"):
        b.to_dataframe(meta=5)
    with pytest.raises(ValueError, match="empty"):
        db.from_sequence([], npartitions=1).to_dataframe()
