"""Dask graphs <-> graphflow graphs: every form Dask writes converts to nodes that compute the same values."""

from operator import add, mul

import pytest

import graphflow as gf
from graphflow.interop.convert import from_dask, to_dask
from graphflow.local import get_sync
from graphflow.optimize import optimize_graph
from graphflow.spec import DataNode, FusedTask, Ref, Task, TaskGraph

dask = pytest.importorskip("dask")
from dask._task_spec import Alias, Dict, List, Task as DTask, TaskRef  # noqa: E402
from dask._task_spec import DataNode as DDataNode  # noqa: E402


def _run(dsk, keys):
    return gf.dask_get(dsk, keys), dask.threaded.get(dsk, keys)


def test_old_tuple_form_reads_keys_as_references():
    """Strings, ints and tuples equal to keys are references; callable-first tuples are nested calls;
    dict values stay literal, as Dask reads them."""
    dsk = {
        "a": 1,
        5: 10,                                   # an int key: not a graphflow key, renamed
        ("x", 0): (add, "a", 5),                 # 11
        ("x", 1.5): (mul, ("x", 0), 2),          # a float in a tuple key: renamed too
        "lst": (sum, [("x", 0), ("x", 1.5), 7]),  # refs inside a list: 11 + 22 + 7
        "nested": (add, (mul, "a", 3), "a"),     # a nested call: 3 + 1
        "lit": (dict, {"k": "a"}),               # dict values are not references
        "alias": "lst",                          # a key as the whole value: an alias
        "text": "not-a-key",                     # a plain value
    }
    keys = [["lst", "nested"], "lit", "alias", "text", ("x", 1.5), 5]
    got, want = _run(dsk, keys)
    assert got == want == ((40, 4), {"k": "a"}, 40, "not-a-key", 22, 10)


def test_task_spec_nodes_and_containers():
    dsk = {
        "a": DDataNode("a", 2),
        "b": DTask("b", add, TaskRef("a"), 3),
        "c": DTask("c", sum, List(TaskRef("a"), TaskRef("b"), 1)),
        "d": DTask("d", dict, Dict({"x": TaskRef("c")})),
        "e": DTask("e", add, DTask(None, mul, TaskRef("b"), 2), Alias("a")),  # a nested task and an inline alias
        "f": Alias("f", "e"),
    }
    got, want = _run(dsk, ["c", "d", "e", "f"])
    assert got == want == (8, {"x": 8}, 12, 12)
    g = from_dask(dsk).graph
    assert g["c"].dependencies == ("a", "b") and isinstance(g["c"].args[0], list)
    assert g["f"].dependencies == ("e",)


def test_fused_subgraph_becomes_a_fused_task():
    """Dask's ``Task.fuse`` (what its linear and blockwise fusion make) maps to one FusedTask."""
    inner = [DTask("p", add, TaskRef("ext"), 1), DTask("q", mul, TaskRef("p"), 10), DTask("r", add, TaskRef("q"), 1)]
    fused = DTask.fuse(*inner, key="pqr")
    dsk = {"ext": DDataNode("ext", 4), "pqr": fused, "out": DTask("out", add, TaskRef("pqr"), 0)}
    g = from_dask(dsk).graph
    assert type(g["pqr"]) is FusedTask and [t.key for t in g["pqr"].tasks] == ["p", "q", "pqr"]
    assert g["pqr"].dependencies == ("ext",)
    got, want = _run(dsk, ["out"])
    assert got == want == (51,)


def test_blockwise_subgraph_names_its_inputs_locally():
    """dask.array's fused blocks call their inputs ``__dask_blockwise__N``: those names are the task's arguments."""
    da = pytest.importorskip("dask.array")
    x = da.arange(12, chunks=4)
    y = ((x + 1) * 2).sum()
    assert y.compute(scheduler=gf.dask_get) == y.compute(scheduler="sync") == 156


def test_to_dask_runs_on_dask_and_comes_back_unchanged():
    nodes = [DataNode("a", 3), Task("b", add, Ref("a"), 1), Task("c", sum, [Ref("a"), Ref("b")]),
             Task("d", pow, Ref("c"), 2)]
    g = TaskGraph(nodes)
    opt = optimize_graph(g, ["d"], stages=["fuse"])  # a FusedTask: Dask runs it through the generic wrapper
    for graph in (g, opt):
        dsk = to_dask(graph)
        assert dask.threaded.get(dsk, ["d"]) == (49,)
        back = from_dask(dsk).graph
        assert get_sync(back, ["d"]) == [49]
    assert from_dask(to_dask(opt)).graph["d"] is opt["d"]  # a graphflow node travels through Dask intact


def test_task_error_through_dask_names_the_graphflow_key():
    def boom(x):
        raise KeyError(f"no {x}")

    dsk = to_dask(TaskGraph([DataNode("a", 1), Task("bad", boom, Ref("a"))]))
    with pytest.raises(KeyError) as info:
        dask.get(dsk, "bad")
    assert any("'bad'" in note for note in info.value.__notes__)
