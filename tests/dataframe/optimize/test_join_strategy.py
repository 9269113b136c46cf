"""The join-strategy rule (graphflow/dataframe/optimize/join_strategy.py): a shuffle join whose side is
small once projection pushdown has narrowed its reads becomes a broadcast join.

    big.parquet (k, x, pad: wide)  --shuffle--+                      big --------------------------+
                                              +-- join   ==>                                        +-- join
    dim.parquet (k, y, pad: wide)  --shuffle--+                      dim (k, y) -> one partition --+
"""

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import join as join_module
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.optimize.join_strategy import estimated_bytes
from graphflow.dataframe.plan import walk
from graphflow.dataframe.shuffle import Shuffle


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("strategy")
    rng = np.random.default_rng(5)

    def pad(n):  # distinct strings: no dictionary page makes them look small
        return [f"{v:.17f}" * 10 for v in rng.random(n)]

    big = pd.DataFrame({"k": rng.integers(0, 200, 2000), "x": rng.random(2000), "pad": pad(2000)})
    dim = pd.DataFrame({"k": np.arange(200), "y": rng.random(200), "pad": pad(200)})
    (d / "big").mkdir()
    for i in range(4):
        big.iloc[i * 500:(i + 1) * 500].to_parquet(d / "big" / f"{i}.parquet", index=False)
    (d / "dim").mkdir()
    for i in range(2):
        dim.iloc[i * 100:(i + 1) * 100].to_parquet(d / "dim" / f"{i}.parquet", index=False)
    return str(d / "big"), str(d / "dim"), big, dim


def _shuffles(plan):
    return [n for n in walk(plan) if isinstance(n, Shuffle)]


@pytest.fixture
def small_threshold(monkeypatch, paths):
    """A threshold between dim's projected size (k, y) and its whole size (with pad)."""
    dim = gd.read_parquet(paths[1])
    whole, narrow = estimated_bytes(dim.expr), estimated_bytes(dim[["k", "y"]].expr.children[0].with_columns(
        ["k", "y"]))
    assert narrow < whole
    monkeypatch.setattr(join_module, "BROADCAST_BYTES", (narrow + whole) / 2)


@pytest.mark.parametrize("dim_on_left", [False, True])
def test_projected_small_side_is_broadcast(paths, small_threshold, dim_on_left):
    bpath, dpath, big, dim = paths
    b, d = gd.read_parquet(bpath), gd.read_parquet(dpath)
    out = (d.merge(b, on="k") if dim_on_left else b.merge(d, on="k"))[["x", "y"]]
    assert len(_shuffles(optimize_plan(out.expr, until="projection"))) == 2  # merge chose a shuffle
    assert _shuffles(optimize_plan(out.expr)) == []
    got = out.compute(scheduler="sync").sort_values(["x", "y"], ignore_index=True)
    want = (dim.merge(big, on="k") if dim_on_left else big.merge(dim, on="k"))[["x", "y"]]
    tm.assert_frame_equal(got, want.sort_values(["x", "y"], ignore_index=True))


def test_wide_use_keeps_the_shuffle(paths, small_threshold):
    """Reading dim's pad keeps it over the threshold: the shuffle stays."""
    bpath, dpath, big, dim = paths
    out = gd.read_parquet(bpath).merge(gd.read_parquet(dpath), on="k")[["x", "pad_y"]]
    assert len(_shuffles(optimize_plan(out.expr))) == 2


def test_broadcast_false_is_obeyed(paths, small_threshold):
    bpath, dpath, big, dim = paths
    out = gd.read_parquet(bpath).merge(gd.read_parquet(dpath), on="k", broadcast=False)[["x", "y"]]
    assert len(_shuffles(optimize_plan(out.expr))) == 2


def test_left_join_broadcasts_only_the_right(paths, small_threshold):
    bpath, dpath, big, dim = paths
    b, d = gd.read_parquet(bpath), gd.read_parquet(dpath)
    kept = d.merge(b, on="k", how="left")[["x", "y"]]  # the small side is the left: it cannot be broadcast
    assert len(_shuffles(optimize_plan(kept.expr))) == 2
    out = b.merge(d, on="k", how="left")[["x", "y"]]
    assert _shuffles(optimize_plan(out.expr)) == []
    got = out.compute(scheduler="sync").sort_values(["x", "y"], ignore_index=True)
    want = big.merge(dim, on="k", how="left")[["x", "y"]]
    tm.assert_frame_equal(got, want.sort_values(["x", "y"], ignore_index=True))


def test_no_broadcast_into_a_single_partition(paths, small_threshold):
    """Broadcasting into a one-partition side would make the whole join one task: the shuffle stays."""
    bpath, dpath, big, dim = paths
    one = gd.read_parquet(bpath).repartition(npartitions=1)
    out = one.merge(gd.read_parquet(dpath), on="k", how="left")[["x", "y"]]  # only the right may go
    assert len(_shuffles(optimize_plan(out.expr))) == 2
    got = out.compute(scheduler="sync").sort_values(["x", "y"], ignore_index=True)
    want = big.merge(dim, on="k", how="left")[["x", "y"]]
    tm.assert_frame_equal(got, want.sort_values(["x", "y"], ignore_index=True))
