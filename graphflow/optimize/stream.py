"""Streaming inside fused chains: a step whose result only feeds the next step hands it over as an iterator.

A fused chain (`graphflow.optimize.fuse`) runs its steps one after another in
one task, and each step's result is read by the next step only.  When that
result is a list built element by element (a bag's ``map``, ``filter``,
``flatten``...), building it is wasted work: the next step walks it once and
drops it.  Worse, a list of a million parsed records holds them all at once.

The rule: a step's function may name a *streaming variant* (same arguments,
returns an iterator over the same elements) in its ``__graphflow_stream__``
attribute, and a function may declare that it reads its first iterable input
only once, in order (``__graphflow_takes_iterator__ = True``).  In a linear
chain, every step but the last whose function has a variant, and whose reader
(the next step) takes iterators, is switched to its variant.  The last step is
never switched, so the chain's value is what it was.  Functions are looked
through `functools.partial`.

    read_lines -> map_elements(json.loads) -> foldby_part        before
    read_lines -> iter_elements(json.loads) -> foldby_part       after: records parsed one at a time

The rule is pure: it returns new `Task` objects and leaves the graph alone.
A step that raises still raises the same exception, from inside its reader.
"""

from __future__ import annotations

import functools

from ..spec import Task

__all__ = ["stream_chain", "streaming_variant", "takes_iterator"]


def _target(func):
    while isinstance(func, functools.partial):
        func = func.func
    return func


def streaming_variant(func):
    """The iterator-returning variant ``func`` names, or None."""
    if isinstance(func, functools.partial):
        inner = getattr(_target(func), "__graphflow_stream__", None)
        if inner is None:
            return None
        return _repartial(func, inner)
    return getattr(func, "__graphflow_stream__", None)


def _repartial(func, inner):
    """``func`` (nested partials) with its innermost function replaced by ``inner``."""
    if isinstance(func, functools.partial):
        return functools.partial(_repartial(func.func, inner), *func.args, **func.keywords)
    return inner


def takes_iterator(func) -> bool:
    """True when ``func`` declares that it reads its iterable input once, in order."""
    return getattr(_target(func), "__graphflow_takes_iterator__", False) is True


def stream_chain(tasks) -> tuple:
    """``tasks`` (a fused chain, execution order) with every step that may stream switched to its variant."""
    tasks = tuple(tasks)
    # First the cheap test, one attribute per step: most chains (not bags) have no step to switch,
    # and fusing a million-task graph must not pay for the reader count below.
    candidates = [j for j in range(len(tasks) - 1)
                  if type(tasks[j + 1]) is Task and takes_iterator(tasks[j + 1].func)
                  and type(tasks[j]) is Task and streaming_variant(tasks[j].func) is not None]
    if not candidates:
        return tasks
    readers: dict = {}  # key -> how many steps of the chain read it (an iterator can be read once)
    for task in tasks:
        for d in task.deps:
            readers[d] = readers.get(d, 0) + 1
    out = list(tasks)
    for j in candidates:
        task = tasks[j]
        if tasks[j + 1].deps == (task.key,) and readers.get(task.key) == 1:
            out[j] = Task.from_call(task.key, streaming_variant(task.func), task.args, task.kwargs)
    return tuple(out)
