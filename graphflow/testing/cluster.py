"""A whole cluster inside this process: a scheduler and workers on one IOLoop thread, over ``inproc://``.

The shells run exactly as in their own processes, minus the processes and
TCP: quick to start (milliseconds), easy to inspect (``cluster.scheduler.state``
is right there), and a real `Client` connects to it.

    >>> import graphflow as gf
    >>> with InProcessCluster(n_workers=2) as cluster:
    ...     with gf.Client(cluster.address, token=cluster.token, set_as_default=False) as client:
    ...         client.submit(abs, -1).result()
    1
"""

from __future__ import annotations

import asyncio
import itertools
import threading

__all__ = ["InProcessCluster"]

_names = itertools.count()


class InProcessCluster:
    """A scheduler and ``n_workers`` workers of ``nthreads`` threads, on a background IOLoop thread."""

    def __init__(self, n_workers: int = 2, nthreads: int = 1, token: bytes = b"in-process-token",
                 validate: bool = True):
        self.token = token
        self.n_workers = n_workers
        self.nthreads = nthreads
        self.validate = validate
        self.address = f"inproc://graphflow-scheduler-{next(_names)}"
        self.scheduler = None
        self.workers: list = []
        self.loop = None
        self._thread = None

    def __enter__(self) -> "InProcessCluster":
        started = threading.Event()
        errors: list = []
        self._thread = threading.Thread(target=self._run, args=(started, errors), daemon=True,
                                        name="graphflow-in-process-cluster")
        self._thread.start()
        started.wait(30)
        if errors:
            raise errors[0]
        return self

    def _run(self, started: threading.Event, errors: list) -> None:
        from tornado.ioloop import IOLoop

        from ..scheduler.server import Scheduler
        from ..worker.server import Worker

        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = IOLoop.current()
        try:
            self.scheduler = Scheduler(self.address, self.token, loop=self.loop, validate=self.validate).start()
            for i in range(self.n_workers):
                listen = f"inproc://graphflow-worker-{next(_names)}"
                self.workers.append(Worker(self.address, self.token, nthreads=self.nthreads, listen=listen,
                                           loop=self.loop, validate=self.validate).start())
        except BaseException as exc:  # surfaced in __enter__
            errors.append(exc)
            started.set()
            return
        self.loop.add_callback(started.set)
        self.loop.start()
        self.loop.close(all_fds=False)

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the cluster's loop and return its result."""
        import concurrent.futures

        result: concurrent.futures.Future = concurrent.futures.Future()

        def run():
            try:
                result.set_result(fn(*args))
            except BaseException as exc:
                result.set_exception(exc)

        self.loop.add_callback(run)
        return result.result(30)

    def __exit__(self, *exc_info) -> None:
        def stop():
            for w in self.workers:
                w.close("cluster closing")
            self.scheduler.close()
            self.loop.stop()

        if self.loop is not None:
            self.loop.add_callback(stop)
            self._thread.join(10)
