"""``Bag.str``: Python's string methods on every element, lazily (``b.str.lower()``, ``b.str.split(",")``).

Any method of ``str`` works (looked up by name, so a typo fails at once with the name), plus
``match(pattern)``, a filter keeping the elements that match a shell-style pattern (`fnmatch`):

    >>> import graphflow.bag as db
    >>> b = db.from_sequence(["Alice Smith", "bob Jones", "Alice Lee"], npartitions=2)
    >>> b.str.lower().str.match("alice*").compute(scheduler="sync")
    ['alice smith', 'alice lee']
"""

from __future__ import annotations

import fnmatch

from .core import Bag
from .elementwise import filter as filter_bag
from .elementwise import partitionwise
from .loops import paused

__all__ = ["StringAccessor"]


@paused
def _str_method(part, name, args, kwargs):
    return [getattr(x, name)(*args, **kwargs) for x in part]


def _matches(pattern):
    return _Match(pattern)


class _Match:
    """A picklable predicate: does a string match a shell-style pattern."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: str):
        self.pattern = pattern

    def __call__(self, s) -> bool:
        return fnmatch.fnmatchcase(s, self.pattern)

    def __reduce__(self):
        return (_Match, (self.pattern,))

    def __graphflow_tokenize__(self):
        return ("bag-str-match", self.pattern)


class StringAccessor:
    """The ``.str`` of a Bag; see the module docstring."""

    __slots__ = ("_bag",)

    def __init__(self, bag: Bag):
        self._bag = bag

    def __dir__(self):
        return sorted(set(dir(str)) | {"match"})

    def match(self, pattern: str) -> Bag:
        """The elements matching the shell-style ``pattern`` (``*``, ``?``, ``[abc]``)."""
        return filter_bag(self._bag, _matches(pattern))

    def __getattr__(self, name):
        if name.startswith("_") or not callable(getattr(str, name, None)):
            raise AttributeError(f"Bag.str has no method {name!r}: it offers the methods of str, and match")

        def method(*args, **kwargs) -> Bag:
            return partitionwise(self._bag, f"str-{name}", _str_method, name, args, kwargs)

        method.__name__ = name
        method.__doc__ = f"``str.{name}`` of every element."
        return method
