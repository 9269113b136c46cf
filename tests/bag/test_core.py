"""The Bag itself: creation, compute on every local executor, take, iteration, persist, display, delayed."""

import operator

import pytest
from hypothesis import given, settings

import graphflow as gf
import graphflow.bag as db

from .strategies import ints, npartitions

SYNC = {"scheduler": "sync"}


@pytest.mark.api("db.from_sequence", "db.Bag")
@settings(max_examples=20)
@given(ints, npartitions)
def test_from_sequence_partitioning(data, n):
    b = db.from_sequence(data, npartitions=n)
    assert b.npartitions <= n and b.compute(**SYNC) == data
    sized = db.from_sequence(data, partition_size=3)
    assert sized.npartitions == max(1, -(-len(data) // 3)) and sized.compute(**SYNC) == data
    with pytest.raises(ValueError, match="not both"):
        db.from_sequence(data, npartitions=2, partition_size=2)


def test_default_scheduler_is_the_process_pool_and_others_agree():
    b = db.from_sequence(range(100), npartitions=4).map(lambda x: x * x)  # a lambda: shipped by value
    assert type(b).__graphflow_scheduler__ == "processes"
    assert gf.base.get_scheduler(None, [b]) is gf.base.get_scheduler("processes")
    expected = [x * x for x in range(100)]
    assert b.compute() == b.compute(scheduler="threads") == b.compute(**SYNC) == expected


@pytest.mark.api("db.range", "db.concat", "db.from_delayed")
def test_range_concat_from_delayed():
    assert db.range(10, npartitions=3).compute(**SYNC) == list(range(10))
    a, b = db.range(3, npartitions=2), db.from_sequence("xy", npartitions=1)
    c = db.concat([a, b])
    assert c.npartitions == 3 and c.compute(**SYNC) == [0, 1, 2, "x", "y"]
    parts = [gf.delayed(list)(range(i)) for i in range(4)]
    fd = db.from_delayed(parts)
    assert fd.npartitions == 4 and fd.compute(**SYNC) == [0, 0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="Delayed"):
        db.from_delayed([[1, 2]])
    with pytest.raises(TypeError, match="not iterable"):
        db.from_delayed([gf.delayed(5)]).compute(**SYNC)


@pytest.mark.api("Bag.take")
def test_take_reads_only_the_partitions_it_needs():
    def boom(x):
        if x >= 5:
            raise RuntimeError("partition 1 was computed")
        return x

    b = db.from_sequence(range(10), npartitions=2).map(boom)
    with gf.config.set(scheduler="sync"):
        assert b.take(3) == (0, 1, 2)
        with pytest.warns(UserWarning, match="2 elements"):
            assert db.from_sequence(range(4), npartitions=2).take(5, npartitions=1) == (0, 1)
        assert db.from_sequence(range(4), npartitions=2).take(5, npartitions=-1, warn=False) == (0, 1, 2, 3)
        lazy = b.take(2, compute=False)
        assert isinstance(lazy, db.Bag) and lazy.compute() == [0, 1]


@pytest.mark.api("Bag.persist", "Bag.visualize")
def test_iter_persist_repr_and_visualize(tmp_path):
    b = db.from_sequence(range(6), npartitions=3).map(operator.neg)
    with gf.config.set(scheduler="sync"):
        assert list(b) == [0, -1, -2, -3, -4, -5]
        p = b.persist()
    assert p.keys() == b.keys() and p.compute(**SYNC) == list(b.compute(**SYNC))
    assert all(type(n).__name__ == "DataNode" for n in p.__graphflow_graph__().values())
    assert "npartitions=3" in repr(b) and "npartitions: 3" in b._repr_html_()
    out = b.visualize(filename=str(tmp_path / "bag.dot"))
    assert "map" in open(out).read()


@pytest.mark.api("Bag.to_delayed")
def test_to_delayed_is_one_fused_task_per_partition():
    b = db.from_sequence(range(9), npartitions=3).map(operator.neg).filter(lambda x: x % 2)
    parts = b.to_delayed()
    assert [d.compute(**SYNC) for d in parts] == [[-1], [-3, -5], [-7]]
    graph = parts[0].__graphflow_graph__()
    assert type(graph[parts[0].key]).__name__ == "FusedTask"
    unopt = b.to_delayed(optimize_graph=False)[0].__graphflow_graph__()
    assert len(unopt) > len(graph)


@pytest.mark.api("db.assert_eq")
def test_assert_eq():
    db.assert_eq(db.from_sequence([3, 1, 2], npartitions=2), [1, 2, 3])
    db.assert_eq(db.from_sequence([{"a": 1}], npartitions=1), [{"a": 1}])
    with pytest.raises(AssertionError):
        db.assert_eq(db.from_sequence([1, 2]), [1, 3])


def test_bags_pickle_and_mix_with_delayed():
    import pickle

    b = db.from_sequence(range(5), npartitions=2).map(operator.mul, 2)
    assert pickle.loads(pickle.dumps(b)).compute(**SYNC) == [0, 2, 4, 6, 8]
    total = gf.delayed(sum)(b)  # a bag inside a delayed call is its computed list
    assert total.compute(**SYNC) == 20
    assert gf.compute(b.sum(), b.count(), **SYNC) == (20, 5)
