"""Functions that only exist in the user's session, pickled once per graph instead of once per task.

A function defined in ``__main__`` or a notebook (and any lambda or local
function) cannot be pickled by reference: cloudpickle sends its code by
value.  Sent inside every task of a 10,000-task graph, and re-pickled by the
scheduler for each batch it forwards, that makes every message take the slow
cloudpickle path.  `by_value` pickles such a function once, with cloudpickle,
into a `PickledFunction`: a callable holding those bytes that plain ``pickle``
carries as bytes.  The worker loads each distinct function once and caches it.

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
import weakref

from ..spec.nodes import DataNode, FusedTask, Task

__all__ = ["PickledFunction", "by_value", "needs_by_value", "wrap_functions"]


def needs_by_value(func) -> bool:
    """Can ``func`` not be imported by name in another process (``__main__``, lambdas, locals)?"""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    return module in (None, "__main__") or "<lambda>" in qualname or "<locals>" in qualname


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
            func = self._func = _load(self.payload)
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


def _load(payload: bytes):
    func = _loaded.get(payload)
    if func is None:
        import pickle

        func = pickle.loads(payload)
        with _loaded_lock:
            if len(_loaded) > 10_000:  # a session that defines functions in a loop
                _loaded.clear()
            _loaded[payload] = func
    return func


_wrappers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_wrappers_lock = threading.Lock()


def by_value(func):
    """``func`` itself if importable by name, else its (cached) `PickledFunction`."""
    if type(func) is PickledFunction or not needs_by_value(func):
        return func
    try:
        wrapper = _wrappers.get(func)
    except TypeError:  # not weak-referenceable: wrap every time
        wrapper = None
    if wrapper is None:
        from ..utils.pickling import dumps

        wrapper = PickledFunction(dumps(func), getattr(func, "__name__", "function"), func)
        try:
            with _wrappers_lock:
                _wrappers[func] = wrapper
        except TypeError:
            pass
    return wrapper


def wrap_functions(node):
    """``node`` with the functions of its tasks replaced by `by_value` wrappers where needed."""
    t = type(node)
    if t is Task:
        func = node.func
        try:
            wrapped = by_value(func)
        except Exception as exc:
            raise _unpicklable(node.key, func, exc) from exc
        if wrapped is func:
            return node
        return Task.from_call(node.key, wrapped, node.args, node.kwargs)
    if t is FusedTask:
        tasks = [wrap_functions(inner) for inner in node.tasks]
        if all(a is b for a, b in zip(tasks, node.tasks)):
            return node
        return FusedTask(node.key, tasks)
    if t is DataNode:
        return node
    return node


def _unpicklable(key, func, exc):
    from ..errors import SerializationError
    from ..utils.pickling import describe_unpicklable

    try:
        where = describe_unpicklable(func)
    except Exception:  # describing must never hide the real error
        where = repr(func)
    return SerializationError(
        f"task {key!r}: its function cannot be sent to the workers: {where} ({type(exc).__name__}: {exc}); "
        f"create such objects inside the function instead of capturing them", key=key)
