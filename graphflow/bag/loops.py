"""The per-element loops of bag partitions: run with the cyclic collector paused, json.loads without its wrappers.

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

``map(json.loads)`` is the most common first step over text (JSON lines), and ``json.loads(s)`` of a
``str`` spends a third of its time in two Python-level wrappers around the C scanner.  `map_json`
calls the scanner directly and keeps ``json.loads``'s exact results and errors: whatever is not a clean
document (leading whitespace, trailing data, bytes, a BOM, a parse error) goes to ``json.loads`` itself.

    >>> map_json(['{"a": [1, 2.5, null]}\\n', '"x"', '  7  '])
    [{'a': [1, 2.5, None]}, 'x', 7]
    >>> map_json(['{"a": 1} junk'])
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: Extra data: line 1 column 10 (char 9)
"""

from __future__ import annotations

import functools
import json
from json.scanner import make_scanner

from ..utils.gcpause import no_gc

__all__ = ["paused", "map_json", "map_elements", "iter_json", "iter_elements", "streams", "reads_once"]

_scan = make_scanner(json.JSONDecoder())  # what json.loads uses for a str with no keywords
_JSON_SPACE = " \t\n\r"


def paused(func):
    """``func`` run with the cyclic garbage collector paused (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with no_gc():
            return func(*args, **kwargs)

    return wrapper


def map_json(part) -> list:
    """``[json.loads(s) for s in part]``, with the same results and errors, faster."""
    return list(iter_json(part))


def iter_json(part):
    """``json.loads(s)`` for each ``s`` of ``part``, one at a time (`map_json` without the list)."""
    loads = json.loads
    scan = _scan
    for s in part:
        if type(s) is not str:
            yield loads(s)
            continue
        try:
            obj, end = scan(s, 0)
        except StopIteration:  # not a document at position 0: json.loads says what is wrong (or skips space)
            yield loads(s)
            continue
        n = len(s)
        # A line read from a file ends in "\n" after its document: test that one character, not a slice.
        if end != n and not (end == n - 1 and s[end] in _JSON_SPACE) and s[end:].strip(_JSON_SPACE):
            obj = loads(s)  # trailing data: raises json.loads's own "Extra data" error
        yield obj


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
