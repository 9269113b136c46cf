"""Graph translation between Dask and graphflow, both ways.  Imports dask.

**Dask -> graphflow** (`from_dask`).  A Dask graph maps keys to either nodes of
Dask's task spec or the older forms, and each becomes one graphflow node:

    Dask value                                   graphflow node
    Task(k, f, TaskRef("a"), 1)                  Task(k, f, Ref("a"), 1)
    (f, "a", [("b", 0), 2])  (old tuple form)    Task(k, f, Ref("a"), [Ref(("b", 0)), 2])
    "a" when "a" is a key  (an alias)            Task(k, identity, Ref("a"))
    Alias(k, "a")                                Task(k, identity, Ref("a"))
    DataNode(k, v), or any other value v         DataNode(k, v)
    Task(k, _execute_subgraph, {inner}, ...)     FusedTask(k, inner tasks in order)

In the old tuple form an argument that equals a key of the graph *is* a
reference to it (a ``str``, number or tuple), tuples whose first item is
callable are nested calls, and lists are walked; dicts are not walked (their
values stay literal unless they are task-spec nodes), exactly as Dask reads
them.  Dask's containers (``List``, ``Tuple``, ``Dict``, ``Set`` and the
``_identity_cast`` tasks) become plain containers holding Refs, which graphflow
substitutes natively.  Any other call nested inside an argument is kept as a
``(_Nested, func, args, kwargs)`` tuple and evaluated by `call_nested` right
before the task's function.  Fused tasks (what dask.array's blockwise fusion and
Dask's linear fusion make) become graphflow `FusedTask` s, so the inner tasks run
without Dask's per-call ordering.  Keys that are not valid graphflow keys (ints,
floats, tuples holding them) are renamed (``"~dask:<repr>"``); `DaskGraph.keys_of`
maps requested keys back.

**graphflow -> Dask** (`to_dask`).  A `DataNode` becomes Dask's ``DataNode``;
a `Task` whose Refs are all top-level arguments becomes a Dask ``Task`` with
``TaskRef`` s; anything else (nested Refs, fused tasks, nodes of other kinds) is
called through `run_graphflow_node`, a Dask task whose arguments are the
node and the ``TaskRef`` s of its dependencies.  Every task's exception gets its
graphflow key attached on the worker, so the caller's traceback names it.

    >>> from operator import add
    >>> g = from_dask({"a": 1, "b": (add, "a", 10)}, ["b"])
    >>> sorted(g.graph), g.graph["b"]({"a": 1})
    (['a', 'b'], 11)
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import annotate_task_error
from ..spec import DataNode, FusedTask, Ref, Task, TaskGraph
from ..spec.keys import is_valid_key
from ..spec.nodes import Node, find_refs
from . import require
from ..utils.traverse import identity

_spec = require("dask._task_spec", "dask", "Dask graphs")

DaskTask = _spec.Task
DaskAlias = _spec.Alias
DaskDataNode = _spec.DataNode
DaskTaskRef = _spec.TaskRef
DaskGraphNode = _spec.GraphNode
_execute_subgraph = _spec._execute_subgraph
_identity_cast = getattr(_spec, "_identity_cast", None)
_CONTAINERS = {c: c.klass for c in (_spec.List, _spec.Tuple, _spec.Set) if hasattr(c, "klass")}
_DICT = getattr(_spec, "Dict", None)

__all__ = ["DaskGraph", "from_dask", "to_dask", "call_nested", "run_graphflow_node", "flatten_dask_keys",
           "nest_dask_values"]

_ATOMIC = (int, float, str, bytes, bool, type(None), complex)
_KEYLIKE = (int, float, str, tuple)
_CAST_TYPES = (list, tuple, set, frozenset)


class _Nested:
    """Marks ``(_Nested, func, args, kwargs)``: a call nested inside another task's arguments.

    A class, not an instance: it pickles by reference, so the identity test in
    `call_nested` holds in any process.
    """


def _evaluate(obj):
    t = type(obj)
    if t is tuple:
        if len(obj) == 4 and obj[0] is _Nested:
            _, func, args, kwargs = obj
            return func(*[_evaluate(a) for a in args], **{k: _evaluate(v) for k, v in kwargs.items()})
        return tuple([_evaluate(x) for x in obj])
    if t is list:
        return [_evaluate(x) for x in obj]
    if t is dict:
        return {k: _evaluate(v) for k, v in obj.items()}
    if t is set or t is frozenset:
        return t(_evaluate(x) for x in obj)
    return obj


def call_nested(func, args, kwargs):
    """Call ``func`` after evaluating the nested calls inside ``args`` and ``kwargs``."""
    return func(*[_evaluate(a) for a in args], **{k: _evaluate(v) for k, v in kwargs.items()})


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


# ---------------------------------------------------------------------- Dask -> graphflow


class DaskGraph:
    """A converted Dask graph: ``graph`` (a `TaskGraph`) and the key renaming.

    ``gkey(dask_key)`` is the graphflow key of a Dask key; ``keys_of(dask_keys)``
    maps a flat list of requested Dask keys.
    """

    __slots__ = ("graph", "renamed")

    def __init__(self, graph: TaskGraph, renamed: dict):
        self.graph = graph
        self.renamed = renamed

    def gkey(self, key):
        """The graphflow key standing for the Dask key ``key``."""
        if type(key) is str:
            return key
        return self.renamed.get(key, key)

    def keys_of(self, keys) -> list:
        """Graphflow keys for a flat list of Dask keys."""
        return [self.gkey(k) for k in keys]


class _FromDask:
    """One conversion: the graph's key set (to read old-style arguments) and renamed keys."""

    def __init__(self, dsk: Mapping):
        self.dsk = dsk
        self.renamed: dict = {}
        self.nested = False  # set when the task being converted holds a nested call
        self.local = None  # inside a fused subgraph: {inner name: the argument it stands for}

    def gkey(self, key):
        if type(key) is str:
            return key
        new = self.renamed.get(key)
        if new is None:
            new = self.renamed[key] = key if is_valid_key(key) else f"~dask:{key!r}"
        return new

    def is_key(self, obj) -> bool:
        if not isinstance(obj, _KEYLIKE):
            return False
        try:
            return obj in self.dsk
        except TypeError:  # an unhashable tuple
            return False

    # -- nodes
    def node(self, key, value) -> Node | None:
        gk = self.gkey(key)
        t = type(value)
        if t is DaskTask:
            return self.task(gk, value)
        if t is DaskDataNode:
            return DataNode(gk, value.value)
        if t is DaskAlias:
            if value.target == key:
                return None  # a reference to itself: a key held elsewhere (a persisted future)
            return Task(gk, identity, self.ref(value.target))
        if isinstance(value, DaskGraphNode):
            return self.foreign(gk, value)
        if t is tuple and value and callable(value[0]):
            self.nested = False
            args = [self.legacy(a) for a in value[1:]]
            return self._make(gk, value[0], args, {})
        if self.is_key(value):
            if value == key:
                return None
            return Task(gk, identity, self.ref(value))
        if isinstance(value, (list, set, frozenset)) or (t is tuple and value):
            self.nested = False
            converted = self.legacy(value)
            if self.nested:
                return Task(gk, call_nested, identity, (converted,), {})
            if _has_ref(converted):
                return Task(gk, identity, converted)
        return DataNode(gk, value)

    def task(self, gk, task) -> Node:
        func = task.func
        if func is _execute_subgraph:
            return self.fused(gk, task)
        if func is run_graphflow_node:  # a graphflow node that went through Dask: take it back as is
            node = task.args[0]
            return node if node.key == gk else _rekeyed(node, gk)
        if type(task) is not DaskTask and not _CONTAINERS.get(type(task)) and type(task) is not _DICT:
            return self.foreign(gk, task)
        self.nested = False
        args = [self.arg(a) for a in task.args]
        kwargs = {k: self.arg(v) for k, v in task.kwargs.items()} if task.kwargs else {}
        if func is _call_keyed:  # graphflow's own task, wrapped on its way to Dask
            func, args = args[1], args[2:]
        return self._make(gk, func, args, kwargs)

    def _make(self, gk, func, args, kwargs) -> Task:
        if self.nested:
            return Task(gk, call_nested, func, tuple(args), kwargs)
        return Task(gk, func, *args, **kwargs)

    def fused(self, gk, task) -> Node:
        """``_execute_subgraph(inner, outkey, inkeys, *refs)`` as a `FusedTask` (the out key renamed to ``gk``)."""
        inner, outkey, inkeys = task.args[0], task.args[1], tuple(task.args[2])
        # Inside, the names in ``inkeys`` stand for the task's remaining arguments, in order.
        outer = self.local
        self.local = dict(outer or ())
        self.local.update(zip(inkeys, [self.arg(a) for a in task.args[3:]]))
        converted = {}
        try:
            for k, t in inner.items():
                if k in self.local and k in inkeys:
                    continue  # the caller's value wins over an inner task of the same name, as in Dask
                node = self.node(k, t)
                if node is None:
                    continue
                if k == outkey:
                    converted[gk] = _rekeyed(node, gk)
                else:
                    converted[node.key] = node
        finally:
            self.local = outer
        tasks = []
        for k in _inner_toposort(converted):
            node = converted[k]
            if type(node) is FusedTask:
                tasks.extend(node.tasks)
            elif type(node) is DataNode:
                tasks.append(Task(k, identity, node.value))
            else:
                tasks.append(node)
        if not tasks or tasks[-1].key != gk:  # not the single-output group Dask makes: let Dask run it
            return self.foreign(gk, task)
        return FusedTask(gk, tasks)

    def foreign(self, gk, node) -> Task:
        """A task-spec node of a kind we do not know: Dask calls it with its dependencies."""
        deps = tuple(node.dependencies)
        return Task(gk, call_dask_node, node, deps, *[self.ref(d) for d in deps])

    # -- arguments
    def arg(self, a):
        """A task-spec argument as a graphflow argument (Refs inside plain containers)."""
        t = type(a)
        if t in _ATOMIC:
            return a
        if t is DaskTaskRef or isinstance(a, DaskTaskRef):
            return self.ref(a.key)
        if isinstance(a, DaskGraphNode):
            return self.inner(a)
        if t is list or t is tuple or t is set or t is frozenset or t is dict:
            return self.legacy_free(a)
        return a

    def ref(self, key):
        """A reference to ``key``: a Ref, or inside a fused subgraph what the inner name stands for."""
        local = self.local
        if local is not None:
            try:
                if key in local:
                    return local[key]
            except TypeError:  # an unhashable key cannot be a name
                pass
        return Ref(self.gkey(key))

    def inner(self, a):
        t = type(a)
        if t is DaskAlias:
            return self.ref(a.target)
        if t is DaskDataNode:
            return a.value
        klass = _CONTAINERS.get(t)
        if klass is not None:
            return klass([self.arg(x) for x in a.args])
        if t is _DICT:
            items = a.args
            return {items[i]: self.arg(items[i + 1]) for i in range(0, len(items), 2)}
        if t is DaskTask and a.func is _identity_cast and a.kwargs.get("typ") in _CAST_TYPES:
            return a.kwargs["typ"]([self.arg(x) for x in a.args])
        if t is DaskTask and a.func is not _execute_subgraph:
            self.nested = True
            kwargs = {k: self.arg(v) for k, v in a.kwargs.items()}
            return (_Nested, a.func, tuple(self.arg(x) for x in a.args), kwargs)
        self.nested = True  # a fused or foreign node used as an argument: Dask evaluates it
        deps = tuple(a.dependencies)
        return (_Nested, call_dask_node, (a, deps, *[self.ref(d) for d in deps]), {})

    def legacy_free(self, a):
        """A plain container inside a task-spec task: only task-spec nodes in it are references."""
        t = type(a)
        if t is dict:
            return {k: self.arg(v) for k, v in a.items()}
        items = [self.arg(x) for x in a]
        if _is_namedtuple(a):
            return t(*items)
        return t(items)

    def legacy(self, a):
        """An argument in the old tuple form: keys are references, callable-first tuples are calls."""
        t = type(a)
        if t is str or t is int or t is float:
            if a in self.dsk:
                return self.ref(a)
            return a
        if t in _ATOMIC:
            return a
        if t is tuple and a and callable(a[0]):
            self.nested = True
            return (_Nested, a[0], tuple(self.legacy(x) for x in a[1:]), {})
        if self.is_key(a):
            return self.ref(a)
        if t is list or t is tuple or t is set or t is frozenset:
            items = [self.legacy(x) for x in a]
            return t(items)
        if _is_namedtuple(a):
            return t(*[self.legacy(x) for x in a])
        if t is dict:
            return {k: (self.arg(v) if isinstance(v, (DaskGraphNode, DaskTaskRef)) else v) for k, v in a.items()}
        if isinstance(a, (DaskGraphNode, DaskTaskRef)):
            return self.arg(a)
        return a


def _rekeyed(node: Node, key) -> Node:
    if type(node) is Task:
        return Task.from_call(key, node.func, node.args, node.kwargs)
    if type(node) is DataNode:
        return DataNode(key, node.value)
    if type(node) is FusedTask:
        return FusedTask(key, node.tasks[:-1] + (_rekeyed(node.tasks[-1], key),))
    raise TypeError(f"cannot rename a {type(node).__name__}")


def _inner_toposort(nodes: dict) -> list:
    """Keys of ``nodes`` with each after the inner nodes it reads (external reads ignored)."""
    out: list = []
    state: dict = {}
    for root in nodes:
        stack = [(root, False)]
        while stack:
            k, done = stack.pop()
            if done:
                state[k] = 2
                out.append(k)
                continue
            if state.get(k):
                continue
            state[k] = 1
            stack.append((k, True))
            stack.extend((d, False) for d in nodes[k].dependencies if d in nodes and not state.get(d))
    return out


def _has_ref(obj) -> bool:
    return find_refs(obj, {})


def call_dask_node(node, deps, *values):
    """Run a Dask task-spec node with its dependencies' values (the fallback for unknown kinds)."""
    return node(dict(zip(deps, values)))


def from_dask(dsk, keys=()) -> DaskGraph:
    """Convert a Dask graph (a mapping, a HighLevelGraph or a Dask expression) to a `DaskGraph`.

    ``keys`` is accepted for symmetry with Dask's scheduler functions; every
    node is converted (culling is graphflow's optimizer's job).
    """
    if not isinstance(dsk, Mapping):
        dsk = dsk.__dask_graph__()
    if type(dsk) is not dict:
        dsk = dict(dsk)  # materializes a HighLevelGraph once
    conv = _FromDask(dsk)
    nodes: dict = {}
    node = conv.node
    for key, value in dsk.items():
        n = node(key, value)
        if n is not None:
            nodes[n.key] = n
    return DaskGraph(TaskGraph.adopt(nodes), conv.renamed)


def flatten_dask_keys(keys, out: list) -> list:
    """Dask's requested keys (a key, or nested lists of keys) as one flat list."""
    if type(keys) is list:
        for k in keys:
            flatten_dask_keys(k, out)
    else:
        out.append(keys)
    return out


def nest_dask_values(keys, values: dict):
    """The values of ``keys`` nested like ``keys``, lists as tuples (what Dask's local schedulers return)."""
    if type(keys) is list:
        return tuple([nest_dask_values(k, values) for k in keys])
    return values[keys]


# ---------------------------------------------------------------------- graphflow -> Dask


def run_graphflow_node(node, *values):
    """Run a graphflow node on Dask with its dependencies' values; a failure names its key."""
    try:
        return node(dict(zip(node.dependencies, values)))
    except BaseException as exc:
        annotate_task_error(exc, node.key)
        raise


def _call_keyed(key, func, /, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except BaseException as exc:
        annotate_task_error(exc, key)
        raise


def _only_top_refs(task: Task) -> bool:
    """True when every Ref of ``task`` is a whole positional argument (Dask reads those as is)."""
    for a in task.args:
        if type(a) is not Ref and find_refs(a, {}):
            return False
    return not (task.kwargs and find_refs(task.kwargs, {}))


def to_dask(graph) -> dict:
    """A dict of Dask task-spec nodes computing the same values under the same keys."""
    if not isinstance(graph, TaskGraph):
        graph = TaskGraph(graph)
    out = {}
    for key, node in graph.items():
        t = type(node)
        if t is DataNode:
            out[key] = DaskDataNode(key, node.value)
        elif t is Task and _only_top_refs(node):  # Refs at the top level only: a plain Dask task
            args = [DaskTaskRef(a.key) if type(a) is Ref else a for a in node.args]
            out[key] = DaskTask(key, _call_keyed, key, node.func, *args, **node.kwargs)
        else:
            out[key] = DaskTask(key, run_graphflow_node, node, *[DaskTaskRef(d) for d in node.dependencies])
    return out
