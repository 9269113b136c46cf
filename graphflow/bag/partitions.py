"""Steps that read neighbouring partitions: `accumulate`, `repartition` and `take`.

``accumulate`` carries a running value from partition to partition: task
``i`` returns ``(elements, carry)`` and partition ``i+1`` starts from that
carry, so the partitions run one after another (as the running value must).
``repartition`` to fewer partitions joins neighbours in order; to more, it
splits every partition into nearly equal slices, spreading the extra
partitions over the inputs (no lengths are computed in advance).  ``take``
reads only the partitions it asks for:

    >>> import graphflow as gf, graphflow.bag as db
    >>> b = db.from_sequence(range(10), npartitions=5)
    >>> with gf.config.set(scheduler="sync"):
    ...     b.take(3, npartitions=2), b.repartition(2).map_partitions(lambda p: [p]).compute()
    ((0, 1, 2), [[0, 1, 2, 3], [4, 5, 6, 7, 8, 9]])
    >>> b.accumulate(lambda a, x: a + x).compute(scheduler="sync")
    [0, 1, 3, 6, 10, 15, 21, 28, 36, 45]
"""

from __future__ import annotations

import itertools
import operator
import warnings

from ..spec import Ref, Task
from .core import Bag, new_name, no_default

__all__ = ["accumulate", "repartition", "take"]


def _accumulate_part(part, binop, carry, first: bool):
    """``(running values of part, last running value)``; ``carry`` is the previous partition's last value."""
    out = []
    if carry is no_default:
        it = iter(part)
        try:
            acc = next(it)
        except StopIteration:
            return out, no_default
        out.append(acc)
    else:
        acc = carry
        if first:  # the initial value itself is the first element, as itertools.accumulate(initial=) gives
            out.append(acc)
        it = iter(part)
    for x in it:
        acc = binop(acc, x)
        out.append(acc)
    return out, acc


def _carried(previous):
    return previous[1]


def accumulate(bag: Bag, binop, initial=no_default) -> Bag:
    """Running ``binop`` over the bag in order, like ``itertools.accumulate(bag, binop, initial=initial)``."""
    if not callable(binop):
        raise TypeError(f"accumulate needs a callable binop, not {binop!r}")
    name = new_name("accumulate", bag.name, binop, initial)
    state = "state-" + name
    nodes = {}
    carry = initial
    for i, key in enumerate(bag.keys()):
        nodes[(state, i)] = Task((state, i), _accumulate_part, Ref(key), binop, carry, i == 0)
        nodes[(name, i)] = Task((name, i), operator.getitem, Ref((state, i)), 0)
        carry = Ref((state, i))
        if i + 1 < bag.npartitions:
            nodes[("carry-" + name, i)] = Task(("carry-" + name, i), _carried, Ref((state, i)))
            carry = Ref(("carry-" + name, i))
    return Bag(name, bag.npartitions, nodes, (bag,))


def _join_parts(*parts):
    return list(itertools.chain.from_iterable(parts))


def _slice_part(part, j: int, pieces: int):
    """Slice ``j`` of ``pieces`` nearly equal slices of ``part``."""
    n = len(part)
    return part[n * j // pieces: n * (j + 1) // pieces]


def repartition(bag: Bag, npartitions: int | None = None, partition_size=None) -> Bag:
    """The same elements, in order, in ``npartitions`` partitions."""
    if partition_size is not None:
        raise NotImplementedError("repartition(partition_size=) needs the partitions' sizes in bytes, which "
                                  "graphflow.bag does not compute; give npartitions=")
    if not isinstance(npartitions, int) or npartitions < 1:
        raise ValueError(f"repartition needs a positive int npartitions, not {npartitions!r}")
    n = bag.npartitions
    name = new_name("repartition", bag.name, npartitions)
    keys = bag.keys()
    nodes = {}
    if npartitions <= n:
        for j in range(npartitions):
            group = keys[n * j // npartitions: n * (j + 1) // npartitions]
            nodes[(name, j)] = Task((name, j), _join_parts, *[Ref(k) for k in group])
    else:
        out = 0
        for i, key in enumerate(keys):
            pieces = npartitions * (i + 1) // n - npartitions * i // n
            for j in range(pieces):
                nodes[(name, out)] = Task((name, out), _slice_part, Ref(key), j, pieces)
                out += 1
    return Bag(name, npartitions, nodes, (bag,))


def _take_parts(k: int, *parts):
    out = []
    for part in parts:
        out.extend(part[: k - len(out)])
        if len(out) >= k:
            break
    return out


def take(bag: Bag, k: int, npartitions: int = 1, compute: bool = True, warn: bool = True):
    """The first ``k`` elements as a tuple, computing only the first ``npartitions`` partitions
    (``-1``: as many as needed, all at most); ``compute=False`` gives a one-partition Bag instead."""
    if npartitions == -1:
        npartitions = bag.npartitions
    if not isinstance(npartitions, int) or npartitions < 1:
        raise ValueError(f"take: npartitions must be a positive int or -1, not {npartitions!r}")
    if npartitions > bag.npartitions:
        raise ValueError(f"take: only {bag.npartitions} partitions, {npartitions} requested")
    name = new_name("take", bag.name, k, npartitions)
    nodes = {(name, 0): Task((name, 0), _take_parts, k, *[Ref(key) for key in bag.keys()[:npartitions]])}
    result = Bag(name, 1, nodes, (bag,))
    if not compute:
        return result
    values = tuple(result.compute())
    if warn and len(values) < k:
        warnings.warn(f"take: {len(values)} elements found in the first {npartitions} partition(s), "
                      f"{k} requested; pass npartitions=-1 to read more", UserWarning, stacklevel=3)
    return values
