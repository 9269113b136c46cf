"""How tasks travel: session-only functions as bytes pickled once, the user's own code so only workers import it."""

import functools
import operator
import pickle
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest

import graphflow.client.remote as gf_remote
from graphflow.client.remote import (
    SCAN_BUDGET, NamedFunction, PickledFunction, SealedNode, by_value, needs_by_value, portable, wrap_functions,
)
from graphflow.client.ship import EVERYWHERE, ModuleShipper, is_local_module, local_modules, module_kind
from graphflow.spec import DataNode, FusedTask, Ref, Task


def test_importable_functions_are_left_alone():
    assert by_value(len) is len
    assert not needs_by_value(len) and not needs_by_value(test_importable_functions_are_left_alone)


def test_lambdas_and_locals_are_wrapped_once_and_plain_picklable():
    def local(x):
        return x - 1

    for func in (lambda x: x * 3, local):
        wrapped = by_value(func)
        assert isinstance(wrapped, PickledFunction) and by_value(func) is wrapped
        data = pickle.dumps(wrapped)  # the plain pickler: no cloudpickle needed for the message
        assert pickle.loads(data)(5) in (15, 4)


def test_wrap_functions_rewrites_tasks_and_fused_tasks():
    def double(x):
        return 2 * x

    a = Task("a", double, 3)
    b = Task("b", double, Ref("a"))
    wrapped = wrap_functions(a)
    assert isinstance(wrapped.func, PickledFunction) and wrapped({}) == 6
    fused = wrap_functions(FusedTask("b", [a, b]))
    assert fused({}) == 12 and all(isinstance(t.func, PickledFunction) for t in fused.tasks)
    node = DataNode("d", 1)
    assert wrap_functions(node) is node
    plain = Task("p", abs, -1)
    assert wrap_functions(plain) is plain


def test_a_main_function_runs_in_a_process_that_never_saw_it(tmp_path):
    script = textwrap.dedent("""
        import pickle, sys
        from graphflow.client.remote import by_value
        def triple(x):
            return 3 * x
        sys.stdout.buffer.write(pickle.dumps(by_value(triple)))
    """)
    payload = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    assert pickle.loads(payload)(4) == 12


# ---------------------------------------------------------------- the client's own modules

USERMOD = """
    class Point:
        def __init__(self, x):
            self.x = x


    def double(x):
        return 2 * x
"""


@pytest.fixture
def usermod(tmp_path, monkeypatch):
    """A module of a fresh name that only this process can import (its folder is on our sys.path only)."""
    name = f"gf_remote_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(USERMOD))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


def run_elsewhere(payload: bytes) -> str:
    """Unpickle ``payload`` in a fresh interpreter that lacks the test's module, call it with {}, print what happens."""
    script = textwrap.dedent("""
        import pickle, sys
        obj = pickle.loads(sys.stdin.buffer.read())  # loading alone never imports the user's module
        try:
            print("ok", obj({}) if not isinstance(obj, tuple) else obj[0](*obj[1:]))
        except Exception as exc:
            print(type(exc).__name__, getattr(exc, "module", None), exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, check=True)
    return out.stdout.decode()


def test_modules_are_told_apart_by_where_their_file_is(usermod):
    import json

    import numpy

    assert is_local_module(usermod.__name__) and module_kind(usermod.__name__) == "local"
    assert not any(is_local_module(m.__name__) for m in (json, numpy, pytest, gf_remote))
    assert not is_local_module("__main__") and not is_local_module("not_imported_anywhere")
    assert usermod.__name__ in local_modules()
    assert [module_kind(m.__name__) for m in (json, numpy, gf_remote, sys)] == ["everywhere"] * 4
    assert module_kind(pytest.__name__) == "installed"  # a worker has it only if its environment matches
    assert set(EVERYWHERE) >= {"graphflow", "numpy", "pyarrow"}


def test_what_an_installed_library_gives_travels_by_name_or_sealed():
    """pytest stands for any library the client has and a worker may not (pandas, scipy, ...)."""
    task = wrap_functions(Task("t", pytest.approx, 1.0))
    assert isinstance(task.func, NamedFunction) and task.func.module.startswith("_pytest")
    sealed = wrap_functions(Task("s", repr, pytest.approx(2.0)))
    assert isinstance(sealed, SealedNode) and sealed({}) == repr(pytest.approx(2.0))


def test_a_local_function_travels_by_name_and_is_imported_where_it_runs(usermod):
    task = wrap_functions(Task("t", usermod.double, 3))
    assert isinstance(task.func, NamedFunction) and task({}) == 6
    assert wrap_functions(Task("t2", usermod.double, 4)).func is task.func  # one wrapper per function
    out = run_elsewhere(pickle.dumps(task))
    assert out.startswith(f"SerializationError {usermod.__name__} function {usermod.__name__}.double")
    assert usermod.__file__ in out and "ship_modules=True" in out


def test_a_node_holding_the_users_objects_is_sealed_and_opened_where_it_runs(usermod):
    task = Task("t", getattr, Ref("p"), "x")
    value = wrap_functions(DataNode("p", usermod.Point(5)))
    assert isinstance(value, SealedNode) and value.key == "p" and value({}).x == 5
    sealed = wrap_functions(Task("s", operator.add, Ref("a"), usermod.Point(1)))
    assert isinstance(sealed, SealedNode) and sealed.dependencies == ("a",)
    assert wrap_functions(task) is task
    out = run_elsewhere(pickle.dumps(sealed))
    assert out.startswith(f"SerializationError {usermod.__name__} task 's' cannot be loaded on host")
    chain = [Task("e", getattr, usermod.Point(7), "x"), Task("f", operator.neg, Ref("e"))]
    fused = wrap_functions(FusedTask("f", chain))
    assert isinstance(fused, SealedNode) and fused({}) == -7
    made = wrap_functions(Task("m", usermod.Point, 2))  # a class called as the task's function goes by name
    assert isinstance(made.func, NamedFunction) and made({}).x == 2


def test_plain_arguments_are_never_sealed_and_doubtful_ones_are():
    arr = np.arange(10)
    for node in (Task("a", abs, -1), Task("b", operator.add, Ref("a"), [1, (2.0, {"k": Ref("x")})]),
                 Task("c", np.sum, arr), Task("d", functools.partial(operator.add, 1), Ref("a")),
                 DataNode("e", {"x": slice(1, 2)})):
        assert wrap_functions(node) is node
    for node in (Task("f", len, np.array([object()], dtype=object)),  # an object array may hold anything
                 Task("g", len, list(range(SCAN_BUDGET + 1)))):  # big literals are pickled once either way
        assert isinstance(wrap_functions(node), SealedNode)
    assert portable(functools.partial(Task, "k"))  # graphflow's own classes are everywhere
    assert not portable(functools.partial(run_elsewhere, b""))  # this test module is local: workers may lack it


def test_ship_mode_sends_local_functions_by_value(usermod):
    shipper = ModuleShipper()
    try:
        shipper.refresh()
        assert usermod.__name__ in shipper.registered
        task = wrap_functions(Task("t", usermod.double, 3), ship=True)
        assert isinstance(task.func, PickledFunction)
        assert run_elsewhere(pickle.dumps(task)).split() == ["ok", "6"]
        sealed = wrap_functions(Task("s", getattr, usermod.Point(8), "x"), ship=True)
        assert run_elsewhere(pickle.dumps(sealed)).split() == ["ok", "8"]
    finally:
        shipper.close()
    import cloudpickle

    assert usermod.__name__ not in cloudpickle.list_registry_pickle_by_value()


def test_a_shipped_package_takes_its_submodules_along(tmp_path, monkeypatch):
    name = f"gf_pkg_{uuid.uuid4().hex[:8]}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "sub.py").write_text("def quadruple(x):\n    return 4 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sub = __import__(f"{name}.sub", fromlist=["quadruple"])
    shipper = ModuleShipper()
    try:
        shipper.refresh()
        assert name in shipper.registered and sub.__name__ not in shipper.registered
        task = wrap_functions(Task("t", sub.quadruple, 2), ship=True)
        assert run_elsewhere(pickle.dumps(task)).split() == ["ok", "8"]
    finally:
        shipper.close()
        for mod in (sub.__name__, name):
            sys.modules.pop(mod, None)


def test_everywhere_lists_what_graphflow_requires():
    """A new requirement in pyproject.toml is a library every graphflow process has: list it in EVERYWHERE."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    names = re.findall(r'^\s*"([\w-]+)', block, re.M)
    modules = {"pyzmq": "zmq"}  # distribution name -> top-level module, where they differ
    required = {modules.get(name, name) for name in names}
    assert "numpy" in required
    assert EVERYWHERE == {"graphflow"} | required
