"""A table of facts about live objects, each fact dropped when its object goes.

`graphflow.dataframe.known_ranges` (arrays that hold a range, keyed by address) and
`graphflow.dataframe.pandas_parts` (partition tables and the pandas rows behind them, keyed by ``id``)
both remember something about an object they must not keep alive, and must never answer for another
object that later takes the same address or id.  Each entry holds a weak reference to its object; the
reference's callback removes the entry (unless a newer one replaced it), and a lookup checks that the
object is still there.

    >>> import numpy as np
    >>> facts = WhileAlive()
    >>> a = np.arange(3)
    >>> facts.put(a.ctypes.data, a, "0..2")
    >>> facts.get(a.ctypes.data)[1]
    '0..2'
    >>> key = a.ctypes.data
    >>> del a
    >>> key in facts
    False
"""

from __future__ import annotations

import threading
import weakref

__all__ = ["WhileAlive"]


class WhileAlive:
    """``{key: (weak reference to an object, fact)}``, an entry removed when its object is collected."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict = {}

    def put(self, key, obj, fact) -> None:
        """Remember ``fact`` about ``obj`` under ``key`` for as long as ``obj`` lives."""
        def forget(ref, key=key):
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry[0] is ref:
                    del self._entries[key]

        with self._lock:
            self._entries[key] = (weakref.ref(obj, forget), fact)

    def get(self, key):
        """``(object, fact)`` under ``key`` while the object lives, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        obj = entry[0]()
        return None if obj is None else (obj, entry[1])

    def __contains__(self, key) -> bool:
        return self.get(key) is not None
