"""Property tests: any partitioning gives pyarrow's answer on the whole table (hypothesis)."""

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

from .data import assert_tables_equal, random_table

CASES = dict(max_examples=12, deadline=None)


@settings(**CASES)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 300), parts=st.integers(1, 9),
       threshold=st.floats(-1.5, 1.5))
def test_filter_groupby_any_partitioning(seed, n, parts, threshold):
    table = random_table(n=n, seed=seed, groups=5)
    df = gd.from_arrow(table, npartitions=parts)
    q = df[df.x > threshold].groupby(["k2", "k"]).agg({"y": ["sum", "count"], "x": "max"})
    got = q.compute(scheduler="sync")
    f = table.filter(pc.greater(table["x"], threshold))
    exp = f.group_by(["k2", "k"]).aggregate([("y", "sum"), ("y", "count"), ("x", "max")])
    exp = exp.select(["k2", "k", "y_sum", "y_count", "x_max"]).rename_columns(["k2", "k", "y_sum", "y_count", "x"])
    assert_tables_equal(got, exp, keys=["k2", "k"])


@settings(**CASES)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), parts=st.integers(1, 9), out=st.integers(1, 5))
def test_sort_and_shuffle_join_any_partitioning(seed, n, parts, out):
    table = random_table(n=n, seed=seed, groups=7)
    df = gd.from_arrow(table, npartitions=parts)
    got = df.sort_values(["k", "y"], npartitions=out).compute(scheduler="sync")
    exp = table.sort_by([("k", "ascending"), ("y", "ascending")])
    assert got["k"].to_pylist() == exp["k"].to_pylist() and got["y"].to_pylist() == exp["y"].to_pylist()
    right = pa.table({"k": pa.array(range(7)), "label": [f"g{i}" for i in range(7)]})
    joined = df.merge(gd.from_arrow(right, npartitions=2), on="k", how="left", broadcast=False,
                      npartitions=out).compute(scheduler="sync")
    assert joined.num_rows == table.num_rows
    assert sorted(joined["label"].to_pylist()) == sorted(f"g{k}" for k in table["k"].to_pylist())
