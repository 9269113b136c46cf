"""Joins against a uniquely keyed side as a lookup (graphflow/dataframe/join_lookup.py), and a groupby
after a shuffle-join running its input once.

    big (k repeated, several partitions) --+
                                           +-- merge: inner / left, one key or two, either side unique
    small (k unique)  ---------------------+
"""

import numpy as np
import pandas as pd
import pandas.testing as tm
import pyarrow as pa
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import groupby as groupby_module
from graphflow.dataframe.join_lookup import lookup_rows


def test_lookup_rows_one_key():
    build = pa.table({"k": [10, 30, 20]})
    probe = pa.table({"k": [20, 20, 40, None, 10]})
    assert lookup_rows(probe, build, ["k"], ["k"]).tolist() == [2, 2, -1, -1, 0]


def test_lookup_rows_two_keys_masks_out_of_range():
    build = pa.table({"a": [1, 1, 2], "b": [5, 6, 5]})
    probe = pa.table({"a": [2, 1, 3, 0, None], "b": [5, 6, 5, 5, 5]})
    assert lookup_rows(probe, build, ["a", "b"], ["a", "b"]).tolist() == [2, 1, -1, -1, -1]


@pytest.mark.parametrize("build", [pa.table({"k": [1, 2, 1]}), pa.table({"k": [1, None]}),
                                   pa.table({"k": pa.array([], pa.int64())})])
def test_lookup_rows_refuses_non_unique_null_or_empty_keys(build):
    assert lookup_rows(pa.table({"k": [1, 2]}), build, ["k"], ["k"]) is None


def test_lookup_rows_refuses_two_keys_with_duplicates_or_strings():
    dup = pa.table({"a": [1, 1], "b": [5, 5]})
    assert lookup_rows(pa.table({"a": [1], "b": [5]}), dup, ["a", "b"], ["a", "b"]) is None
    text = pa.table({"a": ["x", "y"], "b": [5, 5]})
    assert lookup_rows(pa.table({"a": ["x"], "b": [5]}), text, ["a", "b"], ["a", "b"]) is None


def _frames(seed=0, n=300):
    rng = np.random.default_rng(seed)
    big = pd.DataFrame({"k": rng.integers(0, 40, n), "j": rng.integers(0, 3, n), "x": rng.random(n),
                        "s": rng.choice(["a", "b", "c"], n)})
    keys = rng.permutation(50)
    small = pd.DataFrame({"k": keys, "j": keys % 3, "y": rng.random(50), "t": [f"t{i}" for i in keys]})
    return big, small


def _same(got, want):
    cols = list(want.columns)
    tm.assert_frame_equal(got.sort_values(cols, ignore_index=True), want.sort_values(cols, ignore_index=True))


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("how", ["inner", "left"])
@pytest.mark.parametrize("on", [["k"], ["k", "j"]])
@pytest.mark.parametrize("small_on_left", [False, True])
def test_merge_with_a_unique_side_matches_pandas(how, on, small_on_left):
    big, small = _frames()
    left, right = (small, big) if small_on_left else (big, small)
    gl, gr = gd.from_pandas(left, npartitions=3), gd.from_pandas(right, npartitions=2)
    got = gl.merge(gr, on=on, how=how, broadcast=False).compute(scheduler="sync")
    _same(got, left.merge(right, on=on, how=how))


@pytest.mark.api("DataFrame.merge")
def test_merge_left_on_right_on_keeps_both_keys():
    big, small = _frames(1)
    small = small.rename(columns={"k": "sk"})
    gb, gs = gd.from_pandas(big, npartitions=3), gd.from_pandas(small, npartitions=2)
    for a, b, lo, ro in [(gb, gs, "k", "sk"), (gs, gb, "sk", "k")]:
        got = a.merge(b, left_on=lo, right_on=ro, broadcast=False).compute(scheduler="sync")
        _same(got, a.compute().merge(b.compute(), left_on=lo, right_on=ro))


def test_groupby_after_a_shuffle_join_runs_the_join_once(monkeypatch):
    """groupby-agg picks tree or shuffle by sampling its input's first partition; behind a shuffle that
    partition needs every input partition, so it takes the tree without sampling (no second run)."""
    big, small = _frames(2)
    calls = []

    def counted(pdf):
        calls.append(len(pdf))
        return pdf

    gb = gd.from_pandas(big, npartitions=4).map_partitions(counted, meta=big.iloc[:0])
    j = gb.merge(gd.from_pandas(small, npartitions=2), on="k", broadcast=False)
    monkeypatch.setattr(groupby_module, "SHUFFLE_GROUPS", 1)  # sampling would choose a shuffle
    calls.clear()
    got = j.groupby("t").y.sum().compute(scheduler="sync")
    assert len(calls) == 4  # each partition of big once
    tm.assert_series_equal(got.sort_index(), big.merge(small, on="k").groupby("t").y.sum())


def test_packed_keys_prepared_once_for_many_probes():
    from graphflow.dataframe.join_lookup import PackedKeys

    build = pa.table({"a": [3, 1, 1, 2], "b": [7, 7, 9, 7]})
    packed = PackedKeys.build(build, ["a", "b"])
    probe = pa.table({"a": [1, 2, 3, 4, None, 1], "b": [9, 7, 7, 7, 7, 8]})
    assert packed.index(probe, ["a", "b"]).tolist() == [2, 3, 0, -1, -1, -1]
    assert PackedKeys.build(pa.table({"a": [1, 1], "b": [2, 2]}), ["a", "b"]) is None
    assert PackedKeys.build(pa.table({"a": ["x"], "b": [2]}), ["a", "b"]) is None


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("small_on_left", [False, True])
def test_broadcast_merge_on_two_keys_matches_pandas(small_on_left):
    big, small = _frames(4)
    gb, gs = gd.from_pandas(big, npartitions=3), gd.from_pandas(small, npartitions=2)
    a, b = (gs, gb) if small_on_left else (gb, gs)
    got = a.merge(b, on=["k", "j"], broadcast=True).compute(scheduler="sync")
    _same(got, a.compute().merge(b.compute(), on=["k", "j"]))
