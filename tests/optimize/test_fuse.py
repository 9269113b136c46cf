from graphflow.optimize import fuse_linear
from graphflow.spec import FusedTask, Ref, Task, TaskGraph

from .graphs import chain, chains_into_tree, diamond, inc


def test_chain_fuses_into_one_task_under_the_tail_key():
    g, tail = chain(10)
    f = fuse_linear(g, [tail])
    # x0 is a DataNode: it stays; x1..x9 become one task.
    assert list(f) == ["x0", tail]
    assert isinstance(f[tail], FusedTask) and len(f[tail].tasks) == 9
    assert f[tail]({"x0": 0}) == 9


def test_outputs_in_the_middle_of_a_chain_are_kept():
    g, tail = chain(10)
    f = fuse_linear(g, [tail, "x5"])
    assert "x5" in f and tail in f
    assert f["x5"]({"x0": 0}) == 5
    assert f[tail].dependencies == ("x5",)


def test_diamond_is_not_fused():
    g = diamond()
    assert fuse_linear(g, ["d"]) is g


def test_task_count_after_fusion_of_chains_into_tree():
    r"""
    64 chains of 10 tasks, tails summed by a tree of fan-in 8:

        agg
       / | \
     agg ... agg        (8 + 1 aggregations)
      |
    c9 <- c8 <- ... <- c0   (each chain becomes one fused task)
    """
    g, root = chains_into_tree(64, 10)
    f = fuse_linear(g, [root])
    assert len(g) == 64 * 10 + 9
    assert len(f) == 64 + 9


def test_fusing_twice_flattens():
    g, tail = chain(6)
    once = fuse_linear(g, [tail, "x3"])
    twice = fuse_linear(once, [tail])
    assert len(twice[tail].tasks) == 5
    assert twice[tail]({"x0": 0}) == 5


def test_task_reading_two_inputs_is_not_fused():
    g = TaskGraph([Task("a", inc, 1), Task("b", inc, 2), Task("c", lambda x, y: x + y, Ref("a"), Ref("b"))])
    assert fuse_linear(g, ["c"]) is g


def test_long_chain_fuses_without_recursion():
    g, tail = chain(100_000)
    f = fuse_linear(g, [tail])
    assert len(f) == 2 and f[tail]({"x0": 0}) == 99_999


def test_dependents_outside_chain_still_resolve():
    g = TaskGraph([Task("a", inc, 0), Task("b", inc, Ref("a")), Task("c", inc, Ref("b")),
                   Task("d", inc, Ref("c")), Task("e", inc, Ref("c"))])
    f = fuse_linear(g, ["d", "e"])
    assert set(f) == {"c", "d", "e"}
    assert f["c"]({}) == 3
