"""No import cycles inside graphflow: each package's module graph is a DAG.

The graph is static: every ``import a.b``, ``from . import m`` and ``from .m import n`` in every
module of ``graphflow``, at any depth (imports inside functions count: a lazy import that closes a
cycle is still a cycle, only hidden until call time), relative imports resolved.  ``from pkg import
name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.  A package's ``__init__``
is the node ``pkg`` itself; importing ``pkg.m`` does not count as importing ``pkg`` (the runtime
does run ``pkg/__init__`` first, but that is one step down, never a step back up).

A strongly connected component of more than one module is a cycle, and the whole package must have
none (nothing is excused).  A failure names each cycle's top-level package (the top-level modules
together are ``graphflow``), its modules, and the import lines that make it:

    graphflow.array: cycle of 2 modules: graphflow.array.core, graphflow.array.slicing
      graphflow/array/core.py:301 from .slicing import getitem -> graphflow.array.slicing
      graphflow/array/slicing.py:28 from .core import Array, new_name -> graphflow.array.core
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict

import networkx as nx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "graphflow"


def find_modules(root: str = ROOT, package: str = PACKAGE) -> dict:
    """``{dotted module name: path}`` for every module of ``package`` (``pkg/__init__.py`` -> ``pkg``)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, package)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        rel = os.path.relpath(dirpath, root).split(os.sep)
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            parts = rel if filename == "__init__.py" else rel + [filename[:-3]]
            out[".".join(parts)] = os.path.join(dirpath, filename)
    return out


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name that ``from <level dots><target> import ...`` in ``module`` means."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([target] if target else []))


def _owner(name: str, modules: dict) -> str | None:
    """The longest graphflow module that ``name`` lies in (``graphflow.a.b.C`` -> ``graphflow.a.b``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_edges(modules: dict, root: str = ROOT) -> dict:
    """``{(importer, imported): [(path:line, source text), ...]}`` for imports between ``modules``."""
    edges: dict = defaultdict(list)
    for module, path in modules.items():
        with open(path, encoding="utf-8") as f:
            source = f.read()
        tree = ast.parse(source, path)
        is_package = os.path.basename(path) == "__init__.py"
        where = os.path.relpath(path, root)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for imported in sorted({_owner(target, modules) for target in targets} - {None, module}):
                line = ast.get_source_segment(source, node) or ""
                edges[(module, imported)].append((f"{where}:{node.lineno}", " ".join(line.split())))
    return edges


def _group(module: str) -> str:
    """``graphflow.array.core`` -> ``graphflow.array``; top-level modules group as ``graphflow``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or _is_package(module) else PACKAGE


def _is_package(module: str) -> bool:
    return os.path.exists(os.path.join(ROOT, *module.split("."), "__init__.py"))


def cycles(edges: dict) -> list:
    """Strongly connected components of more than one module, each sorted, largest first."""
    graph = nx.DiGraph(list(edges))
    found = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    return sorted(found, key=lambda c: (-len(c), c))


def describe(component: list, edges: dict) -> str:
    """The modules of one cycle and the import lines that join them."""
    members = set(component)
    lines = [f"cycle of {len(component)} modules: {', '.join(component)}"]
    for (src, dst), sites in sorted(edges.items()):
        if src in members and dst in members:
            for site, text in sites:
                lines.append(f"  {site} {text} -> {dst}")
    return "\n".join(lines)


def test_graphflow_has_no_import_cycles():
    """The module import graph of graphflow, lazy imports included, is a DAG."""
    edges = import_edges(find_modules())
    found = cycles(edges)
    report = "\n\n".join(f"{', '.join(sorted({_group(m) for m in c}))}: {describe(c, edges)}" for c in found)
    assert not found, f"{len(found)} import cycle(s) in graphflow:\n{report}"


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    """The scanner itself, on a made-up package::

        pkg/__init__.py   from . import a          (pkg -> pkg.a: a module)
        pkg/a.py          from .sub.b import f     (pkg.a -> pkg.sub.b)
        pkg/sub/b.py      def g(): from .. import c; import pkg.a.x   (inside a function, two levels up)
        pkg/c.py          from pkg.sub import name (pkg.c -> pkg.sub: name is not a module)

    pkg.a -> pkg.sub.b -> pkg.a is the one cycle; the lazy import in g closes it.
    """
    files = {"pkg/__init__.py": "from . import a\n", "pkg/a.py": "from .sub.b import f\n",
             "pkg/sub/__init__.py": "", "pkg/sub/b.py": "def g():\n    from .. import c\n    import pkg.a.x\n",
             "pkg/c.py": "from pkg.sub import name\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = find_modules(str(tmp_path), "pkg")
    edges = import_edges(modules, str(tmp_path))
    assert set(edges) == {("pkg", "pkg.a"), ("pkg.a", "pkg.sub.b"), ("pkg.sub.b", "pkg.c"),
                          ("pkg.sub.b", "pkg.a"), ("pkg.c", "pkg.sub")}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]
    text = describe(["pkg.a", "pkg.sub.b"], edges)
    assert "pkg/sub/b.py:3 import pkg.a.x -> pkg.a" in text and "pkg/a.py:1 from .sub.b import f" in text
    assert _resolve("graphflow.dataframe.io.csv", False, 2, "frame") == "graphflow.dataframe.frame"
