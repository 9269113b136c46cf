"""Cull: keep only the nodes the requested keys need.

    >>> from operator import add
    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> g = TaskGraph([DataNode("a", 1), Task("b", add, Ref("a"), 1), Task("unused", add, Ref("a"), 2)])
    >>> sorted(cull(g, ["b"]))
    ['a', 'b']

A pure pass: graph in, graph out.  The kept nodes keep their relative order,
and the input graph is returned as it is when nothing is dropped.
"""

from __future__ import annotations

from ..errors import MissingDependencyError
from ..utils.gcpause import no_gc
from ..spec import TaskGraph
from ..spec.keys import key_str


def cull(graph: TaskGraph, keys) -> TaskGraph:
    """The subgraph of ``graph`` that ``keys`` depend on, the keys included."""
    idx = graph.index
    index = idx.index
    try:
        stack = [index[k] for k in keys]
    except (KeyError, TypeError):
        missing = next(k for k in keys if not _contains(index, k))
        raise MissingDependencyError(
            f"requested key {key_str(missing)!r} is not in the graph ({len(index)} keys)",
            missing=missing,
        ) from None
    deps = idx.deps
    seen = bytearray(len(idx))
    kept = 0
    while stack:
        i = stack.pop()
        if seen[i]:
            continue
        seen[i] = 1
        kept += 1
        stack.extend(deps[i])
    if kept == len(idx):
        return graph
    ks, nodes = idx.keys, idx.nodes
    with no_gc():
        return TaskGraph.adopt({ks[i]: nodes[i] for i in range(len(ks)) if seen[i]})


def _contains(index, key) -> bool:
    try:
        return key in index
    except TypeError:  # an unhashable "key"
        return False
