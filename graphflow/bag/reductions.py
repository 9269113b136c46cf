"""Reductions: ``reduction``/``fold``/``foldby`` as trees of tasks, and the named ones built on them.

A reduction runs ``perpartition`` on every partition, then ``aggregate`` on
lists of at most ``split_every`` (default 8) of those results, level by
level, until one value is left.  ``aggregate`` must therefore accept its own
results as inputs (``sum`` of sums, ``merge`` of dicts).  For 20 partitions
and ``split_every=4``::

    p0 .. p19          perpartition, one task each
    a0 .. a4           aggregate of 4 each
    a                  aggregate of 5: the Item

``foldby`` is the groupby-reduce without a shuffle: each partition folds its
elements into ``{key: value}``, and the dicts are merged up the tree with
``combine``; the result is a one-partition Bag of ``(key, value)`` pairs.

    >>> import graphflow.bag as db
    >>> from operator import add
    >>> b = db.from_sequence(range(10), npartitions=4)
    >>> b.fold(add).compute(scheduler="sync"), b.count().compute(scheduler="sync")
    (45, 10)
    >>> sorted(b.foldby(lambda x: x % 2, add).compute(scheduler="sync"))
    [(0, 20), (1, 25)]
"""

from __future__ import annotations

import heapq
import math
import operator
from collections import Counter
from functools import partial, reduce

from ..spec import Ref, Task
from .core import Bag, Item, new_name, no_default
from .loops import paused, reads_once

__all__ = ["reduction", "fold", "foldby", "count", "sum", "min", "max", "mean", "var", "std", "any", "all",
           "distinct", "frequencies", "topk", "item_apply"]

SPLIT_EVERY = 8


def _tree(bag: Bag, perpartition, aggregate, split_every, name: str, finish=None) -> tuple:
    """The nodes of a tree reduction of ``bag`` and the key of its root."""
    split_every = SPLIT_EVERY if split_every is None else split_every
    if not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, not {split_every!r}")
    nodes = {}
    level = []
    for i, key in enumerate(bag.keys()):
        k = (f"{name}-part", i)
        nodes[k] = Task(k, perpartition, Ref(key))
        level.append(k)
    depth = 0
    while len(level) > 1:
        depth += 1
        nxt = []
        for j in range(0, len(level), split_every):
            # Three-part keys: a tree task's block index (depth, j) never equals a partition's (i,), so
            # blockwise fusion cannot pull partition 0's whole chain into the aggregate (run last, alone).
            k = (f"{name}-agg{depth}", depth, j // split_every)
            nodes[k] = Task(k, _aggregate_list, aggregate, [Ref(x) for x in level[j:j + split_every]])
            nxt.append(k)
        level = nxt
    root = (name, 0)
    # The root always aggregates (so a one-partition bag still sees aggregate) and then finishes.
    last = level[0]
    if depth == 0:
        nodes[root] = Task(root, _aggregate_list, aggregate, [Ref(last)], finish)
    else:
        nodes[root] = Task(root, _finish, Ref(last), finish)
    return nodes, root


def _aggregate_list(aggregate, values, finish=None):
    out = aggregate(values)
    return finish(out) if finish is not None else out


def _finish(value, finish):
    return finish(value) if finish is not None else value


def _out(bag: Bag, nodes: dict, root, out_type):
    if out_type is Bag:
        name = root[0] + "-bag"
        nodes[(name, 0)] = Task((name, 0), _as_partition, Ref(root))
        return Bag(name, 1, nodes, (bag,))
    if out_type not in (None, Item):
        raise TypeError(f"out_type must be Item or Bag, not {out_type!r}")
    return Item(root, nodes, (bag,))


def _as_partition(value):
    return value if isinstance(value, list) else [value]


def reduction(bag: Bag, perpartition, aggregate, split_every=None, out_type=None, name=None):
    """``aggregate`` of ``perpartition`` of every partition, as a tree; an `Item` (or a Bag, ``out_type=Bag``)."""
    for f in (perpartition, aggregate):
        if not callable(f):
            raise TypeError(f"reduction needs callables, not {f!r}")
    # ``name`` is a prefix (as in Dask): the same name on two bags still gives two sets of keys.
    name = new_name(name or "reduction", bag.name, perpartition, aggregate, split_every)
    nodes, root = _tree(bag, perpartition, aggregate, split_every, name)
    return _out(bag, nodes, root, out_type)


def _fold_part(binop, initial, part):
    if initial is no_default:
        return reduce(binop, part) if part else no_default
    return reduce(binop, part, initial)


def _fold_combine(combine, initial, values):
    values = [v for v in values if v is not no_default]
    if initial is no_default:
        return reduce(combine, values) if values else no_default
    return reduce(combine, values, initial)


def _no_empty(value, what: str):
    if value is no_default:
        raise ValueError(f"{what} of an empty bag (give initial= to fold an empty bag)")
    return value


def fold(bag: Bag, binop, combine=None, initial=no_default, split_every=None, out_type=None):
    """``reduce(binop)`` in each partition (from ``initial`` if given), ``reduce(combine)`` across them."""
    if not callable(binop) or (combine is not None and not callable(combine)):
        raise TypeError("fold needs a callable binop (and combine, if given)")
    combine = binop if combine is None else combine
    name = new_name("fold", bag.name, binop, combine, initial, split_every)
    nodes, root = _tree(bag, partial(_fold_part, binop, initial), partial(_fold_combine, combine, no_default),
                        split_every, name, partial(_no_empty, what="fold"))
    return _out(bag, nodes, root, out_type)


def _key_func(key):
    return key if callable(key) else operator.itemgetter(key)


@reads_once
@paused
def _foldby_part(key, binop, initial, part):
    out: dict = {}
    if initial is no_default:
        for x in part:
            k = key(x)
            out[k] = binop(out[k], x) if k in out else x
    else:
        get = out.get
        for x in part:
            k = key(x)
            out[k] = binop(get(k, initial), x)  # one lookup, not two: this loop runs once per element
    return out


@paused
def _foldby_merge(combine, initial, dicts):
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            if k in out:
                out[k] = combine(out[k], v)
            elif initial is not no_default:
                out[k] = combine(initial, v)
            else:
                out[k] = v
    return out


def foldby(bag: Bag, key, binop, initial=no_default, combine=None, combine_initial=no_default,
           split_every=None) -> Bag:
    """``(k, value)`` for every key ``k`` of ``key(x)``: the group's elements folded with ``binop`` (from
    ``initial``), the partitions' values combined with ``combine`` (from ``combine_initial``)."""
    if not callable(binop) or (combine is not None and not callable(combine)):
        raise TypeError("foldby needs a callable binop (and combine, if given)")
    combine = binop if combine is None else combine
    keyf = _key_func(key)
    name = new_name("foldby", bag.name, key, binop, initial, combine, combine_initial, split_every)
    # Merging at inner levels starts from nothing; combine_initial applies once per key, at the top.
    nodes, root = _tree(bag, partial(_foldby_part, keyf, binop, initial), partial(_foldby_merge, combine, no_default),
                        split_every, name, partial(_foldby_finish, combine, combine_initial))
    return _out(bag, nodes, root, Bag)


def _foldby_finish(combine, initial, merged: dict) -> list:
    if initial is no_default:
        return list(merged.items())
    return [(k, combine(initial, v)) for k, v in merged.items()]


def count(bag: Bag, split_every=None) -> Item:
    """How many elements."""
    return reduction(bag, len, builtins_sum, split_every, name="count")


def builtins_sum(values):
    return reduce(operator.add, values, 0)


def _sum_part(part):
    return builtins_sum(part)


def sum(bag: Bag, split_every=None) -> Item:  # noqa: A001 - Dask's name
    """The sum of the elements (0 for an empty bag)."""
    return reduction(bag, _sum_part, builtins_sum, split_every, name="sum")


def _extreme_part(pick, part):
    return pick(part) if part else no_default


def _extreme_agg(pick, what, values):
    values = [v for v in values if v is not no_default]
    return pick(values) if values else no_default


def _extreme(bag, pick, what, split_every):
    name = new_name(what, bag.name, split_every)
    nodes, root = _tree(bag, partial(_extreme_part, pick), partial(_extreme_agg, pick, what), split_every, name,
                        partial(_no_empty, what=what))
    return Item(root, nodes, (bag,))


def min(bag: Bag, split_every=None) -> Item:  # noqa: A001 - Dask's name
    """The smallest element; ValueError for an empty bag, as ``min([])``."""
    import builtins

    return _extreme(bag, builtins.min, "min", split_every)


def max(bag: Bag, split_every=None) -> Item:  # noqa: A001 - Dask's name
    """The largest element; ValueError for an empty bag, as ``max([])``."""
    import builtins

    return _extreme(bag, builtins.max, "max", split_every)


def _any_all(values, which):
    return which(values)


def any(bag: Bag, split_every=None) -> Item:  # noqa: A001 - Dask's name
    """True if any element is true."""
    import builtins

    f = partial(_any_all, which=builtins.any)
    return reduction(bag, f, f, split_every, name="any")


def all(bag: Bag, split_every=None) -> Item:  # noqa: A001 - Dask's name
    """True if every element is true."""
    import builtins

    f = partial(_any_all, which=builtins.all)
    return reduction(bag, f, f, split_every, name="all")


def _moments_part(part):
    # (count, sum, sum of squares): enough for the mean and variance, and adds up across partitions.
    return (len(part), builtins_sum(part), builtins_sum([x * x for x in part]))


def _moments_agg(values):
    return tuple(builtins_sum(v[i] for v in values) for i in range(3))


def _mean(m):
    n, s, _ = m
    if n == 0:
        raise ZeroDivisionError("mean of an empty bag")
    return s / n


def _var(m, ddof):
    n, s, ss = m
    if n - ddof <= 0:
        raise ZeroDivisionError(f"var of {n} element(s) with ddof={ddof}")
    mean = s / n
    return (ss - n * mean * mean) / (n - ddof)


def _moments(bag: Bag, finish, what: str) -> Item:
    name = new_name(what, bag.name)
    nodes, root = _tree(bag, _moments_part, _moments_agg, None, name, finish)
    return Item(root, nodes, (bag,))


def mean(bag: Bag) -> Item:
    """The arithmetic mean."""
    return _moments(bag, _mean, "mean")


def var(bag: Bag, ddof: int = 0) -> Item:
    """The variance (``ddof``: delta degrees of freedom)."""
    return _moments(bag, partial(_var, ddof=ddof), f"var{ddof}")


def _std(m, ddof):
    return math.sqrt(_var(m, ddof))


def std(bag: Bag, ddof: int = 0) -> Item:
    """The standard deviation."""
    return _moments(bag, partial(_std, ddof=ddof), f"std{ddof}")


# ------------------------------------------------------------------ reductions that give bags


@reads_once
@paused
def _distinct_part(key, part):
    out: dict = {}
    for x in part:
        out.setdefault(x if key is None else key(x), x)
    return out


def _distinct_agg(dicts):
    out: dict = {}
    for d in dicts:
        for k, x in d.items():
            out.setdefault(k, x)
    return out


def _values(d: dict) -> list:
    return list(d.values())


def distinct(bag: Bag, key=None) -> Bag:
    """Each element once, in the order first seen; ``key(x)`` (or ``x[key]``) decides sameness."""
    keyf = None if key is None else _key_func(key)
    name = new_name("distinct", bag.name, key)
    nodes, root = _tree(bag, partial(_distinct_part, keyf), _distinct_agg, None, name, _values)
    return _out(bag, nodes, root, Bag)


@reads_once
@paused
def _count_part(part) -> Counter:
    return Counter(part)


def _counter_agg(counters):
    total = Counter()
    for c in counters:
        total.update(c)
    return total


def _frequencies_finish(sort: bool, counts: Counter) -> list:
    return counts.most_common() if sort else list(counts.items())


def frequencies(bag: Bag, split_every=None, sort: bool = False) -> Bag:
    """``(element, count)`` pairs; ``sort=True`` puts the most frequent first."""
    name = new_name("frequencies", bag.name, split_every, sort)
    nodes, root = _tree(bag, _count_part, _counter_agg, split_every, name, partial(_frequencies_finish, sort))
    return _out(bag, nodes, root, Bag)


@reads_once
@paused
def _topk_part(k, key, part):
    return heapq.nlargest(k, part, key=key)


def _topk_agg(k, key, lists):
    return heapq.nlargest(k, [x for lst in lists for x in lst], key=key)


def topk(bag: Bag, k: int, key=None, split_every=None) -> Bag:
    """The ``k`` largest elements, largest first; ``key`` a function, or an index into each element."""
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"topk needs a non-negative int k, not {k!r}")
    keyf = None if key is None else _key_func(key)
    name = new_name("topk", bag.name, k, key, split_every)
    nodes, root = _tree(bag, partial(_topk_part, k, keyf), partial(_topk_agg, k, keyf), split_every, name)
    return _out(bag, nodes, root, Bag)


def item_apply(item: Item, func) -> Item:
    """``func(value)`` of an Item, lazily."""
    if not callable(func):
        raise TypeError(f"Item.apply needs a callable, not {func!r}")
    key = (new_name("apply", item.key, func), 0)
    return Item(key, {key: Task(key, func, Ref(item.key))}, (item,))
