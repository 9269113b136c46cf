"""Graph nodes: `Task`, `DataNode`, `FusedTask`, and the one reference type `Ref`.

A node is immutable and slotted.  It knows its key, computes its dependencies
once when it is built, and runs when called with a mapping of the values of
those dependencies:

    >>> from operator import add
    >>> t = Task("c", add, Ref("a"), 10)
    >>> t.dependencies
    ('a',)
    >>> t({"a": 1})
    11

`Ref` is the only way to point at another key.  Refs may sit anywhere inside
lists, tuples (named tuples too), dicts and sets among a task's arguments; they
are replaced by the referenced values before the function is called:

    >>> Task("s", sum, [Ref("a"), Ref("b"), 5])({"a": 1, "b": 2})
    8

`FusedTask` is what the optimizer makes of a linear chain: it runs its inner
tasks one after another in a private scope, dropping each intermediate as soon
as its last reader is done, and it is iterative, so a 100k-long chain does not
touch the recursion limit.

A node's key is read-only: fields are private slots behind properties, so
``task.key = ...`` raises ``AttributeError``.  The one exception is ``deps``
(the same tuple as ``dependencies``), a public slot because graph indexing
and fusing read it for every node; treat it as read-only.  ``Ref.key`` is a
public slot for the same reason.  Nodes pickle as plain data.
"""

from __future__ import annotations

import copyreg

from ..errors import NotCallableError
from .keys import is_valid_key, key_str, validate_key

__all__ = ["Ref", "Node", "Task", "DataNode", "FusedTask", "funcname"]


class Ref:
    """A reference to the value of another key in the graph."""

    # ``key``: the key this reference points at; a public slot (read on every task call), read-only by contract.
    __slots__ = ("key",)

    def __init__(self, key):
        # Not validated: a Ref to a bad key is a missing dependency, reported as such.
        self.key = key

    def __eq__(self, other):
        return type(other) is Ref and other.key == self.key

    def __hash__(self):
        return hash((Ref, self.key))

    def __repr__(self):
        return f"Ref({self.key!r})"

    def __reduce__(self):
        return (Ref, (self.key,))

    def __graphflow_tokenize__(self):
        return ("Ref", self.key)


_PLAIN_SEQUENCES = (list, tuple, set, frozenset)
_CONTAINERS = frozenset([list, tuple, set, frozenset, dict])
# Argument types that never hold a Ref: skipped without further checks.
_ATOMIC = frozenset([int, float, str, bytes, bool, type(None), complex])


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def find_refs(obj, found: dict) -> bool:
    """Add the keys of all `Ref` s inside ``obj`` to ``found`` (a dict used as an ordered set).

    Returns True if ``obj`` holds at least one Ref.
    """
    t = type(obj)
    if t is Ref:
        found[obj.key] = None
        return True
    if t in _PLAIN_SEQUENCES or (t is not str and _is_namedtuple(obj)):
        hit = False
        for item in obj:
            if find_refs(item, found):
                hit = True
        return hit
    if t is dict:
        hit = False
        for item in obj.values():
            if find_refs(item, found):
                hit = True
        return hit
    return False


def substitute(obj, data):
    """``obj`` with every `Ref` inside it replaced by ``data[ref.key]``."""
    t = type(obj)
    if t is Ref:
        return data[obj.key]
    if t is list:
        return [substitute(x, data) for x in obj]
    if t is tuple:
        return tuple([substitute(x, data) for x in obj])
    if t is dict:
        return {k: substitute(v, data) for k, v in obj.items()}
    if t is set or t is frozenset:
        return t([substitute(x, data) for x in obj])
    if _is_namedtuple(obj):
        return t(*[substitute(x, data) for x in obj])
    return obj


def funcname(func) -> str:
    """A short readable name for a callable (unwrapping partials).

    >>> import functools
    >>> funcname(functools.partial(max, 1))
    'max'
    """
    while hasattr(func, "func") and hasattr(func, "args"):  # functools.partial and friends
        func = func.func
    name = getattr(func, "__name__", None)
    if name is None:
        name = type(func).__name__
    return "lambda" if name == "<lambda>" else name


class Node:
    """Base class of graph nodes.  Subclasses define ``__call__(data)``."""

    __slots__ = ()

    @property
    def key(self):
        """This node's key (read-only)."""
        return self._key

    # Subclasses define the slot ``deps``: the same tuple as ``dependencies``, read-only by contract.

    @property
    def dependencies(self) -> tuple:
        """Keys this node reads, unique, in the order they first appear."""
        return self.deps

    def substitute(self, values: dict) -> "Node":
        """A copy with Refs to keys in ``values`` replaced by those literal values."""
        raise NotImplementedError

    def __eq__(self, other):
        # Identity: two nodes may hold numpy arrays, whose == is elementwise.
        return self is other

    __hash__ = object.__hash__


class DataNode(Node):
    """A literal value stored in the graph under a key."""

    __slots__ = ("_key", "deps", "_value")

    def __init__(self, key, value):
        self._key = key if type(key) is str else validate_key(key)
        self.deps = ()
        self._value = value

    @property
    def value(self):
        """The stored value."""
        return self._value

    @property
    def label(self) -> str:
        """What drawings show: the value's type name."""
        return type(self._value).__name__

    def __call__(self, data=None):
        return self._value

    def substitute(self, values):
        """A DataNode reads nothing, so there is nothing to replace."""
        return self

    def __repr__(self):
        text = repr(self._value)
        if len(text) > 40:
            text = f"<{type(self._value).__name__}>"
        return f"DataNode({self._key!r}, {text})"

    def __reduce__(self):
        return (DataNode, (self._key, self._value))

    def __graphflow_tokenize__(self):
        return ("DataNode", self._key, self._value)


# How a Task turns its stored arguments into call arguments.
_NO_REFS, _TOP_REFS, _NESTED_REFS = 0, 1, 2


class Task(Node):
    """A call ``func(*args, **kwargs)`` whose arguments may hold Refs to other keys.

    ``key`` and ``func`` are positional-only, so the function's own keyword
    arguments may be called ``key`` or ``func`` too.
    """

    __slots__ = ("_key", "deps", "_func", "_args", "_kwargs", "_mode")

    def __init__(self, key, func, /, *args, **kwargs):
        if type(key) is not str and not is_valid_key(key):
            validate_key(key)
        if not callable(func):
            raise NotCallableError(
                f"Task {key_str(key)!r} was given {func!r} (a {type(func).__name__}) as its "
                f"function, which is not callable; pass a function, or use DataNode for a value"
            )
        found: dict = {}
        mode = _NO_REFS
        for a in args:
            ta = type(a)
            if ta is Ref:
                found[a.key] = None
                if mode == _NO_REFS:
                    mode = _TOP_REFS
            elif ta in _ATOMIC:
                pass
            elif (ta in _CONTAINERS or _is_namedtuple(a)) and find_refs(a, found):
                mode = _NESTED_REFS
        if kwargs and find_refs(kwargs, found):
            mode = _NESTED_REFS
        self._key = key
        self._func = func
        self._args = args
        self._kwargs = kwargs or None  # no empty dict per task: 1M tasks would carry 64 MB of them
        self.deps = tuple(found) if found else ()
        self._mode = mode

    @classmethod
    def from_call(cls, key, func, args: tuple = (), kwargs: dict | None = None) -> "Task":
        """Build a Task from an argument tuple and a keyword dict (as ``func(*args, **kwargs)``)."""
        if kwargs:
            return cls(key, func, *args, **kwargs)
        return cls(key, func, *args)

    def with_func(self, func) -> "Task":
        """The same call with ``func`` in place of the function (arguments and dependencies kept, not
        searched again: the client swaps 100k tasks' functions for their portable form)."""
        if not callable(func):
            raise NotCallableError(f"Task {key_str(self._key)!r} was given {func!r} (a {type(func).__name__}) "
                                   "as its function, which is not callable")
        new = object.__new__(type(self))
        new.__setstate__((self._key, func, self._args, self._kwargs, self.deps, self._mode))
        return new

    @property
    def func(self):
        """The function called."""
        return self._func

    @property
    def args(self) -> tuple:
        """Positional arguments as stored, Refs included."""
        return self._args

    @property
    def kwargs(self) -> dict:
        """A copy of the keyword arguments as stored, Refs included."""
        return dict(self._kwargs or ())

    @property
    def label(self) -> str:
        """What drawings show: the function's name."""
        return funcname(self._func)

    def __call__(self, data):
        mode = self._mode
        if mode == _TOP_REFS:
            args = [data[a.key] if type(a) is Ref else a for a in self._args]
            kwargs = self._kwargs
        elif mode == _NO_REFS:
            args = self._args
            kwargs = self._kwargs
        else:
            args = substitute(self._args, data)
            kwargs = substitute(self._kwargs, data) if self._kwargs else None
        if kwargs:
            return self._func(*args, **kwargs)
        return self._func(*args)

    def substitute(self, values):
        """A copy with Refs to keys in ``values`` replaced by those values (self if none)."""
        if not any(k in values for k in self.deps):
            return self
        return Task.from_call(
            self._key, self._func, replace_refs(self._args, values), replace_refs(self._kwargs or {}, values)
        )

    def __repr__(self):
        return f"Task({self._key!r}, {funcname(self._func)}, deps={list(self.deps)!r})"

    def __reduce__(self):
        # Dependencies and call mode travel along: rebuilding needs no walk of the arguments (they were
        # checked when the task was built), and no bound method is pickled (and looked up again) per task.
        return (copyreg.__newobj__, (Task,), (self._key, self._func, self._args, self._kwargs, self.deps,
                                              self._mode))

    def __setstate__(self, state: tuple) -> None:
        self._key, self._func, self._args, self._kwargs, self.deps, self._mode = state

    def __graphflow_tokenize__(self):
        return ("Task", self._key, self._func, self._args, self._kwargs)


def replace_refs(obj, values):
    """Replace only the Refs whose key is in ``values``; leave the others as Refs."""
    t = type(obj)
    if t is Ref:
        return values[obj.key] if obj.key in values else obj
    if t is list:
        return [replace_refs(x, values) for x in obj]
    if t is tuple:
        return tuple([replace_refs(x, values) for x in obj])
    if t is dict:
        return {k: replace_refs(v, values) for k, v in obj.items()}
    if t is set or t is frozenset:
        return t([replace_refs(x, values) for x in obj])
    if _is_namedtuple(obj):
        return t(*[replace_refs(x, values) for x in obj])
    return obj


class FusedTask(Node):
    """A chain of tasks run as one: the optimizer's output for linear chains.

    ``tasks`` are in execution order and the last one's key is the fused key.
    Inner tasks read external inputs and earlier inner results from a private
    scope; each inner result is dropped right after its last reader ran.
    """

    __slots__ = ("_key", "deps", "_tasks", "_drops")

    def __init__(self, key, tasks):
        tasks = tuple(tasks)
        if not tasks or tasks[-1].key != key:
            raise ValueError(f"FusedTask {key_str(key)!r}: the last inner task must have its key")
        self._key = key
        self._tasks = tasks
        if _is_linear(tasks):
            # What fuse_linear builds: each step reads only the one before it.
            self.deps = tasks[0].deps
            self._drops = None
        else:
            self.deps, self._drops = _scope_plan(tasks)

    @property
    def tasks(self) -> tuple:
        """The inner tasks, in execution order."""
        return self._tasks

    @property
    def label(self) -> str:
        """What drawings show: the chain of function names."""
        names = [getattr(t, "label", "?") for t in self._tasks]
        if len(names) > 4:
            names = names[:2] + [f"... {len(names) - 3} more ..."] + names[-1:]
        return "+".join(names)

    def __call__(self, data):
        task = None
        try:
            if self._drops is None:
                tasks = self._tasks
                task = tasks[0]
                result = task(data)
                scope = {}
                for task in tasks[1:]:
                    scope[task.deps[0]] = result
                    result = None  # only the scope holds it: freed as soon as it is overwritten
                    result = task(scope)
                    scope.clear()
                return result
            scope = {k: data[k] for k in self.deps}
            drops = self._drops
            for i, task in enumerate(self._tasks):
                result = task(scope)
                scope[task.key] = result
                for k in drops[i]:
                    del scope[k]
            return result
        except BaseException as exc:
            _mark_failed_key(exc, task.key)
            raise

    def substitute(self, values):
        """A copy whose inner tasks have Refs to keys in ``values`` replaced."""
        tasks = tuple(t.substitute(values) for t in self._tasks)
        if all(a is b for a, b in zip(tasks, self._tasks)):
            return self
        return FusedTask(self._key, tasks)

    def __repr__(self):
        return f"FusedTask({self._key!r}, {len(self._tasks)} tasks, deps={list(self.deps)!r})"

    def __reduce__(self):
        return (FusedTask, (self._key, self._tasks))

    def __graphflow_tokenize__(self):
        return ("FusedTask", self._tasks)


def _is_linear(tasks) -> bool:
    prev = tasks[0]
    for task in tasks[1:]:
        deps = task.deps
        if len(deps) != 1 or deps[0] != prev.key:
            return False
        prev = task
    return True


def _scope_plan(tasks) -> tuple:
    """External inputs of a general fused group, and the keys to drop after each inner task."""
    produced = set()
    external: dict = {}
    last_reader: dict = {}
    for i, task in enumerate(tasks):
        for dep in task.dependencies:
            if dep not in produced:
                external[dep] = None
            last_reader[dep] = i
        produced.add(task.key)
    drops: list = [[] for _ in tasks]
    for dep, i in last_reader.items():
        drops[i].append(dep)
    return tuple(external), tuple(tuple(d) for d in drops)


def _mark_failed_key(exc: BaseException, key) -> None:
    """Record which inner key raised, so error messages name it rather than the fused key."""
    if getattr(exc, "__graphflow_key__", None) is None:
        try:
            exc.__graphflow_key__ = key
        except Exception:  # pragma: no cover - exceptions without a __dict__
            pass
