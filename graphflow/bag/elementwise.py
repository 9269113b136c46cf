"""Element-wise steps: one task per partition reading only that partition of each input bag.

Every function here adds, for partition ``i``, one `Task` whose only bag
input is partition ``i`` of its source, so a chain of them (``map`` then
``filter`` then ``pluck``) is a linear chain per partition, which the
optimizer's fusion turns into one task per partition:

    >>> import graphflow as gf, graphflow.bag as db
    >>> b = db.from_sequence(range(6), npartitions=2).map(abs).filter(bool).pluck(0, default=None)
    >>> graph = gf.optimize(b)[0].__graphflow_graph__()
    >>> sorted(type(graph[k]).__name__ for k in b.keys())
    ['FusedTask', 'FusedTask']

Arguments: a `Bag` argument of ``map``/``map_partitions`` goes element by
element (partition by partition), so it needs as many partitions; an `Item` or
a `Delayed` is passed whole (its value); anything else is passed as is.
"""

from __future__ import annotations

import builtins
import itertools
import random as _random

from ..delayed import Delayed
from ..spec import Ref, Task
from .core import Bag, Item, new_name, no_default
from .loops import map_elements, paused, streams

__all__ = ["map", "map_partitions", "starmap", "filter", "remove", "pluck", "flatten", "product", "zip",
           "join", "unzip", "random_sample", "bag_args"]


def _check_callable(func, what: str) -> None:
    if not callable(func):
        raise TypeError(f"{what} needs a callable, not {func!r} (a {type(func).__name__})")


def bag_args(args: tuple, kwargs: dict, what: str):
    """``(bags, parents, arg_template, kwarg_template)`` for ``args``/``kwargs`` of a partition-wise call.

    In the templates a bag is replaced by its index among ``bags`` (wrapped so it is told apart from an
    int argument) and an Item or Delayed by a Ref to its key; `partition_args` fills in a partition.
    """
    bags: list = []
    parents: list = []

    def convert(a):
        if isinstance(a, Bag):
            bags.append(a)
            return _BagSlot(len(bags) - 1)
        if isinstance(a, (Item, Delayed)):
            parents.append(a)
            return Ref(a.key)
        return a

    arg_t = tuple(convert(a) for a in args)
    kwarg_t = {k: convert(v) for k, v in kwargs.items()}
    if bags and len({b.npartitions for b in bags}) != 1:
        raise ValueError(f"{what}: bag arguments must have the same number of partitions, not "
                         f"{[b.npartitions for b in bags]} (repartition one of them first)")
    return bags, parents, arg_t, kwarg_t


class _BagSlot:
    """The ``i``-th bag argument, in an argument template."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __graphflow_tokenize__(self):
        return ("bag-slot", self.index)


def partition_args(template, i: int, bags: list):
    """The template with every bag slot replaced by a Ref to that bag's partition ``i``."""
    if isinstance(template, dict):
        return {k: Ref((bags[v.index].name, i)) if isinstance(v, _BagSlot) else v for k, v in template.items()}
    return tuple(Ref((bags[a.index].name, i)) if isinstance(a, _BagSlot) else a for a in template)


@paused
def _map_zipped(func, nbags: int, positions: tuple, kwpositions: tuple, args: tuple, kwargs: dict):
    """``func`` over elements of several partitions at once: ``positions`` say which args are partitions."""
    parts = [args[p] for p in positions] + [kwargs[k] for k in kwpositions]
    out = []
    args, kwargs = list(args), dict(kwargs)
    for values in builtins.zip(*parts):
        for j, p in enumerate(positions):
            args[p] = values[j]
        for j, k in enumerate(kwpositions):
            kwargs[k] = values[len(positions) + j]
        out.append(func(*args, **kwargs))
    return out


def map(func, *args, **kwargs) -> Bag:  # noqa: A001 - Dask's name
    """``func`` applied element-wise; Bag arguments are zipped element by element, others passed whole."""
    _check_callable(func, "map")
    bags, parents, arg_t, kwarg_t = bag_args(args, kwargs, "map")
    if not bags:
        raise TypeError("map needs at least one Bag among its arguments")
    name = new_name("map", func, arg_t, kwarg_t, [b.name for b in bags])
    n = bags[0].npartitions
    simple = len(args) == 1 and not kwargs and isinstance(args[0], Bag)
    nodes = {}
    for i in range(n):
        key = (name, i)
        if simple:  # the common case: one bag, nothing else -- the cheapest task
            nodes[key] = Task(key, map_elements, func, Ref((bags[0].name, i)))
            continue
        a, kw = partition_args(arg_t, i, bags), partition_args(kwarg_t, i, bags)
        positions = tuple(j for j, x in enumerate(arg_t) if isinstance(x, _BagSlot))
        kwpositions = tuple(k for k, x in kwarg_t.items() if isinstance(x, _BagSlot))
        nodes[key] = Task(key, _map_zipped, func, len(bags), positions, kwpositions, a, kw)
    return Bag(name, n, nodes, bags + parents)


@paused
def _call_partition(func, args, kwargs):
    out = func(*args, **kwargs)
    return out if isinstance(out, list) else list(out)


def map_partitions(func, *args, **kwargs) -> Bag:
    """``func(partition, ...)`` for every partition; Bag arguments go partition by partition.  The result
    of each call (any iterable) becomes that partition."""
    _check_callable(func, "map_partitions")
    bags, parents, arg_t, kwarg_t = bag_args(args, kwargs, "map_partitions")
    if not bags:
        raise TypeError("map_partitions needs at least one Bag among its arguments")
    name = new_name("map_partitions", func, arg_t, kwarg_t, [b.name for b in bags])
    n = bags[0].npartitions
    nodes = {}
    for i in range(n):
        key = (name, i)
        nodes[key] = Task(key, _call_partition, func, partition_args(arg_t, i, bags),
                          partition_args(kwarg_t, i, bags))
    return Bag(name, n, nodes, bags + parents)


def partitionwise(bag: Bag, prefix: str, func, *extra, parents=()) -> Bag:
    """A Bag whose partition ``i`` is ``func(partition_i, *extra)``: the one shape of every step below."""
    name = new_name(prefix, bag.name, func, extra)
    nodes = {(name, i): Task((name, i), func, Ref(key), *extra) for i, key in enumerate(bag.keys())}
    return Bag(name, bag.npartitions, nodes, (bag,) + tuple(parents))


def _iter_starmap(part, func, kwargs):
    if kwargs:
        return (func(*x, **kwargs) for x in part)
    return itertools.starmap(func, part)


@streams(_iter_starmap)
@paused
def _starmap_part(part, func, kwargs):
    if kwargs:
        return [func(*x, **kwargs) for x in part]
    return [func(*x) for x in part]


def starmap(bag: Bag, func, **kwargs) -> Bag:
    """``func(*x, **kwargs)`` for every element ``x``; Item/Delayed keywords are passed as their values."""
    _check_callable(func, "starmap")
    _, parents, _, kw = bag_args((), kwargs, "starmap")
    return partitionwise(bag, "starmap", _starmap_part, func, kw, parents=parents)


def _iter_filter(part, predicate, keep: bool):
    return builtins.filter(predicate, part) if keep else itertools.filterfalse(predicate, part)


@streams(_iter_filter)
@paused
def _filter_part(part, predicate, keep: bool):
    if keep:
        return [x for x in part if predicate(x)]
    return [x for x in part if not predicate(x)]


def filter(bag: Bag, predicate) -> Bag:  # noqa: A001 - Dask's name
    """The elements for which ``predicate`` is true."""
    _check_callable(predicate, "filter")
    return partitionwise(bag, "filter", _filter_part, predicate, True)


def remove(bag: Bag, predicate) -> Bag:
    """The elements for which ``predicate`` is false."""
    _check_callable(predicate, "remove")
    return partitionwise(bag, "remove", _filter_part, predicate, False)


def _iter_pluck(part, key, default):
    if isinstance(key, list):
        if default is no_default:
            return (tuple(x[k] for k in key) for x in part)
        return (tuple(_get(x, k, default) for k in key) for x in part)
    if default is no_default:
        return (x[key] for x in part)
    return (_get(x, key, default) for x in part)


@streams(_iter_pluck)
@paused
def _pluck_part(part, key, default):
    if isinstance(key, list):
        if default is no_default:
            return [tuple(x[k] for k in key) for x in part]
        return [tuple(_get(x, k, default) for k in key) for x in part]
    if default is no_default:
        return [x[key] for x in part]
    return [_get(x, key, default) for x in part]


def _get(x, key, default):
    try:
        return x[key]
    except (KeyError, IndexError, TypeError):
        return default


def pluck(bag: Bag, key, default=no_default) -> Bag:
    """``x[key]`` of every element; a list ``key`` gives tuples; ``default`` where the field is missing."""
    return partitionwise(bag, "pluck", _pluck_part, key, default)


def _iter_flatten(part):
    return itertools.chain.from_iterable(part)


@streams(_iter_flatten)
@paused
def _flatten_part(part):
    return [y for x in part for y in x]


def flatten(bag: Bag) -> Bag:
    """The elements of the elements (one level)."""
    return partitionwise(bag, "flatten", _flatten_part)


@paused
def _product_part(left, right):
    return [(x, y) for x in left for y in right]


def product(bag: Bag, other: Bag) -> Bag:
    """All pairs ``(x, y)``: partition ``(i, j)`` pairs partition ``i`` of ``bag`` with ``j`` of ``other``."""
    if not isinstance(other, Bag):
        raise TypeError(f"product needs another Bag, not {type(other).__name__}")
    name = new_name("product", bag.name, other.name)
    nodes, n = {}, 0
    for a in bag.keys():
        for b in other.keys():
            nodes[(name, n)] = Task((name, n), _product_part, Ref(a), Ref(b))
            n += 1
    return Bag(name, n, nodes, (bag, other))


@paused
def _zip_parts(*parts):
    return list(builtins.zip(*parts))


def zip(*bags) -> Bag:  # noqa: A001 - Dask's name
    """Tuples of the elements at the same place in each bag (they must be partitioned alike)."""
    if not bags or not all(isinstance(b, Bag) for b in bags):
        raise TypeError("zip needs Bags")
    if len({b.npartitions for b in bags}) != 1:
        raise ValueError(f"zip: the bags must have the same number of partitions, not "
                         f"{[b.npartitions for b in bags]}")
    name = new_name("zip", [b.name for b in bags])
    n = bags[0].npartitions
    nodes = {(name, i): Task((name, i), _zip_parts, *[Ref((b.name, i)) for b in bags]) for i in range(n)}
    return Bag(name, n, nodes, bags)


@paused
def _join_part(part, other, on_self, on_other):
    index: dict = {}
    for y in other:
        index.setdefault(on_other(y), []).append(y)
    return [(y, x) for x in part for y in index.get(on_self(x), ())]


def join(bag: Bag, other, on_self, on_other=None) -> Bag:
    """``(y, x)`` pairs with ``on_other(y) == on_self(x)``; ``other`` is small: an iterable, a Delayed,
    or a Bag of one partition, handed whole to every partition of ``bag``."""
    _check_callable(on_self, "join")
    on_other = on_self if on_other is None else on_other
    _check_callable(on_other, "join")
    parents = ()
    if isinstance(other, Bag):
        if other.npartitions != 1:
            raise ValueError(f"join: a Bag to join with must have one partition, not {other.npartitions}; "
                             f"use .repartition(1) on the smaller bag, or groupby both")
        parents, other = (other,), Ref(other.keys()[0])
    elif isinstance(other, Delayed):
        parents, other = (other,), Ref(other.key)
    else:
        other = list(other)
    return partitionwise(bag, "join", _join_part, other, on_self, on_other, parents=parents)


def unzip(bag: Bag, n: int) -> tuple:
    """``n`` bags, the ``i``-th holding field ``i`` of every element."""
    return tuple(pluck(bag, i) for i in range(n))


def _sample_part(part, prob, seed):
    rng = _random.Random(seed)
    return [x for x in part if rng.random() < prob]


def random_sample(bag: Bag, prob: float, random_state=None) -> Bag:
    """Each element kept with probability ``prob``; the same ``random_state`` keeps the same elements."""
    if not 0 <= prob <= 1:
        raise ValueError(f"random_sample: prob must be between 0 and 1, not {prob!r}")
    rng = random_state if isinstance(random_state, _random.Random) else _random.Random(random_state)
    seeds = [rng.getrandbits(64) for _ in range(bag.npartitions)]
    name = new_name("random_sample", bag.name, prob, seeds)
    nodes = {(name, i): Task((name, i), _sample_part, Ref(key), prob, seeds[i])
             for i, key in enumerate(bag.keys())}
    return Bag(name, bag.npartitions, nodes, (bag,))
