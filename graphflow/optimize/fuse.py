"""Linear-chain fusion: ``a -> b -> c`` with nothing else reading ``a`` or ``b`` runs as one task.

A link ``p -> c`` is fused when ``p`` is a task, ``c`` is its only reader, ``p``
is ``c``'s only dependency, and ``p`` is not a requested output.  Each maximal
chain of such links becomes one `FusedTask` under the chain's last key, so every
key outside the chain still finds what it reads:

    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> inc = lambda x: x + 1
    >>> g = TaskGraph([DataNode("x", 0), Task("a", inc, Ref("x")), Task("b", inc, Ref("a")),
    ...                Task("c", inc, Ref("b"))])
    >>> f = fuse_linear(g, ["c"])
    >>> sorted(f), f["c"].dependencies, f["c"]({"x": 0})
    (['c', 'x'], ('x',), 3)

Fusion never costs parallelism (a chain is sequential anyway) and saves a
scheduling step, a result slot and, on a cluster, a round trip per link.
A fused task runs its chain in a loop, so chains of any length are fine.
"""

from __future__ import annotations

from ..utils.gcpause import no_gc
from ..spec import FusedTask, Task, TaskGraph
from .stream import stream_chain

_FUSABLE = (Task, FusedTask)


def fuse_linear(graph: TaskGraph, keys) -> TaskGraph:
    """``graph`` with every maximal linear chain of tasks replaced by one `FusedTask`."""
    graph.validate()  # a cycle would make the chain walk below endless
    with no_gc():
        return _fuse(graph, keys)


def _fuse(graph: TaskGraph, keys) -> TaskGraph:
    idx = graph.index
    nodes, deps, dependents, keys_of = idx.nodes, idx.deps, idx.dependents, idx.keys
    outputs = {idx.index[k] for k in keys if k in idx.index}
    n = len(nodes)
    # up[c] = p when the link p -> c can be fused.
    up = {}
    for p in range(n):
        readers = dependents[p]
        if len(readers) != 1 or p in outputs or type(nodes[p]) not in _FUSABLE:
            continue
        c = readers[0]
        if len(deps[c]) == 1 and type(nodes[c]) in _FUSABLE:
            up[c] = p
    if not up:
        return graph
    fused_away = set(up.values())
    new = {}
    for i in range(n):
        if i in fused_away:
            continue
        if i not in up:
            new[keys_of[i]] = nodes[i]
            continue
        chain = [i]
        while chain[-1] in up:
            chain.append(up[chain[-1]])
        chain.reverse()
        tasks = []
        for j in chain:
            node = nodes[j]
            if type(node) is FusedTask:
                tasks.extend(node.tasks)
            else:
                tasks.append(node)
        # Steps whose result only the next step reads hand it over as an iterator (see .stream).
        new[keys_of[i]] = FusedTask(keys_of[i], stream_chain(tasks))
    return TaskGraph.adopt(new)
