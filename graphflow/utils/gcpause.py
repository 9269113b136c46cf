"""`no_gc`: pause Python's cyclic garbage collector around bulk graph passes.

Building an index or an order for a million-task graph allocates millions of
small tuples and lists.  Each allocation burst triggers collector passes that
walk every live object, the graph included, so the passes cost more the
bigger the graph: half of indexing a 1M-task graph was collector time.  These
passes create no cycles, so nothing is lost by collecting once afterwards
(the collector simply runs on its normal schedule when re-enabled).

    >>> import gc
    >>> with no_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True

Nesting and threads are safe: only the outermost pause re-enables, and a
collector that was off before stays off.
"""

from __future__ import annotations

import contextlib
import gc
import threading

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def no_gc():
    """Disable the cyclic collector for the duration of the block."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
