"""Reductions, value_counts, unique, describe, quantile against pyarrow and pandas on the whole table."""

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd

from .data import assert_like_pandas, needs_pandas, pd, random_table


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
    assert (df.y > -100).all().compute() is np.False_  # y has nulls, which compare False (pandas)
    assert (df.y.fillna(0) > -100).all().compute() is np.True_


def test_empty_and_all_null():
    df = gd.from_dict({"a": pa.array([None, None], pa.float64())}, npartitions=2)
    assert df.a.sum().compute() == 0
    assert np.isnan(df.a.mean().compute())  # missing is NaN, as pandas gives
    assert np.isnan(df.a.std().compute())
    assert df.a.count().compute() == 0


def test_frame_reductions(df, table):
    pdf = table.to_pandas()
    s = df.sum().compute()
    assert list(s.index) == ["k", "x", "y"]  # numeric only
    pd.testing.assert_series_equal(s, pdf.sum(numeric_only=True))
    num = ["k", "x", "y"]
    assert_like_pandas(df[num].max().compute(), pdf[num].max())
    assert_like_pandas(df[num].min().compute(), pdf[num].min())
    m = df.max().compute()
    assert list(m.index) == table.column_names
    assert m["s"] == pdf.s.max() and m["k2"] == pdf.k2.max()
    pd.testing.assert_series_equal(df.count().compute(), pdf.count())
    pd.testing.assert_series_equal(df.nunique().compute(), pdf.nunique())
    assert df.nunique().compute()["k"] == len(pc.unique(table["k"]))


def test_quantile_is_close(df, table):
    x = table["x"].drop_null().to_numpy()
    for q in (0.1, 0.5, 0.9):
        assert abs(df.x.quantile(q).compute() - np.quantile(x, q)) < 0.02


def test_value_counts_and_unique(df, table):
    vc = df.s.value_counts().compute()
    exp = table.to_pandas().s.value_counts()
    assert vc.name == "count" and vc.index.name == "s"
    assert vc.tolist() == sorted(vc.tolist(), reverse=True)
    # ties may come in any order (as in Dask): compare sorted by (count, value)
    pd.testing.assert_series_equal(vc.sort_index().sort_values(kind="stable"),
                                   exp.sort_index().sort_values(kind="stable"))
    u = df.k2.unique().compute()
    assert sorted(u.tolist()) == sorted(pc.unique(table["k2"]).to_pylist())
    assert u.name == "k2"


def test_describe(df, table):
    d = df.describe().compute()
    exp = table.to_pandas()[["k", "x", "y"]].describe()  # the numeric columns
    assert list(d.index) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"] == list(exp.index)
    assert list(d.columns) == ["k", "x", "y"]
    exact = ["count", "mean", "std", "min", "max"]
    pd.testing.assert_frame_equal(d.loc[exact], exp.loc[exact])
    quartiles = ["25%", "50%", "75%"]  # approximate (see test_quantile_is_close)
    pd.testing.assert_frame_equal(d.loc[quartiles], exp.loc[quartiles], check_exact=False, atol=0.02)
    col = d["x"]
    assert col["count"] == pc.count(table["x"]).as_py()
    assert math.isclose(col["std"], pc.stddev(table["x"], ddof=1).as_py())
    assert col["min"] <= col["25%"] <= col["50%"] <= col["75%"] <= col["max"]


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    assert df.x.std().compute() == pytest.approx(pdf.x.std())
    assert df.y.mean().compute() == pytest.approx(pdf.y.mean())
    assert df.s.nunique().compute() == pdf.s.nunique()
