"""Session-only functions travel as bytes pickled once per function."""

import pickle
import subprocess
import sys
import textwrap

from graphflow.client.remote import PickledFunction, by_value, needs_by_value, wrap_functions
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
