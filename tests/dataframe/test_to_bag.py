"""DataFrame.to_bag / Series.to_bag / dd.to_bag against pandas' itertuples, items and to_dict."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.bag as db
import graphflow.dataframe as gd

SYNC = {"scheduler": "sync"}


@st.composite
def frames(draw):
    n = draw(st.integers(1, 30))
    a = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
    b = draw(st.lists(st.sampled_from(["x", "y", "zz"]), min_size=n, max_size=n))
    c = draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))
    return pd.DataFrame({"a": a, "b": b, "c": c}), draw(st.integers(1, 5))


@pytest.mark.api("DataFrame.to_bag", "dd.to_bag")
@settings(max_examples=20, deadline=None)
@given(frames())
def test_frame_to_bag(drawn):
    pdf, n = drawn
    df = gd.from_pandas(pdf, npartitions=n)
    bag = df.to_bag()
    assert isinstance(bag, db.Bag) and bag.npartitions == df.npartitions
    assert bag.compute(**SYNC) == list(pdf.itertuples(index=False, name=None))
    assert df.to_bag(index=True).compute(**SYNC) == list(pdf.itertuples(index=True, name=None))
    assert gd.to_bag(df, format="dict").compute(**SYNC) == pdf.to_dict(orient="records")
    with_index = df.to_bag(index=True, format="dict").compute(**SYNC)
    assert with_index == [{"index": i, **r} for i, r in zip(pdf.index, pdf.to_dict(orient="records"))]


@pytest.mark.api("Series.to_bag")
@settings(max_examples=20, deadline=None)
@given(frames())
def test_series_to_bag(drawn):
    pdf, n = drawn
    s = gd.from_pandas(pdf, npartitions=n).a
    assert s.to_bag().compute(**SYNC) == pdf.a.tolist()
    assert s.to_bag(index=True).compute(**SYNC) == list(pdf.a.items())
    assert s.to_bag(format="dict").compute(**SYNC) == pdf.a.to_frame().to_dict(orient="records")


def test_to_bag_bad_format_and_bag_operations_on_rows():
    df = gd.from_pandas(pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]}), npartitions=2)
    with pytest.raises(ValueError, match="format"):
        df.to_bag(format="frame")
    sums = df.to_bag().foldby(0, lambda acc, row: acc + row[1], 0, lambda x, y: x + y).compute(**SYNC)
    assert sorted(sums) == [("a", 4), ("b", 2)]
    # and back: the round trip keeps the rows
    back = df.to_bag(format="dict").to_dataframe(meta={"k": "object", "v": "int64"}).compute(**SYNC)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), df.compute(**SYNC).reset_index(drop=True))
