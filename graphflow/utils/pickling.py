"""Pickling for crossing process boundaries, and finding what will not pickle.

`dumps`/`loads` use cloudpickle (protocol 5), so lambdas, closures and
functions defined in ``__main__`` or a notebook travel by value.

`describe_unpicklable` answers "what exactly cannot be pickled?": it walks into
functions (closure variables, globals they read), containers and object
attributes, and names the deepest part that fails:

    >>> import threading
    >>> lock = threading.Lock()
    >>> def f(x):
    ...     with lock:
    ...         return x
    >>> describe_unpicklable(f)
    "f -> global 'lock' = <unlocked _thread.lock object at ...> (a _thread.lock)"
"""

from __future__ import annotations

import pickle
import types


def dumps(obj) -> bytes:
    """Serialize ``obj`` with cloudpickle, protocol 5."""
    import cloudpickle

    return cloudpickle.dumps(obj, protocol=5)


def loads(data):
    """The inverse of `dumps`."""
    return pickle.loads(data)


def _fails(obj) -> bool:
    try:
        dumps(obj)
    except Exception:
        return True
    return False


def _children(obj):
    """(label, child) pairs to look into when ``obj`` fails to pickle."""
    if isinstance(obj, types.FunctionType):
        code = obj.__code__
        for name, cell in zip(code.co_freevars, obj.__closure__ or ()):
            try:
                yield f" -> closure variable {name!r}", cell.cell_contents
            except ValueError:
                pass
        for name in code.co_names:
            if name in obj.__globals__:
                yield f" -> global {name!r}", obj.__globals__[name]
        if obj.__defaults__:
            yield " -> defaults", obj.__defaults__
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield f"[{k!r}]", v
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for n, v in enumerate(obj):
            yield f"[{n}]", v
    else:
        func = getattr(obj, "func", None)  # functools.partial
        if func is not None and hasattr(obj, "args"):
            yield ".func", func
            yield ".args", obj.args
        for name, value in getattr(obj, "__dict__", {}).items():
            yield f".{name}", value
        for name in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, name):
                yield f".{name}", getattr(obj, name)


def describe_unpicklable(obj, path: str | None = None, depth: int = 0) -> str:
    """A path to the innermost part of ``obj`` that cannot be pickled, with its repr and type."""
    if path is None:
        path = getattr(obj, "__qualname__", None) or type(obj).__name__
    if depth < 8:
        for label, child in _children(obj):
            if _fails(child):
                return describe_unpicklable(child, path + label, depth + 1)
    text = repr(obj)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{path} = {text} (a {type(obj).__module__}.{type(obj).__qualname__})".replace(
        "(a builtins.", "(a "
    )
