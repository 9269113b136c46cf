"""Element-wise steps against plain Python, on random data and random partitionings."""

import itertools
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow as gf
import graphflow.bag as db
from graphflow.spec import FusedTask

from .strategies import ints, npartitions, words

SYNC = {"scheduler": "sync"}


def inc(x):
    return x + 1


def is_even(x):
    return x % 2 == 0


@pytest.mark.api("db.from_sequence", "Bag.compute", "Bag.map", "Bag.filter", "Bag.remove", "db.map")
@settings(max_examples=20)
@given(ints, npartitions)
def test_map_filter_remove(data, n):
    b = db.from_sequence(data, npartitions=n)
    assert b.map(inc).compute(**SYNC) == [x + 1 for x in data]
    assert b.filter(is_even).compute(**SYNC) == [x for x in data if x % 2 == 0]
    assert b.remove(is_even).compute(**SYNC) == [x for x in data if x % 2]
    assert db.map(operator.add, b, 10).compute(**SYNC) == [x + 10 for x in data]


@pytest.mark.api("Bag.map", "db.map", "db.range")
def test_map_with_several_bags_items_and_keywords():
    """Bags go element by element, Items and Delayed values whole, keywords too."""
    a = db.range(10, npartitions=3)
    b = db.from_sequence(range(100, 110), npartitions=3)
    total = a.sum()
    out = db.map(lambda x, y, z, w=0: x + y + z + w, a, b, total, w=gf.delayed(1000)).compute(**SYNC)
    assert out == [x + (100 + x) + 45 + 1000 for x in range(10)]
    assert a.map(lambda x, y: (x, y), y=b).compute(**SYNC) == list(zip(range(10), range(100, 110)))


def test_map_of_unequal_partitionings_is_refused():
    with pytest.raises(ValueError, match="same number of partitions"):
        db.map(operator.add, db.range(6, npartitions=2), db.range(6, npartitions=3))


@pytest.mark.api("Bag.map", "Bag.filter", "Bag.starmap", "Bag.map_partitions", "Bag.foldby")
@pytest.mark.parametrize("method", ["map", "filter", "remove", "starmap", "map_partitions"])
def test_non_callable_is_a_type_error(method):
    b = db.from_sequence([(1, 2)], npartitions=1)
    with pytest.raises(TypeError, match="callable"):
        getattr(b, method)(3)


@pytest.mark.api("Bag.map_partitions", "db.map_partitions")
@settings(max_examples=20)
@given(ints, npartitions)
def test_map_partitions(data, n):
    b = db.from_sequence(data, npartitions=n)
    sizes = b.map_partitions(lambda p: [len(p)]).compute(**SYNC)
    assert sum(sizes) == len(data) and len(sizes) == b.npartitions
    assert db.map_partitions(lambda p, k: [x * k for x in p], b, 3).compute(**SYNC) == [3 * x for x in data]
    # Bag arguments go partition by partition; generators become lists
    pairs = b.map_partitions(lambda p, q: (x - y for x, y in zip(p, q)), b.map(inc))
    assert pairs.compute(**SYNC) == [-1] * len(data)


@pytest.mark.api("Bag.starmap", "Bag.pluck", "Bag.flatten", "db.zip", "Bag.unzip")
@settings(max_examples=20)
@given(ints, npartitions)
def test_starmap_pluck_flatten_zip_unzip(data, n):
    pairs = [(x, -x) for x in data]
    b = db.from_sequence(pairs, npartitions=n)
    assert b.starmap(operator.add).compute(**SYNC) == [0] * len(data)
    assert b.starmap(lambda x, y, k=0: x * k, k=2).compute(**SYNC) == [2 * x for x in data]
    assert b.pluck(1).compute(**SYNC) == [-x for x in data]
    assert b.pluck([1, 0]).compute(**SYNC) == [(-x, x) for x in data]
    assert b.flatten().compute(**SYNC) == [y for p in pairs for y in p]
    left, right = b.unzip(2)
    assert db.zip(right, left).compute(**SYNC) == [(-x, x) for x in data]


@pytest.mark.api("Bag.pluck")
def test_pluck_default_and_dicts():
    b = db.from_sequence([{"a": 1}, {"b": 2}, {"a": 3}], npartitions=2)
    assert b.pluck("a", None).compute(**SYNC) == [1, None, 3]
    with pytest.raises(KeyError):
        b.pluck("a").compute(**SYNC)


@pytest.mark.api("Bag.accumulate")
@settings(max_examples=20)
@given(ints, npartitions, st.sampled_from([None, 0, 100]))
def test_accumulate(data, n, initial):
    b = db.from_sequence(data, npartitions=n)
    if initial is None:
        expected = list(itertools.accumulate(data, operator.add))
        assert b.accumulate(operator.add).compute(**SYNC) == expected
    else:
        expected = list(itertools.accumulate(data, operator.add, initial=initial))
        assert b.accumulate(operator.add, initial=initial).compute(**SYNC) == expected


@pytest.mark.api("Bag.product")
@settings(max_examples=20)
@given(st.lists(st.integers(), max_size=8), st.lists(st.text(max_size=2), max_size=8), npartitions, npartitions)
def test_product(xs, ys, n, m):
    b = db.from_sequence(xs, npartitions=n).product(db.from_sequence(ys, npartitions=m))
    assert sorted(b.compute(**SYNC)) == sorted(itertools.product(xs, ys))


@pytest.mark.api("Bag.join")
def test_join_as_dask():
    """Dask's docstring example: ``(other_element, element)`` pairs, whatever ``other`` is."""
    people = db.from_sequence(["Alice", "Bob", "Charlie"], npartitions=2)
    fruit = ["Apple", "Apricot", "Banana"]
    expected = [("Apple", "Alice"), ("Apricot", "Alice"), ("Banana", "Bob")]
    first = operator.itemgetter(0)
    assert people.join(fruit, first).compute(**SYNC) == expected
    assert people.join(db.from_sequence(fruit, npartitions=1), first).compute(**SYNC) == expected
    assert people.join(gf.delayed(fruit), first).compute(**SYNC) == expected
    with pytest.raises(ValueError, match="one partition"):
        people.join(db.from_sequence(fruit, npartitions=2), first)


@pytest.mark.api("Bag.random_sample")
def test_random_sample_is_a_seeded_subsequence():
    data = list(range(1000))
    b = db.from_sequence(data, npartitions=7)
    s1 = b.random_sample(0.3, random_state=42).compute(**SYNC)
    assert s1 == b.random_sample(0.3, random_state=42).compute(**SYNC)
    assert s1 == sorted(set(s1)) and set(s1) <= set(data)
    assert 200 < len(s1) < 400  # 300 expected; a binomial(1000, 0.3) is within 100 of it
    assert b.random_sample(0.0).compute(**SYNC) == [] and b.random_sample(1.0).compute(**SYNC) == data
    with pytest.raises(ValueError, match="between 0 and 1"):
        b.random_sample(1.5)


@pytest.mark.api("Bag.repartition")
@settings(max_examples=20)
@given(ints, npartitions, st.integers(1, 12))
def test_repartition_keeps_order(data, n, m):
    b = db.from_sequence(data, npartitions=n).repartition(m)
    assert b.npartitions == m
    parts = b.map_partitions(lambda p: [list(p)]).compute(**SYNC)
    assert len(parts) == m and [x for p in parts for x in p] == data


@pytest.mark.api("Bag.str")
@settings(max_examples=20)
@given(words, npartitions)
def test_str_accessor(data, n):
    b = db.from_sequence(data, npartitions=n)
    assert b.str.upper().compute(**SYNC) == [w.upper() for w in data]
    assert b.str.split("p").compute(**SYNC) == [w.split("p") for w in data]
    assert b.str.match("p*").compute(**SYNC) == [w for w in data if w.startswith("p")]
    with pytest.raises(AttributeError, match="no method 'nosuch'"):
        b.str.nosuch()


def test_a_chain_of_elementwise_steps_fuses_into_one_task_per_partition():
    """from_sequence -> map -> filter -> pluck -> str.upper, 4 partitions: after the optimizer, each
    partition's output is one FusedTask reading only its data node.

        data_i -> map_i -> filter_i -> pluck_i -> upper_i      =>      data_i -> fused_i
    """
    b = db.from_sequence([(i, f"w{i}") for i in range(20)], npartitions=4)
    out = b.map(lambda t: (t[0] * 2, t[1])).filter(lambda t: t[0] % 3).pluck(1).str.upper()
    (opt,) = gf.optimize(out)
    graph = opt.__graphflow_graph__()
    assert len(graph) == 2 * out.npartitions  # a data node and one task per partition, nothing else
    for key in out.keys():
        node = graph[key]
        assert isinstance(node, FusedTask) and len(node.tasks) == 4
        assert [graph[d].__class__.__name__ for d in node.dependencies] == ["DataNode"]
    assert opt.compute(**SYNC) == out.compute(**SYNC) == [f"W{i}" for i in range(20) if (2 * i) % 3]
