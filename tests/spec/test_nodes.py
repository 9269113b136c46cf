import collections
import pickle
from operator import add

import pytest

from graphflow.errors import InvalidKeyError, NotCallableError
from graphflow.spec import DataNode, FusedTask, Ref, Task, funcname


def test_task_dependencies_computed_once_in_order_and_unique():
    t = Task("c", add, Ref("b"), Ref("a"))
    assert t.dependencies == ("b", "a")
    assert Task("d", lambda *xs: xs, Ref("a"), Ref("a"), 1).dependencies == ("a",)


def test_task_call_with_top_level_refs():
    assert Task("c", add, Ref("a"), 10)({"a": 1}) == 11


def test_nested_refs_in_containers_are_substituted():
    Point = collections.namedtuple("Point", "x y")
    t = Task(
        "n",
        lambda lst, tup, dct, st, pt: (lst, tup, dct, st, pt),
        [Ref("a"), [Ref("b")]],
        (Ref("a"), 2),
        {"k": Ref("b"), "v": [1]},
        {Ref("a")},
        Point(Ref("a"), Ref("b")),
    )
    assert set(t.dependencies) == {"a", "b"}
    lst, tup, dct, st, pt = t({"a": 1, "b": 2})
    assert lst == [1, [2]] and tup == (1, 2) and dct == {"k": 2, "v": [1]} and st == {1}
    assert pt == Point(1, 2) and type(pt) is Point


def test_refs_in_kwargs():
    t = Task("k", lambda x, y=0: x + y, 1, y=Ref("a"))
    assert t.dependencies == ("a",)
    assert t({"a": 5}) == 6


def test_function_kwargs_named_key_and_func_are_allowed():
    t = Task("k", lambda key, func: (key, func), key="K", func="F")
    assert t({}) == ("K", "F")


def test_task_rejects_non_callable_naming_the_key():
    with pytest.raises(NotCallableError, match="'x'.*not callable"):
        Task("x", 5, 1)


def test_task_rejects_invalid_key():
    with pytest.raises(InvalidKeyError):
        Task(3.5, add, 1, 2)


def test_nodes_are_immutable():
    t = Task("c", add, 1, 2)
    with pytest.raises(AttributeError):
        t.key = "d"
    with pytest.raises(AttributeError):
        t.func = max
    with pytest.raises(AttributeError):
        t.extra = 1  # slotted: no instance dict
    d = DataNode("a", 1)
    with pytest.raises(AttributeError):
        d.value = 2


def test_nodes_pickle_as_data():
    t = Task("c", add, Ref("a"), 2, **{})
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.key == "c" and t2.dependencies == ("a",) and t2({"a": 1}) == 3
    d2 = pickle.loads(pickle.dumps(DataNode(("x", 1), [1, 2])))
    assert d2.key == ("x", 1) and d2({}) == [1, 2]


def test_substitute_replaces_only_given_refs():
    t = Task("c", add, Ref("a"), Ref("b"))
    s = t.substitute({"a": 1})
    assert s.dependencies == ("b",)
    assert s({"b": 2}) == 3
    assert t.substitute({"zzz": 1}) is t


def test_fused_task_runs_chain_and_frees_intermediates():
    freed = []

    class Tracked:
        def __init__(self, n):
            self.n = n

        def __del__(self):
            freed.append(self.n)

    def step(x):
        assert len(freed) >= x.n - 1  # every earlier intermediate is already gone
        return Tracked(x.n + 1)

    tasks = [Task("t0", Tracked, 0)] + [Task(f"t{i}", step, Ref(f"t{i - 1}")) for i in range(1, 6)]
    fused = FusedTask("t5", tasks)
    assert fused.dependencies == ()
    assert fused({}).n == 5


def test_fused_task_external_dependencies_and_long_chain():
    inc = (lambda x: x + 1)
    tasks = [Task(("c", 0), inc, Ref("x"))] + [Task(("c", i), inc, Ref(("c", i - 1))) for i in range(1, 50_000)]
    fused = FusedTask(("c", 49_999), tasks)
    assert fused.dependencies == ("x",)
    assert fused({"x": 0}) == 50_000  # no recursion limit


def test_fused_task_error_names_inner_key():
    def boom(x):
        raise ValueError("bad")

    fused = FusedTask("b", [Task("a", boom, 1), Task("b", abs, Ref("a"))])
    with pytest.raises(ValueError) as info:
        fused({})
    assert info.value.__graphflow_key__ == "a"


def test_fused_task_last_key_must_match():
    with pytest.raises(ValueError):
        FusedTask("zzz", [Task("a", abs, 1)])


def test_ref_equality_and_hash():
    assert Ref("a") == Ref("a") and Ref("a") != Ref("b") and Ref("a") != "a"
    assert len({Ref("a"), Ref("a")}) == 1
    assert pickle.loads(pickle.dumps(Ref(("x", 1)))) == Ref(("x", 1))


def test_funcname():
    import functools

    assert funcname(len) == "len"
    assert funcname(lambda: 1) == "lambda"
    assert funcname(functools.partial(functools.partial(max, 1), 2)) == "max"


def test_fused_task_general_group_drops_each_value_after_its_last_reader():
    r"""
    a feeds b and c; c reads a and b (not a linear chain):

        a -> b -> c
        \________/
    """
    seen = []
    tasks = [Task("a", lambda: 1), Task("b", lambda a: a + 1, Ref("a")),
             Task("c", lambda a, b, x: seen.append((a, b, x)) or a + b + x, Ref("a"), Ref("b"), Ref("x"))]
    fused = FusedTask("c", tasks)
    assert fused.dependencies == ("x",)
    assert fused({"x": 10}) == 13 and seen == [(1, 2, 10)]


def test_a_pickled_task_keeps_its_dependencies_and_calls_the_same():
    """Dependencies travel with the task (no walk of its arguments on arrival), nested ones too."""
    flat = Task("f", add, Ref("a"), 2)
    nested = Task("n", sorted, [Ref("b"), (Ref("a"), 3)], key=len)
    plain = Task("p", add, 1, 2)
    for t in (flat, nested, plain):
        back = pickle.loads(pickle.dumps(t, protocol=5))
        assert type(back) is Task and back.key == t.key and back.dependencies == t.dependencies
    data = {"a": [1], "b": [1, 2]}
    assert pickle.loads(pickle.dumps(flat))({"a": 1}) == 3
    assert pickle.loads(pickle.dumps(nested))(data) == nested(data)
    assert pickle.loads(pickle.dumps(plain))({}) == 3
