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
``"ray"`` (`graphflow.interop.ray`); a ``dask.distributed.Client`` runs the
graph on its cluster; a callable ``get(graph, keys, **options)`` is used as is.

`DaskCollection` gives collections Dask's protocol (``__dask_graph__`` ...),
delegating to the one above, so ``dask.compute(gf_array)`` works; dask is
imported only when Dask calls one of those methods.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from . import config
from .errors import KeyConflictError, UnknownSchedulerError
from .spec import TaskGraph, tokenize
from .spec.keys import key_str

__all__ = [
    "is_collection",
    "compute",
    "persist",
    "optimize",
    "visualize",
    "to_networkx",
    "get_scheduler",
    "register_scheduler",
    "collections_to_graph",
    "DaskCollection",
    "dask_get",
]


def is_collection(obj) -> bool:
    """True if ``obj`` follows the collection protocol (checked on its type, never computed)."""
    return not isinstance(obj, type) and hasattr(type(obj), "__graphflow_graph__")


# ------------------------------------------------------------------ schedulers

_SCHEDULERS: dict = {}


def register_scheduler(get, *names: str) -> None:
    """Make ``get(graph, keys, **options) -> list`` available as ``scheduler=<name>``."""
    for name in names:
        _SCHEDULERS[name.lower()] = get


def _register_local() -> None:
    from .local.executors import get_processes, get_sync, get_threads

    register_scheduler(get_sync, "sync", "synchronous", "single-threaded")
    register_scheduler(get_threads, "threads", "threading")
    register_scheduler(get_processes, "processes", "multiprocessing")


_register_local()


def _get_ray(graph, keys, **options):
    from .interop.ray import get_ray  # imports ray only when "ray" is asked for

    return get_ray(graph, keys, **options)


register_scheduler(_get_ray, "ray")


def _dask_client_scheduler(scheduler):
    """A graphflow ``get`` for a ``dask.distributed.Client``, or None (never imports distributed)."""
    distributed = sys.modules.get("distributed")
    if distributed is None or not isinstance(scheduler, distributed.Client):
        return None
    from .interop.dask import DistributedScheduler

    return DistributedScheduler(scheduler)


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
    on_dask = _dask_client_scheduler(scheduler)
    if on_dask is not None:
        return on_dask
    get = getattr(scheduler, "get", None)
    if callable(get) and not isinstance(scheduler, Mapping):
        return get
    if callable(scheduler):
        return scheduler
    raise UnknownSchedulerError(
        f"scheduler must be a name ({sorted(_SCHEDULERS)}) or a callable get(graph, keys), "
        f"not {scheduler!r}"
    )


# ------------------------------------------------------------------ finding collections


def _unpack(args, traverse: bool):
    """Collections found in ``args`` (deduplicated) and a function putting results back.

    The helpers are module-level functions, not closures: a closure that calls
    itself is a reference cycle, and would keep every computed result alive
    until the cyclic garbage collector happened to run.
    """
    found: dict = {}
    template = [_scan(a, found, traverse) for a in args]
    return list(found.values()), _Repack(template)


def _scan(obj, found: dict, traverse: bool):
    if is_collection(obj):
        found.setdefault(id(obj), obj)
        return _Slot(id(obj))
    if not traverse:
        return obj
    t = type(obj)
    if t in (list, tuple, set, frozenset):
        items = [_scan(x, found, traverse) for x in obj]
        return _Container(t, items) if any(isinstance(x, (_Slot, _Container)) for x in items) else obj
    if t is dict:
        items = {k: _scan(v, found, traverse) for k, v in obj.items()}
        changed = any(isinstance(v, (_Slot, _Container)) for v in items.values())
        return _Container(dict, items) if changed else obj
    return obj


def _fill(obj, results_by_id: dict):
    if isinstance(obj, _Slot):
        return results_by_id[obj.ident]
    if isinstance(obj, _Container):
        if obj.kind is dict:
            return {k: _fill(v, results_by_id) for k, v in obj.items.items()}
        return obj.kind(_fill(x, results_by_id) for x in obj.items)
    return obj


class _Repack:
    """Puts results back where the collections were: ``repack({id(collection): result})``."""

    __slots__ = ("template",)

    def __init__(self, template):
        self.template = template

    def __call__(self, results_by_id: dict) -> tuple:
        return tuple(_fill(t, results_by_id) for t in self.template)


class _Slot:
    __slots__ = ("ident",)

    def __init__(self, ident):
        self.ident = ident


class _Container:
    __slots__ = ("kind", "items")

    def __init__(self, kind, items):
        self.kind = kind
        self.items = items


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
    return TaskGraph._from_dict(nodes)


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


def _flatten(keys, out: list) -> list:
    for k in keys:
        if type(k) is list:
            _flatten(k, out)
        else:
            out.append(k)
    return out


def _nest(keys, values: dict):
    return [_nest(k, values) if type(k) is list else values[k] for k in keys]


def _finalize(collection, values: dict):
    func, extra = collection.__graphflow_finalize__()
    return func(_nest(collection.__graphflow_keys__(), values), *extra)


def _prepare(collections, optimize_graph: bool, until: str | None = None):
    """The merged graph (optimized unless told not to) and the unique output keys."""
    graph = collections_to_graph(collections)
    flat = _flatten([c.__graphflow_keys__() for c in collections], [])
    keys = list(dict.fromkeys(flat))
    if optimize_graph:
        from .optimize import optimize_graph as run_optimizer

        graph = run_optimizer(graph, keys, until=until)
    return graph, keys


# ------------------------------------------------------------------ user functions


def compute(*args, scheduler=None, optimize_graph: bool = True, traverse: bool = True, **options):
    """Compute several collections at once, sharing intermediate results; returns a tuple.

    Arguments that are not collections come back unchanged.  ``options`` go to
    the scheduler (``num_workers=`` for threads and processes).
    """
    collections, repack = _unpack(args, traverse)
    if not collections:
        return args
    get = get_scheduler(scheduler, collections)
    graph, keys = _prepare(collections, optimize_graph)
    values = dict(zip(keys, get(graph, keys, **options)))
    return repack({id(c): _finalize(c, values) for c in collections})


def persist(*args, scheduler=None, optimize_graph: bool = True, traverse: bool = True, **options):
    """Compute collections and return new ones backed by the computed values; returns a tuple.

    A persisted collection has the same keys; computing it again costs nothing.
    """
    from .spec import DataNode

    collections, repack = _unpack(args, traverse)
    if not collections:
        return args
    target = config.get("scheduler") if scheduler is None else scheduler
    persist_on = getattr(target, "__graphflow_persist__", None)
    if persist_on is not None:  # a cluster client keeps the results there, behind futures
        persisted = persist_on(collections, optimize_graph=optimize_graph)
        return repack({id(c): p for c, p in zip(collections, persisted)})
    get = get_scheduler(scheduler, collections)
    graph, keys = _prepare(collections, optimize_graph)
    values = dict(zip(keys, get(graph, keys, **options)))
    rebuilt = {}
    for c in collections:
        own = _flatten(c.__graphflow_keys__(), [])
        rebuilt[id(c)] = c.__graphflow_rebuild__(TaskGraph._from_dict({k: DataNode(k, values[k]) for k in own}))
    return repack(rebuilt)


def optimize(*args, traverse: bool = True, until: str | None = None):
    """Optimize collections together; returns a tuple of equivalent collections.

    Every returned collection shares the one optimized graph.  ``until`` stops
    the optimizer after a stage (``"cull"``, ``"inline"``, ``"fuse"``, ``"order"``).
    """
    collections, repack = _unpack(args, traverse)
    if not collections:
        return args
    graph, _ = _prepare(collections, True, until)
    return repack({id(c): c.__graphflow_rebuild__(graph) for c in collections})


def _graph_for_drawing(args, optimize_graph: bool):
    collections, _ = _unpack(args, True)
    if not collections:
        raise TypeError("nothing to draw: no graphflow collection among the arguments")
    if optimize_graph:
        return _prepare(collections, True)[0]
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


# ------------------------------------------------------------------ Dask's collection protocol


def dask_get(dsk, keys, **kwargs):
    """A Dask scheduler function that runs Dask graphs on graphflow's threads.

    ``dask.compute(x, scheduler=gf.dask_get)``; see `graphflow.interop.dask.dask_get`
    for the options.  Dask is imported on the first call, not before.
    """
    from .interop.dask import dask_get as run

    return run(dsk, keys, **kwargs)


def _dask_optimize(dsk, keys, **kwargs):
    return dsk  # graphflow's optimizer runs inside gf.dask_get; Dask's own schedulers run the graph as is


def _dask_rebuild(dsk, collection, rename=None):
    from .interop.dask import rebuild_persisted

    return rebuild_persisted(dsk, collection, rename)


class DaskCollection:
    """Dask's collection protocol on top of graphflow's, so Dask functions accept graphflow collections.

    ``dask.compute(x)`` runs on graphflow's threads (through ``gf.dask_get``)
    unless Dask is told another scheduler; ``dask.persist``, ``dask.delayed(f)(x)``
    and ``dask.base.tokenize(x)`` work too.  Nothing here imports dask.
    """

    __slots__ = ()

    __dask_scheduler__ = staticmethod(dask_get)
    __dask_optimize__ = staticmethod(_dask_optimize)

    def __dask_graph__(self):
        from .interop.dask import collection_graph

        return collection_graph(self)

    @property
    def dask(self) -> dict:
        """The Dask graph, as Dask's collections have it (Dask reads ``.dask`` before ``__dask_graph__``)."""
        return self.__dask_graph__()

    def __dask_keys__(self):
        return self.__graphflow_keys__()

    def __dask_postcompute__(self):
        return self.__graphflow_finalize__()

    def __dask_postpersist__(self):
        return _dask_rebuild, (self,)

    def __dask_tokenize__(self):
        return ("graphflow", type(self).__qualname__, tokenize(self))
