"""Ray actors on graphflow's eager actors: ``Cls.remote(...)``, ``handle.method.remote(...)``, named actors.

``@ray.remote`` on a class gives an `ActorClass`; ``Cls.remote(*args)``
creates the actor on a worker through `graphflow.client.actors.create_actor`
and returns an `ActorHandle`; ``handle.method.remote(*args)`` makes one
direct call to the actor's host (no scheduler hop) and returns an ObjectRef
backed by the call's `ActorFuture`.  Calls from one process run in the order
they were made.

The class sent to the workers is a thin subclass of the user's
(`_with_ray_invoke`) adding one method, ``graphflow_ray_invoke``: a call
whose top-level arguments hold task-result refs goes through it, and it
``ray.get`` s them in the actor's process before calling the method (Ray
resolves top-level refs; see `graphflow.ray.calls`).

Options.  ``max_restarts`` maps onto graphflow's restartable actors
(`graphflow.actor`): after its worker dies the actor is recreated and the
calls made since its last checkpoint (``checkpoint_every``, a graphflow
extra) are replayed, so unlike Ray it comes back *with* its state.
``max_concurrency`` as in Ray.  ``name`` (and ``namespace``) give the actor a
key every process can compute, so ``ray.get_actor(name)`` finds it from the
driver or from a task; ``lifetime="detached"`` has a worker process keep it
wanted, so it outlives the handle and the driver's session (until
``ray.kill`` or the cluster ends).  ``num_cpus``/``num_gpus``/``resources``
are accepted; the actor is placed on the least-loaded worker (resources are
not held for actors).
"""

from __future__ import annotations

from ..client.actors import ActorHandle as GraphflowActorHandle
from ..client.actors import create_actor
from ..comm import messages as wire
from ..errors import ActorDiedError as GraphflowActorDied
from ..spec.actors import ActorClass as GraphflowActorClass
from ..spec.actors import ActorOptions
from . import session
from .calls import call
from .exceptions import ActorDiedError
from .objects import ObjectRef, get
from .remote_function import check_options

__all__ = ["ActorClass", "ActorHandle", "get_actor", "kill", "ACTOR_OPTIONS"]

ACTOR_OPTIONS = frozenset({
    "num_cpus", "num_gpus", "resources", "memory", "max_restarts", "max_task_retries", "name", "namespace",
    "lifetime", "max_concurrency", "get_if_exists", "scheduling_strategy", "runtime_env", "accelerator_type",
    "placement_group", "placement_group_bundle_index", "placement_group_capture_child_tasks", "label_selector",
    "concurrency_groups", "max_pending_calls", "enable_task_events", "checkpoint_every", "_metadata",
})
METHOD_OPTIONS = frozenset({"num_returns", "name", "max_task_retries", "retry_exceptions", "concurrency_group",
                            "enable_task_events", "_metadata"})
_kept: dict = {}  # detached actors' keys -> the Future that keeps each wanted (in the worker process that keeps it)
_shims: dict = {}


def _actor_key(name: str, namespace: str | None) -> str:
    return f"ray-actor/{namespace or session.namespace()}/{name}"


def graphflow_ray_invoke(self, method: str, args: tuple, kwargs: dict):
    """Run ``method`` with its top-level ObjectRef arguments replaced by their values (in the actor's process)."""
    args = tuple(get(a) if isinstance(a, ObjectRef) else a for a in args)
    kwargs = {k: get(v) if isinstance(v, ObjectRef) else v for k, v in kwargs.items()}
    return getattr(self, method)(*args, **kwargs)


def _with_ray_invoke(cls: type) -> type:
    """``cls`` with `graphflow_ray_invoke` added (a subclass with the same names; it travels by value)."""
    shim = _shims.get(cls)
    if shim is None:
        shim = _shims[cls] = type(cls.__name__, (cls,), {
            "graphflow_ray_invoke": graphflow_ray_invoke, "__module__": cls.__module__,
            "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})
    return shim


class ActorClass:
    """A class made remote: ``Cls.remote(*args)`` creates an actor; ``Cls.options(...)`` varies it."""

    def __init__(self, cls: type, options: dict | None = None):
        self._cls = cls
        self._options = check_options(dict(options or {}), ACTOR_OPTIONS, "@ray.remote")
        self.__name__ = cls.__name__

    def options(self, **options) -> "ActorClass":
        """A copy with these actor options changed (name, lifetime, max_restarts, num_cpus, ...)."""
        return ActorClass(self._cls, {**self._options, **check_options(options, ACTOR_OPTIONS, ".options()")})

    def remote(self, *args, **kwargs) -> "ActorHandle":
        """Create the actor on a worker; returns its handle once it exists."""
        opts = self._options
        client = session.client()
        name = opts.get("name")
        key = _actor_key(name, opts.get("namespace")) if name else None
        if key is not None and client.ask(wire.WhoHasRequest([key])).get(key):
            if opts.get("get_if_exists"):
                return get_actor(name, opts.get("namespace"))
            raise ValueError(f"an actor named {name!r} already exists (namespace "
                             f"{opts.get('namespace') or session.namespace()!r}); pick another name, or pass "
                             "get_if_exists=True")
        restarts = opts.get("max_restarts", 0) or 0
        actor_class = GraphflowActorClass(_with_ray_invoke(self._cls), ActorOptions(
            1_000_000 if restarts < 0 else restarts, opts.get("checkpoint_every"), opts.get("max_concurrency", 1)))
        args = tuple(get(a) if isinstance(a, ObjectRef) and not a.is_task_result() else a for a in args)
        args, kwargs = _futures(args), {k: v for k, v in zip(kwargs, _futures(tuple(kwargs.values())))}
        handle = create_actor(client, actor_class, args, kwargs, key=key)
        if opts.get("lifetime") == "detached":
            if key is None:
                raise ValueError("lifetime='detached' needs a name (Ray's rule): .options(name=..., "
                                 "lifetime='detached')")
            client.submit(_keep_wanted, key, pure=False).result()
        elif opts.get("lifetime") not in (None, "non_detached"):
            raise ValueError(f"lifetime must be 'detached', 'non_detached' or None, not {opts.get('lifetime')!r}")
        return ActorHandle(handle)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"actor class {self.__name__!r} cannot be instantiated directly: use "
                        f"{self.__name__}.remote(...)")

    def __repr__(self):
        return f"<ray.remote actor class {self.__name__}>"


def _futures(values: tuple) -> tuple:
    return tuple(v.graphflow_future() if isinstance(v, ObjectRef) else v for v in values)


def _keep_wanted(key) -> None:
    # Runs on a worker: that worker process's client wants the detached actor's key from now on.  Its answer
    # (the key's report) proves the scheduler registered the want before the creator may release the key.
    future = _kept[key] = session.client().submit_graph({}, [key])[key]
    future.result(60)


class ActorHandle:
    """A Ray actor handle: ``handle.method.remote(*args)`` returns an ObjectRef; it may be passed to tasks."""

    __slots__ = ("_handle", "_last", "__weakref__")

    def __init__(self, handle: GraphflowActorHandle):
        self._handle = handle
        self._last: ObjectRef | None = None  # the last call made through this handle (for order)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"actor handles do not expose private attribute {name!r}")
        if name not in self._handle.actor_class.methods:
            raise AttributeError(f"{self._handle.actor_class.name} actor has no method {name!r}")
        return ActorMethod(self, name, {})

    def call_method(self, method: str, args: tuple, kwargs: dict, options: dict) -> ObjectRef:
        """Make one call (what ``handle.method.remote`` does)."""
        if options.get("num_returns", 1) != 1:
            raise NotImplementedError("graphflow.ray actor methods return one value: drop num_returns and unpack "
                                      "the returned tuple after ray.get")
        caller = self._handle.__graphflow_caller__()
        needs_invoke = any(isinstance(a, ObjectRef) for a in args) or any(
            isinstance(v, ObjectRef) for v in kwargs.values())

        def submit(args2, kwargs2):
            try:
                if needs_invoke and _holds_ref(args2, kwargs2):
                    return [caller.call("graphflow_ray_invoke", "call", (method, args2, kwargs2), None)]
                return [caller.call(method, "call", args2, kwargs2 or None)]
            except GraphflowActorDied as err:
                raise ActorDiedError(str(err)) from None

        try:
            ref, = call(args, kwargs, 1, submit, for_actor=True, after=self._last)
        except ActorDiedError as err:
            ref = ObjectRef.pending()
            ref.fail(err)
        self._last = ref
        return ref

    def graphflow_handle(self) -> GraphflowActorHandle:
        """The graphflow `ActorHandle` behind this one."""
        return self._handle

    def __reduce__(self):
        return (ActorHandle, (self._handle,))

    def __repr__(self):
        return f"Actor({self._handle.actor_class.name}, {self._handle.key})"


def _holds_ref(args, kwargs) -> bool:
    return any(isinstance(a, ObjectRef) for a in args) or any(isinstance(v, ObjectRef) for v in kwargs.values())


class ActorMethod:
    """``handle.method``: ``.remote(*args)`` makes a call; ``.options(num_returns=1)`` is accepted."""

    __slots__ = ("_owner", "_name", "_options")

    def __init__(self, owner: ActorHandle, name: str, options: dict):
        self._owner = owner
        self._name = name
        self._options = options

    def remote(self, *args, **kwargs) -> ObjectRef:
        return self._owner.call_method(self._name, args, kwargs, self._options)

    def options(self, **options) -> "ActorMethod":
        return ActorMethod(self._owner, self._name, {**self._options, **check_options(options, METHOD_OPTIONS,
                                                                                      ".options()")})

    def __call__(self, *args, **kwargs):
        raise TypeError(f"actor method {self._name!r} cannot be called directly: use .{self._name}.remote(...)")


def get_actor(name: str, namespace: str | None = None) -> ActorHandle:
    """The handle of the live actor named ``name``; ValueError if there is none."""
    client = session.client()
    key = _actor_key(name, namespace)
    if not client.ask(wire.WhoHasRequest([key])).get(key):
        raise ValueError(f"no live actor named {name!r} in namespace {namespace or session.namespace()!r}")
    future = client.submit_graph({}, [key])[key]
    info = future.result(max(client.timeout, 30.0))
    return ActorHandle(GraphflowActorHandle(info.key, info.actor_class, info.address, info.incarnation))


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    """Kill the actor: pending and later calls raise `ActorDiedError`; a name it had is free again."""
    if not isinstance(actor, ActorHandle):
        raise TypeError(f"ray.kill expects an actor handle, not {type(actor).__name__}")
    caller = actor.graphflow_handle().__graphflow_caller__()
    future = caller.future
    caller.fail_all(GraphflowActorDied(f"actor {caller.key!r} was killed with ray.kill", actor=caller.key))
    if future is not None:
        future.client.cancel([future], force=True)  # tasks that looked it up by name hold it too
