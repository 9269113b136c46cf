"""glibc's allocator knobs, where the C library is glibc: `mallopt` and `malloc_trim`.

The scheduler (`graphflow.scheduler.trim`), the workers (`graphflow.worker.monitor`) and the threads
executor (`graphflow.local.heap`) each set glibc up for their own pattern of allocation and hand freed
pages back; this module is the one place that loads the library.  Elsewhere (musl, macOS, Windows)
every call is a no-op that returns False.

    >>> isinstance(malloc_trim(), bool)
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["M_TRIM_THRESHOLD", "M_MMAP_THRESHOLD", "M_ARENA_MAX", "available", "mallopt", "malloc_trim"]

# glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def _load():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        set_option, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None, None
    set_option.argtypes, set_option.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return set_option, trim


_mallopt, _malloc_trim = _load()


def available() -> bool:
    """Whether this process's C library is glibc (the knobs below do something)."""
    return _mallopt is not None


def mallopt(*settings: tuple[int, int]) -> bool:
    """Apply ``(parameter, value)`` pairs in order (``M_*`` above); True if glibc took every one."""
    if _mallopt is None:
        return False
    return all(_mallopt(param, value) == 1 for param, value in settings)


def malloc_trim() -> bool:
    """Give the free pages of every arena back to the system; True if some were."""
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False
