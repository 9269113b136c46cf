"""`LocalCluster(processes=False)`: a scheduler and workers as threads of the caller's process.

The same shells as a process cluster -- `graphflow.scheduler.server.Scheduler`
and `graphflow.worker.server.Worker` -- run on one IOLoop thread of this
process, talking over zmq ``inproc://`` sockets; each worker's tasks run in
its own threads.  It starts in milliseconds and nothing is pickled to send a
result to a client of this process: the client reads it from the worker's
store (`graphflow.worker.inprocess`), so ``result()`` returns the very object
the task made.  Tasks share this process's memory and GIL: good for tests,
debugging and small work, not for CPU-bound Python.

Worker memory limits are a process cluster's: a worker thread cannot tell its
memory from its neighbours', so ``memory_limit`` other than ``"auto"``/None is
refused (`ConfigError`), as are the options that only mean something for a
process (``lifetime``, ``encrypt``, ...).

    >>> import graphflow as gf
    >>> with gf.LocalCluster(n_workers=2, processes=False) as cluster:   # doctest: +SKIP
    ...     with gf.Client(cluster) as client:
    ...         client.submit(sum, [1, 2]).result()
    3
"""

from __future__ import annotations

import itertools

from ..errors import ConfigError
from .cluster import Cluster

__all__ = ["ThreadCluster"]

_ids = itertools.count()
_PROCESS_ONLY = ("lifetime", "lifetime_stagger", "lifetime_restart", "encrypt", "max_spill", "memory",
                 "local_directory", "host", "scheduler_port", "heartbeat_timeout", "allowed_failures")


class ThreadCluster(Cluster):
    """A scheduler and ``n_workers`` workers of ``threads_per_worker`` threads, all in this process."""

    def __init__(self, n_workers: int | None = None, threads_per_worker: int | None = None, memory_limit="auto", *,
                 timeout: float = 30.0, dashboard_address=None, **options):
        from .cluster import _worker_layout

        refused = sorted(k for k, v in options.items() if k in _PROCESS_ONLY and v not in (None, False))
        unknown = sorted(k for k in options if k not in _PROCESS_ONLY)
        if unknown:
            raise TypeError(f"LocalCluster got unexpected options {unknown}")
        if refused or memory_limit not in ("auto", None, 0):
            what = refused + (["memory_limit"] if memory_limit not in ("auto", None, 0) else [])
            raise ConfigError(f"LocalCluster(processes=False) runs workers as threads of this process; {what} "
                              f"apply only to worker processes: use processes=True for them")
        n_workers, threads = _worker_layout(n_workers, threads_per_worker)
        if n_workers < 0 or threads < 1:
            raise ConfigError(f"LocalCluster needs n_workers >= 0 and threads_per_worker >= 1, "
                              f"not {n_workers} and {threads}")
        super().__init__(timeout=timeout)
        from ..comm.security import new_token

        self.n_workers = n_workers
        self.threads_per_worker = threads
        self.dashboard_address = None  # the dashboard is wired by the scheduler's process entry point only
        self.processes = False
        self.token = new_token()
        self.id = next(_ids)
        self.scheduler_address = f"inproc://graphflow-threads-{self.id}-scheduler"
        self.scheduler = None
        self.worker_objects: dict = {}  # name -> Worker
        self._names = itertools.count()
        from ..client.loop import LoopThread

        self._thread = LoopThread(f"graphflow-cluster-{self.id}")
        try:
            self._thread.call(self._start_scheduler, timeout=timeout)
            names = self._start_workers(n_workers)
            self._worker_names.update(dict.fromkeys(names))
            self._connect_admin()
            self._wait_for_names(names, timeout)
        except BaseException:
            self.close()
            raise
        self.status = "running"

    def _start_scheduler(self) -> None:
        from ..scheduler.server import Scheduler

        self.scheduler = Scheduler(self.scheduler_address, self.token, loop=self._thread.loop).start()

    def _start_workers(self, n: int) -> list:
        names = [f"worker-{next(self._names)}" for _ in range(n)]
        self._thread.call(self._start_on_loop, names, timeout=self.timeout)
        return names

    def _start_on_loop(self, names: list) -> None:
        from ..client.actors import ActorHandle
        from ..worker import inprocess
        from ..worker.server import Worker

        for name in names:
            listen = f"inproc://graphflow-threads-{self.id}-{name}"
            worker = Worker(self.scheduler_address, self.token, nthreads=self.threads_per_worker, listen=listen,
                            name=name, loop=self._thread.loop, actor_handle=ActorHandle,
                            on_exit=lambda code, reason, name=name: self._exited(name))
            self.worker_objects[name] = worker.start()
            inprocess.register(worker)

    def _exited(self, name: str) -> None:
        from ..worker import inprocess

        worker = self.worker_objects.pop(name, None)
        if worker is not None:
            inprocess.unregister(worker)

    def _stop_workers(self, names) -> None:
        def stop():
            for name in names:
                worker = self.worker_objects.get(name)
                if worker is not None:
                    worker.close("cluster scaled down")
                    self._exited(name)

        self._thread.call(stop, timeout=self.timeout)

    def launched(self) -> list:
        return [name for name in self._worker_names if name in self.worker_objects]

    def close(self) -> None:
        """Close the task clients, the workers and the scheduler, then the loop thread."""
        if self.status == "closed":
            return
        self.status = "closed"
        from ..client.current import close_task_clients

        close_task_clients(self.scheduler_address)
        super().close()

        def stop():
            for name in list(self.worker_objects):
                self.worker_objects[name].close("cluster closing")
                self._exited(name)
            if self.scheduler is not None:
                self.scheduler.close()

        try:
            self._thread.call(stop, timeout=10)
        finally:
            self._thread.stop()

    def __repr__(self):
        return f"<LocalCluster (threads): scheduler={self.scheduler_address!r}, workers={len(self.worker_objects)}>"
