"""Walking nested containers: find the leaves of one kind, or rebuild the container with them replaced.

A *container* here is a ``list``, ``tuple``, ``set``, ``frozenset`` or ``dict``
(its values), nested to any depth -- exactly the shapes ``compute``,
``gather``, ``cancel`` and ``submit`` accept around collections and futures.
Subclasses (a namedtuple, an OrderedDict) are left as they are: rebuilding
them could lose what makes them special.  Anything else is a leaf candidate,
tested with ``is_leaf``.

    >>> is_int = lambda x: type(x) is int
    >>> leaves([1, ("a", {2}), {"k": 3}], is_int)
    [1, 2, 3]
    >>> rebuild([1, ("a", {2}), {"k": 3}], is_int, lambda x: x * 10)
    [10, ('a', {20}), {'k': 30}]
    >>> rebuild([1, "a", 2], is_int, lambda x: DROP if x == 1 else x)
    ['a', 2]

`rebuild` returns the very same object when nothing in it was replaced, so
walking large argument lists without leaves costs no copies.  `identity` is
the one function graphs use to alias a key to another.
"""

from __future__ import annotations

__all__ = ["DROP", "identity", "leaves", "rebuild"]

_SEQUENCES = (list, tuple, set, frozenset)

DROP = type("Drop", (), {"__repr__": lambda self: "DROP", "__slots__": ()})()
"""Returned by a ``replace`` function: leave this leaf out of its container."""


def identity(x):
    """``x`` itself (a task that makes one key another's alias)."""
    return x


def leaves(obj, is_leaf, out: list | None = None) -> list:
    """The leaves of ``obj`` for which ``is_leaf`` holds, in order (depth first)."""
    out = [] if out is None else out
    _collect(obj, is_leaf, out)
    return out


def _collect(obj, is_leaf, out: list) -> None:
    if is_leaf(obj):
        out.append(obj)
        return
    t = type(obj)
    if t in _SEQUENCES:
        for x in obj:
            _collect(x, is_leaf, out)
    elif t is dict:
        for x in obj.values():
            _collect(x, is_leaf, out)


def rebuild(obj, is_leaf, replace):
    """``obj`` with every leaf ``x`` (``is_leaf(x)``) replaced by ``replace(x)``; `DROP` removes it.

    Containers are rebuilt only where something changed; a leaf at the top is replaced too
    (dropping it there gives `DROP` back).
    """
    if is_leaf(obj):
        return replace(obj)
    t = type(obj)
    if t in _SEQUENCES:
        items = [rebuild(x, is_leaf, replace) for x in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return t(x for x in items if x is not DROP)
    if t is dict:
        items = {k: rebuild(v, is_leaf, replace) for k, v in obj.items()}
        if all(items[k] is obj[k] for k in obj):
            return obj
        return {k: v for k, v in items.items() if v is not DROP}
    return obj
