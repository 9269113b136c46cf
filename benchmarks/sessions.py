"""Long-lived engine resources (a cluster, a client) shared by the samples of one worker process.

Starting a cluster takes seconds (ray: ~2 s, plus ~1.5 s to shut down), so the
distributed workloads start each engine's cluster once, on the first sample
that needs it (the untimed warm-up), and reuse it for every later sample and
every later workload of the same session (see ``Workload.session``): start-up
is never on the clock.  The worker closes everything when the runner is done
with it; `atexit` is the safety net.

    >>> calls = []
    >>> thing = shared("demo", lambda: calls.append("start") or "cluster", lambda c: calls.append("close"))
    >>> shared("demo", lambda: 1 / 0, None) is thing      # started once
    True
    >>> close_all(); calls
    ['start', 'close']
"""

from __future__ import annotations

import atexit
import sys
import traceback
from collections.abc import Callable

__all__ = ["shared", "forget", "close_all"]

_OPEN: dict = {}  # key -> (resource, close); dicts keep insertion order, so closing goes in reverse


def shared(key, start: Callable, close: Callable | None):
    """The resource called ``key``, started with ``start()`` the first time it is asked for;
    ``close(resource)`` runs at `close_all` (or at exit).
    """
    entry = _OPEN.get(key)
    if entry is None:
        entry = _OPEN[key] = (start(), close)
    return entry[0]


def forget(key) -> None:
    """Close the resource ``key`` now, if it is open (e.g. after it broke)."""
    entry = _OPEN.pop(key, None)
    if entry is not None:
        _close(key, *entry)


def close_all() -> None:
    """Close every open resource, newest first; errors are printed, not raised."""
    while _OPEN:
        key = next(reversed(_OPEN))
        _close(key, *_OPEN.pop(key))


def _close(key, resource, close) -> None:
    if close is None:
        return
    try:
        close(resource)
    except Exception:  # closing must go on: the next resource still needs closing
        print(f"benchmarks: closing {key!r} failed:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)


atexit.register(close_all)
