"""Share the cores between executor threads and BLAS: one BLAS thread per product while several run.

A matrix product of blocks is one BLAS call.  OpenBLAS starts as many threads
per call as there are cores, so two executor threads each multiplying a block
on a 2-core machine run four busy-waiting BLAS threads on two cores: the
products slow each other down, and a 4000x4000 product in 1000x1000 blocks
took 1.5-4 s instead of 1.4 s (measured here, 2 cores).  `shared_cores()`
wraps each contraction task and sets BLAS to one thread

- while the task runs on a thread of a local executor with two or more
  threads (`graphflow.local.executors.pool_size`): the other threads have work of their
  own (drawing the next blocks, other products), and a BLAS call that took
  both cores would run beside them; and
- while two or more contraction tasks run at once on any threads.

When neither holds any more (the last such task ended), BLAS gets its own
thread count back, so a product computed alone (sync scheduler, one thread)
uses every core.

    with shared_cores():          # inside a task
        part = a_block @ b_block

State: the counts of running contraction tasks (all, and those on executor
threads) and the BLAS thread count seen before the first switch, under one
lock.  The controls are found lazily in the OpenBLAS library numpy loaded
(``/proc/self/maps``, ``ctypes``); with another BLAS, or where none is found,
`shared_cores` does nothing.  Environment variables (``OPENBLAS_NUM_THREADS``)
only work before numpy is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading

__all__ = ["shared_cores", "controls"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


@functools.lru_cache(maxsize=1)
def controls():
    """``(get, set)`` for the loaded OpenBLAS's thread count, or None."""
    import numpy  # noqa: F401 - loads the BLAS numpy uses

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter in _SETTERS:
            getter = setter.replace("_set_", "_get_")
            if hasattr(lib, setter) and hasattr(lib, getter):
                get, put = getattr(lib, getter), getattr(lib, setter)
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                return get, put
    return None


_lock = threading.Lock()
_running = 0  # contraction tasks running now
_pooled = 0  # ... of which on threads of a multi-threaded executor
_saved = None  # BLAS's thread count before we lowered it


def _shared() -> bool:
    return _pooled > 0 or _running >= 2


@contextlib.contextmanager
def shared_cores(pooled: bool | None = None):
    """Run a block product: BLAS gets one thread while other executor threads or products share the cores.

    ``pooled=True`` says the caller shares the cores with other threads
    whatever `graphflow.local.executors.pool_size` says (a whole run of a graph with
    several products on a multi-threaded executor, e.g. `gf.dask_get`).
    """
    global _running, _pooled, _saved
    ctl = controls()
    if ctl is None:
        yield
        return
    get, put = ctl
    if pooled is None:
        from .executors import pool_size

        pooled = pool_size() > 1
    with _lock:
        _running += 1
        _pooled += pooled
        if _shared() and _saved is None:
            _saved = get()
            if _saved > 1:
                put(1)
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            _pooled -= pooled
            if not _shared() and _saved is not None:
                if _saved > 1:
                    put(_saved)
                _saved = None
