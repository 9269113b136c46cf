"""``groupby`` through the shuffle, against plain Python, on the sync executor and in processes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.bag as db
from graphflow.bag.groupby import stable_hash

from .strategies import npartitions, words


def expected_groups(data, key):
    out = {}
    for x in data:
        out.setdefault(key(x), []).append(x)
    return out


@pytest.mark.api("Bag.groupby")
@settings(max_examples=20)
@given(words, npartitions, st.integers(1, 5))
def test_groupby_against_python(data, n, m):
    b = db.from_sequence(data, npartitions=n)
    g = b.groupby(len, npartitions=m)
    assert g.npartitions == m
    got = g.compute(scheduler="sync")
    assert dict(got) == expected_groups(data, len) and len(got) == len(set(map(len, data)))


@pytest.mark.api("Bag.groupby")
def test_groupby_in_worker_processes_puts_each_key_in_one_partition():
    """String keys hash differently in every process (PYTHONHASHSEED); the shuffle must not care."""
    data = [f"user{i % 37}" for i in range(500)]
    b = db.from_sequence(data, npartitions=6)
    per_part = b.groupby(lambda s: s, npartitions=4).map_partitions(lambda p: [[k for k, _ in p]])
    parts = per_part.compute(scheduler="processes", num_workers=2)
    keys = [k for p in parts for k in p]
    assert sorted(keys) == sorted(set(data))  # every key once: in exactly one partition
    counts = dict(b.groupby(lambda s: s).map(lambda kv: (kv[0], len(kv[1]))).compute(scheduler="processes"))
    assert counts == {k: len(v) for k, v in expected_groups(data, lambda s: s).items()}


def test_groupby_by_field_name_and_bad_shuffle():
    b = db.from_sequence([{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 1, "v": "c"}], npartitions=2)
    got = dict(b.groupby("k").compute(scheduler="sync"))
    assert got == {1: [{"k": 1, "v": "a"}, {"k": 1, "v": "c"}], 2: [{"k": 2, "v": "b"}]}
    with pytest.raises(ValueError, match="shuffles with tasks"):
        b.groupby("k", shuffle="disk")


def test_stable_hash_is_content_based():
    assert stable_hash("abc") == stable_hash("".join(["a", "bc"]))
    assert stable_hash(("a", 1, None)) == stable_hash(("a", 1, None))
    assert stable_hash(3) == hash(3)
