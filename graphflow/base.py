"""The collection protocol, and compute / persist / optimize / visualize over collections.

A *collection* is any object whose type defines

``__graphflow_graph__()``
    a `TaskGraph` (or mapping of key -> node) with everything it needs;
``__graphflow_keys__()``
    the keys of its result: a list, possibly of nested lists (array blocks);
``__graphflow_finalize__()``
    ``(func, extra_args)``: ``func(results, *extra_args)`` turns the values of
    those keys (nested like the keys) into the user's result.  A function, not
    a bound method, so it can run anywhere without dragging the collection along;
``__graphflow_rebuild__(graph)``
    the same collection over another graph that holds its keys (used by
    `persist` to point at computed values and by `optimize`);

and optionally ``__graphflow_collect__(collections)``, a static method that
builds one node dict for many collections of its type at once, so that ten
thousand `Delayed` objects sharing ancestors walk those ancestors once.

`compute` finds collections among its arguments (inside lists, tuples, dicts
and sets too), merges their graphs, optimizes (cull, inline, fuse, order),
runs the result on one scheduler and finalizes each collection's values:

    >>> import graphflow as gf
    >>> a, b = gf.delayed(1, pure=True) + 1, gf.delayed(10, pure=True)
    >>> gf.compute(a, [b, "plain"], scheduler="sync")
    (2, [10, 'plain'])

The scheduler is chosen by: the ``scheduler=`` argument, else
``config.set(scheduler=...)``, else the collection's default (threads).
Names: ``"sync"``, ``"threads"``, ``"processes"`` (and dask's aliases), and
whatever else was registered with `register_scheduler` (``"ray"``, by
`graphflow.interop.schedulers`); an object one of the `register_scheduler_adapter`
adapters accepts (a ``dask.distributed.Client``) runs the graph there; a
callable ``get(graph, keys, **options)`` is used as is.  The helpers that find
collections and merge their graphs are `graphflow.spec.collections`.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import config
from .errors import UnknownSchedulerError
from .local import get_processes, get_sync, get_threads
from .optimize import optimize_collections
from .spec import DataNode, TaskGraph
from .spec.collections import (  # noqa: F401  (graphflow.base's names for collections and tests)
    check_same_node, collect_lineage, collections_to_graph, finalize, flatten_keys, is_collection, merge_nodes,
    unpack,
)

__all__ = [
    "is_collection",
    "compute",
    "persist",
    "optimize",
    "visualize",
    "to_networkx",
    "get_scheduler",
    "known_schedulers",
    "register_scheduler",
    "register_scheduler_adapter",
    "collections_to_graph",
    "prepare",
    "LineageCollection",
]


# ------------------------------------------------------------------ schedulers

_SCHEDULERS: dict = {}


def register_scheduler(get, *names: str) -> None:
    """Make ``get(graph, keys, **options) -> list`` available as ``scheduler=<name>``."""
    for name in names:
        _SCHEDULERS[name.lower()] = get


register_scheduler(get_sync, "sync", "synchronous", "single-threaded")
register_scheduler(get_threads, "threads", "threading")
register_scheduler(get_processes, "processes", "multiprocessing")

_ADAPTERS: list = []


def register_scheduler_adapter(adapter) -> None:
    """Let ``adapter(scheduler) -> get or None`` turn objects of another library into schedulers.

    ``compute(x, scheduler=obj)`` asks each adapter in turn (first registered,
    first asked) before it looks for ``obj.get``; `graphflow.interop.schedulers`
    registers the one for ``dask.distributed.Client``.
    """
    if adapter not in _ADAPTERS:
        _ADAPTERS.append(adapter)


def known_schedulers() -> list:
    """The names ``scheduler=`` accepts, sorted."""
    return sorted(_SCHEDULERS)


def get_scheduler(scheduler=None, collections=()):
    """The ``get`` function that ``compute`` would use for these arguments."""
    if scheduler is None:
        scheduler = config.get("scheduler")
    if scheduler is None:
        defaults = {getattr(type(c), "__graphflow_scheduler__", "threads") for c in collections}
        scheduler = defaults.pop() if len(defaults) == 1 else "threads"
    if isinstance(scheduler, str):
        try:
            return _SCHEDULERS[scheduler.lower()]
        except KeyError:
            raise UnknownSchedulerError(
                f"unknown scheduler {scheduler!r}; choose one of {sorted(_SCHEDULERS)}, "
                f"or pass a callable get(graph, keys)"
            ) from None
    for adapter in _ADAPTERS:
        get = adapter(scheduler)
        if get is not None:
            return get
    get = getattr(scheduler, "get", None)
    if callable(get) and not isinstance(scheduler, Mapping):
        return get
    if callable(scheduler):
        return scheduler
    raise UnknownSchedulerError(
        f"scheduler must be a name ({sorted(_SCHEDULERS)}) or a callable get(graph, keys), "
        f"not {scheduler!r}"
    )


prepare = optimize_collections  # (collections, optimize_graph, until) -> (graph, unique keys)


# ------------------------------------------------------------------ user functions


def compute(*args, scheduler=None, optimize_graph: bool = True, traverse: bool = True, **options):
    """Compute several collections at once, sharing intermediate results; returns a tuple.

    Arguments that are not collections come back unchanged.  ``options`` go to
    the scheduler (``num_workers=`` for threads and processes).
    """
    collections, repack = unpack(args, traverse)
    if not collections:
        return args
    get = get_scheduler(scheduler, collections)
    graph, keys = prepare(collections, optimize_graph)
    values = dict(zip(keys, get(graph, keys, **options)))
    return repack({id(c): finalize(c, values) for c in collections})


def persist(*args, scheduler=None, optimize_graph: bool = True, traverse: bool = True, **options):
    """Compute collections and return new ones backed by the computed values; returns a tuple.

    A persisted collection has the same keys; computing it again costs nothing.
    """
    collections, repack = unpack(args, traverse)
    if not collections:
        return args
    target = config.get("scheduler") if scheduler is None else scheduler
    persist_on = getattr(target, "__graphflow_persist__", None)
    if persist_on is not None:  # a cluster client keeps the results there, behind futures
        persisted = persist_on(collections, optimize_graph=optimize_graph)
        return repack({id(c): p for c, p in zip(collections, persisted)})
    get = get_scheduler(scheduler, collections)
    graph, keys = prepare(collections, optimize_graph)
    values = dict(zip(keys, get(graph, keys, **options)))
    rebuilt = {}
    for c in collections:
        own = flatten_keys(c.__graphflow_keys__(), [])
        rebuilt[id(c)] = c.__graphflow_rebuild__(TaskGraph.adopt({k: DataNode(k, values[k]) for k in own}))
    return repack(rebuilt)


def optimize(*args, traverse: bool = True, until: str | None = None):
    """Optimize collections together; returns a tuple of equivalent collections.

    Every returned collection shares the one optimized graph.  ``until`` stops
    the optimizer after a stage (``"cull"``, ``"inline"``, ``"fuse"``, ``"order"``).
    """
    collections, repack = unpack(args, traverse)
    if not collections:
        return args
    graph, _ = prepare(collections, True, until)
    return repack({id(c): c.__graphflow_rebuild__(graph) for c in collections})


def _graph_for_drawing(args, optimize_graph: bool):
    collections, _ = unpack(args, True)
    if not collections:
        raise TypeError("nothing to draw: no graphflow collection among the arguments")
    if optimize_graph:
        return prepare(collections, True)[0]
    return collections_to_graph(collections)


def visualize(*args, filename: str = "graphflow.svg", optimize_graph: bool = False, **options) -> str:
    """Draw the graph of collections to ``filename`` (.dot, .svg, .png or .pdf); returns its path.

    The DOT source is always written (next to ``filename`` as ``.dot``); SVG,
    PNG and PDF need graphviz's ``dot`` program.
    """
    from .drawing import write_graph

    return write_graph(_graph_for_drawing(args, optimize_graph), filename, **options)


def to_networkx(*args, optimize_graph: bool = False):
    """The graph of collections as a ``networkx.DiGraph`` (edges point from input to reader)."""
    from .drawing import graph_to_networkx

    return graph_to_networkx(_graph_for_drawing(args, optimize_graph))


# ------------------------------------------------------------------ collections made of lineage


class LineageCollection:
    """The graph side of a collection that holds its own nodes and the collections they read (its *parents*).

    `graphflow.array.Array` and `graphflow.bag`'s Bag and Item are such collections: a subclass stores
    ``_nodes`` (its own ``{key: node}``) and ``_parents`` (a tuple of collections) in its slots and
    defines the rest of the protocol (keys, finalize, rebuild).  This class gives them `graph_nodes`,
    `parents`, the graph (one iterative walk over the lineage, `graphflow.spec.collections.collect_lineage`,
    shared by every such collection computed together) and ``compute``/``persist``/``visualize``.
    """

    __slots__ = ()

    @property
    def graph_nodes(self) -> dict:
        """This collection's own ``{key: node}`` (not its parents'): shared, read it, never change it."""
        return self._nodes

    @property
    def parents(self) -> tuple:
        """The collections this one's nodes read (their graphs are not in `graph_nodes`)."""
        return self._parents

    def __graphflow_graph__(self) -> TaskGraph:
        return TaskGraph.adopt(collect_lineages([self]))

    @staticmethod
    def __graphflow_collect__(collections) -> dict:
        return collect_lineages(collections)

    def compute(self, **kwargs):
        """The computed value (a numpy array for an Array, a list for a Bag); keywords as in `graphflow.compute`."""
        return compute(self, **kwargs)[0]

    def persist(self, **kwargs):
        """The same collection backed by computed values (same keys)."""
        return persist(self, **kwargs)[0]

    def visualize(self, filename: str = "graphflow.svg", **kwargs) -> str:
        """Draw the graph; see `graphflow.visualize`."""
        return visualize(self, filename=filename, **kwargs)


def collect_lineages(collections) -> dict:
    """One ``{key: node}`` dict for ``collections`` and everything they read, following every
    `LineageCollection` through its parents (an explicit stack: no recursion limit)."""
    return collect_lineage(collections, LineageCollection)
