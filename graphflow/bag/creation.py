"""Making bags from Python data: `from_sequence`, `range`, `from_delayed`, `concat`.

A partition is a plain list.  `from_sequence` cuts the sequence now and puts
each slice in the graph as a `DataNode`; `range` puts only the bounds there
(the task makes the list where it runs); `from_delayed` makes one partition of
each Delayed value (each must compute to an iterable).

    >>> import graphflow.bag as db
    >>> db.from_sequence("abcdefg", npartitions=3).map_partitions(lambda p: ["".join(p)]).compute(scheduler="sync")
    ['abc', 'def', 'g']
    >>> db.range(5, npartitions=2).compute(scheduler="sync")
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import builtins
import math

from ..delayed import Delayed
from ..spec import DataNode, Ref, Task
from .core import Bag, new_name

__all__ = ["from_sequence", "range", "from_delayed", "concat"]


def _partition_bounds(n: int, npartitions: int | None, partition_size: int | None) -> list:
    """``[(start, stop), ...]`` cutting ``n`` elements as asked (Dask's rules for the defaults)."""
    if npartitions is not None and partition_size is not None:
        raise ValueError("give npartitions= or partition_size=, not both")
    if partition_size is None:
        if npartitions is None:
            # Dask's default: about 100 partitions at most, fewer for short sequences.
            npartitions = min(n, 100) or 1
        if not isinstance(npartitions, int) or npartitions < 1:
            raise ValueError(f"npartitions must be a positive int, not {npartitions!r}")
        partition_size = max(1, math.ceil(n / npartitions))
    elif not isinstance(partition_size, int) or partition_size < 1:
        raise ValueError(f"partition_size must be a positive int, not {partition_size!r}")
    bounds = [(i, min(i + partition_size, n)) for i in builtins.range(0, n, partition_size)]
    return bounds or [(0, 0)]


def from_sequence(seq, partition_size: int | None = None, npartitions: int | None = None) -> Bag:
    """A Bag of the elements of ``seq`` (any iterable), cut into ``npartitions`` partitions or partitions
    of ``partition_size`` elements (default: about 100 partitions at most)."""
    try:
        seq = list(seq)
    except TypeError:
        raise TypeError(f"from_sequence needs an iterable, not {type(seq).__name__}") from None
    bounds = _partition_bounds(len(seq), npartitions, partition_size)
    name = new_name("from_sequence", seq, partition_size, npartitions)
    nodes = {(name, i): DataNode((name, i), seq[a:b]) for i, (a, b) in enumerate(bounds)}
    return Bag(name, len(nodes), nodes)


def _range_list(start: int, stop: int) -> list:
    return list(builtins.range(start, stop))


def range(n: int, npartitions: int) -> Bag:  # noqa: A001 - Dask's name
    """A Bag of ``0 .. n-1`` in ``npartitions`` partitions."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"range needs a non-negative int n, not {n!r}")
    bounds = _partition_bounds(n, npartitions, None)
    name = new_name("range", n, npartitions)
    nodes = {(name, i): Task((name, i), _range_list, a, b) for i, (a, b) in enumerate(bounds)}
    return Bag(name, len(nodes), nodes)


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"from_delayed: a value computed to {type(value).__name__}, which is not iterable; "
                        f"each Delayed must compute to a partition (a list or other iterable)") from None


def from_delayed(values) -> Bag:
    """A Bag with one partition per Delayed value (each computing to a list or other iterable)."""
    if isinstance(values, Delayed):
        values = [values]
    values = list(values)
    bad = [v for v in values if not isinstance(v, Delayed)]
    if bad:
        raise TypeError(f"from_delayed needs Delayed values, got a {type(bad[0]).__name__}")
    if not values:
        raise ValueError("from_delayed needs at least one Delayed value")
    name = new_name("from_delayed", [v.key for v in values])
    nodes = {(name, i): Task((name, i), _as_list, Ref(v.key)) for i, v in enumerate(values)}
    return Bag(name, len(values), nodes, values)


def concat(bags) -> Bag:
    """One Bag holding the partitions of ``bags``, one after the other."""
    bags = list(bags)
    if not bags or not all(isinstance(b, Bag) for b in bags):
        raise TypeError("concat needs a non-empty list of Bags")
    name = new_name("concat", [b.name for b in bags])
    nodes = {}
    for b in bags:
        for key in b.keys():
            out = (name, len(nodes))
            nodes[out] = Task(out, _as_list, Ref(key))
    return Bag(name, len(nodes), nodes, bags)
