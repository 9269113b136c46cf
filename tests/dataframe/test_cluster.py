"""The same dataframe code on a real cluster: gf.Client(n_workers=2, threads_per_worker=1)."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import assert_tables_equal, random_table


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def test_groupby_on_cluster(client):
    table = random_table(n=5000, seed=61)
    df = gd.from_arrow(table, npartitions=6)
    got = df[df.x > 0].groupby("k").agg({"x": ["sum", "mean"], "y": "max"}).compute()
    f = table.filter(pc.greater(table["x"], 0))
    exp = f.group_by("k").aggregate([("x", "sum"), ("x", "mean"), ("y", "max")])
    exp = exp.select(["k", "x_sum", "x_mean", "y_max"]).rename_columns(["k", "x_sum", "x_mean", "y"])
    assert_tables_equal(got, exp, keys=["k"])
    shuffled = df.groupby("k2").y.sum(split_out=2).compute()
    assert sorted(shuffled["k2"].to_pylist()) == sorted(pc.unique(table["k2"]).to_pylist())
    assert isinstance(got, pa.Table)


def test_processes_scheduler_runs_every_kind_of_node():
    """Every op pickles: a filter, a groupby shuffle, a shuffle join and a sort on worker processes."""
    table = random_table(n=3000, seed=62)
    df = gd.from_arrow(table, npartitions=4)
    q = df[df.y > 0].groupby("k2").agg({"x": "mean"}, split_out=2)
    j = df.merge(df[["k", "s"]].drop_duplicates(subset=["k"]), on="k", broadcast=False)
    s = df.sort_values("x")
    got_q, got_j, got_s = gf.compute(q, j, s, scheduler="processes")
    assert sorted(got_q["k2"].to_pylist()) == sorted(pc.unique(table["k2"]).to_pylist())
    assert got_j.num_rows == table.num_rows
    assert got_s["x"].to_pylist() == table.sort_by("x")["x"].to_pylist()
