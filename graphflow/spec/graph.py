"""`TaskGraph`: an immutable mapping ``key -> node``, plus integer-indexed views.

A graph is data.  It can be built, inspected, optimized and pickled without
running anything:

    >>> from operator import add
    >>> from graphflow.spec import Task, DataNode, Ref
    >>> g = TaskGraph([DataNode("a", 1), Task("b", add, Ref("a"), 1), Task("c", add, Ref("b"), Ref("a"))])
    >>> sorted(g.dependencies["c"])
    ['a', 'b']
    >>> sorted(g.dependents["a"])
    ['b', 'c']
    >>> g.toposort()
    ['a', 'b', 'c']

Hot paths (culling, ordering, executors) never walk the mapping itself; they
use `GraphIndex`, the same graph with nodes numbered ``0..n-1`` and edges held
as tuples/lists of ints, built once per graph and cached.  Building the index is
also where a missing dependency is found; `toposort_indices` is where a cycle
is found, and its error shows the cycle.

An ordering produced by the optimizer travels with the graph: `with_order`
returns a graph sharing the same nodes and index, plus a priority per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import CycleError, InvalidGraphError, MissingDependencyError
from ..utils.gcpause import no_gc
from .keys import key_split, key_str
from .nodes import Node

__all__ = ["TaskGraph", "GraphIndex", "toposort"]


class GraphIndex:
    """Nodes numbered ``0..n-1``; ``deps[i]`` and ``dependents[i]`` hold indices."""

    __slots__ = ("keys", "nodes", "index", "deps", "dependents")

    def __init__(self, nodes: Mapping):
        with no_gc():
            self._build(nodes)

    def _build(self, nodes: Mapping):
        keys = list(nodes)
        index = {k: i for i, k in enumerate(keys)}
        node_list = list(nodes.values())
        deps: list = []
        append = deps.append
        lookup = index.__getitem__
        try:
            for node in node_list:
                d = node.deps
                append(tuple(map(lookup, d)) if d else ())
        except (KeyError, TypeError):
            _raise_missing(node_list[len(deps)], index)
        dependents: list = [[] for _ in keys]
        for i, d in enumerate(deps):
            for j in d:
                dependents[j].append(i)
        self.keys = keys
        self.nodes = node_list
        self.index = index
        self.deps = deps
        self.dependents = dependents

    def __len__(self):
        return len(self.keys)


def _raise_missing(node, index):
    missing = [k for k in node.dependencies if not _has(index, k)]
    near = _similar_keys(missing[0], index)
    hint = f"; keys with a similar name: {near}" if near else ""
    raise MissingDependencyError(
        f"task {key_str(node.key)!r} depends on {key_str(missing[0])!r}, which is not in the graph"
        f"{hint}. Add a node for it, or remove the reference.",
        key=node.key,
        missing=missing[0],
    )


def _has(index, key) -> bool:
    try:
        return key in index
    except TypeError:  # an unhashable key in a Ref
        return False


def _similar_keys(key, index, limit=3):
    """Up to ``limit`` keys sharing ``key``'s name (before any ``-token``): likely typos."""
    stem = key_split(key).split("-")[0]
    out = []
    for k in index:
        if key_split(k).split("-")[0] == stem:
            out.append(k)
            if len(out) == limit:
                break
    return out


class _Adopted:
    """What `TaskGraph` takes as is: a node dict the caller gives away, plus the caches to carry over."""

    __slots__ = ("nodes", "index", "topo", "order")

    def __init__(self, nodes: dict, index=None, topo=None, order=None):
        self.nodes = nodes
        self.index = index
        self.topo = topo
        self.order = order


class TaskGraph(Mapping):
    """An immutable mapping from keys to nodes (`Task`, `DataNode`, `FusedTask`)."""

    __slots__ = ("_nodes", "_index", "_order", "_topo")

    def __init__(self, nodes: Mapping | Iterable[Node] = ()):
        if type(nodes) is _Adopted:  # from adopt / with_order / unpickling: no copy, no checks
            self._nodes, self._index, self._topo, self._order = nodes.nodes, nodes.index, nodes.topo, nodes.order
            return
        if isinstance(nodes, TaskGraph):
            self._nodes = nodes.mapping
        elif isinstance(nodes, Mapping):
            for k, node in nodes.items():
                if not isinstance(node, Node):
                    raise InvalidGraphError(
                        f"the graph value for key {key_str(k)!r} is a {type(node).__name__}, "
                        f"not a graphflow node; wrap values in DataNode(key, value) and calls "
                        f"in Task(key, func, *args)"
                    )
                if node.key != k:
                    raise InvalidGraphError(
                        f"the graph maps key {key_str(k)!r} to a node whose key is {key_str(node.key)!r}"
                    )
            self._nodes = dict(nodes)
        else:
            built = {}
            for node in nodes:
                if not isinstance(node, Node):
                    raise InvalidGraphError(f"{node!r} is not a graphflow node (Task, DataNode)")
                built[node.key] = node
            self._nodes = built
        self._index = None
        self._order = None
        self._topo = None

    @classmethod
    def adopt(cls, nodes: dict) -> "TaskGraph":
        """Adopt a dict of nodes that the caller built and will not touch again (no copy, no checks)."""
        return cls(_Adopted(nodes))

    @property
    def mapping(self) -> dict:
        """The dict of nodes behind this graph, shared, not copied: read it, never change it."""
        return self._nodes

    # Mapping interface
    def __getitem__(self, key):
        return self._nodes[key]

    def __iter__(self):
        return iter(self._nodes)

    def __len__(self):
        return len(self._nodes)

    def __contains__(self, key):
        return key in self._nodes

    def __repr__(self):
        return f"<TaskGraph: {len(self._nodes)} nodes{', ordered' if self._order else ''}>"

    def __reduce__(self):
        return (_rebuild_graph, (self._nodes, self._order))

    # Derived structures
    @property
    def index(self) -> GraphIndex:
        """The integer-indexed view (built once; raises `MissingDependencyError`)."""
        if self._index is None:
            self._index = GraphIndex(self._nodes)
        return self._index

    @property
    def dependencies(self) -> dict:
        """``{key: set of keys it depends on}``."""
        return {k: set(n.dependencies) for k, n in self._nodes.items()}

    @property
    def dependents(self) -> dict:
        """``{key: set of keys that depend on it}``."""
        idx = self.index
        keys = idx.keys
        return {keys[i]: {keys[j] for j in d} for i, d in enumerate(idx.dependents)}

    def toposort_indices(self) -> list:
        """Node indices with every dependency before its dependents; raises `CycleError`."""
        if self._topo is None:
            index = self.index
            with no_gc():
                self._topo = _kahn(index)
        return self._topo

    def toposort(self) -> list:
        """Keys with every dependency before its dependents."""
        keys = self.index.keys
        return [keys[i] for i in self.toposort_indices()]

    def validate(self) -> "TaskGraph":
        """Check every dependency exists and there is no cycle; return self."""
        self.toposort_indices()
        return self

    # Ordering attached by the optimizer
    @property
    def priorities(self) -> list | None:
        """A priority per node index (lower runs first), or None if not ordered."""
        return self._order

    def with_order(self, priorities: list) -> "TaskGraph":
        """The same graph carrying ``priorities`` (one int per node index)."""
        if len(priorities) != len(self._nodes):
            raise ValueError("one priority per node is needed")
        return TaskGraph(_Adopted(self._nodes, self._index, self._topo, priorities))

    def order_keys(self) -> list:
        """Keys sorted by priority (the optimizer's static order), or topological order."""
        keys = self.index.keys
        if self._order is None:
            return self.toposort()
        return [keys[i] for i in sorted(range(len(keys)), key=self._order.__getitem__)]


def toposort(graph) -> list:
    """The keys of ``graph`` (a TaskGraph or a mapping of nodes), each after its dependencies.

    >>> from graphflow.spec import Task, Ref
    >>> toposort({"b": Task("b", abs, Ref("a")), "a": Task("a", abs, -1)})
    ['a', 'b']
    """
    return (graph if isinstance(graph, TaskGraph) else TaskGraph(graph)).toposort()


def _rebuild_graph(nodes, order):
    return TaskGraph(_Adopted(nodes, None, None, order))


def _kahn(idx: GraphIndex) -> list:
    deps = idx.deps
    dependents = idx.dependents
    waiting = [len(d) for d in deps]
    ready = [i for i, w in enumerate(waiting) if w == 0]
    out = []
    pop = ready.pop
    push = ready.append
    while ready:
        i = pop()
        out.append(i)
        for j in dependents[i]:
            w = waiting[j] - 1
            waiting[j] = w
            if w == 0:
                push(j)
    if len(out) != len(deps):
        cycle = _find_cycle(idx, waiting)
        shown = " -> ".join(repr(key_str(idx.keys[i])) for i in cycle)
        raise CycleError(
            f"the graph has a cycle: {shown}. A task cannot depend, directly or through "
            f"others, on itself; break one of these references.",
            cycle=[idx.keys[i] for i in cycle],
        )
    return out


def _find_cycle(idx: GraphIndex, waiting: list) -> list:
    """A cycle among the nodes Kahn's algorithm could not place (waiting > 0)."""
    start = next(i for i, w in enumerate(waiting) if w > 0)
    # Walk dependencies that are themselves stuck until a node repeats.
    seen: dict = {}
    path = []
    i = start
    while i not in seen:
        seen[i] = len(path)
        path.append(i)
        i = next(j for j in idx.deps[i] if waiting[j] > 0)
    cycle = path[seen[i]:]
    cycle.reverse()  # show it in execution direction: a -> b means b reads a
    cycle.append(cycle[0])
    return cycle
