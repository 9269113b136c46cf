import pytest

import graphflow as gf
from graphflow.optimize import STAGE_NAMES, optimize_graph
from graphflow.spec import DataNode, FusedTask, Ref, Task, TaskGraph

from .graphs import inc


def small():
    return TaskGraph([DataNode("a", 1), Task("b", inc, Ref("a")), Task("c", inc, Ref("b")),
                      Task("junk", inc, Ref("a"))])


def test_stages_in_order():
    assert STAGE_NAMES == ("cull", "inline", "blockwise", "fuse", "order")


def test_stop_after_each_stage():
    g = small()
    assert sorted(optimize_graph(g, ["c"], until="cull")) == ["a", "b", "c"]
    assert sorted(optimize_graph(g, ["c"], until="inline")) == ["b", "c"]
    fused = optimize_graph(g, ["c"], until="fuse")
    assert list(fused) == ["c"] and isinstance(fused["c"], FusedTask) and fused.priorities is None
    final = optimize_graph(g, ["c"])
    assert final.priorities == [0] and final["c"]({}) == 3


def test_config_switches_stages_off():
    with gf.config.set({"optimization.fuse": False, "optimization.inline": False}):
        g = optimize_graph(small(), ["c"])
    assert sorted(g) == ["a", "b", "c"] and g.priorities is not None


def test_explicit_stage_list_and_errors():
    assert sorted(optimize_graph(small(), ["c"], stages=["cull"])) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="unknown optimizer stage"):
        optimize_graph(small(), ["c"], until="nope")
    with pytest.raises(ValueError, match="unknown optimizer stage"):
        optimize_graph(small(), ["c"], stages=["nope"])


def test_accepts_plain_mapping():
    g = optimize_graph({"a": DataNode("a", 1), "b": Task("b", inc, Ref("a"))}, ["b"])
    assert isinstance(g, TaskGraph)
