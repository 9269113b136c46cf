"""Drawing graphs: DOT text, SVG/PNG/PDF through graphviz, and networkx export.

DOT is written by hand (no Python graphviz package needed).  Tasks are
ellipses labelled with their function name, data nodes are boxes, fused tasks
are double octagons listing their chain; every node's tooltip is its key.
Edges point from an input to the task that reads it, drawn bottom to top.

    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> print(to_dot(TaskGraph([DataNode("a", 1), Task("b", abs, Ref("a"))])))
    digraph graphflow {
      rankdir=BT;
      node [fontname="Helvetica", fontsize=10];
      n0 [label="int", shape=box, tooltip="a"];
      n1 [label="abs", shape=ellipse, tooltip="b"];
      n0 -> n1;
    }
"""

from __future__ import annotations

import os
import shutil
import subprocess

from .errors import GraphvizNotFoundError
from .spec import DataNode, FusedTask, TaskGraph
from .spec.keys import key_str

_FORMATS = ("dot", "svg", "png", "pdf")
_SHAPES = {DataNode: "box", FusedTask: "doubleoctagon"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def node_label(node) -> str:
    """The text drawn for a node: its function (or value type) name."""
    return getattr(node, "label", type(node).__name__)


def to_dot(graph: TaskGraph, rankdir: str = "BT") -> str:
    """The DOT source for ``graph``."""
    idx = graph.index
    lines = ["digraph graphflow {", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];']
    for i, node in enumerate(idx.nodes):
        shape = _SHAPES.get(type(node), "ellipse")
        lines.append(
            f"  n{i} [label={_quote(node_label(node))}, shape={shape}, tooltip={_quote(key_str(node.key))}];"
        )
    for i, deps in enumerate(idx.deps):
        for j in deps:
            lines.append(f"  n{j} -> n{i};")
    lines.append("}")
    return "\n".join(lines)


def write_graph(graph: TaskGraph, filename: str, rankdir: str = "BT") -> str:
    """Write ``graph`` to ``filename``; the format is the extension (.dot .svg .png .pdf).

    The DOT source is always written first (``filename`` with a ``.dot``
    extension).  Other formats run graphviz's ``dot``; when it is missing,
    `GraphvizNotFoundError` says how to install it and where the DOT file is.
    """
    root, ext = os.path.splitext(os.fspath(filename))
    fmt = ext.lstrip(".").lower() or "svg"
    if fmt not in _FORMATS:
        raise ValueError(f"cannot write {filename!r}: the extension must be one of {_FORMATS}")
    dot_path = root + ".dot"
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(to_dot(graph, rankdir))
    if fmt == "dot":
        return dot_path
    out_path = root + "." + fmt
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            f"writing {out_path!r} needs the graphviz 'dot' program, which is not on PATH. "
            f"The DOT source is in {dot_path!r}. Install graphviz (apt-get install graphviz, "
            f"brew install graphviz, or conda install graphviz), or ask for a .dot file."
        )
    run = subprocess.run([dot, f"-T{fmt}", dot_path, "-o", out_path], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"graphviz 'dot' failed on {dot_path!r}: {run.stderr.strip()}")
    return out_path


def graph_to_networkx(graph: TaskGraph):
    """A ``networkx.DiGraph``, edges from input to reader, one node per key.

    Node attributes: ``key``; ``func`` (the function's name, also under
    ``function`` and ``label``; a data node's value type); ``kind`` (``"task"``,
    ``"data"`` or ``"fused"``).
    """
    import networkx as nx

    g = nx.DiGraph()
    idx = graph.index
    for node in idx.nodes:
        kind = "data" if type(node) is DataNode else "fused" if type(node) is FusedTask else "task"
        name = node_label(node)
        g.add_node(node.key, key=node.key, func=name, function=name, label=name, kind=kind)
    keys = idx.keys
    g.add_edges_from((keys[j], keys[i]) for i, deps in enumerate(idx.deps) for j in deps)
    return g
