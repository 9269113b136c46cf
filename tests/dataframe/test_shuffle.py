"""The hash shuffle: determinism, splitting, and the task layout it lowers to."""

import numpy as np
import pyarrow as pa
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.plan import lower
from graphflow.dataframe.shuffle import hash_columns, hash_partitioner, shuffle, split_table

from .data import random_table


def test_hash_is_positional_independent_and_type_aware():
    t = pa.table({"s": ["abc", "x", "abc", "", None], "f": [0.0, -0.0, 1.5, None, 2.0]})
    h = hash_columns(t, ["s"])
    assert h[0] == h[2] and len(set(h.tolist())) == 4
    assert hash_columns(t.slice(2), ["s"])[0] == h[0]  # offsets do not matter
    hf = hash_columns(t, ["f"])
    assert hf[0] == hf[1]  # -0.0 and 0.0 are one key
    large = pa.table({"s": pa.array(["abc", "x"], pa.large_string())})
    assert hash_columns(large, ["s"])[0] == h[0]


def test_equal_keys_meet_and_split_keeps_rows():
    t = random_table(n=1000, seed=41)
    ids = hash_partitioner(t, 6, ["k", "k2"])
    assert ids.min() >= 0 and ids.max() < 6
    parts = split_table(t, ids, 6)
    assert sum(p.num_rows for p in parts) == t.num_rows
    seen = {}
    for j, p in enumerate(parts):
        for key in zip(p["k"].to_pylist(), p["k2"].to_pylist()):
            assert seen.setdefault(key, j) == j


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_shuffle_node(scheduler):
    t = random_table(n=800, seed=43)
    df = gd.from_arrow(t, npartitions=4)
    plan = shuffle(df.expr, ["k"], 3)
    out = gd.DataFrame(plan)
    assert out.npartitions == 3
    got = out.to_arrow(scheduler=scheduler)
    assert got.num_rows == t.num_rows
    assert sorted(got["x"].drop_null().to_pylist()) == sorted(t["x"].drop_null().to_pylist())
    keys = lower(plan)
    assert sum(1 for k in keys if k[0].endswith("-piece")) == 4 * 3
    parts = [out.partitions[j].to_arrow(scheduler=scheduler)["k"].to_pylist() for j in range(3)]
    assert not set(parts[0]) & set(parts[1]) and not set(parts[1]) & set(parts[2])


def test_hash_uses_numpy_uint64():
    h = hash_columns(pa.table({"a": [1, 2, 3]}), ["a"])
    assert h.dtype == np.uint64


def test_hash_int_nulls():
    h = hash_columns(pa.table({"a": [1, None, 1, 2]}), ["a"])
    assert h[0] == h[2] and h[1] == np.uint64(7) and h[3] != h[0]
