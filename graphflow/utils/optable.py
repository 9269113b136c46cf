"""A table of operations a class's methods call, filled once by the package that defines them.

`graphflow.array.Array` and the dataframe collections have methods whose work
lives in modules built on top of them (``x.sum()`` is in ``reductions``, which
imports ``core``).  Instead of importing those modules from inside the methods
(an import cycle), the class's module holds a table with one slot per
operation, and the package's ``__init__`` fills every slot with one
`OperationTable.bind` call.  Reading a slot before that says so; binding a
wrong set of names is refused whole.

    >>> class Ops(OperationTable):
    ...     __slots__ = ("double",)
    ...     package = "demo"
    >>> ops = Ops()
    >>> ops.bind(double=lambda x: 2 * x); ops.double(4)
    8
    >>> ops.bind(triple=len)
    Traceback (most recent call last):
    ...
    TypeError: bind: missing ['double'], unknown ['triple']
"""

from __future__ import annotations

__all__ = ["OperationTable"]


class OperationTable:
    """Base of the operation tables: subclasses name their slots (``__slots__``) and their ``package``."""

    __slots__ = ()
    package = "graphflow"

    def __getattr__(self, name):
        if name in type(self).__slots__:
            raise RuntimeError(f"operation {name!r} of {self.package} is not bound yet: {self.package} binds its "
                               f"operations at the end of its import")
        raise AttributeError(name)

    def bind(self, **functions) -> None:
        """Fill every slot, each by name; a missing or unknown name is a TypeError and changes nothing."""
        slots = set(type(self).__slots__)
        if set(functions) != slots:
            raise TypeError(f"bind: missing {sorted(slots - set(functions))}, "
                            f"unknown {sorted(set(functions) - slots)}")
        for name, func in functions.items():
            setattr(self, name, func)
