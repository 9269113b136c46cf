"""groupby: every aggregation against pandas' groupby on the whole table; tree and shuffle paths."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import groupby as groupby_module

from .data import assert_like_pandas, needs_pandas, pd, random_table


@pytest.fixture(scope="module")
def table():
    t = random_table(n=4000, seed=11)
    return t.set_column(0, "k", pc.if_else(pc.equal(t["k"], 3), pa.scalar(None, pa.int64()), t["k"]))


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=10)


AGGS = ["sum", "mean", "count", "min", "max", "std", "var", "first", "last", "nunique"]


@pytest.mark.parametrize("split_out", [1, 3])
def test_every_aggregation(df, table, split_out):
    spec = {"x": AGGS, "y": ["sum", "min", "nunique"], "s": ["min", "count", "nunique"]}
    got = df.groupby("k").agg(spec, split_out=split_out)
    assert got.npartitions == split_out
    assert_like_pandas(got.compute(), table.to_pandas().groupby("k").agg(spec), sort=True)


def test_tree_result_is_sorted(df, table):
    out = df.groupby("k").x.sum().compute()
    assert out.index.is_monotonic_increasing and out.index.name == "k" and out.name == "x"
    assert_like_pandas(out, table.to_pandas().groupby("k").x.sum())


def test_multiple_keys_and_methods(df, table):
    pdf = table.to_pandas()
    got = df.groupby(["k2", "k"]).y.mean().compute()
    assert_like_pandas(got, pdf.groupby(["k2", "k"]).y.mean(), sort=True)
    size = df.groupby("k2").size().compute()
    assert_like_pandas(size, pdf.groupby("k2").size(), sort=True)
    both = df.groupby("k")[["x", "y"]].max().compute()
    assert list(both.columns) == ["x", "y"]
    assert_like_pandas(both, pdf.groupby("k")[["x", "y"]].max(), sort=True)


def test_named_aggregation(df, table):
    got = df.groupby("k").agg(total=("x", "sum"), n=("y", "count")).compute()
    assert_like_pandas(got, table.to_pandas().groupby("k").agg(total=("x", "sum"), n=("y", "count")), sort=True)


def test_issue_example(df, table):
    q = df[df.x > 0].assign(rate=df.y / df.x)
    got = q.groupby("k2").agg({"rate": ["mean", "max"], "x": "sum"}).compute()
    pdf = table.to_pandas()
    pq = pdf[pdf.x > 0].assign(rate=pdf.y / pdf.x)
    assert_like_pandas(got, pq.groupby("k2").agg({"rate": ["mean", "max"], "x": "sum"}), sort=True)


def test_auto_strategy(monkeypatch, table):
    df = gd.from_arrow(table, npartitions=4)
    assert df.groupby("k").x.sum().npartitions == 1  # 16 groups: tree
    monkeypatch.setattr(groupby_module, "SHUFFLE_GROUPS", 5)
    many = df.groupby("k").x.sum()
    assert many.npartitions == 2  # more groups than the threshold in partition 0: shuffle
    assert_like_pandas(many.compute(), table.to_pandas().groupby("k").x.sum(), sort=True)
    assert "shuffle" in many.explain(file=open("/dev/null", "w"))
    calls = []
    real = groupby_module._sample_choice
    monkeypatch.setattr(groupby_module, "_sample_choice", lambda node: calls.append(1) or real(node))
    assert df.groupby("k").x.sum().npartitions == 2 and calls == []  # same query, same data: sampled once
    assert df.groupby("k").y.sum().npartitions == 2 and calls == [1]


def test_bad_input(df):
    with pytest.raises(KeyError, match="groupby key 'zz'"):
        df.groupby("zz")
    with pytest.raises(KeyError, match="'qq'"):
        df.groupby("k").agg({"qq": "sum"})
    with pytest.raises(AttributeError, match="median_of_medians"):  # pandas' error, before anything runs
        df.groupby("k").agg({"x": "median_of_medians"})


def test_drop_duplicates(df, table):
    pdf = table.to_pandas()
    got = df[["k", "k2"]].drop_duplicates().compute()
    exp = pdf[["k", "k2"]].drop_duplicates()
    order = ["k", "k2"]
    assert_like_pandas(got.sort_values(order, ignore_index=True), exp.sort_values(order, ignore_index=True))
    sub = df.drop_duplicates(subset=["k2"], split_out=2).compute()
    assert sorted(sub["k2"].tolist()) == sorted(pdf.k2.unique().tolist())
    assert len(sub) == pdf.k2.nunique()


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    got = df.groupby("k2").agg({"x": "std", "y": "sum"}).compute()
    assert_like_pandas(got, pdf.groupby("k2").agg({"x": "std", "y": "sum"}))


def test_null_keys_kept_with_dropna_false(table):
    df = gd.from_arrow(table, npartitions=3)
    pdf = table.to_pandas()
    got = df.groupby("k", dropna=False).y.count().compute()
    assert got.index.isna().sum() == 1
    assert_like_pandas(got, pdf.groupby("k", dropna=False).y.count(), sort=True)
    assert not df.groupby("k").y.count().compute().index.isna().any()


def test_variance_is_stable_for_large_means():
    """Values near 1e9 with a spread near 1: merging (n, mean, M2) keeps the digits sums of squares lose."""
    import numpy as np

    rng = np.random.default_rng(3)
    n = 20_000
    t = pa.table({"k": rng.integers(0, 5, n), "x": 1e9 + rng.standard_normal(n)})
    for split_out in (1, 2):
        got = gd.from_arrow(t, npartitions=7).groupby("k").agg({"x": ["var", "std"]}, split_out=split_out)
        got = got.compute().sort_index()
        keys = np.asarray(t["k"])
        for k in got.index:
            vals = np.asarray(t["x"])[keys == k]
            assert got.loc[k, ("x", "var")] == pytest.approx(np.var(vals, ddof=1), rel=1e-9)
            assert got.loc[k, ("x", "std")] == pytest.approx(np.std(vals, ddof=1), rel=1e-9)
    whole = gd.from_arrow(t, npartitions=7)
    assert whole.x.var().compute() == pytest.approx(pc.variance(t["x"], ddof=1).as_py(), rel=1e-9)
    assert whole.x.std().compute() == pytest.approx(np.std(np.asarray(t["x"]), ddof=1), rel=1e-9)


def test_variance_of_null_key_group_and_single_rows():
    t = pa.table({"k": [1, None, None, 2, 1], "x": [1.0, 2.0, 4.0, 5.0, None]})
    got = gd.from_arrow(t, npartitions=3).groupby("k", dropna=False).x.var().compute()
    assert_like_pandas(got, t.to_pandas().groupby("k", dropna=False).x.var(), sort=True)
    assert got.isna().tolist() == [True, True, False] and got.iloc[-1] == 2.0


@pytest.mark.parametrize("split_out", [None, 2])
def test_drop_duplicates_keeps_the_kept_rows_index(split_out):
    import numpy as np

    pdf = pd.DataFrame({"a": np.arange(40) % 7, "b": np.arange(40) * 1.5},
                       index=pd.Index(np.arange(40) * 3, name="i"))
    df = gd.from_pandas(pdf, npartitions=3)
    got = df.drop_duplicates(subset=["a"], split_out=split_out).compute().sort_values("a")
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(subset=["a"]))
    got = df[["a"]].drop_duplicates(split_out=split_out).compute().sort_values("a")
    pd.testing.assert_frame_equal(got, pdf[["a"]].drop_duplicates())
