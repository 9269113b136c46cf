"""The modules of ``benchmarks/`` import each other without cycles.

The import graph is read statically from every ``import`` and ``from ... import`` statement, those inside
functions (lazy imports) included, with relative imports resolved.  An import of a submodule also imports
its parent packages, so it is an edge to each of their ``__init__`` modules as well: a package
``__init__`` that imports a submodule which imports (anything from) the package is a cycle.  In a file that
calls ``importlib.import_module`` (or ``__import__``), a string naming a module of the package counts as an
import of it too (the anchors' registry loads its modules so), so hiding an import in a string hides no cycle.
"""

import ast
import os

import networkx as nx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "benchmarks"


def _modules(root: str = ROOT, package: str = PACKAGE) -> dict:
    """Dotted module name -> (path, is_package) for every ``.py`` file of ``package``."""
    modules = {}
    for folder, dirs, files in os.walk(os.path.join(root, package)):
        dirs[:] = sorted(d for d in dirs if os.path.exists(os.path.join(folder, d, "__init__.py")))
        parts = os.path.relpath(folder, root).split(os.sep)
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            if name == "__init__.py":
                modules[".".join(parts)] = (path, True)
            else:
                modules[".".join(parts + [name[:-3]])] = (path, False)
    return modules


def _with_parents(name: str, modules: dict) -> list:
    """``name`` and every package above it that is one of ``modules`` (importing it imports them)."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in modules]


def _imports_by_name(tree: ast.AST) -> bool:
    """Whether the file calls ``import_module`` or ``__import__`` (with a module name made at run time)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                return True
    return False


def _imported(tree: ast.AST, module: str, is_package: bool, modules: dict) -> set:
    """The modules of ``modules`` that the statements of ``tree`` import, anywhere in the file."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    if _imports_by_name(tree):
        found.update(m for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in modules
                     for m in _with_parents(node.value, modules))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_with_parents(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.update(_with_parents(base, modules))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:  # ``from package import submodule``
                    found.update(_with_parents(submodule, modules))
    return found


def import_graph(root: str = ROOT, package: str = PACKAGE) -> nx.DiGraph:
    """Module -> the modules it imports (within ``package``)."""
    modules = _modules(root, package)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, (path, is_package) in modules.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        for target in _imported(tree, module, is_package, modules):
            if target != module:
                graph.add_edge(module, target)
    return graph


def _describe(graph: nx.DiGraph, component: set) -> str:
    cycle = nx.find_cycle(graph.subgraph(component))
    edges = sorted((a, b) for a, b in graph.subgraph(component).edges)
    return (f"{len(component)} modules import each other: {sorted(component)}\n"
            f"  a cycle: {' -> '.join([a for a, _ in cycle] + [cycle[0][0]])}\n"
            f"  the imports among them:\n" + "\n".join(f"    {a} -> {b}" for a, b in edges))


def test_the_graph_sees_relative_lazy_and_parent_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "sub" / "b.py").write_text("import pkg.c\n")
    (pkg / "c.py").write_text("from pkg.sub import x\n")
    (pkg / "d.py").write_text("import importlib\nNAME = 'pkg.e'\nimportlib.import_module(NAME)\n")
    (pkg / "e.py").write_text("from .d import NAME\nIGNORED = 'pkg.a'  # no import_module call here\n")
    graph = import_graph(str(tmp_path), "pkg")
    assert set(graph.edges) == {("pkg.a", "pkg"), ("pkg.a", "pkg.sub"), ("pkg.a", "pkg.sub.b"),
                                ("pkg.sub", "pkg"), ("pkg.sub", "pkg.sub.b"),
                                ("pkg.sub.b", "pkg"), ("pkg.sub.b", "pkg.c"),
                                ("pkg.c", "pkg"), ("pkg.c", "pkg.sub"),
                                ("pkg.d", "pkg"), ("pkg.d", "pkg.e"), ("pkg.e", "pkg"), ("pkg.e", "pkg.d")}
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert sorted(map(sorted, cycles)) == [["pkg.c", "pkg.sub", "pkg.sub.b"], ["pkg.d", "pkg.e"]]


def test_benchmarks_modules_import_each_other_without_cycles():
    graph = import_graph()
    assert len(graph) > 20 and graph.number_of_edges() > 20  # the package was found and read
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, "import cycles in benchmarks/:\n" + "\n".join(_describe(graph, c) for c in cycles)
