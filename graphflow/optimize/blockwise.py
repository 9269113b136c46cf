"""Blockwise fusion: tasks working on the same block of an array run as one task.

Array operations name their tasks ``(name, i, j, ...)``, one per block.  A
task ``p`` folds into the group of its readers when

- ``p`` is a task (not data) and not a requested output,
- all of ``p``'s readers already belong to one group, and
- ``p`` has the same block index as that group's last task (its *root*), and
- no reader of ``p`` also reads a *sibling* of ``p`` (a task of the same name,
  another block): such a reader gathers blocks (a reduction level, a topk
  merge), and folding block 0's chain into it would make that one block wait
  for all the others and then run alone.

Groups are found in one pass in reverse topological order (readers before the
tasks they read), and each group of two or more becomes one `FusedTask` under
its root's key.  For ``((x + 1) * 2 - x).sum()`` with ``x`` random, block
``(i, j)`` is::

    random(i,j) --> add(i,j) --> mul(i,j) --> sub(i,j) --> sum-chunk(i,j) --> tree...
         \\______________________________________/

``random(i,j)`` has two readers, both in the group rooted at
``sum-chunk(i,j)``, so all five run as one task per block and the random
block is freed inside it.  A transposed read (``x + x.T``) has readers in two
groups (blocks ``(i, j)`` and ``(j, i)``), so ``x``'s block stays a task of its
own and is computed once.  Tasks with different block indices are never
fused, and neither are a reduction's chunk ``(i, j)`` and the combine that
happens to carry index ``(i, j)`` too (the sibling rule), which keeps the
tree's parallelism:

    >>> from operator import add, neg
    >>> from graphflow.spec import TaskGraph, Task, Ref
    >>> g = TaskGraph([Task(("x", 0), abs, -1), Task(("y", 0), neg, Ref(("x", 0))),
    ...                Task(("z", 0), add, Ref(("x", 0)), Ref(("y", 0)))])
    >>> f = fuse_blockwise(g, [("z", 0)])
    >>> list(f), f[("z", 0)]({})
    ([('z', 0)], 0)
"""

from __future__ import annotations

from ..utils.gcpause import no_gc
from ..spec import FusedTask, Task, TaskGraph
from .stream import stream_chain

__all__ = ["fuse_blockwise", "block_index"]

_FUSABLE = (Task, FusedTask)


def block_index(key):
    """The block index of an array-style key ``(name, i, j, ...)``, else None."""
    if type(key) is not tuple or len(key) < 2:
        return None
    rest = key[1:]
    for i in rest:
        if type(i) is not int:
            return None
    return rest


def fuse_blockwise(graph: TaskGraph, keys) -> TaskGraph:
    """``graph`` with each group of same-block tasks replaced by one `FusedTask`."""
    with no_gc():
        return _fuse(graph, keys)


def _fuse(graph: TaskGraph, keys) -> TaskGraph:
    idx = graph.index
    nodes, dependents, deps, keys_of = idx.nodes, idx.dependents, idx.deps, idx.keys
    topo = graph.toposort_indices()
    outputs = {idx.index[k] for k in keys if k in idx.index}
    blocks = [block_index(k) for k in keys_of]
    root = list(range(len(nodes)))
    fused = False
    for p in reversed(topo):
        readers = dependents[p]
        if not readers or p in outputs or blocks[p] is None or type(nodes[p]) not in _FUSABLE:
            continue
        r = root[readers[0]]
        if blocks[r] != blocks[p] or type(nodes[r]) not in _FUSABLE:
            continue
        if all(root[c] == r for c in readers) and not _gathers_siblings(p, readers, deps, keys_of):
            root[p] = r
            fused = True
    if not fused:
        return graph
    members: dict = {}
    for i in topo:
        members.setdefault(root[i], []).append(i)
    new = {}
    for i, key in enumerate(keys_of):
        if root[i] != i:
            continue
        group = members[i]
        if len(group) == 1:
            new[key] = nodes[i]
            continue
        tasks = []
        for j in group:
            node = nodes[j]
            tasks.extend(node.tasks if type(node) is FusedTask else (node,))
        new[key] = FusedTask(key, stream_chain(tasks))  # see .stream: steps read once may stream
    return TaskGraph.adopt(new)


def _gathers_siblings(p, readers, deps, keys_of) -> bool:
    """True when a reader of ``p`` also reads another block of ``p``'s array (it gathers, it is not a step)."""
    name = keys_of[p][0]
    for c in readers:
        for q in deps[c]:
            if q != p and type(keys_of[q]) is tuple and keys_of[q][0] == name:
                return True
    return False
