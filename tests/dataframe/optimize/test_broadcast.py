"""optimize/broadcast.py: a shuffle join whose side projection pushdown made small becomes a broadcast join.

    orders: key, cust, comment (wide)        after projection the orders side reads key, cust:
    lines:  key, price                        under the threshold, so it is broadcast and
    lines.merge(orders, on="key")[["price", "cust"]]   neither side is shuffled
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd
import graphflow.dataframe.join as join
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.optimize.broadcast import estimated_bytes
from graphflow.dataframe.plan import walk
from graphflow.dataframe.shuffle import Shuffle


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(3)
    d = tmp_path_factory.mktemp("bcast")
    orders = pd.DataFrame({"key": np.arange(2000), "cust": rng.integers(0, 100, 2000),
                           "comment": ["x" * 200 + str(i) for i in range(2000)]})
    lines = pd.DataFrame({"key": rng.integers(0, 2500, 8000), "price": rng.normal(size=8000)})
    for name, frame, rows in (("orders", orders, 1000), ("lines", lines, 2000)):
        (d / name).mkdir()
        for i in range(0, len(frame), rows):
            pq.write_table(pa.Table.from_pandas(frame.iloc[i:i + rows], preserve_index=False),
                           d / name / f"part.{i // rows}.parquet")
    return str(d / "orders"), str(d / "lines"), orders, lines


@pytest.fixture
def threshold(monkeypatch):
    """A broadcast threshold between the orders' key columns (32 kB) and all their columns (400+ kB)."""
    monkeypatch.setattr(join, "BROADCAST_BYTES", 100_000)


def _shuffles(plan):
    return [n for n in walk(plan) if isinstance(n, Shuffle)]


def _same(got, want):
    cols = list(want.columns)
    pd.testing.assert_frame_equal(got.sort_values(cols).reset_index(drop=True),
                                  want.sort_values(cols).reset_index(drop=True), check_dtype=False)


def test_estimated_bytes_counts_the_columns_read(data):
    orders = gd.read_parquet(data[0])
    whole = estimated_bytes(orders.expr)
    assert estimated_bytes(orders[["key", "cust"]].expr) == whole  # the read still reads every column
    keys = estimated_bytes(optimize_plan(orders[["key", "cust"]].expr))  # after projection pushdown
    assert whole > 400_000 and 0 < keys < 100_000


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("how", ["inner", "left"])
def test_small_after_projection_is_broadcast(data, threshold, how):
    orders, lines = gd.read_parquet(data[0]), gd.read_parquet(data[1])
    q = lines.merge(orders, on="key", how=how)[["price", "cust"]]
    assert len(_shuffles(q.expr)) == 2  # merge saw the whole orders files: too big
    plan = optimize_plan(q.expr)
    assert _shuffles(plan) == [] and plan.npartitions == q.expr.npartitions
    assert len(_shuffles(optimize_plan(q.expr, until="projection"))) == 2  # the rule is the one stage after it
    _same(q.compute(scheduler="sync"), data[3].merge(data[2], on="key", how=how)[["price", "cust"]])


@pytest.mark.api("DataFrame.merge")
def test_left_side_broadcast_when_small(data, threshold):
    orders, lines = gd.read_parquet(data[0]), gd.read_parquet(data[1])
    q = orders.merge(lines, on="key")[["cust", "price"]]
    assert _shuffles(optimize_plan(q.expr)) == []
    _same(q.compute(scheduler="sync"), data[2].merge(data[3], on="key")[["cust", "price"]])


@pytest.mark.api("DataFrame.merge")
def test_what_merge_was_told_is_kept(data, threshold):
    orders, lines = gd.read_parquet(data[0]), gd.read_parquet(data[1])
    told = [lines.merge(orders, on="key", broadcast=False), lines.merge(orders, on="key", npartitions=3)]
    for q in told:
        assert len(_shuffles(optimize_plan(q[["price", "cust"]].expr))) == 2
    wide = lines.merge(orders, on="key")  # the comment column is used: still too big
    assert len(_shuffles(optimize_plan(wide.expr))) == 2
    outer = lines.merge(orders, on="key", how="outer")[["price", "cust"]]  # cannot broadcast
    assert len(_shuffles(optimize_plan(outer.expr))) == 2
