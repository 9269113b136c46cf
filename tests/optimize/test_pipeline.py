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


def test_unconnected_requested_tasks_pass_every_stage_unchanged_in_the_order_asked():
    """100k delayed leaves through ``client.compute(list)``: nothing to cull, inline or fuse; the stages are
    skipped and ``order`` gives the requested order."""
    nodes = [Task(f"t{i}", inc, i) for i in range(6)]
    graph = TaskGraph(nodes)
    asked = ["t3", "t0", "t5", "t1", "t4", "t2"]
    out = optimize_graph(graph, asked)
    assert dict(out) == dict(graph)
    assert out.order_keys() == asked


def test_an_unrequested_node_is_still_culled_when_no_task_reads_another():
    graph = TaskGraph([Task("a", inc, 1), Task("b", inc, 2), DataNode("junk", 3)])
    assert sorted(optimize_graph(graph, ["b", "a"])) == ["a", "b"]
