"""Grouped sums/counts on one dense integer key (bincount) answer what pyarrow's hash aggregation does, and the
groupby results through them are pandas'."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.dense_groupby import dense_aggregate


def _table(seed, n=5000, span=800, nulls=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    mask = rng.random(n) < (0.2 if nulls else 0)
    return pa.table({"k": pa.array(rng.integers(-30, span, n)), "x": pa.array(x, mask=mask)})


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_same_as_pyarrow(nulls, sparse):
    """Dense keys (bincount) and keys too sparse for slots (sorted)."""
    t = _table(1, nulls=nulls)
    if sparse:
        t = t.set_column(0, "k", pc.multiply(t.column("k"), 10**9))
    aggs = [("x", "sum", None, "x_sum"), ("x", "count", None, "x_count"), ([], "count_all", None, "n")]
    got = dense_aggregate(t, ["k"], aggs)
    want = t.group_by("k").aggregate([("x", "sum"), ("x", "count"), ([], "count_all")]).sort_by("k")
    assert got.column("k").to_pylist() == want.column("k").to_pylist()
    np.testing.assert_allclose(got.column("x_sum").to_numpy(zero_copy_only=False),
                               want.column("x_sum").to_numpy(zero_copy_only=False), rtol=1e-12)
    assert got.column("x_sum").null_count == want.column("x_sum").null_count
    assert got.column("x_count").to_pylist() == want.column("x_count").to_pylist()
    assert got.column("n").to_pylist() == want.column("count_all").to_pylist()


def test_not_applicable_gives_none():
    t = _table(2)
    assert dense_aggregate(t, ["k"], [("x", "min", None, "m")]) is None  # no bincount for min
    assert dense_aggregate(t.set_column(0, "k", t.column("k").cast(pa.string())), ["k"],
                           [("x", "sum", None, "s")]) is None
    assert dense_aggregate(t.set_column(0, "k", pa.array([None] + [1] * (t.num_rows - 1), pa.int64())), ["k"],
                           [("x", "sum", None, "s")]) is None


@pytest.mark.parametrize("spans", [(7, 300), (2**40, 3)])
def test_two_integer_keys_packed(spans):
    rng = np.random.default_rng(6)
    n = 4000
    t = pa.table({"a": rng.integers(-3, spans[0], n), "b": rng.integers(0, spans[1], n).astype(np.int32),
                  "x": rng.normal(size=n)})
    got = dense_aggregate(t, ["a", "b"], [("x", "sum", None, "s"), ([], "count_all", None, "n")])
    want = t.group_by(["a", "b"]).aggregate([("x", "sum"), ([], "count_all")])
    order = [("a", "ascending"), ("b", "ascending")]
    got, want = got.sort_by(order), want.sort_by(order)
    assert got.schema.field("b").type == pa.int32()
    assert got.column("a").equals(want.column("a")) and got.column("b").equals(want.column("b"))
    np.testing.assert_allclose(got.column("s").to_numpy(), want.column("x_sum").to_numpy(), rtol=1e-12)
    assert got.column("n").to_pylist() == want.column("count_all").to_pylist()


def test_keys_too_wide_to_pack():
    t = pa.table({"a": [0, 2**20], "b": [0, 2**20], "c": [0, 2**30], "x": [1.0, 2.0]})
    assert dense_aggregate(t, ["a", "b"], [("x", "sum", None, "s")]) is not None
    assert dense_aggregate(t, ["a", "b", "c"], [("x", "sum", None, "s")]) is None


@pytest.mark.api("SeriesGroupBy.sum", "SeriesGroupBy.mean", "SeriesGroupBy.count")
@pytest.mark.parametrize("split_out", [None, 3])
def test_groupby_through_dense_path(split_out):
    t = _table(3)
    pdf = t.to_pandas()
    df = gd.from_pandas(pdf, npartitions=4)
    got = df.groupby("k").x.agg(["sum", "mean", "count"], split_out=split_out).compute(scheduler="sync")
    want = pdf.groupby("k").x.agg(["sum", "mean", "count"])
    pd.testing.assert_frame_equal(got.sort_index(), want, check_dtype=False)
