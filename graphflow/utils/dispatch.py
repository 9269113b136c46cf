"""Single-dispatch registries with lazy registration.

graphflow's extension points (tokenize, and later sizeof and serialization)
pick an implementation by the type of their argument.  Optional libraries
(numpy, pyarrow) must not be imported when graphflow is, so their handlers are
registered *lazily*: `register_lazy("numpy")` stores a function that runs the
first time an object from a ``numpy.*`` module is looked up.  By then numpy is
already imported (we hold one of its objects), so registering costs nothing.

    >>> normalize = Dispatch("normalize")
    >>> @normalize.register(int)
    ... def _(x):
    ...     return ("int", x)
    >>> normalize(3)
    ('int', 3)
    >>> normalize.dispatch(bool) is normalize.dispatch(int)   # found through the MRO
    True
"""

from __future__ import annotations

from typing import Callable


class Dispatch:
    """Pick a function by the type of the first argument, walking the MRO."""

    def __init__(self, name: str):
        self.__name__ = name
        self._lookup: dict[type, Callable] = {}
        self._lazy: dict[str, Callable[[], None]] = {}
        self.generation = 0  # bumped by every `register`: callers caching `dispatch` answers compare it

    def register(self, cls, func: Callable | None = None):
        """Register ``func`` for ``cls`` (a type or tuple of types); usable as a decorator."""

        def wrapper(func):
            for c in cls if isinstance(cls, tuple) else (cls,):
                self._lookup[c] = func
            self.generation += 1
            return func

        return wrapper(func) if func is not None else wrapper

    def register_lazy(self, toplevel: str, func: Callable[[], None] | None = None):
        """Run ``func`` to register handlers the first time a ``toplevel.*`` type is seen."""

        def wrapper(func):
            self._lazy[toplevel] = func
            return func

        return wrapper(func) if func is not None else wrapper

    def dispatch(self, cls: type) -> Callable:
        """The function registered for ``cls`` or its nearest base class."""
        lk = self._lookup
        try:
            return lk[cls]
        except KeyError:
            pass
        for base in cls.__mro__:
            toplevel = base.__module__.partition(".")[0]
            register = self._lazy.pop(toplevel, None)
            if register is not None:
                register()
                return self.dispatch(cls)
            if base in lk:
                lk[cls] = lk[base]  # cache the MRO walk
                return lk[base]
        raise TypeError(f"no {self.__name__} implementation for {cls.__module__}.{cls.__qualname__}")

    def __call__(self, arg, *args, **kwargs):
        return self.dispatch(type(arg))(arg, *args, **kwargs)
