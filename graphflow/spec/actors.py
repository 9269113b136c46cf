"""Actor nodes of the graph, and how any executor runs them.

An actor is a class instance that lives in one place while calls reach it in
order.  In the graph it is four node types (`ActorCreate`, `ActorCall`,
`ActorRestore`, `ActorRelease`): ordinary `Node` s that any executor runs by
calling them, and that a foreign executor (the Ray interop) may instead map
onto its own actors by reading their fields.  `ActorClass` carries the class,
its `ActorOptions` and its public methods across processes.

Where the instance lives: a local executor keeps it in a `LocalActorRef`
(pinned in the pool process that created it, `home_pid`); a cluster worker
binds its actor host to its task threads (`bind_host`) and the create node
hands the instance to it.  `invoke` runs one call; `checkpoint_state` and
`restore_instance` take and restore an instance's state
(``__getstate__``/``__setstate__`` when the class has them).

The user-facing side (``@gf.actor`` and the lazy handle whose method calls
build these nodes) is `graphflow.actor`.

    >>> class Counter:
    ...     def __init__(self, n=0):
    ...         self.n = n
    ...     def add(self, k):
    ...         self.n += k
    ...         return self.n
    >>> create = ActorCreate("counter", ActorClass(Counter), (10,), None)
    >>> ref = create()
    >>> ActorCall("c1", "counter", "add", "call", (1,), None, None)({"counter": ref})
    11
"""

from __future__ import annotations

import inspect
import os
import threading
import uuid

from ..errors import cannot_load
from .nodes import Node, find_refs, replace_refs, substitute

__all__ = [
    "ActorClass", "ActorOptions", "ActorCreate", "ActorCall", "ActorRestore", "ActorRelease", "LocalActorRef",
    "SealedArguments", "as_actor_class", "bind_host", "checkpoint_state", "current_host", "invoke", "home_pid",
    "is_actor_node", "restore_instance", "pinned_count",
]


# --------------------------------------------------------------------------- classes


class ActorOptions:
    """How an actor behaves: ``max_restarts``, ``checkpoint_every`` (calls) and ``max_concurrency``."""

    __slots__ = ("max_restarts", "checkpoint_every", "max_concurrency")

    def __init__(self, max_restarts: int = 0, checkpoint_every: int | None = None, max_concurrency: int = 1):
        for name, value, low in (("max_restarts", max_restarts, 0), ("max_concurrency", max_concurrency, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"@gf.actor({name}=...) must be an int >= {low}, not {value!r}")
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
            raise ValueError(f"@gf.actor(checkpoint_every=...) must be a positive int or None, not "
                             f"{checkpoint_every!r}")
        self.max_restarts = max_restarts
        self.checkpoint_every = checkpoint_every
        self.max_concurrency = max_concurrency

    def __reduce__(self):
        return (ActorOptions, (self.max_restarts, self.checkpoint_every, self.max_concurrency))

    def __repr__(self):
        return (f"ActorOptions(max_restarts={self.max_restarts}, checkpoint_every={self.checkpoint_every}, "
                f"max_concurrency={self.max_concurrency})")


class ActorClass:
    """A class made an actor: its options, its public methods, and how it travels to other processes.

    ``@gf.actor`` (`graphflow.actor`) makes a `graphflow.actor.LazyActorClass`,
    the subclass whose call builds a lazy handle; the runtime only needs this.

    It travels by name (a class of an importable module) or by value (one
    defined in ``__main__`` or a function, or of a module the client ships:
    ``Client(ship_modules=True)``), and with its name, options and methods,
    which is all the scheduler reads: the class itself is imported (or
    unpickled) only where ``.cls`` is first used -- on the worker that hosts
    the actor -- and a process that lacks its module raises a
    `graphflow.errors.SerializationError` naming it there, not while it
    reads a message.
    """

    def __init__(self, cls, options: ActorOptions | None = None, payload: bytes | None = None):
        if isinstance(cls, ActorClass):
            cls = cls.cls
        if not isinstance(cls, type):
            raise TypeError(f"@gf.actor decorates classes, not {cls!r}")
        self._cls = cls
        self._sent = None  # how it came, in a process it was sent to: ("name", module, qualname, origin) or ("value",)
        self.options = options or ActorOptions()
        self.name = cls.__name__
        self.__module__ = cls.__module__
        self.__qualname__ = cls.__qualname__
        self.__doc__ = cls.__doc__
        self.methods = frozenset(n for n, v in inspect.getmembers(cls) if callable(v) and not n.startswith("_"))
        self._payload = payload  # the pickled class, when it travels by value

    @property
    def cls(self) -> type:
        """The class (imported or unpickled on first use where it was sent; `SerializationError` if it cannot be)."""
        cls = self._cls
        if cls is None:
            cls = self._cls = _load_class(self._sent, self._payload, self.__qualname__)
        return cls

    def __reduce__(self):
        sent = self._sent
        if sent is None:
            sent = self._how_to_send()
        kind = type(self) if type(self).__module__.startswith("graphflow.") else ActorClass
        # Everything but the class itself, which `cls` loads where it is used.
        state = {"_cls": None, "_sent": sent, "_payload": self._payload if sent[0] == "value" else None,
                 "options": self.options, "name": self.name, "__module__": self.__module__,
                 "__qualname__": self.__qualname__, "__doc__": self.__doc__, "methods": self.methods}
        return (_new_actor_class, (kind,), state)

    def _how_to_send(self) -> tuple:
        cls = self._cls
        module = cls.__module__
        if module != "__main__" and not _shipped_by_value(module):
            found = _lookup(module, cls.__qualname__)
            if found is self or found is cls or (isinstance(found, ActorClass) and found.cls is cls):
                import sys

                origin = getattr(sys.modules.get(module), "__file__", "") or ""
                return ("name", module, cls.__qualname__, origin)
        if self._payload is None:  # defined in a script or a test function: the class travels by value, once
            from ..utils.pickling import dumps

            self._payload = dumps(cls)
        return ("value",)

    def __repr__(self):
        return f"<actor class {self.__qualname__}>"


def _new_actor_class(kind):
    return kind.__new__(kind)


def _shipped_by_value(module: str) -> bool:
    """Is ``module`` (or a package of it) registered with cloudpickle to travel by value (``ship_modules``)?"""
    import sys

    cloudpickle = sys.modules.get("cloudpickle")
    if cloudpickle is None:
        return False
    registered = cloudpickle.list_registry_pickle_by_value()
    parts = module.split(".")
    return any(".".join(parts[:i]) in registered for i in range(1, len(parts) + 1))


def _lookup(module: str, qualname: str):
    import sys

    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


_from_payload: dict = {}
_from_payload_lock = threading.Lock()


def _load_class(sent: tuple, payload, qualname: str) -> type:
    """The class an `ActorClass` was sent with: imported by name, or unpickled (once per process)."""
    if sent[0] == "name":
        _, module, qualname, origin = sent
        try:
            obj = _import(module, qualname)
        except Exception as exc:
            where = f" (on the client: {origin})" if origin else ""
            raise cannot_load(f"actor class {module}.{qualname}{where}", exc) from exc
        return obj.cls if isinstance(obj, ActorClass) else obj
    with _from_payload_lock:
        cls = _from_payload.get(payload)
        if cls is None:
            import pickle

            try:
                cls = _from_payload[payload] = pickle.loads(payload)
            except Exception as exc:  # a module it refers to by name is missing here
                raise cannot_load(f"actor class {qualname} (sent by value)", exc) from exc
    return cls


def _import(module: str, qualname: str):
    import importlib

    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def as_actor_class(cls) -> ActorClass:
    """``cls`` as an `ActorClass` (a plain class gets the default options)."""
    return cls if isinstance(cls, ActorClass) else ActorClass(cls)


# --------------------------------------------------------------------------- running one call


def invoke(instance, method: str, kind: str, args, kwargs):
    """Run one call on ``instance``: a method call, or a field read for ``kind="getattr"``."""
    if kind == "getattr":
        return getattr(instance, method)
    result = getattr(instance, method)(*args, **kwargs) if kwargs else getattr(instance, method)(*args)
    if inspect.iscoroutine(result):  # an async method runs to completion on the actor's own event loop
        loop = getattr(instance, "__graphflow_loop__", None)
        if loop is None:
            import asyncio  # only for async methods: asyncio costs ~30 ms to import

            loop = asyncio.new_event_loop()
            try:
                object.__setattr__(instance, "__graphflow_loop__", loop)
            except Exception:
                pass
        result = loop.run_until_complete(result)
    return result


# --------------------------------------------------------------------------- where actors live

_context = threading.local()


def bind_host(host) -> None:
    """Make ``host`` (a worker's `ActorHost`) the home of actors created in this thread."""
    _context.host = host


def current_host():
    """The `ActorHost` bound to this thread, or None (local executors)."""
    return getattr(_context, "host", None)


_pinned: dict = {}  # uid -> instance: actors living in this pool process, reached through a LocalActorRef


class LocalActorRef:
    """The result of an `ActorCreate` run by a local executor: a reference to the live instance.

    In the process that created it, it holds the instance.  Pickled (a pool
    process sends it back to the parent), it carries only ``uid`` and ``pid``,
    and the instance stays pinned in that process until `ActorRelease`.
    """

    __slots__ = ("uid", "pid", "name", "_instance", "_lock")

    def __init__(self, uid: str, pid: int, name: str, instance=None):
        self.uid = uid
        self.pid = pid
        self.name = name
        self._instance = instance
        self._lock = threading.Lock()

    def instance(self):
        """The live instance (in its own process only)."""
        if self._instance is not None:
            return self._instance
        inst = _pinned.get(self.uid) if self.pid == os.getpid() else None
        if inst is None:
            raise RuntimeError(f"actor {self.name} ({self.uid}) lives in process {self.pid}, not in this one "
                               f"({os.getpid()}); its calls must run where it was created")
        return inst

    def invoke(self, method, kind, args, kwargs):
        """Run a call under the actor's lock (one call at a time)."""
        with self._lock:
            return invoke(self.instance(), method, kind, args, kwargs)

    def __reduce__(self):
        if self._instance is not None and self.pid == os.getpid():
            _pinned[self.uid] = self._instance  # leaving its process: keep the instance here until released
        return (LocalActorRef, (self.uid, self.pid, self.name))

    def __repr__(self):
        return f"<actor {self.name} in process {self.pid}>"


def home_pid(node, results: dict):
    """The pid of the pool process a node must run in (an `ActorCall` of a pinned actor), else None."""
    if type(node) is ActorCall:
        ref = results.get(node.actor_key)
        if type(ref) is LocalActorRef:
            return ref.pid
    return None


def is_actor_node(node) -> bool:
    """Is ``node`` one of the actor node types?"""
    return getattr(type(node), "__graphflow_actor__", None) is not None


# --------------------------------------------------------------------------- nodes


def _refs_of(*objs) -> dict:
    found: dict = {}
    for obj in objs:
        find_refs(obj, found)
    return found


class SealedArguments:
    """An actor node's ``(args, kwargs)`` carried pickled, so that the scheduler never loads them.

    Given as the node's ``args`` (with no ``kwargs``).  ``payload``: anything
    with ``to_object()`` -- the client seals arguments of its own modules in a
    `graphflow.comm.serialize.Serialized` (`graphflow.client.remote`);
    ``deps``: the keys of the Refs inside.  Opened where the node runs, after
    every graph rewrite (a sealed node is never substituted into).
    """

    __slots__ = ("payload", "deps")

    def __init__(self, payload, deps=()):
        self.payload = payload
        self.deps = tuple(deps)

    def open(self, key) -> tuple:
        """``(args, kwargs)`` (`SerializationError` naming the missing module if they cannot be loaded here)."""
        try:
            return self.payload.to_object()
        except Exception as exc:
            raise cannot_load(f"the arguments of {key!r}", exc, key) from exc

    def __reduce__(self):
        return (SealedArguments, (self.payload, self.deps))

    def __repr__(self):
        return f"<sealed arguments, refs {list(self.deps)!r}>"


def _arguments(args, kwargs) -> tuple:
    """``(args, kwargs, refs)`` as a node stores them."""
    if type(args) is SealedArguments:
        return args, None, dict.fromkeys(args.deps)
    args = tuple(args)
    kwargs = dict(kwargs) if kwargs else None
    return args, kwargs, _refs_of(args, kwargs or {})


class ActorCreate(Node):
    """Create an actor: ``actor_class.cls(*args, **kwargs)``, at the place the executor runs it.

    ``args`` may be `SealedArguments` (then no ``kwargs``).
    """

    __slots__ = ("_key", "deps", "_class", "_args", "_kwargs")
    __graphflow_actor__ = "create"

    def __init__(self, key, actor_class, args=(), kwargs=None):
        self._key = key
        self._class = as_actor_class(actor_class)
        self._args, self._kwargs, refs = _arguments(args, kwargs)
        self.deps = tuple(refs)

    @property
    def actor_class(self):
        """The `ActorClass`."""
        return self._class

    @property
    def args(self) -> tuple:
        """Constructor arguments as stored, Refs included (or their `SealedArguments`)."""
        return self._args

    @property
    def kwargs(self) -> dict:
        """Constructor keywords as stored."""
        return dict(self._kwargs or ())

    @property
    def label(self) -> str:
        """What drawings show."""
        return f"{self._class.name}()"

    def construct(self, data=None):
        """A new instance, with the Refs among the arguments replaced by ``data``'s values."""
        args, kwargs = self._args, self._kwargs
        cls = self._class.cls  # first: a missing module is named whatever the arguments hold
        if type(args) is SealedArguments:
            args, kwargs = args.open(self._key)
        if self.deps:
            args, kwargs = substitute(args, data), (substitute(kwargs, data) if kwargs else None)
        return cls(*args, **(kwargs or {}))

    def __call__(self, data=None):
        host = current_host()
        if host is not None:
            return host.create(self, self.construct(data))
        return LocalActorRef(uuid.uuid4().hex, os.getpid(), self._class.name, self.construct(data))

    def restore_spec(self, **fields) -> "ActorRestore":
        """The node recreating this actor from a checkpoint (used by the scheduler after a death)."""
        return ActorRestore(self, **fields)

    def substitute(self, values):
        """A copy with Refs to keys in ``values`` replaced by those values."""
        if not any(k in values for k in self.deps) or type(self._args) is SealedArguments:
            return self
        return ActorCreate(self._key, self._class, replace_refs(self._args, values),
                           replace_refs(self._kwargs or {}, values))

    def __repr__(self):
        return f"ActorCreate({self._key!r}, {self._class.name})"

    def __reduce__(self):
        return (ActorCreate, (self._key, self._class, self._args, self._kwargs))

    def __graphflow_tokenize__(self):
        return ("ActorCreate", self._key)


class ActorRestore(ActorCreate):
    """Recreate an actor on a new worker: from ``state`` (or the constructor when None), then replay calls.

    ``hw``: caller -> last call sequence number the state includes;
    ``replay``: ``[(caller, first, last, calls)]`` in the order to run them,
    where ``calls`` is a pickled (`graphflow.comm.serialize.Serialized`) list
    of ``(seq, method, kind, args, kwargs)``; ``results``: ``{(caller, seq): (ok,
    value, traceback)}`` of calls the checkpoint covers, for callers that did
    not get them; ``incarnation``: how many times the actor was recreated.
    """

    __slots__ = ("state", "hw", "replay", "_results", "incarnation")

    def __init__(self, create: ActorCreate, state=None, hw=None, replay=(), results=None, incarnation=1):
        super().__init__(create.key, create.actor_class, create.args, create.kwargs)
        self.state = state
        self.hw = dict(hw or {})
        self.replay = list(replay)
        # As checkpoints carry them (pickled once by the actor's worker), loaded only where the actor is restored:
        # the scheduler, which builds this node, may lack the modules of the values.
        # A list: pickled segments, later ones newer (see `graphflow.worker.actors`).
        self._results = results if isinstance(results, (bytes, list)) else dict(results or {})
        self.incarnation = incarnation

    @property
    def results(self) -> dict:
        """``{(caller, seq): (ok, value, traceback)}`` of the calls the checkpoint covers."""
        results = self._results
        if isinstance(results, (bytes, list)):
            import pickle

            merged: dict = {}
            try:
                for blob in results if isinstance(results, list) else [results]:
                    merged.update(pickle.loads(blob))
            except Exception as exc:
                raise cannot_load(f"the checkpointed results of actor {self._key!r}", exc, self._key) from exc
            results = self._results = merged
        return results

    def __call__(self, data=None):
        host = current_host()
        if host is None:
            raise RuntimeError("ActorRestore runs on cluster workers only")
        return host.restore(self, self.rebuild(data))

    def rebuild(self, data=None):
        """The instance at the checkpoint: unpickled state, or a fresh construction when none was taken."""
        if self.state is None:
            return self.construct(data)
        from ..utils.pickling import loads

        return restore_instance(self._class.cls, loads(self.state))

    def restore_spec(self, **fields) -> "ActorRestore":
        return ActorRestore(ActorCreate(self._key, self._class, self._args, self._kwargs), **fields)

    def __reduce__(self):
        return (_rebuild_restore, (self._key, self._class, self._args, self._kwargs, self.state, self.hw,
                                   self.replay, self._results, self.incarnation))

    def __repr__(self):
        return f"ActorRestore({self._key!r}, {self._class.name}, replay={len(self.replay)})"


def _rebuild_restore(key, cls, args, kwargs, state, hw, replay, results, incarnation):
    return ActorRestore(ActorCreate(key, cls, args, kwargs), state, hw, replay, results, incarnation)


def checkpoint_state(instance):
    """What a checkpoint stores: ``__getstate__()`` (the instance's ``__dict__`` by default)."""
    return instance.__getstate__()


def restore_instance(cls, state):
    """An instance of ``cls`` with ``state`` (from `checkpoint_state`), without calling ``__init__``."""
    obj = cls.__new__(cls)
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
    elif isinstance(state, tuple):  # (dict, slots) from the default __getstate__ of a slotted class
        d, slots = state
        if d:
            obj.__dict__.update(d)
        for k, v in (slots or {}).items():
            setattr(obj, k, v)
    elif state:
        obj.__dict__.update(state)
    return obj


class ActorCall(Node):
    """Call ``method`` of the actor created under ``actor_key`` (or read a field: ``kind="getattr"``)."""

    __slots__ = ("_key", "deps", "_actor", "_method", "_kind", "_args", "_kwargs", "_after")
    __graphflow_actor__ = "call"

    def __init__(self, key, actor_key, method: str, kind: str = "call", args=(), kwargs=None, after=None):
        if kind not in ("call", "getattr"):
            raise ValueError(f"ActorCall kind must be 'call' or 'getattr', not {kind!r}")
        self._key = key
        self._actor = actor_key
        self._method = method
        self._kind = kind
        self._args, self._kwargs, refs = _arguments(args, kwargs)
        self._after = after
        found = {actor_key: None}
        found.update(refs)
        if after is not None:
            found[after] = None
        self.deps = tuple(found)

    @property
    def actor_key(self):
        """Key of the `ActorCreate` node."""
        return self._actor

    @property
    def method(self) -> str:
        """The method (or field) name."""
        return self._method

    @property
    def kind(self) -> str:
        """``'call'`` or ``'getattr'``."""
        return self._kind

    @property
    def args(self) -> tuple:
        """Arguments as stored, Refs included (or their `SealedArguments`)."""
        return self._args

    @property
    def kwargs(self) -> dict:
        """Keywords as stored."""
        return dict(self._kwargs or ())

    @property
    def after(self):
        """Key of the call that must run first (ordering edge)."""
        return self._after

    @property
    def label(self) -> str:
        """What drawings show."""
        return f".{self._method}"

    def __call__(self, data):
        target = data[self._actor]
        args, kwargs = self._args, self._kwargs
        if type(args) is SealedArguments:
            args, kwargs = args.open(self._key)
        if len(self.deps) > 1 + (self._after is not None):
            args, kwargs = substitute(args, data), (substitute(kwargs, data) if kwargs else None)
        if type(target) is LocalActorRef:
            return target.invoke(self._method, self._kind, args, kwargs)
        return target.call_blocking(self._method, self._kind, args, kwargs)  # an ActorHandle on a cluster

    def substitute(self, values):
        """A copy with Refs to keys in ``values`` replaced (the actor and ordering edges stay)."""
        own = [k for k in self.deps if k != self._actor and k != self._after]
        if not any(k in values for k in own) or type(self._args) is SealedArguments:
            return self
        return ActorCall(self._key, self._actor, self._method, self._kind, replace_refs(self._args, values),
                         replace_refs(self._kwargs or {}, values), self._after)

    def __repr__(self):
        return f"ActorCall({self._key!r}, {self._method}, deps={list(self.deps)!r})"

    def __reduce__(self):
        return (ActorCall, (self._key, self._actor, self._method, self._kind, self._args, self._kwargs,
                            self._after))

    def __graphflow_tokenize__(self):
        return ("ActorCall", self._key)


class ActorRelease(Node):
    """Drop actors pinned in this process (sent by the process pool when a run ends)."""

    __slots__ = ("_key", "deps", "uids")
    __graphflow_actor__ = "release"

    def __init__(self, uids):
        self._key = "actor-release"
        self.deps = ()
        self.uids = tuple(uids)

    def __call__(self, data=None):
        for uid in self.uids:
            _pinned.pop(uid, None)
        return len(self.uids)

    def __reduce__(self):
        return (ActorRelease, (self.uids,))


def pinned_count() -> int:
    """How many actors are pinned in this process (tests check for leaks)."""
    return len(_pinned)
