"""`Bag` and `Item`: a lazy, partitioned collection of Python objects, and one lazy value computed from it.

A Bag is a name, a number of partitions, the nodes that compute its own
partitions and the collections those nodes read (its *parents*), exactly as
`graphflow.array.Array` is.  Partition ``i`` of a bag named ``"map-3f2a"`` is
the key ``("map-3f2a", i)``, and its value is a plain ``list``.  An `Item` is
one key (``(name, 0)``) whose value is any Python object: what reductions
(``sum``, ``fold``, ``count``...) give.

    >>> import graphflow.bag as db
    >>> b = db.from_sequence(range(10), npartitions=3)
    >>> b.npartitions, b.map(lambda x: x * 2).filter(lambda x: x > 5).compute(scheduler="sync")
    (3, [6, 8, 10, 12, 14, 16, 18])
    >>> b.sum().compute(scheduler="sync")
    45

Model: every element-wise step (``map``, ``filter``, ``pluck``...) adds one
`Task` per partition that reads only the same partition of its input, so the
optimizer's linear fusion (`graphflow.optimize.fuse`) runs a whole chain of
them as one task per partition.  Inside that task the steps stream
(`graphflow.optimize.stream`): ``map`` hands each element straight to
``filter``, ``flatten`` or a reduction's per-partition step (``foldby``,
``frequencies``, ``topk``), so no list is built between two steps and only a
reduction's small per-partition result leaves the worker process.  Reductions build a tree of tasks
(``split_every`` inputs each); ``groupby`` shuffles through an all-to-all of
tasks.  The graph is assembled once, at compute time, by an iterative walk over
parents (`collect`).

Default scheduler: ``"processes"`` (graphflow's local process pool, kept
between calls), as Dask defaults bags to multiprocessing: pure-Python work on
objects holds the GIL, so threads would not run partitions in parallel.
``compute(scheduler="sync"|"threads")``, ``gf.config.set(scheduler=...)`` or a
cluster `Client` choose otherwise.

The operations live in their own modules (`creation`, `elementwise`,
`reductions`, `groupby`, `text`, `convert`), which import this one; `Bag`'s
methods reach them through `OPERATIONS`, filled once by ``graphflow/bag/__init__.py``.
"""

from __future__ import annotations

from .. import base
from ..interop.protocol import DaskCollection
from ..spec import tokenize
from ..utils.optable import OperationTable

__all__ = ["Bag", "Item", "collect", "new_name", "OPERATIONS", "bind_operations", "no_default"]


class _NoDefault:
    """The marker for "no initial value given" (``None`` is a valid initial value)."""

    __slots__ = ()

    def __repr__(self):
        return "no_default"

    def __reduce__(self):
        return (_no_default, ())


def _no_default():
    return no_default


no_default = _NoDefault()


def new_name(prefix: str, *parts) -> str:
    """``prefix-<token>``: the deterministic name of an operation on ``parts``."""
    return f"{prefix}-{tokenize(prefix, *parts)}"


def _concat(partitions):
    """Finalize a Bag: its partitions (lists) joined into one list."""
    if len(partitions) == 1:
        return list(partitions[0])
    out = []
    for part in partitions:
        out.extend(part)
    return out


def _first(results):
    return results[0]


class BagOperations(OperationTable):
    """The functions `Bag`'s and `Item`'s methods call, from the modules built on top of this one."""

    __slots__ = (
        "map", "map_partitions", "starmap", "filter", "remove", "pluck", "flatten", "accumulate", "distinct",
        "frequencies", "topk", "product", "zip", "join", "repartition", "random_sample", "unzip",
        "fold", "reduction", "foldby", "groupby", "count", "sum", "min", "max", "mean", "std", "var", "any",
        "all", "take", "to_textfiles", "to_dataframe", "to_delayed", "item_to_delayed", "item_apply",
        "string_accessor",
    )
    package = "graphflow.bag"


OPERATIONS = BagOperations()


def bind_operations(**functions) -> None:
    """Fill `OPERATIONS`: every slot, by name.  Called once, by ``graphflow/bag/__init__.py``."""
    OPERATIONS.bind(**functions)


_ops = OPERATIONS


class _Lazy(DaskCollection, base.LineageCollection):
    """What `Bag` and `Item` share: own nodes plus parents (`graphflow.base.LineageCollection`), Dask's
    protocol, and the default scheduler."""

    __slots__ = ()
    # Dask's bags default to multiprocessing; see the module docstring.
    __graphflow_scheduler__ = "processes"


class Bag(_Lazy):
    """A lazy list of Python objects cut into partitions; see the module docstring."""

    __slots__ = ("_name", "_npartitions", "_nodes", "_parents", "__weakref__")

    def __init__(self, name: str, npartitions: int, nodes=None, parents=()):
        self._name = name
        self._npartitions = int(npartitions)
        self._nodes = {} if nodes is None else nodes
        self._parents = tuple(parents)

    @property
    def name(self) -> str:
        """The name shared by this bag's partition keys."""
        return self._name

    @property
    def npartitions(self) -> int:
        """How many partitions (lists) this bag has."""
        return self._npartitions

    def keys(self) -> list:
        """The partition keys, ``[(name, 0), (name, 1), ...]``."""
        return [(self._name, i) for i in range(self._npartitions)]

    # -- collection protocol
    def __graphflow_keys__(self) -> list:
        return self.keys()

    def __graphflow_finalize__(self):
        return _concat, ()

    def __graphflow_rebuild__(self, graph):
        return Bag(self._name, self._npartitions, graph, ())

    def __graphflow_tokenize__(self):
        return ("graphflow.bag", self._name)

    def __reduce__(self):
        return (Bag, (self._name, self._npartitions, collect([self]), ()))

    # -- Python protocol
    def __iter__(self):
        return iter(self.compute())

    def __repr__(self):
        return f"graphflow.bag<{self._name.rsplit('-', 1)[0]}, npartitions={self._npartitions}>"

    def _repr_html_(self):
        import html

        return (f"<div><strong>graphflow.bag.Bag</strong> <code>{html.escape(self._name)}</code>"
                f"<br>npartitions: {self._npartitions} (partitions are Python lists; "
                f"<code>compute()</code> gives one list)</div>")

    @property
    def str(self):
        """String methods on every element: ``b.str.lower()``, ``b.str.split(",")``, ``b.str.match("a*")``."""
        return _ops.string_accessor(self)

    # -- element-wise (graphflow.bag.elementwise)
    def map(self, func, *args, **kwargs) -> "Bag":
        """``func(x, *args, **kwargs)`` for every element; Bag arguments go element by element, Items whole."""
        return _ops.map(func, self, *args, **kwargs)

    def map_partitions(self, func, *args, **kwargs) -> "Bag":
        """``func(partition, *args, **kwargs)`` for every partition (a list); Bag arguments partition by partition."""
        return _ops.map_partitions(func, self, *args, **kwargs)

    def starmap(self, func, **kwargs) -> "Bag":
        """``func(*x, **kwargs)`` for every element ``x`` (a tuple)."""
        return _ops.starmap(self, func, **kwargs)

    def filter(self, predicate) -> "Bag":
        """The elements for which ``predicate(x)`` is true."""
        return _ops.filter(self, predicate)

    def remove(self, predicate) -> "Bag":
        """The elements for which ``predicate(x)`` is false."""
        return _ops.remove(self, predicate)

    def pluck(self, key, default=no_default) -> "Bag":
        """``x[key]`` of every element (``key`` may be a list: a tuple of fields); ``default`` if missing."""
        return _ops.pluck(self, key, default)

    def flatten(self) -> "Bag":
        """The elements of every element, one level down."""
        return _ops.flatten(self)

    def accumulate(self, binop, initial=no_default) -> "Bag":
        """Running ``binop`` over the whole bag, in order (``itertools.accumulate``)."""
        return _ops.accumulate(self, binop, initial)

    def distinct(self, key=None) -> "Bag":
        """Each element once (first seen kept); ``key``: what makes two elements the same."""
        return _ops.distinct(self, key)

    def frequencies(self, split_every=None, sort: bool = False) -> "Bag":
        """``(element, count)`` pairs; ``sort=True``: most frequent first."""
        return _ops.frequencies(self, split_every, sort)

    def topk(self, k: int, key=None, split_every=None) -> "Bag":
        """The ``k`` largest elements, largest first; ``key``: a function or an index into each element."""
        return _ops.topk(self, k, key, split_every)

    def product(self, other: "Bag") -> "Bag":
        """Every pair ``(x, y)`` of an element of this bag and one of ``other`` (a partition per pair)."""
        return _ops.product(self, other)

    def join(self, other, on_self, on_other=None) -> "Bag":
        """``(y, x)`` for every element ``x`` of this bag and ``y`` of ``other`` (an iterable, a one-partition
        Bag or a Delayed) with ``on_other(y) == on_self(x)``."""
        return _ops.join(self, other, on_self, on_other)

    def unzip(self, n: int) -> tuple:
        """``n`` bags: the first, second... field of every element (a tuple)."""
        return _ops.unzip(self, n)

    def repartition(self, npartitions: int | None = None, partition_size=None) -> "Bag":
        """The same elements in ``npartitions`` partitions (merging neighbours, or splitting each one)."""
        return _ops.repartition(self, npartitions, partition_size)

    def random_sample(self, prob: float, random_state=None) -> "Bag":
        """Each element kept with probability ``prob``; ``random_state`` (an int or ``random.Random``) seeds it."""
        return _ops.random_sample(self, prob, random_state)

    # -- reductions (graphflow.bag.reductions, graphflow.bag.groupby)
    def fold(self, binop, combine=None, initial=no_default, split_every=None, out_type=None):
        """``functools.reduce(binop)`` per partition, then ``reduce(combine)`` over those (``combine``
        defaults to ``binop``); an `Item`."""
        return _ops.fold(self, binop, combine, initial, split_every, out_type)

    def reduction(self, perpartition, aggregate, split_every=None, out_type=None, name=None):
        """``aggregate([perpartition(part) for part in partitions])``, as a tree of ``split_every`` inputs."""
        return _ops.reduction(self, perpartition, aggregate, split_every, out_type, name)

    def foldby(self, key, binop, initial=no_default, combine=None, combine_initial=no_default,
               split_every=None) -> "Bag":
        """Group by ``key`` and fold each group with ``binop`` without a shuffle: ``(key, value)`` pairs."""
        return _ops.foldby(self, key, binop, initial, combine, combine_initial, split_every)

    def groupby(self, grouper, npartitions: int | None = None, shuffle=None, blocksize=None) -> "Bag":
        """``(key, [elements])`` pairs, through an all-to-all shuffle into ``npartitions`` partitions."""
        return _ops.groupby(self, grouper, npartitions, shuffle)

    def count(self, split_every=None) -> "Item":
        """How many elements."""
        return _ops.count(self, split_every)

    def sum(self, split_every=None) -> "Item":
        """The sum of the elements."""
        return _ops.sum(self, split_every)

    def min(self, split_every=None) -> "Item":
        """The smallest element."""
        return _ops.min(self, split_every)

    def max(self, split_every=None) -> "Item":
        """The largest element."""
        return _ops.max(self, split_every)

    def mean(self) -> "Item":
        """The arithmetic mean of the elements."""
        return _ops.mean(self)

    def var(self, ddof: int = 0) -> "Item":
        """The variance of the elements (``ddof``: delta degrees of freedom)."""
        return _ops.var(self, ddof)

    def std(self, ddof: int = 0) -> "Item":
        """The standard deviation of the elements."""
        return _ops.std(self, ddof)

    def any(self, split_every=None) -> "Item":
        """True if any element is true."""
        return _ops.any(self, split_every)

    def all(self, split_every=None) -> "Item":
        """True if every element is true."""
        return _ops.all(self, split_every)

    # -- output (graphflow.bag.text, graphflow.bag.convert)
    def take(self, k: int, npartitions: int = 1, compute: bool = True, warn: bool = True):
        """The first ``k`` elements (a tuple), reading only the first ``npartitions`` partitions (-1: all)."""
        return _ops.take(self, k, npartitions, compute, warn)

    def to_textfiles(self, path, name_function=None, compression="infer", encoding="utf-8", compute=True,
                     last_endline=False, **kwargs):
        """Write each partition's strings to one text file (optionally gzip/bz2/xz); the paths written."""
        return _ops.to_textfiles(self, path, name_function, compression, encoding, compute, last_endline,
                                 **kwargs)

    def to_dataframe(self, meta=None, columns=None, optimize_graph: bool = True):
        """A `graphflow.dataframe.DataFrame`, one partition per partition (elements: dicts or tuples)."""
        return _ops.to_dataframe(self, meta, columns, optimize_graph)

    def to_delayed(self, optimize_graph: bool = True) -> list:
        """One `graphflow.delayed.Delayed` per partition, each computing that partition's list."""
        return _ops.to_delayed(self, optimize_graph)


class Item(_Lazy):
    """One lazy value computed from bags (a reduction's result); ``compute()`` gives the value."""

    __slots__ = ("_key", "_nodes", "_parents", "__weakref__")

    def __init__(self, key, nodes=None, parents=()):
        self._key = key
        self._nodes = {} if nodes is None else nodes
        self._parents = tuple(parents)

    @property
    def key(self):
        """The key of this value."""
        return self._key

    def __graphflow_keys__(self) -> list:
        return [self._key]

    def __graphflow_finalize__(self):
        return _first, ()

    def __graphflow_rebuild__(self, graph):
        return Item(self._key, graph, ())

    def __graphflow_tokenize__(self):
        return ("graphflow.bag.Item", self._key)

    def __reduce__(self):
        return (Item, (self._key, collect([self]), ()))

    def __repr__(self):
        return f"graphflow.bag.Item<{self._key!r}>"

    def apply(self, func) -> "Item":
        """``func(value)``, lazily."""
        return _ops.item_apply(self, func)

    def to_delayed(self, optimize_graph: bool = True):
        """This value as a `graphflow.delayed.Delayed`."""
        return _ops.item_to_delayed(self, optimize_graph)


def collect(collections) -> dict:
    """One ``{key: node}`` dict for these bags/items and everything they read (an explicit stack)."""
    return base.collect_lineages(collections)
