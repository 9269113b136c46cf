"""groupby: every aggregation against pyarrow's group_by on the whole table; tree and shuffle paths."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import groupby as groupby_module

from .data import assert_tables_equal, needs_pandas, random_table


@pytest.fixture(scope="module")
def table():
    t = random_table(n=4000, seed=11)
    return t.set_column(0, "k", pc.if_else(pc.equal(t["k"], 3), pa.scalar(None, pa.int64()), t["k"]))


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=10)


def expected(table, keys, aggs):
    """pyarrow group_by on the whole table, null keys dropped, our column names."""
    valid = table
    for k in keys:
        valid = valid.filter(pc.is_valid(valid[k]))
    specs = [(c, {"size": "count_all", "nunique": "count_distinct", "std": "stddev", "var": "variance"}.get(f, f),
              pc.VarianceOptions(ddof=1) if f in ("std", "var") else None) for c, f, _ in aggs]
    specs = [([], "count_all") if f == "count_all" else (c, f, o) if o else (c, f) for c, f, o in specs]
    out = valid.group_by(keys, use_threads=False).aggregate(specs)
    return out.select(keys + [n for n in out.column_names if n not in keys]).rename_columns(
        keys + [n for _, _, n in aggs])


AGGS = ["sum", "mean", "count", "min", "max", "std", "var", "first", "last", "nunique"]


@pytest.mark.parametrize("split_out", [1, 3])
def test_every_aggregation(df, table, split_out):
    spec = {"x": AGGS, "y": ["sum", "min", "nunique"], "s": ["min", "count", "nunique"]}
    got = df.groupby("k").agg(spec, split_out=split_out)
    assert got.npartitions == split_out
    aggs = [(c, f, f"{c}_{f}") for c, fs in spec.items() for f in fs]
    assert_tables_equal(got.compute(), expected(table, ["k"], aggs), keys=["k"])


def test_tree_result_is_sorted(df):
    out = df.groupby("k").x.sum().compute()
    assert out["k"].to_pylist() == sorted(out["k"].to_pylist())
    assert out.column_names == ["k", "x"]


def test_multiple_keys_and_methods(df, table):
    got = df.groupby(["k2", "k"]).y.mean().compute()
    assert_tables_equal(got, expected(table, ["k2", "k"], [("y", "mean", "y")]), keys=["k2", "k"])
    size = df.groupby("k2").size().compute()
    assert_tables_equal(size, expected(table, ["k2"], [("k2", "size", "size")]), keys=["k2"])
    both = df.groupby("k")[["x", "y"]].max().compute()
    assert both.column_names == ["k", "x", "y"]


def test_named_aggregation(df, table):
    got = df.groupby("k").agg(total=("x", "sum"), n=("y", "count")).compute()
    assert_tables_equal(got, expected(table, ["k"], [("x", "sum", "total"), ("y", "count", "n")]), keys=["k"])


def test_issue_example(df, table):
    q = df[df.x > 0].assign(rate=df.y / df.x)
    got = q.groupby("k2").agg({"rate": ["mean", "max"], "x": "sum"}).compute()
    f = table.filter(pc.greater(table["x"], 0))
    f = f.append_column("rate", pc.divide(f["y"].cast(pa.float64()), f["x"]))
    exp = expected(f, ["k2"], [("rate", "mean", "rate_mean"), ("rate", "max", "rate_max"), ("x", "sum", "x")])
    assert_tables_equal(got, exp, keys=["k2"])


def test_auto_strategy(monkeypatch, table):
    df = gd.from_arrow(table, npartitions=4)
    assert df.groupby("k").x.sum().npartitions == 1  # 16 groups: tree
    monkeypatch.setattr(groupby_module, "SHUFFLE_GROUPS", 5)
    many = df.groupby("k").x.sum()
    assert many.npartitions == 2  # more groups than the threshold in partition 0: shuffle
    assert_tables_equal(many.compute(), expected(table, ["k"], [("x", "sum", "x")]), keys=["k"])
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
    with pytest.raises(ValueError, match="unknown aggregation"):
        df.groupby("k").agg({"x": "median_of_medians"})


def test_drop_duplicates(df, table):
    got = df[["k", "k2"]].drop_duplicates().compute()
    exp = table.select(["k", "k2"]).group_by(["k", "k2"]).aggregate([])
    assert_tables_equal(got, exp.select(["k", "k2"]), keys=["k", "k2"])
    sub = df.drop_duplicates(subset=["k2"], split_out=2).compute()
    assert sorted(sub["k2"].to_pylist()) == sorted(pc.unique(table["k2"]).to_pylist())


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    got = df.groupby("k2").agg({"x": "std", "y": "sum"}).to_pandas().set_index("k2")
    exp = pdf.groupby("k2").agg({"x": "std", "y": "sum"})
    assert got.x.to_dict() == pytest.approx(exp.x.to_dict())
    assert got.y.to_dict() == exp.y.astype(int).to_dict()


def test_null_keys_kept_with_dropna_false(table):
    df = gd.from_arrow(table, npartitions=3)
    got = df.groupby("k", dropna=False).y.count().compute()
    assert None in got["k"].to_pylist()
    exp = table.group_by("k").aggregate([("y", "count")])
    assert dict(zip(got["k"].to_pylist(), got["y"].to_pylist())) == dict(
        zip(exp["k"].to_pylist(), exp["y_count"].to_pylist()))
    assert None not in df.groupby("k").y.count().compute()["k"].to_pylist()


def test_variance_is_stable_for_large_means():
    """Values near 1e9 with a spread near 1: merging (n, mean, M2) keeps the digits sums of squares lose."""
    import numpy as np

    rng = np.random.default_rng(3)
    n = 20_000
    t = pa.table({"k": rng.integers(0, 5, n), "x": 1e9 + rng.standard_normal(n)})
    for split_out in (1, 2):
        got = gd.from_arrow(t, npartitions=7).groupby("k").agg({"x": ["var", "std"]}, split_out=split_out)
        got = got.compute().sort_by("k")
        keys = np.asarray(t["k"])
        for row, k in enumerate(got["k"].to_pylist()):
            vals = np.asarray(t["x"])[keys == k]
            assert got["x_var"][row].as_py() == pytest.approx(np.var(vals, ddof=1), rel=1e-9)
            assert got["x_std"][row].as_py() == pytest.approx(np.std(vals, ddof=1), rel=1e-9)
    whole = gd.from_arrow(t, npartitions=7)
    assert whole.x.var().compute() == pytest.approx(pc.variance(t["x"], ddof=1).as_py(), rel=1e-9)
    assert whole.x.std().compute() == pytest.approx(np.std(np.asarray(t["x"]), ddof=1), rel=1e-9)


def test_variance_of_null_key_group_and_single_rows():
    t = pa.table({"k": [1, None, None, 2, 1], "x": [1.0, 2.0, 4.0, 5.0, None]})
    got = gd.from_arrow(t, npartitions=3).groupby("k", dropna=False).x.var().compute()
    assert dict(zip(got["k"].to_pylist(), got["x"].to_pylist())) == {1: None, 2: None, None: 2.0}
