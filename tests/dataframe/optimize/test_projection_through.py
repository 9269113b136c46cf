"""Projection pushdown through merges, shuffles, broadcast sides and groupbys (the ``column_needs`` protocol
of graphflow/dataframe/optimize/projection.py): the Parquet reads below a merge read only the columns used
above it, and the answers stay pandas'.

    read(a: k, x, y, s)   read(b: k, v, w, s)        a query using x and v reads
            \\               /                        a: k, x, (s)   b: k, v, (s)
          merge on k (shuffle or broadcast)           (s is on both sides: kept on both, so the
                    |                                  suffixed names s_x / s_y do not change)
            [["x", "v", ...]]
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.io.parquet import ReadParquet
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.plan import Blockwise, walk


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("through")
    a = pd.DataFrame({"k": rng.integers(0, 50, 400), "x": rng.normal(size=400), "y": rng.normal(size=400),
                      "s": rng.choice(["p", "q", None], 400)})
    b = pd.DataFrame({"k": np.arange(60), "v": rng.normal(size=60), "w": rng.integers(0, 5, 60),
                      "s": rng.choice(["p", "r"], 60)})
    for name, frame in (("a", a), ("b", b)):
        (d / name).mkdir()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), d / name / "part.parquet",
                       row_group_size=100)
    return {"a": str(d / "a"), "b": str(d / "b")}, a, b


def _read_columns(plan):
    """{first column of the file's schema: the columns read} for every Parquet read in the plan."""
    return sorted(tuple(n.schema.names) for n in walk(plan) if isinstance(n, ReadParquet))


def _check(got, want):
    key = list(want.columns)
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  want.sort_values(key).reset_index(drop=True), check_dtype=False)


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("broadcast", [True, False])
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_merge_reads_only_used_columns(paths, how, broadcast):
    (pa_, pb), a, b = paths[0].values(), paths[1], paths[2]
    if broadcast and how == "outer":
        broadcast = None  # an outer join cannot broadcast
    q = gd.read_parquet(pa_).merge(gd.read_parquet(pb), on="k", how=how, broadcast=broadcast)[["x", "v"]]
    assert _read_columns(optimize_plan(q.expr)) == [("k", "v"), ("k", "x")]
    _check(q.compute(scheduler="sync"), a.merge(b, on="k", how=how)[["x", "v"]])


@pytest.mark.api("DataFrame.merge")
def test_a_name_on_both_sides_keeps_its_suffixes(paths):
    (pa_, pb), a, b = paths[0].values(), paths[1], paths[2]
    q = gd.read_parquet(pa_).merge(gd.read_parquet(pb), left_on="k", right_on="w")[["s_x", "v"]]
    assert _read_columns(optimize_plan(q.expr)) == [("k", "s"), ("v", "w", "s")]
    _check(q.compute(scheduler="sync"), a.merge(b, left_on="k", right_on="w")[["s_x", "v"]])


@pytest.mark.api("DataFrame.merge", "DataFrameGroupBy.sum")
def test_chain_of_merges_then_groupby(paths):
    (pa_, pb), a, b = paths[0].values(), paths[1], paths[2]
    ga, gb = gd.read_parquet(pa_), gd.read_parquet(pb)
    j = ga.merge(gb, on="k", broadcast=False).merge(gb[["w", "k"]].rename(columns={"k": "k2"}),
                                                    left_on="w", right_on="k2")
    q = j.assign(t=j.x * j.v).groupby("w_x").t.sum().reset_index()
    assert _read_columns(optimize_plan(q.expr)) == [("k", "v", "w"), ("k", "x")]  # b is read once, for both merges
    pj = a.merge(b, on="k").merge(b[["w", "k"]].rename(columns={"k": "k2"}), left_on="w", right_on="k2")
    want = pj.assign(t=pj.x * pj.v).groupby("w_x").t.sum().reset_index()
    _check(q.compute(scheduler="sync"), want)


@pytest.mark.api("DataFrameGroupBy.agg")
def test_groupby_reads_keys_and_aggregated_columns(paths):
    (pa_, _), a = paths[0].values(), paths[1]
    q = gd.read_parquet(pa_).groupby("k").agg(n=("x", "size"), m=("y", "max")).reset_index()
    assert _read_columns(optimize_plan(q.expr)) == [("k", "y")]  # size reads no values
    _check(q.compute(scheduler="sync"), a.groupby("k").agg(n=("x", "size"), m=("y", "max")).reset_index())


@pytest.mark.api("DataFrame.reset_index")
def test_reset_index_drop_without_an_index_adds_no_node(paths):
    df = gd.read_parquet(paths[0]["a"])
    out = df.reset_index(drop=True)
    assert out.expr is df.expr
    assert not any(isinstance(n, Blockwise) for n in walk(out.expr))
    pd.testing.assert_frame_equal(out.compute(scheduler="sync"), paths[1].reset_index(drop=True))
