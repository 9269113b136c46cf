"""Reductions against plain Python on random data, partitionings and tree widths (``split_every``)."""

import math
import operator
import statistics
from collections import Counter
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow as gf
import graphflow.bag as db

from .strategies import ints, npartitions, words

SYNC = {"scheduler": "sync"}
split_every = st.sampled_from([None, 2, 3])


@pytest.mark.api("Bag.fold", "Bag.reduction", "Bag.count", "Bag.sum", "Bag.min", "Bag.max", "Bag.any", "Bag.all",
                 "db.compute")
@settings(max_examples=20)
@given(ints.filter(bool), npartitions, split_every)
def test_named_reductions(data, n, every):
    b = db.from_sequence(data, npartitions=n)
    got = db.compute(b.count(every), b.sum(every), b.min(every), b.max(every), b.any(every), b.all(every),
                     b.fold(operator.add, split_every=every), b.fold(max, initial=-1000, split_every=every),
                     b.reduction(sum, sum, split_every=every), **SYNC)
    assert got == (len(data), sum(data), min(data), max(data), any(data), all(data), sum(data),
                   max(data), sum(data))


@pytest.mark.api("Bag.fold")
def test_fold_with_separate_combine():
    """binop folds elements into a per-partition list, combine joins those lists."""
    b = db.from_sequence(range(10), npartitions=3)
    out = b.fold(lambda acc, x: acc + [x], lambda a, c: a + c, initial=[]).compute(**SYNC)
    assert out == list(range(10))


@pytest.mark.api("Bag.mean", "Bag.var", "Bag.std")
@settings(max_examples=20)
@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=40), npartitions)
def test_moments(data, n):
    b = db.from_sequence(data, npartitions=n)
    assert b.mean().compute(**SYNC) == pytest.approx(statistics.fmean(data))
    assert b.var().compute(**SYNC) == pytest.approx(statistics.pvariance(data), abs=1e-6)
    assert b.var(ddof=1).compute(**SYNC) == pytest.approx(statistics.variance(data), abs=1e-6)
    assert b.std().compute(**SYNC) == pytest.approx(statistics.pstdev(data), abs=1e-6)


def test_empty_bag_reductions_fail_like_python():
    b = db.from_sequence([], npartitions=1).filter(bool)
    e = db.from_sequence([0, 0, 0], npartitions=3).filter(bool)  # three empty partitions
    assert e.count().compute(**SYNC) == 0 and e.sum().compute(**SYNC) == 0
    assert e.fold(operator.add, initial=0).compute(**SYNC) == 0
    for bag in (b, e):
        with pytest.raises(ValueError, match="empty"):
            bag.min().compute(**SYNC)
        with pytest.raises(ValueError, match="empty"):
            bag.fold(operator.add).compute(**SYNC)
        with pytest.raises(ZeroDivisionError):
            bag.mean().compute(**SYNC)


@pytest.mark.api("Bag.foldby")
@settings(max_examples=20)
@given(ints, npartitions, split_every)
def test_foldby(data, n, every):
    b = db.from_sequence(data, npartitions=n)
    expected = {}
    for x in data:
        expected[x % 5] = expected.get(x % 5, 0) + x
    got = b.foldby(lambda x: x % 5, operator.add, 0, operator.add, 0, split_every=every).compute(**SYNC)
    assert dict(got) == expected and len(got) == len(expected)
    # no initial: the first element of each group starts it; counting per key with combine
    counts = b.foldby(lambda x: x % 5, lambda acc, x: acc + 1, 0, operator.add).compute(**SYNC)
    assert dict(counts) == dict(Counter(x % 5 for x in data))


@pytest.mark.api("Bag.foldby")
def test_foldby_key_may_be_a_field_name():
    records = [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "a", "n": 3}]
    b = db.from_sequence(records, npartitions=2)
    got = b.foldby("name", lambda acc, r: acc + r["n"], 0, operator.add).compute(**SYNC)
    assert sorted(got) == [("a", 4), ("b", 2)]


@pytest.mark.api("Bag.frequencies", "Bag.topk", "Bag.distinct")
@settings(max_examples=20)
@given(words, npartitions, split_every)
def test_frequencies_topk_distinct(data, n, every):
    b = db.from_sequence(data, npartitions=n)
    freq = b.frequencies(split_every=every).compute(**SYNC)
    assert dict(freq) == Counter(data) and len(freq) == len(set(data))
    by_count = b.frequencies(sort=True).compute(**SYNC)
    assert [c for _, c in by_count] == sorted(Counter(data).values(), reverse=True)
    top = b.frequencies().topk(2, key=1).compute(**SYNC)
    assert [c for _, c in top] == sorted(Counter(data).values(), reverse=True)[:2]
    assert b.topk(3, split_every=every).compute(**SYNC) == sorted(data, reverse=True)[:3]
    assert b.topk(3, key=len).map(len).compute(**SYNC) == sorted(map(len, data), reverse=True)[:3]
    assert b.distinct().compute(**SYNC) == list(dict.fromkeys(data))
    assert b.distinct(key=len).map(len).compute(**SYNC) == list(dict.fromkeys(map(len, data)))


@pytest.mark.api("Bag.reduction")
def test_reduction_out_type_bag_and_tree_shape():
    """20 partitions, split_every=4: 20 per-partition tasks, 5 then 2 then 1 aggregates, and the root.

        p0..p19 -> a0..a4 -> b0, b1 -> c0 -> root
    """
    b = db.from_sequence(range(100), npartitions=20)
    item = b.reduction(len, sum, split_every=4)
    graph = item.__graphflow_graph__()
    tasks = [k for k in graph if k[0].startswith("reduction")]
    assert len(tasks) == 20 + 5 + 2 + 1 + 1
    assert item.compute(**SYNC) == 100
    as_bag = b.reduction(lambda p: [max(p)], lambda ps: [x for p in ps for x in p], out_type=db.Bag)
    assert isinstance(as_bag, db.Bag) and as_bag.compute(**SYNC) == list(range(4, 100, 5))
    with pytest.raises(ValueError, match="split_every"):
        b.reduction(len, sum, split_every=1)


@pytest.mark.api("db.Item")
def test_item_apply_and_to_delayed():
    item = db.from_sequence(range(5), npartitions=2).sum()
    assert isinstance(item, db.Item)
    assert item.apply(math.sqrt).compute(**SYNC) == math.sqrt(10)
    d = item.to_delayed()
    assert (d + 1).compute(**SYNC) == 11


def test_fold_reduce_semantics_match_functools():
    data = list(range(1, 30))
    b = db.from_sequence(data, npartitions=6)
    assert b.fold(operator.mul, split_every=2).compute(**SYNC) == reduce(operator.mul, data)


def test_partition_chains_stay_parallel_beside_the_tree():
    """After optimizing, every partition's chain is its own task, none fused into the aggregate:

        read_0 -> map_0 -> part_0 \\
        ...                         agg -> root
        read_3 -> map_3 -> part_3 /
    """
    b = db.from_sequence(range(40), npartitions=4).map(operator.neg).frequencies().topk(2, key=1)
    graph = gf.optimize(b)[0].__graphflow_graph__()
    parts = [k for k in graph if k[0].endswith("-part")]
    assert len(parts) == 4
    roots = [k for k in graph if k not in parts and type(graph[k]).__name__ != "DataNode"]
    assert len(roots) == 1 and sorted(graph[roots[0]].dependencies) == sorted(parts)
    assert [count for _, count in b.compute(scheduler="sync")] == [1, 1]
