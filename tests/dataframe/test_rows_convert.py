"""drop_duplicates/sample/random_split (rows.py), conversions and bookkeeping (convert.py), concat and
merge_asof (combine.py), against pandas on the same data."""

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

from .data import same

SYNC = {"scheduler": "sync"}


def data(n=60, seed=0, nparts=4):
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 6, n), "s": rng.choice(["x", "y", "z"], n)})
    pdf.loc[rng.random(n) < 0.1, "a"] = np.nan
    return pdf, gd.from_pandas(pdf, npartitions=nparts)


@pytest.mark.api("DataFrame.drop_duplicates", "Series.drop_duplicates")
@settings(max_examples=20, deadline=None)
@given(nparts=st.integers(1, 9), keep=st.sampled_from(["first", "last", False]),
       subset=st.sampled_from([None, ["b"], ["b", "s"], "s"]), split_out=st.sampled_from([None, 1]))
def test_drop_duplicates_matches_pandas(nparts, keep, subset, split_out):
    pdf, df = data(nparts=nparts)
    pdf["a"] = pdf["a"].round(0)
    df = gd.from_pandas(pdf, npartitions=nparts)
    same(df.drop_duplicates(subset=subset, keep=keep, split_out=split_out),
         pdf.drop_duplicates(subset=subset, keep=keep))
    same(df.b.drop_duplicates(keep=keep), pdf.b.drop_duplicates(keep=keep))


def test_drop_duplicates_split_out_keeps_the_same_rows():
    pdf, df = data()
    got = df.drop_duplicates(subset=["b", "s"], split_out=3).compute(**SYNC).sort_index()
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(subset=["b", "s"]).sort_index())
    with pytest.raises(ValueError, match="keep"):
        df.drop_duplicates(keep="middle")
    with pytest.raises(KeyError):
        df.drop_duplicates(subset=["nope"])


@pytest.mark.api("DataFrame.sample", "Series.sample", "DataFrame.random_split", "Series.random_split")
def test_sample_and_random_split_partition_the_rows():
    pdf, df = data(n=400)
    got = df.sample(frac=0.25, random_state=3).compute(**SYNC)
    assert set(got.index) <= set(pdf.index) and 50 < len(got) < 150
    pd.testing.assert_frame_equal(got, pdf.loc[got.index])  # rows come back whole
    again = df.sample(frac=0.25, random_state=3).compute(**SYNC)
    pd.testing.assert_frame_equal(got, again)  # a seed gives the same draw
    pieces = [p.compute(**SYNC) for p in df.random_split([0.6, 0.4], random_state=7)]
    joined = pd.concat(pieces).sort_index()
    pd.testing.assert_frame_equal(joined, pdf)  # every row in exactly one piece
    assert 180 < len(pieces[0]) < 300
    assert len(df.b.sample(frac=0.5, random_state=1).compute(**SYNC)) > 0
    with pytest.raises(ValueError, match="frac"):
        df.sample(n=3)


@pytest.mark.api("DataFrame.to_delayed", "Series.to_delayed")
def test_to_delayed_gives_each_partition_as_pandas():
    pdf, df = data(nparts=3)
    parts = df.to_delayed()
    assert len(parts) == 3
    pd.testing.assert_frame_equal(pd.concat([p.compute(**SYNC) for p in parts]), pdf)
    back = gd.from_delayed(parts, meta=pdf.iloc[:0])
    same(back, pdf)
    pd.testing.assert_series_equal(pd.concat([p.compute(**SYNC) for p in df.a.to_delayed()]), pdf.a)


@pytest.mark.api("dd.from_array")
def test_from_array_matches_pandas():
    arr = np.arange(20.0).reshape(10, 2)
    same(gd.from_array(arr, chunksize=3, columns=["p", "q"]), pd.DataFrame(arr, columns=["p", "q"]))
    same(gd.from_array(np.arange(7), chunksize=2), pd.Series(np.arange(7)))
    rec = np.array([(1, 2.0), (3, 4.0)], dtype=[("i", "i8"), ("f", "f8")])
    same(gd.from_array(rec), pd.DataFrame(rec))
    assert gd.from_array(arr, chunksize=3).known_divisions if hasattr(gd.DataFrame, "known_divisions") else True
    with pytest.raises(ValueError, match="1-d or 2-d"):
        gd.from_array(np.zeros((2, 2, 2)))


@pytest.mark.api("dd.from_map")
def test_from_map_builds_one_partition_per_item():
    def make(i, scale):
        return pd.DataFrame({"i": [i] * 3, "v": np.arange(3) * scale})

    df = gd.from_map(make, [1, 2, 3], args=(10,))
    assert df.npartitions == 3
    pd.testing.assert_frame_equal(df.compute(**SYNC).reset_index(drop=True),
                                  pd.concat([make(i, 10) for i in [1, 2, 3]]).reset_index(drop=True))


@pytest.mark.api("DataFrame.memory_usage", "Series.memory_usage", "DataFrame.memory_usage_per_partition",
                 "Series.memory_usage_per_partition", "Series.nbytes")
def test_memory_usage_sums_the_partitions():
    pdf, df = data(nparts=3)
    num = ["a", "b"]
    same(df[num].memory_usage(index=False), pdf[num].memory_usage(index=False))
    assert df.a.memory_usage(index=False).compute(**SYNC) == pdf.a.memory_usage(index=False)
    assert df.a.nbytes.compute(**SYNC) == pdf.a.nbytes
    per = df[num].memory_usage_per_partition(index=False).compute(**SYNC)
    assert per.sum() == pdf[num].memory_usage(index=False).sum() and len(per) == 3


@pytest.mark.api("DataFrame.prod", "DataFrame.product", "Series.prod", "Series.product", "Series.dot")
def test_products_match_pandas():
    pdf, df = data()
    small = pdf.assign(b=pdf.b % 3 + 1)
    sdf = gd.from_pandas(small, npartitions=4)
    assert sdf.b.prod().compute(**SYNC) == small.b.prod()
    assert sdf.b.product().compute(**SYNC) == small.b.product()
    same(sdf[["b"]].prod(), small[["b"]].prod())
    assert df.a.dot(df.b).compute(**SYNC) == pytest.approx(pdf.a.fillna(0).dot(pdf.b))


@pytest.mark.api("DataFrame.reduction", "Series.reduction")
def test_generic_reduction_matches_pandas():
    pdf, df = data()
    got = df.reduction(lambda p: p.b.value_counts(), lambda s: s.groupby(level=0).sum()).compute(**SYNC)
    pd.testing.assert_series_equal(got.sort_index(), pdf.b.value_counts().sort_index())
    assert df.a.reduction(lambda s: s.count(), lambda s: s.sum()).compute(**SYNC) == pdf.a.count()


@pytest.mark.api("Series.is_monotonic_increasing", "Series.is_monotonic_decreasing")
@pytest.mark.parametrize("values", [[1, 2, 2, 5, 9, 9], [1, 3, 2, 4, 5, 6], [6, 5, 5, 2, 1, 0], [3, 3, 3, 3, 3, 3]])
def test_monotonic_checks_look_across_partitions(values):
    s = pd.Series(values)
    g = gd.from_pandas(s, npartitions=3)
    assert g.is_monotonic_increasing.compute(**SYNC) == s.is_monotonic_increasing
    assert g.is_monotonic_decreasing.compute(**SYNC) == s.is_monotonic_decreasing


@pytest.mark.api("DataFrame.info", "DataFrame.to_string", "Series.to_string", "DataFrame.to_html", "DataFrame.items",
                 "DataFrame.iterrows", "DataFrame.itertuples", "DataFrame.axes", "DataFrame.squeeze",
                 "DataFrame.isin", "DataFrame.combine_first", "DataFrame.from_dict", "DataFrame.shuffle")
def test_bookkeeping_methods():
    pdf, df = data(nparts=3)
    buf = io.StringIO()
    df.info(buf=buf)
    text = buf.getvalue()
    assert f"Index: {len(pdf)} entries" in text and f"{pdf.a.count()} non-null" in text
    assert "npartitions=3" in df.to_string() and "npartitions=3" in df.a.to_string() and "<table" in df.to_html()
    assert [label for label, _ in df.items()] == list(pdf.columns)
    rows = list(df.iterrows())
    assert [i for i, _ in rows] == list(pdf.index)
    assert list(df.fillna(0).itertuples()) == list(pdf.fillna(0).itertuples())
    assert list(df.axes[1]) == list(pdf.columns)
    same(df[["a"]].squeeze(), pdf[["a"]].squeeze())
    same(df.isin({"b": [1, 2], "s": ["x"]}), pdf.isin({"b": [1, 2], "s": ["x"]}))
    filled = df[["a", "b"]]
    # fillna(0.5) widens the integer column b to float whether or not it has gaps (a schema cannot depend on the
    # data), where pandas keeps int64 for a column without NaN: the values agree, the dtype differs
    same(filled.combine_first(filled.fillna(0.5)), pdf[["a", "b"]].combine_first(pdf[["a", "b"]].fillna(0.5)),
         check_dtype=False)
    same(gd.DataFrame.from_dict({"x": [1, 2, 3]}, npartitions=2), pd.DataFrame.from_dict({"x": [1, 2, 3]}))
    shuffled = df.shuffle(on="b", npartitions=2).compute(**SYNC)
    pd.testing.assert_frame_equal(shuffled.sort_index(), pdf)


@pytest.mark.api("dd.concat")
@settings(max_examples=10, deadline=None)
@given(nparts=st.integers(1, 5), join=st.sampled_from(["outer", "inner"]))
def test_concat_both_axes_match_pandas(nparts, join):
    pdf, df = data(nparts=nparts)
    other = pdf[["a", "s"]].assign(c=1.5)
    odf = gd.from_pandas(other, npartitions=2)
    same(gd.concat([df, odf], join=join), pd.concat([pdf, other], join=join), check_dtype=False)
    same(gd.concat([df, odf], ignore_index=True), pd.concat([pdf, other], ignore_index=True), check_dtype=False)
    same(gd.concat([df.a, df.b]), pd.concat([pdf.a, pdf.b]), check_dtype=False)
    right = pdf[["b"]].rename(columns={"b": "b2"})
    same(gd.concat([df[["a"]], gd.from_pandas(right, npartitions=nparts)], axis=1),
         pd.concat([pdf[["a"]], right], axis=1))
    with pytest.raises(ValueError, match="repartition"):
        gd.concat([df, gd.from_pandas(right, npartitions=nparts + 1)], axis=1, ignore_unknown_divisions=True)


@pytest.mark.api("dd.merge_asof")
@pytest.mark.parametrize("direction", ["backward", "forward", "nearest"])
def test_merge_asof_matches_pandas(direction):
    rng = np.random.default_rng(1)
    left = pd.DataFrame({"t": np.sort(rng.integers(0, 1000, 50)), "g": rng.choice(["a", "b"], 50),
                         "v": rng.normal(size=50)})
    right = pd.DataFrame({"t": np.sort(rng.integers(0, 1000, 20)), "g": rng.choice(["a", "b"], 20),
                          "w": rng.normal(size=20)})
    want = pd.merge_asof(left, right, on="t", by="g", direction=direction, tolerance=50)
    got = gd.merge_asof(gd.from_pandas(left, npartitions=4), gd.from_pandas(right, npartitions=3), on="t", by="g",
                        direction=direction, tolerance=50).compute(**SYNC)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


@pytest.mark.api("dd.compute", "dd.isna", "dd.map_partitions", "dd.merge", "dd.assert_eq", "dd.to_timedelta",
                 "dd.get_collection_type")
def test_module_level_names():
    pdf, df = data()
    a, b = gd.compute(df.a.sum(), df.b.max(), scheduler="sync")
    assert a == pytest.approx(pdf.a.sum()) and b == pdf.b.max()
    same(gd.isna(df), pd.isna(pdf))
    assert gd.isna(None) is True
    same(gd.map_partitions(lambda p: p.b * 2, df), pdf.b * 2)
    right = pd.DataFrame({"b": [0, 1, 2], "name": ["zero", "one", "two"]})
    got = gd.merge(df, right, on="b").compute(**SYNC)
    want = pd.merge(pdf, right, on="b")
    pd.testing.assert_frame_equal(got.sort_values(["a", "b", "s"]).reset_index(drop=True),
                                  want.sort_values(["a", "b", "s"]).reset_index(drop=True))
    assert gd.assert_eq(df, pdf)
    with pytest.raises(AssertionError):
        gd.assert_eq(df, pdf.assign(b=pdf.b + 1))
    secs = gd.from_pandas(pd.Series([1, 2, 3]), npartitions=2)
    same(gd.to_timedelta(secs, unit="s"), pd.to_timedelta(pd.Series([1, 2, 3]), unit="s"))
    assert gd.get_collection_type(pdf) is gd.DataFrame and gd.get_collection_type(pdf.a) is gd.Series
