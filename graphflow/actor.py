"""Actors: stateful objects whose method calls are nodes of the graph.

``@gf.actor`` turns a class into an `ActorClass`.  Calling it builds nothing
but a lazy handle (`LazyActor`) over an `ActorCreate` node; each method call
on that handle adds an `ActorCall` node and returns a `Delayed`, so actor
calls mix freely with ordinary tasks::

    >>> import graphflow as gf
    >>> @gf.actor
    ... class Counter:
    ...     def __init__(self, start=0):
    ...         self.n = start
    ...     def add(self, k):
    ...         self.n += k
    ...         return self.n
    >>> c = Counter(10)
    >>> gf.compute(c.add(1), c.add(2), scheduler="sync")
    (11, 13)

Order.  Calls on one actor run one at a time in the order they were made:
each `ActorCall` depends on the call made before it on the same handle (an
*ordering edge*, ``after``) besides its own inputs, so every executor that
honours dependencies honours the order, and `cull` keeps the earlier calls a
later one's state depends on.  ``max_concurrency > 1`` drops the ordering
edges (calls may then overlap).  Attribute reads of plain fields (``c.n``)
are calls too (``kind="getattr"``).

The seam: four node types, all ordinary `graphflow.spec.Node` s that any
executor can run by calling them, and that a foreign executor (the Ray
interop) may instead map onto its own actors by reading their fields:

=============== ==============================================================
`ActorCreate`   ``key``, ``actor_class`` (an `ActorClass`: ``.cls``,
                ``.options``), ``args``, ``kwargs`` (may hold `Ref` s).
`ActorCall`     ``key``, ``actor_key`` (the create node's key), ``method``,
                ``kind`` (``"call"`` or ``"getattr"``), ``args``, ``kwargs``,
                ``after`` (key of the previous call, or None).
`ActorRestore`  the create node of an actor recovered after its worker died:
                checkpointed state plus the calls to replay (distributed only).
`ActorRelease`  drops actors pinned in a worker process (the process pool).
=============== ==============================================================

Where the instance lives.  Run by a local executor, `ActorCreate` returns a
`LocalActorRef` holding the instance: in the driver (sync, threads) or in the
pool process that ran it (processes), which every later call of that actor
is then sent to (`home_pid`), and which drops it when the run ends.  Run on a
cluster worker, the worker's `graphflow.worker.actors.ActorHost` (bound to
the task threads with `bind_host`) keeps the instance and the node returns
an `graphflow.client.actors.ActorHandle`; calls then travel straight from the
caller to that worker.  ``client.actor(Counter, 10)`` makes such an actor
eagerly (see `graphflow.client.actors`).
"""

from __future__ import annotations

import threading

from .spec import unique_suffix
from .spec.actors import (  # noqa: F401  (the node types are graphflow.actor's names too)
    ActorCall, ActorClass, ActorCreate, ActorOptions, ActorRelease, ActorRestore, LocalActorRef, as_actor_class,
    bind_host, current_host, home_pid, invoke, is_actor_node, pinned_count,
)

__all__ = [
    "actor", "ActorClass", "ActorOptions", "LazyActor", "LazyActorClass", "ActorCreate", "ActorCall",
    "ActorRestore", "ActorRelease", "LocalActorRef", "bind_host", "current_host", "invoke", "home_pid",
    "is_actor_node",
]


def actor(cls=None, *, max_restarts: int = 0, checkpoint_every: int | None = None, max_concurrency: int = 1):
    """Make a class an actor: ``@gf.actor`` or ``@gf.actor(max_restarts=3, checkpoint_every=100)``.

    ``Cls(*args)`` then returns a lazy handle; ``client.actor(Cls, *args)`` an
    eager one on a cluster worker.  ``max_restarts``: how many times the actor
    is recreated after its worker dies (from its last checkpoint, replaying the
    calls made since); ``checkpoint_every``: take a checkpoint every that many
    calls; ``max_concurrency``: calls that may run at once (default 1: in order).
    """
    options = ActorOptions(max_restarts, checkpoint_every, max_concurrency)
    if cls is None:
        return lambda c: LazyActorClass(c, options)
    return LazyActorClass(cls, options)


class LazyActorClass(ActorClass):
    """The class ``@gf.actor`` returns: calling it builds a `LazyActor` (nothing runs yet)."""

    def __call__(self, *args, **kwargs) -> "LazyActor":
        return LazyActor(self, args, kwargs)


# --------------------------------------------------------------------------- the lazy handle


class LazyActor:
    """A lazy actor: ``handle.method(...)`` returns a `Delayed` that runs after the previous call.

    Threads may share a handle: each call takes its place in the order under
    a lock.  ``handle.field`` reads a field (also a call, in order).
    """

    __slots__ = ("_class", "_create", "_last", "_lock")

    def __init__(self, actor_class: ActorClass, args, kwargs):
        from .delayed import Delayed

        key = f"{actor_class.name}-{unique_suffix()}"
        args2, kwargs2, parents, extra = _unpack(args, kwargs)
        node = ActorCreate(key, actor_class, args2, kwargs2)
        self._class = actor_class
        self._create = Delayed(key, tuple(extra) + (node,), parents)
        self._last = None
        self._lock = threading.Lock()

    @property
    def key(self):
        """The key of this actor's `ActorCreate` node."""
        return self._create.key

    def _call(self, method: str, kind: str, args, kwargs):
        from .delayed import Delayed

        key = f"{self._class.name}.{method}-{unique_suffix()}"
        args2, kwargs2, parents, extra = _unpack(args, kwargs)
        serial = self._class.options.max_concurrency == 1
        with self._lock:
            after = self._last if serial else None
            node = ActorCall(key, self._create.key, method, kind, args2, kwargs2,
                             after.key if after is not None else None)
            parents = parents + ((self._create,) if after is None else (self._create, after))
            result = Delayed(key, tuple(extra) + (node,), parents)
            if serial:
                self._last = result
        return result

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"{self._class.name} actor handles do not expose private attribute {name!r}")
        if name in self._class.methods:
            return _LazyMethod(self._call, self._class.name, name)
        return self._call(name, "getattr", (), None)

    def __reduce__(self):
        raise TypeError(f"a lazy {self._class.name} actor handle cannot be pickled; call its methods to build "
                        f"graph nodes, or make an eager one with client.actor({self._class.name}, ...)")

    def __repr__(self):
        return f"<lazy actor {self._class.name} {self.key!r}>"


class _LazyMethod:
    __slots__ = ("_call", "_class_name", "_name")

    def __init__(self, call, class_name: str, name: str):
        self._call = call  # the handle's bound ``LazyActor._call``
        self._class_name = class_name
        self._name = name

    def __call__(self, *args, **kwargs):
        return self._call(self._name, "call", args, kwargs)

    def __repr__(self):
        return f"<lazy actor method {self._class_name}.{self._name}>"


def _unpack(args, kwargs) -> tuple:
    """Arguments with lazy values replaced by Refs; their collections as parents, plus extra nodes."""
    from .delayed import unpack_arg

    parents: dict = {}
    extra: list = []
    args2 = tuple(unpack_arg(a, parents, extra) for a in args)
    kwargs2 = {k: unpack_arg(v, parents, extra) for k, v in kwargs.items()} if kwargs else None
    return args2, kwargs2, tuple(parents.values()), extra
