"""Share the cores between executor threads and BLAS: one BLAS thread per product while several run.

A matrix product of blocks is one BLAS call.  OpenBLAS starts as many threads
per call as there are cores, so two executor threads each multiplying a block
on a 2-core machine run four busy-waiting BLAS threads on two cores: the
products slow each other down, and a 4000x4000 product in 1000x1000 blocks
took 1.5-4 s instead of 1.4 s (measured here, 2 cores).  `shared_cores()`
wraps each contraction task: while two or more of them run at once, BLAS is
set to one thread (each executor thread is then one core's worth of BLAS);
when one is left, its next call gets BLAS's own thread count back.

    with shared_cores():          # inside a task
        part = a_block @ b_block

State: a count of running contraction tasks and the BLAS thread count seen
before the first switch, under one lock.  The controls are found lazily in the
OpenBLAS library numpy loaded (``/proc/self/maps``, ``ctypes``); with another
BLAS, or where none is found, `shared_cores` does nothing.  Environment
variables (``OPENBLAS_NUM_THREADS``) only work before numpy is imported.
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
_running = 0
_saved = None  # BLAS's thread count before we lowered it


@contextlib.contextmanager
def shared_cores():
    """Run a block product: BLAS gets one thread while another contraction task runs too."""
    global _running, _saved
    ctl = controls()
    if ctl is None:
        yield
        return
    get, put = ctl
    with _lock:
        _running += 1
        if _running == 2:
            _saved = get()
            if _saved > 1:
                put(1)
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 1 and _saved is not None:
                if _saved > 1:
                    put(_saved)
                _saved = None
