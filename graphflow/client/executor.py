"""``client.get_executor()``: the cluster as a `concurrent.futures.Executor`, as in dask.distributed.

Code written for a `concurrent.futures` executor runs on the cluster
unchanged: ``submit`` returns a graphflow `Future` (which has ``result``,
``exception``, ``done``, ``cancel``, ``add_done_callback``), ``map`` yields
results in order, and ``shutdown(wait=True)`` waits for what was submitted
through it (cancelling it with ``cancel_futures=True``).  Keyword arguments
given to ``get_executor`` (``workers=``, ``retries=``, ``priority=``, ``pure=``)
apply to every task; tasks are impure by default, as executors expect.

    >>> with client.get_executor() as ex:                  # doctest: +SKIP
    ...     list(ex.map(pow, [2, 3], [5, 2]))
    [32, 9]
"""

from __future__ import annotations

import concurrent.futures
import threading
import weakref

__all__ = ["ClientExecutor"]


class ClientExecutor(concurrent.futures.Executor):
    """A `concurrent.futures.Executor` submitting to ``client`` (see the module docstring)."""

    def __init__(self, client, **options):
        self.client = client
        self.options = {"pure": False, **options}
        self._futures: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot submit to an executor that was shut down")
            future = self.client.submit(fn, *args, **self.options, **kwargs)
            self._futures.add(future)
        return future

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        futures = [self.submit(fn, *args) for args in zip(*iterables)]

        def results():
            for f in futures:
                yield f.result(timeout)
        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut = True
            futures = list(self._futures)
        if cancel_futures and futures:
            self.client.cancel(futures)
        if wait:
            for f in futures:
                f.wait_settled(None)
