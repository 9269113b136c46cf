"""The collection protocol: how graphflow finds collections and turns them into one graph.

A *collection* is any object whose type defines ``__graphflow_graph__()``,
``__graphflow_keys__()``, ``__graphflow_finalize__()`` and
``__graphflow_rebuild__(graph)`` (see `graphflow.base`).  Everything that
runs collections -- `graphflow.base.compute`, a cluster `Client`, the Dask
interop -- uses these helpers: `unpack` finds the collections among
arguments (inside lists, tuples, dicts and sets) and gives back a `Repack`
that puts results where they were; `collections_to_graph` merges their
graphs (refusing two different computations under one key);
`flatten_keys`, `nest_values` and `finalize` turn a collection's nested keys
into its result.

    >>> from graphflow.spec import DataNode, TaskGraph
    >>> class Box:
    ...     def __init__(self, key, value): self.key, self.value = key, value
    ...     def __graphflow_graph__(self): return TaskGraph({self.key: DataNode(self.key, self.value)})
    ...     def __graphflow_keys__(self): return [self.key]
    ...     def __graphflow_finalize__(self): return (lambda values: values[0]), ()
    >>> found, repack = unpack(([Box("a", 1), "plain"],), traverse=True)
    >>> len(found), sorted(collections_to_graph(found))
    (1, ['a'])
    >>> repack({id(found[0]): 1})
    ([1, 'plain'],)
"""

from __future__ import annotations

from ..errors import KeyConflictError
from .graph import TaskGraph
from .keys import key_str
from .tokenize import tokenize
from ..utils.traverse import leaves, rebuild

__all__ = ["is_collection", "unpack", "Repack", "collections_to_graph", "merge_nodes", "check_same_node",
           "flatten_keys", "nest_values", "finalize", "collect_lineage", "first"]


def is_collection(obj) -> bool:
    """True if ``obj`` follows the collection protocol (checked on its type, never computed)."""
    return not isinstance(obj, type) and hasattr(type(obj), "__graphflow_graph__")


# ------------------------------------------------------------------ finding collections


def unpack(args, traverse: bool):
    """The collections among ``args`` (each once, in order) and a `Repack` putting results back.

    With ``traverse`` they are looked for inside lists, tuples, sets and dicts
    too (`graphflow.utils.traverse`), else only among ``args`` themselves.
    """
    if traverse:
        candidates = leaves(args, is_collection)
    else:
        candidates = [a for a in args if is_collection(a)]
    found = list({id(c): c for c in candidates}.values())
    return found, Repack(args, traverse)


class Repack:
    """Puts results back where the collections were: ``repack({id(collection): result})`` -> a tuple like ``args``."""

    __slots__ = ("args", "traverse")

    def __init__(self, args, traverse: bool):
        self.args = args
        self.traverse = traverse

    def __call__(self, results_by_id: dict) -> tuple:
        if not self.traverse:
            return tuple(results_by_id[id(a)] if is_collection(a) else a for a in self.args)
        return tuple(rebuild(a, is_collection, lambda c: results_by_id[id(c)]) for a in self.args)


# ------------------------------------------------------------------ graphs


def collections_to_graph(collections) -> TaskGraph:
    """One graph holding everything the collections need (shared keys merged, conflicts refused)."""
    if len(collections) == 1 and not hasattr(type(collections[0]), "__graphflow_collect__"):
        graph = collections[0].__graphflow_graph__()
        return graph if isinstance(graph, TaskGraph) else TaskGraph(graph)
    nodes: dict = {}
    by_collector: dict = {}
    for c in collections:
        collect = getattr(type(c), "__graphflow_collect__", None)
        if collect is not None:
            by_collector.setdefault(collect, []).append(c)
        else:
            merge_nodes(nodes, c.__graphflow_graph__().values())
    for collect, group in by_collector.items():
        merge_nodes(nodes, collect(group).values())
    return TaskGraph.adopt(nodes)


def collect_lineage(collections, own_type) -> dict:
    """One ``{key: node}`` dict for ``collections`` and everything they read.

    Instances of ``own_type`` (an Array, a Bag) give their ``graph_nodes`` and
    are followed through their ``parents`` with an explicit stack (a chain of
    100,000 steps must not hit the recursion limit); any other collection
    gives its whole graph.  The collector pauses Python's cyclic garbage
    collector: it allocates many small objects and frees none.
    """
    from ..utils.gcpause import no_gc

    with no_gc():
        nodes: dict = {}
        seen: set = set()
        stack = list(collections)
        while stack:
            c = stack.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            if isinstance(c, own_type):
                merge_nodes(nodes, c.graph_nodes.values())
                stack.extend(c.parents)
            else:
                merge_nodes(nodes, collections_to_graph([c]).values())
        return nodes


def merge_nodes(into: dict, nodes) -> None:
    """Add ``nodes`` to the dict ``into``; a key already there must hold the same computation."""
    for node in nodes:
        key = node.key
        old = into.get(key)
        if old is None:
            into[key] = node
        elif old is not node:
            check_same_node(old, node)


def check_same_node(a, b) -> None:
    """Raise `KeyConflictError` unless two nodes with one key describe the same computation."""
    if type(a) is type(b) and tokenize(a) == tokenize(b):
        return
    raise KeyConflictError(
        f"two different computations are named {key_str(a.key)!r} ({a!r} and {b!r}); "
        f"give them different keys (key=... / graphflow_key=...), or let graphflow name them"
    )


def flatten_keys(keys, out: list) -> list:
    for k in keys:
        if type(k) is list:
            flatten_keys(k, out)
        else:
            out.append(k)
    return out


def nest_values(keys, values: dict):
    return [nest_values(k, values) if type(k) is list else values[k] for k in keys]


def finalize(collection, values: dict):
    func, extra = collection.__graphflow_finalize__()
    return func(nest_values(collection.__graphflow_keys__(), values), *extra)


def first(parts):
    """The finalize function of a one-key collection whose value is its key's (a `Delayed`): ``parts[0]``.

    Schedulers compare against it to skip the finalize task: the collection's result is the key's own.
    """
    return parts[0]
