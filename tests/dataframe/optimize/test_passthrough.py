"""Projection pushdown through merges, shuffles, groupby-aggs and the positional index
(graphflow/dataframe/optimize/passthrough.py): the Parquet reads under a merge read only the keys and the
columns used above it, and the answers stay pandas'.

    left.parquet (k, a, b, v, junk) --+
                                      +-- merge on k -> [a, v_y] or groupby(a).v_x.sum()
    right.parquet (k, c, v, junk2) ---+
"""

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.io.parquet import ReadParquet
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.plan import walk


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    d = tmp_path_factory.mktemp("pass")
    rng = np.random.default_rng(3)
    n = 400
    left = pd.DataFrame({"k": rng.integers(0, 50, n), "a": rng.integers(0, 5, n), "b": rng.random(n),
                         "v": rng.random(n), "junk": ["x" * 20] * n})
    right = pd.DataFrame({"k": np.arange(60), "c": rng.random(60), "v": rng.random(60), "junk2": ["y"] * 60})
    (d / "left").mkdir()
    for i in range(4):  # four files: four partitions
        left.iloc[i * 100:(i + 1) * 100].to_parquet(d / "left" / f"p{i}.parquet", index=False)
    right.to_parquet(d / "right.parquet", index=False)
    return str(d / "left"), str(d / "right.parquet"), left, right


def _reads(frame):
    return sorted(tuple(sorted(node.schema.names)) for node in walk(optimize_plan(frame.expr))
                  if isinstance(node, ReadParquet))


@pytest.mark.parametrize("broadcast", [True, False])
def test_merge_reads_only_keys_and_used_columns(tables, broadcast):
    lpath, rpath, left, right = tables
    lf, rf = gd.read_parquet(lpath), gd.read_parquet(rpath)
    out = lf.merge(rf, on="k", broadcast=broadcast)[["a", "c"]]
    assert _reads(out) == [("a", "k"), ("c", "k")]
    got = out.compute(scheduler="sync").sort_values(["a", "c"], ignore_index=True)
    want = left.merge(right, on="k")[["a", "c"]].sort_values(["a", "c"], ignore_index=True)
    tm.assert_frame_equal(got, want)


@pytest.mark.parametrize("broadcast", [True, False])
def test_suffixed_column_keeps_its_pair(tables, broadcast):
    """Only v_y is used; v stays on both sides, so the right one is still called v_y (and the left k, which
    meets the right key k, stays too: it names that key k_y)."""
    lpath, rpath, left, right = tables
    lf, rf = gd.read_parquet(lpath), gd.read_parquet(rpath)
    out = lf.merge(rf, left_on="a", right_on="k", how="left", broadcast=broadcast)[["b", "v_y"]]
    assert _reads(out) == [("a", "b", "k", "v"), ("k", "v")]
    got = out.compute(scheduler="sync").sort_values(["b", "v_y"], ignore_index=True)
    want = left.merge(right, left_on="a", right_on="k", how="left")[["b", "v_y"]]
    tm.assert_frame_equal(got, want.sort_values(["b", "v_y"], ignore_index=True))


def test_groupby_after_merge_and_assign(tables):
    """assign (positions + projection) -> groupby-agg -> merge -> shuffle: the need flows down all of them."""
    lpath, rpath, left, right = tables
    lf, rf = gd.read_parquet(lpath), gd.read_parquet(rpath)
    j = lf.merge(rf, on="k", broadcast=False)
    j = j.assign(w=j.b * j.c)
    out = j.groupby("a").w.sum().reset_index()
    assert _reads(out) == [("a", "b", "k"), ("c", "k")]
    pj = left.merge(right, on="k")
    want = pj.assign(w=pj.b * pj.c).groupby("a").w.sum().reset_index()
    tm.assert_frame_equal(out.compute(scheduler="sync"), want)


def test_whole_output_still_read_whole(tables):
    lpath, rpath, left, right = tables
    out = gd.read_parquet(lpath).merge(gd.read_parquet(rpath), on="k")
    assert _reads(out) == [("a", "b", "junk", "k", "v"), ("c", "junk2", "k", "v")]
    got = out.compute(scheduler="sync").sort_values(["k", "b"], ignore_index=True)
    tm.assert_frame_equal(got, left.merge(right, on="k").sort_values(["k", "b"], ignore_index=True))
