"""Inline cheap constants: small literal values move into the tasks that read them.

A `DataNode` holding a number, a short string, ``None`` or a small tuple of
those is not worth a node of its own (a dict entry, a scheduling step, a
message on a cluster).  Unless it is a requested output, its value replaces
each ``Ref`` to it and the node goes away:

    >>> from operator import add
    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> g = TaskGraph([DataNode("a", 1), Task("b", add, Ref("a"), 1)])
    >>> g2 = inline_constants(g, ["b"])
    >>> list(g2), g2["b"].dependencies, g2["b"]({})
    (['b'], (), 2)

Large values (arrays, tables) stay nodes: copying them into every reader
would multiply memory and traffic.
"""

from __future__ import annotations

from ..spec import DataNode, TaskGraph

_SCALARS = (int, float, complex, bool, type(None))
_MAX_TEXT = 1024
_MAX_ITEMS = 16


def is_cheap_constant(value) -> bool:
    """True for values small enough to copy into every task that reads them."""
    t = type(value)
    if t in _SCALARS:
        return True
    if t is str or t is bytes:
        return len(value) <= _MAX_TEXT
    if t is tuple:
        return len(value) <= _MAX_ITEMS and all(is_cheap_constant(v) for v in value)
    return False


def inline_constants(graph: TaskGraph, keys) -> TaskGraph:
    """``graph`` with cheap, non-output `DataNode` values copied into their readers."""
    outputs = set(keys)
    values = {
        k: node.value
        for k, node in graph.items()
        if type(node) is DataNode and k not in outputs and is_cheap_constant(node.value)
    }
    if not values:
        return graph
    idx = graph.index
    index, nodes, keys_of, dependents = idx.index, idx.nodes, idx.keys, idx.dependents
    readers = {j for k in values for j in dependents[index[k]]}
    new = {}
    for i, key in enumerate(keys_of):
        if key in values:
            continue
        node = nodes[i]
        new[key] = node.substitute(values) if i in readers else node
    return TaskGraph.adopt(new)
