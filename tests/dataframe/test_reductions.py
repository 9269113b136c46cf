"""Reductions, value_counts, unique, describe, quantile against pyarrow on the whole table."""

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd

from .data import needs_pandas, random_table


@pytest.fixture(scope="module")
def table():
    return random_table(n=3000, seed=7)


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=11)  # > 8: the tree has two levels


def test_series_reductions(df, table):
    x, y = table["x"], table["y"]
    assert df.x.sum().compute() == pytest.approx(pc.sum(x).as_py())
    assert df.y.sum().compute() == pc.sum(y).as_py()
    assert df.x.mean().compute() == pytest.approx(pc.mean(x).as_py())
    assert df.y.min().compute() == pc.min(y).as_py() and df.y.max().compute() == pc.max(y).as_py()
    assert df.s.min().compute() == pc.min(table["s"]).as_py()
    assert df.t.max().compute() == pc.max(table["t"]).as_py()
    assert df.x.count().compute() == pc.count(x).as_py()
    assert df.x.std().compute() == pytest.approx(pc.stddev(x, ddof=1).as_py())
    assert df.y.var(ddof=0).compute() == pytest.approx(pc.variance(y, ddof=0).as_py())
    assert df.s.nunique().compute() == len(pc.unique(table["s"]).drop_null())
    assert (df.x > 0).any().compute() is np.True_  # numpy scalars, as pandas' reductions give
    assert (df.y > 100).any().compute() is np.False_
    assert (df.y > -100).all().compute() is np.True_


def test_empty_and_all_null():
    df = gd.from_dict({"a": pa.array([None, None], pa.float64())}, npartitions=2)
    assert df.a.sum().compute() == 0
    assert np.isnan(df.a.mean().compute())  # missing is NaN, as pandas gives
    assert np.isnan(df.a.std().compute())
    assert df.a.count().compute() == 0


def test_frame_reductions(df, table):
    s = df.sum().compute()
    assert s.column_names == ["k", "x", "y"]  # numeric only
    assert s["y"][0].as_py() == pc.sum(table["y"]).as_py()
    m = df.max().compute()
    assert m.column_names == table.column_names
    assert m["s"][0].as_py() == pc.max(table["s"]).as_py()
    n = df.count().compute()
    assert [n[c][0].as_py() for c in n.column_names] == [pc.count(table[c]).as_py() for c in table.column_names]
    assert df.nunique().compute()["k"][0].as_py() == len(pc.unique(table["k"]))


def test_quantile_is_close(df, table):
    x = table["x"].drop_null().to_numpy()
    for q in (0.1, 0.5, 0.9):
        assert abs(df.x.quantile(q).compute() - np.quantile(x, q)) < 0.02


def test_value_counts_and_unique(df, table):
    vc = df.s.value_counts().compute()
    expect = pc.value_counts(table["s"].drop_null())
    assert dict(zip(vc["s"].to_pylist(), vc["count"].to_pylist())) == {
        d["values"]: d["counts"] for d in expect.to_pylist()}
    assert vc["count"].to_pylist() == sorted(vc["count"].to_pylist(), reverse=True)
    u = df.k2.unique().compute()
    assert sorted(u.to_pylist()) == sorted(pc.unique(table["k2"]).to_pylist())


def test_describe(df, table):
    d = df.describe().compute()
    assert d["statistic"].to_pylist() == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    assert d.column_names == ["statistic", "k", "x", "y"]
    col = dict(zip(d["statistic"].to_pylist(), d["x"].to_pylist()))
    assert col["count"] == pc.count(table["x"]).as_py()
    assert math.isclose(col["std"], pc.stddev(table["x"], ddof=1).as_py())
    assert col["min"] <= col["25%"] <= col["50%"] <= col["75%"] <= col["max"]


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    assert df.x.std().compute() == pytest.approx(pdf.x.std())
    assert df.y.mean().compute() == pytest.approx(pdf.y.mean())
    assert df.s.nunique().compute() == pdf.s.nunique()
