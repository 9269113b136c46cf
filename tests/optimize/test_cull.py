import pytest

from graphflow.errors import MissingDependencyError
from graphflow.optimize import cull

from .graphs import diamond, tree_reduction


def test_cull_keeps_only_ancestors_in_order():
    g = diamond()
    assert list(cull(g, ["b"])) == ["a", "b"]
    assert list(cull(g, ["c", "b"])) == ["a", "b", "c"]


def test_cull_returns_same_graph_when_nothing_dropped():
    g = diamond()
    assert cull(g, ["d"]) is g


def test_cull_subtree_of_reduction():
    g, root = tree_reduction(64)
    sub = cull(g, [("sum", 0, 0)])
    assert len(sub) == 9
    assert len(cull(g, [root])) == len(g)


def test_cull_missing_output_key():
    with pytest.raises(MissingDependencyError, match="requested key 'nope'"):
        cull(diamond(), ["nope"])
