"""How much memory this process uses, read cheaply enough to ask several times a second.

`process_rss` reads ``/proc/self/statm`` (one small read, ~5 us); the worker's
memory monitor compares it with the ``spill``, ``pause`` and ``terminate``
fractions of its limit.  Where ``/proc`` is missing (macOS, Windows) it asks
psutil if installed, else reports 0 -- the monitor then relies on the store's
own byte count (``managed_bytes``).

    >>> process_rss() > 10 * 2**20        # the interpreter alone is bigger than 10 MiB
    True
"""

from __future__ import annotations

import os

__all__ = ["process_rss"]

try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
    _PAGE = 4096


def process_rss() -> int:
    """Resident set size of this process in bytes (0 if it cannot be read here)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        pass
    try:  # pragma: no cover - platforms without /proc
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:  # pragma: no cover
        return 0
