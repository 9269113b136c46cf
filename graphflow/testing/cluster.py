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

import itertools

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
        from ..client.loop import LoopThread

        self._thread = LoopThread("graphflow-in-process-cluster")
        self.loop = self._thread.loop
        try:
            self._thread.call(self._start, timeout=30)
        except BaseException:
            self._thread.stop()
            raise
        return self

    def _start(self) -> None:
        from ..client.actors import ActorHandle
        from ..scheduler.server import Scheduler
        from ..worker.server import Worker

        self.scheduler = Scheduler(self.address, self.token, loop=self.loop, validate=self.validate).start()
        for _ in range(self.n_workers):
            listen = f"inproc://graphflow-worker-{next(_names)}"
            self.workers.append(Worker(self.address, self.token, nthreads=self.nthreads, listen=listen,
                                       loop=self.loop, validate=self.validate, actor_handle=ActorHandle).start())

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the cluster's loop and return its result."""
        return self._thread.call(fn, *args, timeout=30)

    def _stop(self) -> None:
        for w in self.workers:
            w.close("cluster closing")
        self.scheduler.close()

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            from ..client.current import close_task_clients

            close_task_clients(self.address)  # opened by tasks calling gf.get_client() (graphflow.client.in_task)
            try:
                self._thread.call(self._stop, timeout=10)
            finally:
                self._thread.stop()
