"""The same dataframe code on a real cluster: gf.Client(n_workers=2, threads_per_worker=1)."""

import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import assert_like_pandas, pd, random_table


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def test_groupby_on_cluster(client):
    table = random_table(n=5000, seed=61)
    df = gd.from_arrow(table, npartitions=6)
    got = df[df.x > 0].groupby("k").agg({"x": ["sum", "mean"], "y": "max"}).compute()
    pdf = table.to_pandas()
    assert_like_pandas(got, pdf[pdf.x > 0].groupby("k").agg({"x": ["sum", "mean"], "y": "max"}))
    shuffled = df.groupby("k2").y.sum(split_out=2).compute()
    assert_like_pandas(shuffled, pdf.groupby("k2").y.sum(), sort=True)
    assert isinstance(got, pd.DataFrame)


def test_processes_scheduler_runs_every_kind_of_node():
    """Every op pickles: a filter, a groupby shuffle, a shuffle join and a sort on worker processes."""
    table = random_table(n=3000, seed=62)
    df = gd.from_arrow(table, npartitions=4)
    q = df[df.y > 0].groupby("k2").agg({"x": "mean"}, split_out=2)
    j = df.merge(df[["k", "s"]].drop_duplicates(subset=["k"]), on="k", broadcast=False)
    s = df.sort_values("x")
    got_q, got_j, got_s = gf.compute(q, j, s, scheduler="processes")
    pdf = table.to_pandas()
    assert_like_pandas(got_q, pdf[pdf.y > 0].groupby("k2").agg({"x": "mean"}), sort=True)
    assert len(got_j) == table.num_rows
    pd.testing.assert_series_equal(got_s.x, pdf.x.sort_values(ignore_index=True))
