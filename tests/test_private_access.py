"""No module of graphflow reaches into another's underscored members.

Modules talk to each other through public names (`SchedulerState.transition`,
`WorkerState.report_finished`, `Client.ask`, `Cluster.scale_to`, `Node.deps`,
`DataFrame.expr`, ...); a leading underscore means "this object's own".  Every
module of the package is parsed with `ast`, and these are refused, each
reported as ``file:line``:

* ``obj._name`` (read or written) where ``obj`` is not the ``self`` or ``cls``
  of the method it appears in (nested functions and lambdas of a method count
  as the method), nor a class defined at the top of the same module (so
  ``SchedulerState._transition_released_waiting`` in its own module's
  transition table is fine);
* ``getattr(obj, "_name")``, ``setattr`` and ``hasattr`` likewise;
* ``from module import _name``.

Dunder names (``__class__``, ``__graphflow_actor__``) are not private.  For
example ``def f(s): s._note(...)`` is refused at its line and ``def m(self):
self._note(...)`` inside a class is not; a plain function whose first
parameter is merely called ``self`` (``def handler(self, ev)``) is refused too,
since ``self`` only counts as the first parameter of a method.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graphflow",)
# Third-party privates with no public equivalent, as exact "file: text" findings (the rule is about our own
# modules; these are another library's API that we cannot rename):
# pyarrow has no public way to build a compute Expression calling any kernel by name; Expression._call is it.
THIRD_PARTY = {"graphflow/dataframe/colexpr.py: pc.Expression._call",
               # a named tuple's ``_fields`` and ``_replace`` are its public API (named so not to clash with fields):
               "graphflow/spec/nodes.py: type(obj)._fields", "graphflow/delayed.py: t._fields",
               "graphflow/interop/convert.py: type(obj)._fields", "graphflow/comm/addresses.py: parts._replace",
               # os._exit is the documented way out of a child without running cleanups:
               "graphflow/utils/processes.py: os._exit",
               # sys._current_frames is the documented way to read another thread's stack (client.call_stack):
               "graphflow/worker/admin.py: sys._current_frames",
               # Dask's task-spec internals the graph converter must read (dask has no public equivalent):
               "graphflow/interop/convert.py: _spec._execute_subgraph",
               "graphflow/interop/convert.py: _spec._identity_cast",
               "graphflow/interop/dask.py: from dask._expr import _HLGExprSequence",
               # tornado's request summary for log lines; numpy's masked-array mask buffer; pyarrow's IPC readers
               # that map a block without copying (no public API takes a memory map):
               "graphflow/diagnostics/dashboard/app.py: handler._request_summary", "graphflow/sizeof.py: arr._mask",
               "graphflow/store/blocks.py: s._batch_from_ipc", "graphflow/store/blocks.py: s._table_from_ipc",
               "graphflow/store/blocks.py: s._array_from_ipc", "graphflow/store/blocks.py: s._chunked_from_ipc",
               # pandas' column accessor without building a Series (public iloc[:, j] costs 50x: a few columns
               # x 20 partitions of every map_partitions result); assemble.column_values falls back to iloc:
               "graphflow/dataframe/assemble.py: frame._get_column_array"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class _Finder(ast.NodeVisitor):
    """Collect ``(line, text)`` of every reach into another object's or module's underscored names."""

    def __init__(self, tree: ast.Module):
        self.found: list = []
        self.own = set()  # the names that are "this object" where we are: self/cls of the enclosing method
        self.module_classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        self.in_class_body = False

    def _function(self, node) -> None:
        saved, saved_body = self.own, self.in_class_body
        args = node.args.posonlyargs + node.args.args
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
        if self.in_class_body and args and not static:
            self.own = self.own | {args[0].arg}
        self.in_class_body = False
        self.generic_visit(node)
        self.own, self.in_class_body = saved, saved_body

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        saved = self.in_class_body
        self.in_class_body = True
        self.generic_visit(node)
        self.in_class_body = saved

    def visit_Lambda(self, node: ast.Lambda) -> None:
        saved = self.in_class_body
        self.in_class_body = False
        self.generic_visit(node)
        self.in_class_body = saved

    def _allowed(self, obj: ast.expr) -> bool:
        return isinstance(obj, ast.Name) and (obj.id in self.own or obj.id in self.module_classes)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _private(node.attr) and not self._allowed(node.value):
            self.found.append((node.lineno, ast.unparse(node)))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and _private(node.args[1].value) and not self._allowed(node.args[0])):
            self.found.append((node.lineno, f"{ast.unparse(node.args[0])}.{node.args[1].value}"))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if _private(alias.name):
                self.found.append((node.lineno, f"from {'.' * node.level}{node.module or ''} import {alias.name}"))


def private_accesses(source: str) -> list:
    """``[(line, text)]`` of the reaches into other objects' underscored members in ``source``."""
    tree = ast.parse(source)
    finder = _Finder(tree)
    finder.visit(tree)
    return sorted(finder.found)


def _modules() -> list:
    return sorted(path for package in PACKAGES
                  for path in ([ROOT / package] if package.endswith(".py") else (ROOT / package).rglob("*.py")))


def test_the_rule_itself():
    assert private_accesses("def handler(self, ev):\n    self._transition(ev)\n") == [(2, "self._transition")]
    assert private_accesses("class A:\n    @staticmethod\n    def f(x):\n        x._y\n") == [(4, "x._y")]
    assert private_accesses("class A:\n    def m(self, other):\n        other._y = 1\n") == [(3, "other._y")]
    assert private_accesses("import m\nm._helper()\ngetattr(o, '_secret')\nhasattr(o, '__len__')\n") == [
        (2, "m._helper"), (3, "o._secret")]
    assert private_accesses("class A:\n    def m(self):\n        def inner():\n            return self._x\n") == []


def test_no_module_reads_another_modules_underscored_members():
    assert _modules(), f"no modules found under {PACKAGES}"
    found = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        found += [f"{rel}:{line}: {text}" for line, text in private_accesses(path.read_text())
                  if f"{rel}: {text}" not in THIRD_PARTY]
    assert not found, ("underscored members used from outside their object (give them a public name, or keep "
                       "the work inside the class that owns them):\n" + "\n".join(found))
