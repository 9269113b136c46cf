"""How a task travels to the workers, so that only the worker that runs it imports the code it needs.

The scheduler takes a client's tasks in and passes them on to workers; it
must not need the user's modules (a scheduler started with ``graphflow
scheduler`` has none of them), and a worker that lacks a module must fail
*the tasks that need it*, with an error that says what is missing, not drop
a whole message and leave the caller waiting.  Only modules every graphflow
process has (`graphflow.client.ship.module_kind` ``"everywhere"``: the
standard library, graphflow and the libraries it requires) may be imported
while a message is read.  `wrap_functions` rewrites each node before it is
sent, with three wrappers that the plain pickler carries:

* `PickledFunction`: a function that only exists in the user's session (one
  defined in ``__main__`` or a notebook, a lambda, a local function), or one
  of a module shipped by value (``Client(ship_modules=True)``,
  `graphflow.client.ship`), pickled once with cloudpickle.  Sent inside
  every task of a 10,000-task graph, cloudpickle would make every message
  take the slow path; as bytes pickled once, it does not.
* `NamedFunction`: a function of any other module -- the user's own
  ``mymod.py``, or an installed library such as pandas -- carried by name and
  imported on the worker when first called.
* `SealedNode`: a whole node pickled on the client, for arguments or values
  of such modules (an instance of ``mymod.Point``, a pandas frame) or of
  graphflow internals that may hold them.  The worker opens it when it runs
  the task.

Actor nodes stay nodes (the scheduler reads their class's name and options):
their class travels by name or value and is loaded only where ``.cls`` is
used (`graphflow.spec.actors.ActorClass`), and arguments that are not
portable go in `graphflow.spec.actors.SealedArguments`.

Each raises `graphflow.errors.SerializationError` on a worker that lacks
the module, naming it and what to do; the task errs, its dependents err, and
the error reaches the caller's future.  Objects of the libraries every
process has are trusted to hold only importable things (a numpy array of
objects is not; an Arrow table is).  Tasks made only of plain values, `Ref`
s and such functions -- nearly all tasks of the collections -- go as they
are.

    >>> square = lambda x: x * x
    >>> f = by_value(square)
    >>> import pickle
    >>> pickle.loads(pickle.dumps(f))(7)
    49
    >>> by_value(square) is f          # one wrapper per function
    True
    >>> by_value(len) is len           # importable: left alone
    True
"""

from __future__ import annotations

import threading
import types
import weakref

from ..errors import SerializationError, cannot_load
from ..spec.actors import ActorCall, ActorCreate, SealedArguments
from ..spec.nodes import DataNode, FusedTask, Node, Ref, Task, find_refs
from .ship import module_kind

__all__ = ["NamedFunction", "PickledFunction", "SealedNode", "by_value", "needs_by_value", "portable",
           "portable_callable", "portable_function", "wrap_functions", "wrap_nodes"]


def needs_by_value(func) -> bool:
    """Can ``func`` not be imported by name in another process (``__main__``, lambdas, locals)?"""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    return module in (None, "__main__") or "<lambda>" in qualname or "<locals>" in qualname


# ---------------------------------------------------------------- functions by value

_loaded: dict = {}  # payload -> function, in the process that calls them
_loaded_lock = threading.Lock()


class PickledFunction:
    """A function carried as cloudpickle bytes; loaded once per process on first call."""

    __slots__ = ("payload", "name", "_func")

    def __init__(self, payload: bytes, name: str, func=None):
        self.payload = payload
        self.name = name
        self._func = func

    def __call__(self, *args, **kwargs):
        func = self._func
        if func is None:
            func = self._func = _load(self.payload, self.name)
        return func(*args, **kwargs)

    @property
    def __name__(self):
        return self.name

    def __reduce__(self):
        return (PickledFunction, (self.payload, self.name))

    def __graphflow_tokenize__(self):
        return ("PickledFunction", self.payload)

    def __repr__(self):
        return f"<function {self.name} (sent by value)>"


def _load(payload: bytes, name: str):
    func = _loaded.get(payload)
    if func is None:
        import pickle

        try:
            func = pickle.loads(payload)
        except Exception as exc:  # what it refers to by name (a module it imports) is missing here
            raise cannot_load(f"function {name!r}", exc) from exc
        with _loaded_lock:
            if len(_loaded) > 10_000:  # a session that defines functions in a loop
                _loaded.clear()
            _loaded[payload] = func
    return func


_wrappers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_shipped: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # what a shipping client sends instead
_wrappers_lock = threading.Lock()


def by_value(func):
    """``func`` itself if importable by name, else its (cached) `PickledFunction`."""
    if type(func) is PickledFunction or not needs_by_value(func):
        return func
    return _pickled(func, _wrappers)


def _pickled(func, cache):
    try:
        wrapper = cache.get(func)
    except TypeError:  # not weak-referenceable: wrap every time
        wrapper = None
    if wrapper is None:
        from ..utils.pickling import dumps

        wrapper = PickledFunction(dumps(func), getattr(func, "__name__", "function"), func)
        try:
            with _wrappers_lock:
                cache[func] = wrapper
        except TypeError:
            pass
    return wrapper


# ---------------------------------------------------------------- functions by name

_resolved: dict = {}  # (module, qualname) -> function, in the process that calls them


class NamedFunction:
    """A function of the user's own module, carried by name and imported where it is first called.

    ``origin`` is the module's file on the client, for the error a worker
    without the module raises.
    """

    __slots__ = ("module", "qualname", "origin", "_func")

    def __init__(self, module: str, qualname: str, origin: str = "", func=None):
        self.module = module
        self.qualname = qualname
        self.origin = origin
        self._func = func

    def __call__(self, *args, **kwargs):
        func = self._func
        if func is None:
            func = self._func = _resolve(self.module, self.qualname, self.origin)
        return func(*args, **kwargs)

    @property
    def __name__(self):
        return self.qualname.rpartition(".")[2]

    def __reduce__(self):
        return (NamedFunction, (self.module, self.qualname, self.origin))

    def __graphflow_tokenize__(self):
        return ("NamedFunction", self.module, self.qualname)

    def __repr__(self):
        return f"<function {self.module}.{self.qualname} (imported where it runs)>"


def _resolve(module: str, qualname: str, origin: str):
    func = _resolved.get((module, qualname))
    if func is None:
        import importlib

        try:
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            where = f" (on the client: {origin})" if origin else ""
            raise cannot_load(f"function {module}.{qualname}{where}", exc) from exc
        func = _resolved[(module, qualname)] = obj
    return func


_named: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _by_name(func):
    """``func``'s `NamedFunction` (cached), or None if its module does not give it back by its name."""
    try:
        wrapper = _named.get(func)
    except TypeError:
        return None
    if wrapper is None:
        import sys

        module = sys.modules[func.__module__]
        obj = module
        for part in func.__qualname__.split("."):
            obj = getattr(obj, part, None)
        if obj is not func:  # renamed or shadowed: only its code can travel
            return None
        wrapper = NamedFunction(func.__module__, func.__qualname__, getattr(module, "__file__", "") or "", func)
        with _wrappers_lock:
            _named[func] = wrapper
    return wrapper


def portable_function(func, ship: bool = False):
    """What to send for ``func``: itself, a `NamedFunction` or a `PickledFunction` (see the module notes)."""
    if type(func) is PickledFunction or type(func) is NamedFunction:
        return func
    if needs_by_value(func):
        return _pickled(func, _wrappers)
    if not isinstance(func, _FUNCTIONS) or type(func.__module__) is not str:
        return func  # a callable object: its type is checked with the arguments
    kind = module_kind(func.__module__)
    if kind == "everywhere":
        return func
    if kind == "local" and ship:
        return _pickled(func, _shipped)
    named = _by_name(func)
    if named is not None:
        return named
    return _pickled(func, _wrappers) if kind == "local" else func  # unnamed: only a local one's code can travel


# ---------------------------------------------------------------- whole nodes


class SealedNode(Node):
    """A node carried as its pickle (a `graphflow.comm.serialize.Serialized`) and opened where it runs.

    To the scheduler and the worker's state it is a node like any other
    (``key``, ``dependencies``); calling it opens the node and calls that.
    """

    __slots__ = ("_key", "deps", "payload")

    def __init__(self, key, deps: tuple, payload):
        self._key = key
        self.deps = deps
        self.payload = payload

    @classmethod
    def seal(cls, node: Node) -> "SealedNode":
        """Pickle ``node`` now (`SerializationError` here, on the client, if it cannot be)."""
        from ..comm.serialize import Serialized

        return cls(node.key, node.deps, Serialized.from_object(node))

    def open(self) -> Node:
        """The node itself (`SerializationError` naming what is missing if it cannot be loaded here)."""
        try:
            return self.payload.to_object()
        except Exception as exc:
            raise cannot_load(f"task {self._key!r}", exc, self._key) from exc

    def __call__(self, data):
        return self.open()(data)

    @property
    def label(self) -> str:
        return "sealed"

    def __reduce__(self):
        return (SealedNode, (self._key, self.deps, self.payload))

    def __repr__(self):
        return f"SealedNode({self._key!r}, deps={list(self.deps)!r})"


# ---------------------------------------------------------------- deciding what to wrap

_ATOMS = frozenset([int, float, str, bytes, bool, type(None), complex, slice, range, type(Ellipsis), Ref,
                    PickledFunction, NamedFunction])
_SEQUENCES = (list, tuple, set, frozenset)
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, type)
SCAN_BUDGET = 256  # objects and container items looked at per node; bigger literals are sealed (pickled once
# either way, and scanning them would cost as much)


def portable(obj, budget: int = SCAN_BUDGET) -> bool:
    """Can ``obj`` be unpickled where only the modules every graphflow process has are importable?

    Plain values, `Ref` s, containers of such, numpy arrays of numbers, and
    functions, classes and objects of the libraries every graphflow process
    has are; anything of another module (the user's, ``__main__``, another
    installed library), of graphflow's internals (which may hold user code),
    or more than ``budget`` objects, is not.
    """
    stack = [obj]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        x = pop()
        t = type(x)
        if t in _ATOMS:
            continue
        budget -= len(x) + 1 if t in _SEQUENCES or t is dict else 1
        if budget < 0:
            return False
        if t in _SEQUENCES:
            extend(x)
        elif t is dict:
            extend(x.keys())
            extend(x.values())
        elif isinstance(x, _FUNCTIONS):
            if module_kind(getattr(x, "__module__", None)) != "everywhere":
                return False
            owner = getattr(x, "__self__", None)  # a builtin method: of a module, or of some object
            if owner is not None and type(owner) is not types.ModuleType:
                push(owner)
        elif t is types.MethodType:
            push(x.__self__)
            push(x.__func__)
        else:
            module = t.__module__ or ""
            if module.startswith("graphflow") or module_kind(module) != "everywhere":
                return False
            if t.__name__ == "partial" and module == "functools":
                push(x.func)
                extend(x.args)
                extend(x.keywords.values())
            elif isinstance(x, _SEQUENCES):  # a namedtuple of an installed library
                extend(x)
            elif isinstance(x, dict):
                extend(x.values())
            elif t.__name__ == "ndarray" and module == "numpy" and x.dtype.hasobject:
                return False
    return True


def wrap_functions(node, ship: bool = False, decided: dict | None = None):
    """``node`` as it should travel (see the module notes); ``ship``: the client ships its modules by value.

    ``decided`` (function -> what to send, and whether that is portable)
    carries the decisions made for earlier nodes of the same submission.
    Raises `SerializationError` naming the task when a function or a sealed
    node cannot be pickled at all.
    """
    t = type(node)
    decided = {} if decided is None else decided
    if t is Task:
        node, ok = _wrap_task(node, ship, decided)
        return node if ok else _seal(node)
    if t is FusedTask:
        wrapped = [_wrap_task(inner, ship, decided) if type(inner) is Task else (inner, False)
                   for inner in node.tasks]
        tasks = [inner for inner, _ in wrapped]
        if not all(a is b for a, b in zip(tasks, node.tasks)):
            node = FusedTask(node.key, tasks)
        return node if all(ok for _, ok in wrapped) else _seal(node)
    if t is DataNode:
        return node if portable(node.value) else _seal(node)
    if t is ActorCreate or t is ActorCall:
        return _seal_arguments(node)
    return node


def wrap_nodes(specs: dict, ship: bool = False) -> dict:
    """`wrap_functions` for every node of ``{key: node}``, each function decided once."""
    decided: dict = {}
    return {key: wrap_functions(node, ship, decided) for key, node in specs.items()}


def portable_callable(key, func, ship: bool = False):
    """`portable_function` for the task ``key`` about to be built (``client.map`` decides it once for all its
    tasks, so `wrap_nodes` finds each task's function already portable and keeps the task as it is).
    Raises `SerializationError` naming ``key`` when ``func`` cannot be pickled."""
    try:
        return portable_function(func, ship)
    except Exception as exc:
        raise _unpicklable(key, func, exc) from exc


def _wrap_task(task: Task, ship: bool, decided: dict) -> tuple:
    """``(task with its function made portable, whether all of it is portable)``."""
    func = task.func
    try:
        sent, ok = decided[func]
    except (KeyError, TypeError):  # not decided yet, or unhashable
        try:
            sent = portable_function(func, ship)
        except Exception as exc:
            raise _unpicklable(task.key, func, exc) from exc
        ok = portable(sent)
        try:
            decided[func] = (sent, ok)
        except TypeError:
            pass
    args = task.args
    if ok:
        for arg in args:
            if type(arg) not in _ATOMS:
                ok = portable(args)
                break
    kwargs = task.kwargs
    if ok and kwargs:
        ok = portable(kwargs)
    if sent is not func:
        task = task.with_func(sent)
    return task, ok


def _seal_arguments(node):
    """An actor node with its arguments sealed if they are not portable.  The scheduler reads the node itself
    (its class's name and options; the class travels apart, see `graphflow.spec.actors.ActorClass`)."""
    args, kwargs = node.args, node.kwargs
    if type(args) is SealedArguments or portable((args, kwargs)):
        return node
    from ..comm.serialize import Serialized

    refs: dict = {}
    find_refs((args, kwargs), refs)
    try:
        sealed = SealedArguments(Serialized.from_object((args, kwargs or None)), tuple(refs))
    except SerializationError as exc:
        if exc.key is None:
            exc.key = node.key
        raise
    if type(node) is ActorCall:
        return ActorCall(node.key, node.actor_key, node.method, node.kind, sealed, None, node.after)
    return ActorCreate(node.key, node.actor_class, sealed)


def _seal(node) -> SealedNode:
    try:
        return SealedNode.seal(node)
    except SerializationError as exc:
        if exc.key is None:
            exc.key = node.key
        raise


def _unpicklable(key, func, exc):
    from ..utils.pickling import describe_unpicklable

    try:
        where = describe_unpicklable(func)
    except Exception:  # describing must never hide the real error
        where = repr(func)
    return SerializationError(
        f"task {key!r}: its function cannot be sent to the workers: {where} ({type(exc).__name__}: {exc}); "
        f"create such objects inside the function instead of capturing them", key=key)
