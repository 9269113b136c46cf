"""sort_values by sampled range partitioning, against pandas' sort_values and pyarrow's sort_by."""

import numpy as np
import pyarrow as pa
import pytest

import graphflow.dataframe as gd

from .data import assert_like_pandas, pd, random_table


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
    exp = table.to_pandas().sort_values(by, ascending=ascending, ignore_index=True)  # nulls last, both ways
    assert len(got) == table.num_rows
    assert_like_pandas(got[cols], exp[cols])  # ties may come in any order: compare the sort columns
    arrow = df.sort_values(by, ascending=ascending).to_arrow()
    exp_arrow = table.sort_by([(c, "ascending" if a else "descending") for c, a in zip(cols, asc)])
    for c in cols:
        assert arrow[c].to_pylist() == exp_arrow[c].to_pylist(), c


def test_sort_partitions_are_ranges(table):
    df = gd.from_arrow(table, npartitions=5).sort_values("x")
    parts = [df.partitions[i].to_arrow()["x"].drop_null().to_numpy() for i in range(df.npartitions)]
    sizes = [len(p) for p in parts]
    assert min(sizes) > 0.3 * np.mean(sizes)  # the sample spreads the rows
    for a, b in zip(parts, parts[1:]):
        if len(a) and len(b):
            assert a.max() <= b.min()


def test_sort_then_head_and_errors(table):
    df = gd.from_arrow(table, npartitions=4)
    top = df.sort_values("y", ascending=False).head(5)
    assert top["y"].tolist() == table.sort_by([("y", "descending")])["y"].slice(0, 5).to_pylist()
    with pytest.raises(KeyError):
        df.sort_values("nope")
    with pytest.raises(ValueError):
        df.sort_values(["x", "y"], ascending=[True])
    one = gd.from_dict({"a": [3, 1, 2]}).sort_values("a").compute()
    pd.testing.assert_frame_equal(one, pd.DataFrame({"a": [3, 1, 2]}).sort_values("a"))  # rows keep their index
    empty = gd.from_dict({"a": pa.array([], pa.int64())}, npartitions=1).sort_values("a").compute()
    pd.testing.assert_frame_equal(empty, pd.DataFrame({"a": pd.Series([], dtype="int64")}))


@pytest.mark.parametrize("by, ascending", [("x", True), ("x", False), (["k2", "y"], [True, True])])
def test_divisions_bound_each_partition(table, by, ascending):
    df = gd.from_arrow(table, npartitions=5).sort_values(by, ascending=ascending)
    divs = df.expr.sort_bounds
    assert len(divs) == df.npartitions + 1 and divs[0] is None and divs[-1] is None
    assert df[df.columns[:3]].expr.sort_bounds == divs  # projections keep them
    cols = [by] if isinstance(by, str) else by

    def key(row):
        return row[cols[0]] if len(cols) == 1 else tuple(row[c] for c in cols)

    for i in range(df.npartitions):
        part = df.partitions[i].to_arrow()
        for row in part.select(cols).to_pylist():
            k = key(row)
            if (k is None) or (isinstance(k, tuple) and None in k):
                continue
            lo, hi = divs[i], divs[i + 1]
            if not ascending:
                lo, hi = hi, lo  # descending: keys fall from d[i] to d[i + 1]
                assert (lo is None or k >= lo) and (hi is None or k < hi)
            else:
                assert (lo is None or k > lo) and (hi is None or k <= hi)


def test_divisions_unknown_elsewhere(table):
    df = gd.from_arrow(table, npartitions=3)
    assert df.expr.sort_bounds is None
    by_z = df.assign(z=df.x + 1).sort_values("z")
    assert by_z.assign(w=1).expr.sort_bounds == by_z.expr.sort_bounds  # new columns keep them
    assert by_z.assign(z=by_z.x).expr.sort_bounds is None  # an overwritten column loses them
    one = gd.from_arrow(table, npartitions=1).sort_values("x")
    assert one.expr.sort_bounds == (None, None)


def test_head_after_sort_prunes_the_shuffle(table):
    from graphflow.dataframe.plan import walk
    from graphflow.dataframe.shuffle import Shuffle

    df = gd.from_arrow(table, npartitions=6).sort_values("y")
    first = df.partitions[0]
    shuffles = [n for n in walk(first.optimized_plan()) if isinstance(n, Shuffle)]
    assert [s.only for s in shuffles] == [(0,)]
    assert first.to_arrow()["y"].to_pylist() == df.to_arrow()["y"].to_pylist()[:first.to_arrow().num_rows]
    assert df.head(50)["y"].tolist() == table.sort_by("y")["y"].to_pylist()[:50]
    mid = df.partitions[2:4].to_arrow()
    assert mid["y"].to_pylist() == sorted(mid["y"].to_pylist())


def test_argsort_numeric_sorts():
    from graphflow.dataframe.sort import argsort_numeric

    rng = np.random.default_rng(4)
    for values in (rng.random(100_000), rng.integers(-5, 5, 100_000), np.r_[rng.random(70_000), np.nan, -np.inf],
                   rng.standard_normal(70_000) * 1e300, np.full(70_000, 2.0)):
        order = argsort_numeric(values)
        assert sorted(order.tolist()) == list(range(len(values)))
        assert np.array_equal(values[order], np.sort(values), equal_nan=True)
