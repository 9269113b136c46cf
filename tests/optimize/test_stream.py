"""Streaming inside fused chains: steps that declare a streaming variant hand iterators to readers that take them."""

import functools

import pytest

from graphflow.optimize import fuse_linear
from graphflow.optimize.stream import stream_chain, streaming_variant, takes_iterator
from graphflow.spec import DataNode, FusedTask, Ref, Task, TaskGraph

SEEN = []  # what each streaming step was handed (its type), to see the iterator travel


def iter_double(part):
    SEEN.append(type(part).__name__)
    return (2 * x for x in part)


def double(part):
    SEEN.append(type(part).__name__)
    return [2 * x for x in part]


double.__graphflow_stream__ = iter_double
double.__graphflow_takes_iterator__ = True


def total(offset, part):
    SEEN.append(type(part).__name__)
    return offset + sum(part)


total.__graphflow_takes_iterator__ = True


def length(part):  # reads its input twice-ish (len): takes no iterator
    return len(part)


def graph(last, *extra):
    r"""
        src -> a (double) -> b (double) -> c (last)
    """
    return TaskGraph([DataNode("src", [1, 2, 3]), Task("a", double, Ref("src")), Task("b", double, Ref("a")),
                      Task("c", last, *extra, Ref("b"))])


def test_every_step_before_a_reader_that_takes_iterators_streams():
    SEEN.clear()
    f = fuse_linear(graph(functools.partial(total, 100)), ["c"])
    node = f["c"]
    assert isinstance(node, FusedTask)
    assert [t.func for t in node.tasks[:2]] == [iter_double, iter_double]
    assert node({"src": [1, 2, 3]}) == 100 + 24
    assert SEEN == ["list", "generator", "generator"]  # a reads the list, b and total read generators


def test_a_reader_that_needs_a_list_gets_one_and_the_last_step_never_streams():
    SEEN.clear()
    f = fuse_linear(graph(length), ["c"])
    node = f["c"]
    assert [t.func for t in node.tasks] == [iter_double, double, length]  # b's reader (len) needs a list
    assert node({"src": [1, 2, 3]}) == 3
    g = fuse_linear(TaskGraph([DataNode("src", [1]), Task("a", double, Ref("src")),
                               Task("b", double, Ref("a"))]), ["b"])
    assert g["b"].tasks[-1].func is double and g["b"]({"src": [1]}) == [4]


def test_a_result_read_by_two_steps_does_not_stream():
    tasks = [Task("a", double, Ref("src")), Task("b", total, 0, Ref("a")), Task("c", total, Ref("b"), Ref("a"))]
    assert stream_chain(tasks) == tuple(tasks)


def test_variants_are_found_through_partials():
    p = functools.partial(functools.partial(double))
    v = streaming_variant(p)
    assert isinstance(v, functools.partial) and list(v([1])) == [2]
    assert takes_iterator(functools.partial(total, 1)) and not takes_iterator(length)
    assert streaming_variant(length) is None


def test_an_error_in_a_streamed_step_raises_from_the_chain():
    def boom(x):
        raise KeyError("bad element")

    def iter_boom(part):
        return (boom(x) for x in part)

    def boom_part(part):
        return [boom(x) for x in part]

    boom_part.__graphflow_stream__ = iter_boom
    f = fuse_linear(graph(functools.partial(total, 0)), ["c"])
    g = TaskGraph([DataNode("src", [1]), Task("a", boom_part, Ref("src")), Task("b", total, 0, Ref("a"))])
    node = fuse_linear(g, ["b"])["b"]
    assert node.tasks[0].func is iter_boom
    with pytest.raises(KeyError, match="bad element"):
        node({"src": [1]})
    assert f["c"]({"src": [1]}) == 4
