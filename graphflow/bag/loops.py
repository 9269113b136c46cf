"""The per-element loops of bag partitions: run with the cyclic collector paused, and streamed when fused.

A partition builds hundreds of thousands of small objects at once (the dicts of parsed JSON lines,
the tuples of ``pluck``), all kept alive in one list.  Every 700 allocations Python's cyclic collector
runs and walks the young objects, and the older generations grow with the list, so collector passes
took half of ``read_text(...).map(json.loads)`` (measured on a 38 MB file: 2.1 s of CPU with the
collector, 1.1 s without).  These loops create no reference cycles of their own, so `paused` runs
them with the collector off (`graphflow.utils.gcpause.no_gc`); it collects on its normal schedule
afterwards.

In a fused chain the steps stream (`graphflow.optimize.stream`): ``map_elements`` then hands its
elements to the next step one at a time (`iter_elements`), so a partition's records are never all
alive at once; the reading step is paused, which pauses the whole chain it pulls on.

``map(json.loads)`` parses with `graphflow.bag.jsonloads` (the C scanner directly, or msgspec when
installed), with ``json.loads``'s exact results and errors.
"""

from __future__ import annotations

import functools
import json

from ..utils.gcpause import no_gc
from .jsonloads import iter_json, map_json

__all__ = ["paused", "map_json", "map_elements", "iter_json", "iter_elements", "streams", "reads_once"]


def paused(func):
    """``func`` run with the cyclic garbage collector paused (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with no_gc():
            return func(*args, **kwargs)

    return wrapper


def streams(variant):
    """Mark the decorated step function: in a fused chain it may run as ``variant``, an iterator of the
    same elements, and it reads its partition once, in order (see `graphflow.optimize.stream`)."""

    def mark(func):
        func.__graphflow_stream__ = variant
        func.__graphflow_takes_iterator__ = True
        return func

    return mark


def reads_once(func):
    """Mark a step that reads its partition once, in order: a fused step before it may stream into it."""
    func.__graphflow_takes_iterator__ = True
    return func


def iter_elements(func, part):
    """``func(x)`` for each ``x`` of ``part``, lazily (`map_elements`'s streaming variant)."""
    if func is json.loads:
        return iter_json(part)
    return map(func, part)


@streams(iter_elements)
@paused
def map_elements(func, part) -> list:
    """``[func(x) for x in part]`` (``json.loads`` through `map_json`)."""
    if func is json.loads:
        return map_json(part)
    return [func(x) for x in part]
