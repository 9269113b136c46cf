import pickle
from operator import add

import pytest

from graphflow.errors import CycleError, InvalidGraphError, MissingDependencyError
from graphflow.spec import DataNode, Ref, Task, TaskGraph


def diamond():
    r"""
        d
       / \
      b   c
       \ /
        a
    """
    return TaskGraph([
        DataNode("a", 1),
        Task("b", add, Ref("a"), 1),
        Task("c", add, Ref("a"), 2),
        Task("d", add, Ref("b"), Ref("c")),
    ])


def test_mapping_interface_and_derived_maps():
    g = diamond()
    assert len(g) == 4 and "a" in g and list(g) == ["a", "b", "c", "d"]
    assert g.dependencies == {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    assert g.dependents == {"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}


def test_toposort_puts_dependencies_first():
    order = diamond().toposort()
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")


def test_index_is_integer_based():
    idx = diamond().index
    assert idx.keys == ["a", "b", "c", "d"]
    assert idx.deps == [(), (0,), (0,), (1, 2)]
    assert idx.dependents[0] == [1, 2]


def test_cycle_is_shown_in_the_message():
    g = TaskGraph([
        DataNode("x", 0),
        Task("a", add, Ref("c"), Ref("x")),
        Task("b", add, Ref("a"), 1),
        Task("c", add, Ref("b"), 1),
    ])
    with pytest.raises(CycleError) as info:
        g.validate()
    assert set(info.value.cycle) == {"a", "b", "c"}
    assert info.value.cycle[0] == info.value.cycle[-1]
    msg = str(info.value)
    assert "'a' -> 'b'" in msg or "'b' -> 'c'" in msg or "'c' -> 'a'" in msg
    assert isinstance(info.value, ValueError)


def test_self_cycle():
    with pytest.raises(CycleError, match="'a' -> 'a'"):
        TaskGraph([Task("a", abs, Ref("a"))]).validate()


def test_missing_dependency_names_both_keys():
    g = TaskGraph([Task("b", add, Ref("a"), 1), Task("a-typo", abs, 1)])
    with pytest.raises(MissingDependencyError) as info:
        g.validate()
    assert info.value.key == "b" and info.value.missing == "a"
    assert "'b' depends on 'a'" in str(info.value)


def test_values_must_be_nodes():
    with pytest.raises(InvalidGraphError, match="not a graphflow node"):
        TaskGraph({"a": 1})
    with pytest.raises(InvalidGraphError, match="key"):
        TaskGraph({"a": DataNode("b", 1)})


def test_graph_pickles_with_order():
    g = diamond().with_order([0, 1, 2, 3])
    g2 = pickle.loads(pickle.dumps(g))
    assert list(g2) == list(g) and g2.priorities == [0, 1, 2, 3]
    assert g2["d"]({"b": 2, "c": 3}) == 5


def test_with_order_shares_nodes_and_sorts_keys():
    g = diamond()
    o = g.with_order([3, 1, 2, 0])
    assert o["a"] is g["a"]
    assert o.order_keys()[0] == "d"
    with pytest.raises(ValueError):
        g.with_order([0])
