"""The lookup joins of graphflow/dataframe/join.py equal pandas' merge: a unique FIRST key on the looked-up
side with more keys compared row by row, and an inner join broadcasting its left side (looked up by the
right rows' keys).  Nulls never match; non-unique sides fall back to the hash join.

    left (many rows)  k1 k2 x           right (unique k1)  k1 k2 v
                      1  a  ..                             1  a  ..     row 1 matches
                      1  b  ..                             (k2 differs) row 2 does not
"""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


def _frames(seed, key_kind):
    rng = np.random.default_rng(seed)
    n = 300
    big = pd.DataFrame({"k1": rng.integers(0, 40, n), "k2": rng.integers(0, 3, n), "x": rng.normal(size=n)})
    small = pd.DataFrame({"k1": rng.permutation(50)[:30], "k2": rng.integers(0, 3, 30), "v": rng.normal(size=30)})
    if key_kind == "str":  # not integers: the hash lookup (index_in), not direct addressing
        big["k1"], small["k1"] = big.k1.map(lambda i: f"key{i}"), small.k1.map(lambda i: f"key{i}")
    big.loc[::17, "k2"] = None  # nulls in a second key: those rows never match
    big["k2"] = big.k2.astype("Int64")
    small["k2"] = small.k2.astype("Int64")
    return big, small


def _same(got, want):
    cols = list(want.columns)
    pd.testing.assert_frame_equal(got.sort_values(cols).reset_index(drop=True),
                                  want.sort_values(cols).reset_index(drop=True), check_dtype=False)


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("key_kind", ["int", "str"])
@pytest.mark.parametrize("how", ["inner", "left"])
def test_unique_first_key_of_several(key_kind, how):
    big, small = _frames(1, key_kind)
    a, b = gd.from_pandas(big, npartitions=3, sort=False), gd.from_pandas(small, npartitions=1, sort=False)
    g = a.merge(b, on=["k1", "k2"], how=how, broadcast=True)
    _same(g.compute(scheduler="sync"), big.merge(small, on=["k1", "k2"], how=how))


@pytest.mark.api("DataFrame.merge")
@pytest.mark.parametrize("key_kind", ["int", "str"])
@pytest.mark.parametrize("keys", [["k1"], ["k1", "k2"]])
def test_inner_join_broadcasting_the_left_side(key_kind, keys):
    big, small = _frames(2, key_kind)
    a, b = gd.from_pandas(small, npartitions=1, sort=False), gd.from_pandas(big, npartitions=3, sort=False)
    g = a.merge(b, on=keys, how="inner", broadcast=True)
    want = small.merge(big, on=keys, how="inner")
    got = g.compute(scheduler="sync")
    assert list(got.columns) == list(want.columns)
    _same(got, want)


@pytest.mark.api("DataFrame.merge")
def test_left_side_with_different_key_names_and_a_clash():
    big, small = _frames(3, "int")
    small = small.rename(columns={"k1": "id"}).assign(x=1.5)  # x on both sides: x_x, x_y
    a, b = gd.from_pandas(small, npartitions=1, sort=False), gd.from_pandas(big, npartitions=2, sort=False)
    g = a.merge(b, left_on="id", right_on="k1", broadcast=True)
    _same(g.compute(scheduler="sync"), small.merge(big, left_on="id", right_on="k1"))


@pytest.mark.api("DataFrame.merge")
def test_non_unique_looked_up_side_falls_back_to_the_hash_join():
    big, small = _frames(4, "int")
    dup = pd.concat([small, small.assign(v=small.v + 1)])  # every k1 twice
    for left, right in ((big, dup), (dup, big)):
        a, b = gd.from_pandas(left, npartitions=2, sort=False), gd.from_pandas(right, npartitions=1, sort=False)
        g = a.merge(b, on=["k1", "k2"], broadcast=True)
        _same(g.compute(scheduler="sync"), left.merge(right, on=["k1", "k2"]))
