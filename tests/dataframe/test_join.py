"""merge: broadcast and shuffle joins, every how, suffixes, bad keys; the Arrow path (to_arrow) against pyarrow's
Table.join, the pandas result against pandas.merge."""

import pyarrow as pa
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.plan import Reduce, walk
from graphflow.dataframe.shuffle import Shuffle

from .data import assert_like_pandas, assert_tables_equal, needs_pandas, pd, random_table

HOW = {"inner": "inner", "left": "left outer", "right": "right outer", "outer": "full outer"}


@pytest.fixture(scope="module")
def tables():
    left = random_table(n=1500, seed=21, groups=40)
    right = pa.table({"k": pa.array(list(range(0, 60, 2)) + [None]),
                      "x": pa.array([float(i) for i in range(31)]),
                      "w": pa.array([f"v{i}" for i in range(31)])})
    return left, right


def expected(left, right, how, **kw):
    return left.join(right, keys="k", join_type=HOW[how], left_suffix="_x", right_suffix="_y", **kw)


def kinds(df):
    return {type(n).__name__ for n in walk(df.optimized_plan())}


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("broadcast", [None, False])
def test_merge_matches_pyarrow(tables, how, broadcast):
    left, right = tables
    a, b = gd.from_arrow(left, npartitions=6), gd.from_arrow(right, npartitions=3)
    m = a.merge(b, on="k", how=how, broadcast=broadcast)
    got = m.to_arrow()  # the Arrow path: the engine against pyarrow's own join
    exp = expected(left, right, how)
    assert got.column_names == ["k", "k2", "x_x", "y", "s", "t", "x_y", "w"]  # pandas: left columns, then right
    assert sorted(got.column_names) == sorted(["k", "k2", "x_x", "y", "s", "t", "x_y", "w"])
    assert_tables_equal(got, exp.select(got.column_names), keys=["k", "x_x", "s", "t", "w", "y", "k2"])
    shuffled = "Shuffle" in kinds(m)
    assert shuffled == (broadcast is False or how in ("outer",))


def test_broadcast_small_side_plan(tables):
    left, right = tables
    a, b = gd.from_arrow(left, npartitions=6), gd.from_arrow(right, npartitions=3)
    m = a.merge(b, on="k")
    plan = m.optimized_plan()
    assert plan.broadcast == (False, True)
    assert isinstance(plan.children[1], Reduce)
    assert not any(isinstance(n, Shuffle) for n in walk(plan))


def test_broadcast_lookup_nulls_and_duplicates():
    left = pa.table({"k": [1, None, 2, 3], "v": [1, 2, 3, 4]})
    uniq = pa.table({"k": [1, 2, None], "w": ["a", "b", "c"]})
    dup = pa.table({"k": [1, 1, 2], "w": ["a", "b", "c"]})
    for right in (uniq, dup):
        for how in ("inner", "left"):
            got = gd.from_arrow(left, npartitions=2).merge(gd.from_arrow(right), on="k", how=how).to_arrow()
            assert_tables_equal(got, left.join(right, keys="k", join_type=HOW[how]), keys=["k", "v", "w"])


def test_left_on_right_on(tables):
    left, right = tables
    a = gd.from_arrow(left, npartitions=4)
    b = gd.from_arrow(right.rename_columns(["key", "x", "w"]), npartitions=2)
    for how in ("inner", "left", "right", "outer"):
        for broadcast in (None, False):
            got = a.merge(b, left_on="k", right_on="key", how=how, broadcast=broadcast).to_arrow()
            exp = left.join(right.rename_columns(["key", "x", "w"]), keys="k", right_keys="key",
                            join_type=HOW[how], left_suffix="_x", right_suffix="_y", coalesce_keys=False)
            assert got.column_names == ["k", "k2", "x_x", "y", "s", "t", "key", "x_y", "w"]  # both keys kept
            assert_tables_equal(got, exp.select(got.column_names), keys=["k", "key", "x_x", "s", "t", "w", "y"])


def test_dense_integer_lookup_matches_join():
    """Unique dense integer keys take the direct-address path; duplicates, nulls and wide ranges fall back."""
    from graphflow.dataframe.join import _dense_index

    left = pa.table({"id": pa.array([5, 3, None, 9, 100, 4], pa.int64()), "v": [1, 2, 3, 4, 5, 6]})
    for right in (pa.table({"id": [3, 4, 5, 6], "w": ["a", "b", "c", "d"]}),
                  pa.table({"id": [3, 3, 5], "w": ["a", "b", "c"]}),
                  pa.table({"id": [3, None, 5], "w": ["a", "b", "c"]}),
                  pa.table({"id": [3, 10 ** 12], "w": ["a", "b"]})):
        for how in ("inner", "left"):
            got = gd.from_arrow(left, npartitions=2).merge(gd.from_arrow(right, npartitions=2), on="id", how=how,
                                                           broadcast=False).to_arrow()
            exp = left.join(right, keys="id", join_type=HOW[how])
            assert got.column_names == ["id", "v", "w"]
            assert_tables_equal(got, exp.select(got.column_names), keys=["id", "v", "w"])
    assert _dense_index(left["id"], pa.chunked_array([[3, 4, 5, 6]])).tolist() == [2, 0, -1, -1, -1, 1]
    assert _dense_index(left["id"], pa.chunked_array([[3, 3]])) is None


def test_self_merge_large_both_sides():
    t = pa.table({"id": pa.array(range(3000)), "v": pa.array([float(i) for i in range(3000)])})
    a = gd.from_arrow(t, npartitions=4)
    b = gd.from_arrow(t.rename_columns(["id", "u"]), npartitions=4)
    m = a.merge(b, on="id", broadcast=False, npartitions=5)
    assert m.npartitions == 5
    got = m.to_arrow()  # the Arrow path: the engine against pyarrow's own join
    assert got.num_rows == 3000 and got.sort_by("id")["u"].to_pylist() == [float(i) for i in range(3000)]


def test_bad_keys_at_build(tables):
    left, right = tables
    a, b = gd.from_arrow(left), gd.from_arrow(right)
    with pytest.raises(KeyError, match="right merge key 'k2'"):
        a.merge(b, on="k2")
    with pytest.raises(TypeError, match="cannot merge"):
        a.merge(b, left_on="s", right_on="k")
    with pytest.raises(ValueError, match="how must be"):
        a.merge(b, on="k", how="cross")


@needs_pandas
@pytest.mark.parametrize("how", ["inner", "left"])
def test_against_pandas(tables, how):
    left, right = tables
    a, b = gd.from_arrow(left, npartitions=3), gd.from_arrow(right, npartitions=2)
    order = ["k", "x_x", "w", "y", "t", "s"]
    got = a.merge(b, on="k", how=how).compute().sort_values(order, ignore_index=True)
    # pyarrow never matches null keys (pandas matches NaN to NaN): the right side's null key is left out
    exp = pd.merge(left.to_pandas(), right.to_pandas().dropna(subset=["k"]), on="k", how=how)
    exp = exp.sort_values(order, ignore_index=True)
    assert_like_pandas(got, exp)
