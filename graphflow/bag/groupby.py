"""``groupby``: a full shuffle, as tasks, into ``(key, [elements])`` pairs.

Every input partition is split into ``npartitions`` buckets by a stable hash
of ``grouper(x)``; output partition ``j`` gathers bucket ``j`` of every split
and groups it.  For 3 inputs and 2 outputs::

    part0  part1  part2        split: one task per input, a list of 2 buckets
      |  \\ /  \\ /  |
    out0          out1         group: reads every split, keeps bucket j

The hash must agree between processes (the splits may run in different
worker processes), and Python's ``hash`` of a ``str`` does not (it is salted
per process), so `stable_hash` hashes strings and bytes by content (CRC32);
other keys use ``hash``, which must then be the same in every process (ints,
floats, tuples of those).

    >>> import graphflow.bag as db
    >>> b = db.from_sequence(["apple", "avocado", "banana", "blueberry", "cherry"], npartitions=2)
    >>> sorted(b.groupby(lambda w: w[0]).compute(scheduler="sync"))
    [('a', ['apple', 'avocado']), ('b', ['banana', 'blueberry']), ('c', ['cherry'])]
"""

from __future__ import annotations

import zlib

from ..spec import Ref, Task
from .core import Bag, new_name
from .loops import paused

__all__ = ["groupby", "stable_hash"]


def stable_hash(key) -> int:
    """A hash of ``key`` that is the same in every process (see the module docstring)."""
    t = type(key)
    if t is str:
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if t is bytes:
        return zlib.crc32(key)
    if key is None:  # hash(None) is its address before Python 3.12
        return 0
    if t is tuple:
        h = 0x345678
        for x in key:
            h = (h * 1000003) ^ stable_hash(x)
            h &= 0xFFFFFFFFFFFF
        return h
    return hash(key)


@paused
def _split(part, grouper, n: int) -> list:
    buckets = [[] for _ in range(n)]
    for x in part:
        buckets[stable_hash(grouper(x)) % n].append(x)
    return buckets


@paused
def _group(j: int, grouper, *splits) -> list:
    groups: dict = {}
    for split in splits:
        for x in split[j]:
            k = grouper(x)
            g = groups.get(k)
            if g is None:
                groups[k] = [x]
            else:
                g.append(x)
    return list(groups.items())


def groupby(bag: Bag, grouper, npartitions: int | None = None, shuffle=None) -> Bag:
    """``(key, [elements])`` for every key of ``grouper(x)`` (or ``x[grouper]``), in ``npartitions``
    partitions (default: as many as ``bag``); elements keep their order within a group."""
    if shuffle not in (None, "tasks"):
        raise ValueError(f"groupby: graphflow.bag shuffles with tasks; shuffle={shuffle!r} is not supported")
    if not callable(grouper):
        import operator

        grouper = operator.itemgetter(grouper)
    n = bag.npartitions if npartitions is None else npartitions
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"groupby: npartitions must be a positive int, not {npartitions!r}")
    name = new_name("groupby", bag.name, grouper, n)
    split = "split-" + name
    nodes = {}
    for i, key in enumerate(bag.keys()):
        nodes[(split, i)] = Task((split, i), _split, Ref(key), grouper, n)
    refs = [Ref((split, i)) for i in range(bag.npartitions)]
    for j in range(n):
        nodes[(name, j)] = Task((name, j), _group, j, grouper, *refs)
    return Bag(name, n, nodes, (bag,))
