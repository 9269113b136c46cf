"""sort_values by sampled range partitioning, against pyarrow's sort_by."""

import numpy as np
import pyarrow as pa
import pytest

import graphflow.dataframe as gd

from .data import random_table


@pytest.fixture(scope="module")
def table():
    return random_table(n=3000, seed=31)


@pytest.mark.parametrize("by, ascending", [
    ("x", True), ("x", False), ("y", True), ("s", True), ("t", False),
    (["k2", "y"], [True, False]),
])
def test_sort_matches_pyarrow(table, by, ascending):
    df = gd.from_arrow(table, npartitions=7)
    cols = [by] if isinstance(by, str) else by
    asc = [ascending] * len(cols) if isinstance(ascending, bool) else ascending
    got = df.sort_values(by, ascending=ascending).compute()
    exp = table.sort_by([(c, "ascending" if a else "descending") for c, a in zip(cols, asc)])
    assert got.num_rows == table.num_rows
    for c in cols:  # ties may come in any order: compare the sort columns
        assert got[c].to_pylist() == exp[c].to_pylist(), c


def test_sort_partitions_are_ranges(table):
    df = gd.from_arrow(table, npartitions=5).sort_values("x")
    parts = [df.partitions[i].compute()["x"].drop_null().to_numpy() for i in range(df.npartitions)]
    sizes = [len(p) for p in parts]
    assert min(sizes) > 0.3 * np.mean(sizes)  # the sample spreads the rows
    for a, b in zip(parts, parts[1:]):
        if len(a) and len(b):
            assert a.max() <= b.min()


def test_sort_then_head_and_errors(table):
    df = gd.from_arrow(table, npartitions=4)
    top = df.sort_values("y", ascending=False).head(5)
    assert top["y"].to_pylist() == table.sort_by([("y", "descending")])["y"].slice(0, 5).to_pylist()
    with pytest.raises(KeyError):
        df.sort_values("nope")
    with pytest.raises(ValueError):
        df.sort_values(["x", "y"], ascending=[True])
    one = gd.from_dict({"a": [3, 1, 2]}).sort_values("a").compute()
    assert one["a"].to_pylist() == [1, 2, 3]
    assert gd.from_dict({"a": pa.array([], pa.int64())}, npartitions=1).sort_values("a").compute().num_rows == 0
