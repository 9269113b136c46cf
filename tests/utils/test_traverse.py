"""graphflow.utils.traverse: one walk over nested containers for every caller (gather, cancel, compute...)."""

from collections import OrderedDict, namedtuple

from graphflow.utils.traverse import DROP, identity, leaves, rebuild


def is_int(x):
    return type(x) is int


def test_leaves_walk_lists_tuples_sets_frozensets_and_dict_values_in_order():
    obj = [1, (2, [3]), {4}, frozenset([5]), {"a": 6, "b": [7]}, "eight", 9.0]
    assert leaves(obj, is_int) == [1, 2, 3, 4, 5, 6, 7]
    assert leaves(3, is_int) == [3] and leaves("x", is_int) == []


def test_rebuild_replaces_leaves_and_keeps_each_container_type():
    obj = [1, (2, [3]), {4}, frozenset([5]), {"a": 6}]
    out = rebuild(obj, is_int, lambda x: x * 10)
    assert out == [10, (20, [30]), {40}, frozenset([50]), {"a": 60}]
    assert [type(x) for x in out] == [int, tuple, set, frozenset, dict]


def test_rebuild_returns_the_same_objects_when_nothing_changes():
    inner = ["a", ("b",)]
    obj = {"k": inner}
    assert rebuild(obj, is_int, lambda x: x) is obj
    out = rebuild([inner, 1], is_int, lambda x: x + 1)
    assert out[0] is inner and out[1] == 2


def test_drop_removes_a_leaf_from_its_container():
    assert rebuild([1, 2, (3, 4), {"a": 1, "b": 2}], is_int, lambda x: DROP if x % 2 else x) == [2, (4,), {"b": 2}]


def test_subclasses_of_containers_are_leaves_unless_the_test_says_otherwise():
    Point = namedtuple("Point", "x y")
    ordered = OrderedDict(a=1)
    assert leaves([Point(1, 2), ordered], is_int) == []
    assert rebuild([Point(1, 2)], is_int, lambda x: 0)[0] == Point(1, 2)


def test_identity():
    marker = object()
    assert identity(marker) is marker
