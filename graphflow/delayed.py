"""``delayed``: build task graphs from ordinary Python calls.

    >>> from graphflow import delayed
    >>> @delayed
    ... def inc(x):
    ...     return x + 1
    >>> @delayed(pure=True)
    ... def add(x, y):
    ...     return x + y
    >>> total = add(inc(1), inc(2)) * 10     # nothing runs yet
    >>> total.compute()
    50

A `Delayed` holds its key, the node(s) it adds to the graph and the
collections it reads (its *parents*); it never holds a merged copy of its
ancestors' graphs.  Building one is O(its own arguments), so a chain of 100k
calls builds in linear time, and the graph is assembled once, at compute time,
by an iterative walk over parents (`collect`), with no recursion limit.

Keys follow Dask: a call is named ``<function name>-<suffix>``, where the
suffix is unique per call unless the call is *pure* (``pure=True``), in which
case it is a `tokenize` of the function and arguments, so equal pure calls
share a key and a result.  ``key=`` names things yourself.

Call-time keywords that graphflow takes for itself (the rest go to your
function): ``pure=`` and ``graphflow_key=``.

Delayed values may sit inside lists, tuples (named ones too), dicts, sets and
dataclass instances passed as arguments: they become dependencies and are
replaced by their values.
Operators, attribute access, indexing and method calls on a `Delayed` build
new nodes.  Truth testing and iteration without ``nout=`` raise `TypeError`
(a lazy value has no truth yet).
"""

from __future__ import annotations

import dataclasses
import functools
import operator

from . import base
from .interop.protocol import DaskCollection
from .utils.gcpause import no_gc
from .utils.traverse import identity
from .spec import DataNode, Ref, Task, TaskGraph, funcname, tokenize, unique_suffix
from .spec.collections import first

__all__ = ["delayed", "Delayed", "DelayedFunction", "DelayedAttr"]

_NOTHING = object()


def _call(func, *args, **kwargs):
    return func(*args, **kwargs)


def _call_method(obj, name, *args, **kwargs):
    return getattr(obj, name)(*args, **kwargs)


def _finalize_collection(results, func, extra):
    return func(results, *extra)


class Delayed(DaskCollection):
    """A lazy value: the result of a delayed call, attribute access, operator or `delayed(obj)`."""

    # ``__graphflow_nodes__`` / ``__graphflow_parents__``: read by `collect` for every Delayed it walks, so
    # slots other modules may read; dunder-named, as a public name would hide the lazy ``d.name`` of
    # `__getattr__`.  Read-only by contract.
    __slots__ = ("_key", "__graphflow_nodes__", "__graphflow_parents__", "_length", "__weakref__")
    __graphflow_scheduler__ = "threads"

    def __init__(self, key, nodes=(), parents=(), length=None):
        self._key = key
        self.__graphflow_nodes__ = nodes  # this object's own nodes, or a whole TaskGraph
        self.__graphflow_parents__ = parents  # collections whose graphs these nodes read
        self._length = length

    # -- collection protocol
    @property
    def key(self):
        return self._key

    def __graphflow_graph__(self) -> TaskGraph:
        return TaskGraph.adopt(collect([self]))

    def __graphflow_keys__(self) -> list:
        return [self._key]

    def __graphflow_finalize__(self):
        return first, ()

    def __graphflow_rebuild__(self, graph):
        return Delayed(self._key, graph, (), self._length)

    @staticmethod
    def __graphflow_collect__(collections) -> dict:
        return collect(collections)

    def __graphflow_tokenize__(self):
        return self._key

    # -- user methods
    def compute(self, **kwargs):
        """Compute this value; keywords as in `graphflow.compute`."""
        return base.compute(self, **kwargs)[0]

    def persist(self, **kwargs) -> "Delayed":
        """Compute and return a Delayed with the same key backed by the value."""
        return base.persist(self, **kwargs)[0]

    def visualize(self, filename: str = "graphflow.svg", **kwargs) -> str:
        """Draw this value's graph; see `graphflow.visualize`."""
        return base.visualize(self, filename=filename, **kwargs)

    def to_networkx(self, **kwargs):
        """This value's graph as a networkx DiGraph; see `graphflow.to_networkx`."""
        return base.to_networkx(self, **kwargs)

    # -- Python protocol
    def __repr__(self):
        return f"Delayed({self._key!r})"

    def _repr_html_(self):
        from .cards import delayed_html

        return delayed_html(self)

    def __hash__(self):
        return hash(self._key)

    def __reduce__(self):
        # Flatten the ancestry into one dict: pickling the parent chain would recurse.
        return (_rebuild_delayed, (self._key, collect([self]), self._length))

    def __bool__(self):
        raise TypeError(
            f"the truth value of {self!r} is not known until it is computed; "
            f"call .compute() first, or branch inside a delayed function"
        )

    def __len__(self):
        if self._length is None:
            raise TypeError(f"{self!r} has no length: pass nout= to delayed to make it unpackable")
        return self._length

    def __iter__(self):
        if self._length is None:
            raise TypeError(f"{self!r} is not iterable: pass nout= to delayed to unpack its result")
        return (self[i] for i in range(self._length))

    def __setitem__(self, index, value):
        raise TypeError("Delayed objects are immutable: build a new value with a delayed function")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        return DelayedAttr(self, name)

    def __call__(self, *args, **kwargs):
        pure = kwargs.pop("pure", False)
        key = kwargs.pop("graphflow_key", None)
        return _call_node(_call, "call", (self,) + args, kwargs, pure, key, None)

    # __eq__ builds a node (as in Dask), so equality of Delayed objects is lazy too.
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray + Delayed is lazy


def _rebuild_delayed(key, nodes, length):
    return Delayed(key, TaskGraph.adopt(nodes), (), length)


class DelayedFunction(Delayed):
    """``delayed(func)``: calling it makes a task; computing it returns the function itself."""

    __slots__ = ("_func", "_pure", "_nout", "_call_key")

    def __init__(self, func, key=None, pure=None, nout=None):
        name = funcname(func)
        own_key = f"{name}-{unique_suffix()}"
        super().__init__(own_key, (DataNode(own_key, func),))
        self._func = func
        self._pure = bool(pure)
        self._nout = _check_nout(nout)
        self._call_key = key

    def __call__(self, *args, **kwargs):
        pure = kwargs.pop("pure", self._pure)
        key = kwargs.pop("graphflow_key", None) or self._call_key
        return _call_node(self._func, None, args, kwargs, pure, key, self._nout)

    def __repr__(self):
        return f"DelayedFunction({funcname(self._func)})"

    def __reduce__(self):
        return (DelayedFunction, (self._func, self._call_key, self._pure, self._nout))

    @property
    def __wrapped__(self):
        return self._func


class DelayedAttr(Delayed):
    """``obj.name`` on a Delayed: a ``getattr`` node, or a method call when called."""

    __slots__ = ("_obj", "_attr")

    def __init__(self, obj: Delayed, attr: str):
        key = f"getattr-{tokenize(obj.key, attr)}"
        super().__init__(key, (Task(key, getattr, Ref(obj.key), attr),), (obj,))
        self._obj = obj
        self._attr = attr

    def __call__(self, *args, **kwargs):
        pure = kwargs.pop("pure", False)
        key = kwargs.pop("graphflow_key", None)
        return _call_node(_call_method, self._attr, (self._obj, self._attr) + args, kwargs, pure, key, None)


def _check_nout(nout):
    if nout is None:
        return None
    if not isinstance(nout, int) or isinstance(nout, bool) or nout < 0:
        raise ValueError(f"nout must be a non-negative int or None, not {nout!r}")
    return nout


def _call_node(func, name, args, kwargs, pure, key, nout) -> Delayed:
    """The Delayed for ``func(*args, **kwargs)`` whose arguments may hold collections."""
    parents: dict = {}
    extra: list = []
    args2 = tuple([unpack_arg(a, parents, extra) for a in args])
    kwargs2 = {k: unpack_arg(v, parents, extra) for k, v in kwargs.items()} if kwargs else {}
    if key is None:
        prefix = name or funcname(func)
        key = f"{prefix}-{tokenize(func, args, kwargs) if pure else unique_suffix()}"
    node = Task.from_call(key, func, args2, kwargs2)
    nodes = (node,) if not extra else tuple(extra) + (node,)
    return Delayed(key, nodes, tuple(parents.values()), nout)


_SEQUENCES = (list, tuple, set, frozenset)
_ATOMIC = frozenset([int, float, str, bytes, bool, type(None), complex])


def unpack_arg(obj, parents: dict, extra: list):
    """``obj`` with collections replaced by Refs; records them as parents."""
    t = type(obj)
    if t is Delayed or isinstance(obj, Delayed):
        parents[id(obj)] = obj
        return Ref(obj.key)
    if t in _SEQUENCES:
        items = [unpack_arg(x, parents, extra) for x in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else t(items)
    if t is dict:
        items = {k: unpack_arg(v, parents, extra) for k, v in obj.items()}
        return obj if all(items[k] is v for k, v in obj.items()) else items
    if t in _ATOMIC:
        return obj
    if isinstance(obj, tuple) and hasattr(t, "_fields"):  # a named tuple
        items = [unpack_arg(x, parents, extra) for x in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else t(*items)
    if dataclasses.is_dataclass(obj) and t is not type:
        return _dataclass_ref(obj, parents, extra)
    if base.is_collection(obj):
        return _collection_ref(obj, parents, extra)
    return obj


def _dataclass_ref(obj, parents: dict, extra: list):
    """A dataclass holding lazy values becomes a node that builds it from their results."""
    fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
    unpacked = {k: unpack_arg(v, parents, extra) for k, v in fields.items()}
    if all(unpacked[k] is v for k, v in fields.items()):
        return obj
    key = f"{type(obj).__name__}-{unique_suffix()}"
    extra.append(Task(key, type(obj), **unpacked))
    return Ref(key)


def _collection_ref(obj, parents: dict, extra: list) -> Ref:
    """A Ref to a node that finalizes another kind of collection (an array, a frame...)."""
    parents[id(obj)] = obj
    keys = obj.__graphflow_keys__()
    func, args = obj.__graphflow_finalize__()
    key = f"finalize-{tokenize(keys, func, args)}"
    extra.append(Task(key, _finalize_collection, _refs(keys), func, args))
    return Ref(key)


def _refs(keys):
    return [_refs(k) if type(k) is list else Ref(k) for k in keys]


def collect(collections) -> dict:
    """One ``{key: node}`` dict for these collections and all their ancestors.

    An explicit stack, not recursion, so chains of any depth are fine; each
    Delayed is visited once however many descendants share it.
    """
    with no_gc():
        return _collect(collections)


def _collect(collections) -> dict:
    nodes: dict = {}
    seen: set = set()
    stack = list(collections)
    others = []
    merge = base.merge_nodes
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        if isinstance(c, Delayed):
            own = c.__graphflow_nodes__
            if type(own) is tuple and len(own) == 1:
                node = own[0]
                key = node.key
                old = nodes.get(key)
                if old is None:
                    nodes[key] = node
                elif old is not node:
                    base.check_same_node(old, node)
            else:
                merge(nodes, own.values() if isinstance(own, TaskGraph) else own)
            stack.extend(c.__graphflow_parents__)
        else:
            others.append(c)
    for c in others:
        merge(nodes, base.collections_to_graph([c]).values())
    return nodes


def delayed(obj=_NOTHING, *, key=None, pure=None, nout=None, traverse: bool = True):
    """Make a function lazy, or wrap a value as a lazy `Delayed`.

    - ``delayed(func)`` / ``@delayed``: calls build tasks instead of running.
    - ``@delayed(pure=True, nout=2)``: options for the decorated function.
    - ``delayed(obj)``: ``obj`` as a graph value; Delayed values inside lists,
      tuples, dicts and sets in ``obj`` become dependencies.

    ``key``: the key of the value (or of each call, for a function).
    ``pure``: name by content (`tokenize`) instead of a unique suffix.
    ``nout``: the call returns a tuple of this length, unpackable lazily.

    >>> a, b = delayed(divmod, nout=2)(17, 5)
    >>> (a.compute(), b.compute())
    (3, 2)
    """
    if obj is _NOTHING:
        return functools.partial(delayed, key=key, pure=pure, nout=nout, traverse=traverse)
    if isinstance(obj, Delayed):
        return obj
    if callable(obj) and not base.is_collection(obj):
        return DelayedFunction(obj, key=key, pure=pure, nout=nout)
    if base.is_collection(obj):
        parents: dict = {}
        extra: list = []
        ref = _collection_ref(obj, parents, extra)
        name = key or f"delayed-{tokenize(ref.key)}"
        node = Task(name, identity, ref)
        return Delayed(name, tuple(extra) + (node,), tuple(parents.values()), _check_nout(nout))
    parents, extra = {}, []
    value = unpack_arg(obj, parents, extra) if traverse else obj
    if key is None:
        key = f"{type(obj).__name__}-{tokenize(obj) if pure else unique_suffix()}"
    if parents:
        node = Task(key, identity, value)
        return Delayed(key, tuple(extra) + (node,), tuple(parents.values()), _check_nout(nout))
    return Delayed(key, (DataNode(key, obj),), (), _check_nout(nout))


# ------------------------------------------------------------------ operators


def _binary(op, reflected=False):
    name = op.__name__.strip("_")

    def method(self, other):
        args = (other, self) if reflected else (self, other)
        return _call_node(op, name, args, None, True, None, None)

    method.__name__ = f"__r{name}__" if reflected else f"__{name}__"
    return method


def _unary(op):
    def method(self):
        return _call_node(op, op.__name__.strip("_"), (self,), None, True, None, None)

    method.__name__ = f"__{op.__name__.strip('_')}__"
    return method


for _op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
            operator.mod, operator.pow, operator.matmul, operator.and_, operator.or_,
            operator.xor, operator.lshift, operator.rshift):
    _name = _op.__name__.strip("_")
    setattr(Delayed, f"__{_name}__", _binary(_op))
    setattr(Delayed, f"__r{_name}__", _binary(_op, reflected=True))
for _op in (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge,
            operator.getitem):
    setattr(Delayed, f"__{_op.__name__.strip('_')}__", _binary(_op))
setattr(Delayed, "__divmod__", _binary(divmod))
setattr(Delayed, "__rdivmod__", _binary(divmod, reflected=True))
for _op in (operator.neg, operator.pos, operator.invert, operator.abs):
    setattr(Delayed, f"__{_op.__name__.strip('_')}__", _unary(_op))
