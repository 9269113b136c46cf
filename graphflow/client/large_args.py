"""Large arguments: sent to the cluster once and shared by every task given them, not shipped per task.

Model.  ``client.submit(f, big_array)`` used to pickle ``big_array`` into the
task; 8 submits of one 200 MB array sent it 8 times and every worker kept
one copy per task.  Now `LargeArgs.share` looks at each top-level argument
(positional and keyword) of a submit or map call: one above ``THRESHOLD``
(1 MiB, by `graphflow.sizeof`) is scattered once, with a fresh key, and the
task reads it by reference like any future.  A worker fetches it once and
every task there reads that one copy.

The client remembers what it sent by *object identity* while the object
lives (a weak reference; objects that take none, such as ``bytes``, are
shared within one call only), so the same array passed to 1,000 submits is
hashed and sent once.  As with ``ray.put``, what the cluster holds is the
object as it was when first sent: change an array in place after passing it
and later tasks still see the old values -- pass a copy instead.

Graphs (``compute``, ``persist``, ``get``) that embed large values are not
changed; `warn_large_values` warns once per submission, naming the biggest
key and its size, as dask.distributed does.

Worked example::

    big = np.ones(25_000_000)                   # 200 MB
    fs = [client.submit(np.sum, big) for _ in range(8)]
    # one scatter of big (key "ndarray-<uuid>"); 8 tasks each reading it by Ref
"""

from __future__ import annotations

import threading
import warnings
import weakref

from ..sizeof import sizeof
from ..spec import DataNode, Ref, Task
from ..units import format_bytes
from .futures import Future

__all__ = ["LargeArgs", "THRESHOLD", "warn_large_values"]

THRESHOLD = 1 << 20  # bytes: larger arguments are scattered once instead of travelling in the task
_SMALL = frozenset({int, float, bool, type(None), complex, Future})  # never large: not measured


def _is_large(x) -> bool:
    t = type(x)
    if t in _SMALL:
        return False
    if t is str or t is bytes:
        return len(x) > THRESHOLD
    return sizeof(x) > THRESHOLD


class LargeArgs:
    """The large arguments one `Client` has sent, by identity, with the Futures that keep them on the cluster."""

    def __init__(self, scatter):
        self._scatter = scatter  # Client.scatter-like: (value) -> Future
        self._sent = {}  # id(obj) -> (weakref to obj, Future)
        self._lock = threading.Lock()

    def share(self, calls: list) -> list:
        """``[(args, kwargs), ...]`` with large arguments replaced by Futures of one scattered copy each."""
        local = {}  # id -> Future, for this call (objects without weak references)
        out = []
        for args, kwargs in calls:
            if any(_is_large(a) for a in args):
                args = tuple(self._future_for(a, local) if _is_large(a) else a for a in args)
            if kwargs and any(_is_large(v) for v in kwargs.values()):
                kwargs = {k: self._future_for(v, local) if _is_large(v) else v for k, v in kwargs.items()}
            out.append((args, kwargs))
        return out

    def _future_for(self, obj, local: dict) -> Future:
        oid = id(obj)
        with self._lock:
            found = self._sent.get(oid)
            if found is not None and found[0]() is obj:
                return found[1]
        if oid in local:
            return local[oid]
        future = self._scatter(obj)
        try:
            ref = weakref.ref(obj, lambda _, oid=oid: self._forget(oid))
        except TypeError:  # no weak references (bytes, tuples): shared within this call only
            local[oid] = future
            return future
        with self._lock:
            self._sent[oid] = (ref, future)
        return future

    def _forget(self, oid: int) -> None:
        with self._lock:
            entry = self._sent.get(oid)
            if entry is not None and entry[0]() is None:
                del self._sent[oid]  # the Future goes with it: the cluster may free the copy

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()


def warn_large_values(specs: dict) -> None:
    """Warn once (UserWarning) if nodes in ``specs`` embed values above `THRESHOLD`, naming the largest."""
    biggest_key, biggest = None, THRESHOLD
    for key, node in specs.items():
        t = type(node)
        if t is DataNode:
            values = (node.value,)
        elif t is Task:
            values = node.args
            kwargs = node.kwargs  # a copy each time it is read: once a task
            if kwargs:
                values = (*values, *kwargs.values())
        else:
            continue
        for v in values:
            tv = type(v)
            if tv in _SMALL or tv is Ref:
                continue
            size = len(v) if tv is str or tv is bytes else sizeof(v)
            if size > biggest:
                biggest_key, biggest = key, size
    if biggest_key is not None:
        warnings.warn(
            f"Large object of size {format_bytes(biggest)} detected in task graph (in key {biggest_key!r}): it "
            "travels inside the task. Consider client.scatter(value) first and passing the future, or "
            "submit(f, value), which sends it once.", UserWarning, stacklevel=4)
