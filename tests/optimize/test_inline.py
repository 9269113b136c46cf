import numpy as np

from graphflow.optimize import inline_constants, is_cheap_constant
from graphflow.spec import DataNode, Ref, Task, TaskGraph

from .graphs import diamond


def test_cheap_constants_move_into_readers():
    g2 = inline_constants(diamond(), ["d"])
    assert "a" not in g2
    assert g2["b"].dependencies == () and g2["d"].dependencies == ("b", "c")
    assert g2["b"]({}) == 2


def test_outputs_are_not_inlined():
    g2 = inline_constants(diamond(), ["d", "a"])
    assert "a" in g2


def test_large_values_stay_nodes():
    g = TaskGraph([DataNode("arr", np.ones(10)), Task("s", np.sum, Ref("arr"))])
    assert inline_constants(g, ["s"]) is g


def test_is_cheap_constant():
    assert all(is_cheap_constant(v) for v in (1, 2.5, None, True, "short", b"x", (1, "a")))
    assert not any(is_cheap_constant(v) for v in ("x" * 5000, [1], {"a": 1}, tuple(range(100)), np.ones(1)))


def test_inline_nested_refs():
    g = TaskGraph([DataNode("n", 3), Task("s", sum, [Ref("n"), 1])])
    g2 = inline_constants(g, ["s"])
    assert list(g2) == ["s"] and g2["s"]({}) == 4
