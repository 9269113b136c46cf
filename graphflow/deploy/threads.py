"""`LocalCluster(processes=False)`: a scheduler and workers as threads of the caller's process.

The same shells as a process cluster -- `graphflow.scheduler.server.Scheduler`
and `graphflow.worker.server.Worker` -- run on one IOLoop thread of this
process (`InThreads`), talking over zmq ``inproc://`` sockets; each worker's
tasks run in its own threads.  It starts in milliseconds and nothing is
pickled to send a large result to a client of this process: the client reads
it from the worker's store (`graphflow.worker.inprocess`), so ``result()``
returns the very object the task made.  (Small results ride along with the
scheduler's report, pickled, as in every cluster.)  Tasks share this
process's memory and GIL: good for tests, debugging and small work, not for
CPU-bound Python.

Options that only mean something for a process are refused with
`ConfigError` (`refuse_process_options`): a worker thread cannot tell its
memory from its neighbours', so there is no ``memory_limit``; no
``lifetime``, no ``encrypt`` (nothing leaves the process), no spill settings.

    >>> import graphflow as gf
    >>> with gf.LocalCluster(n_workers=2, processes=False) as cluster:   # doctest: +SKIP
    ...     with gf.Client(cluster) as client:
    ...         client.submit(sum, [1, 2]).result()
    3
"""

from __future__ import annotations

import itertools

from ..errors import ConfigError

__all__ = ["InThreads", "refuse_process_options"]

_ids = itertools.count()


def refuse_process_options(**options) -> None:
    """`ConfigError` naming the options given (not None/False/"auto") that only worker processes have."""
    given = sorted(k for k, v in options.items() if v not in (None, False, "auto", 0))
    if given:
        raise ConfigError(f"LocalCluster(processes=False) runs workers as threads of this process; {given} "
                          f"apply only to worker processes: use processes=True for them")


class InThreads:
    """A scheduler and named workers of ``nthreads`` threads each, on one IOLoop thread of this process."""

    def __init__(self, token: bytes, nthreads: int, timeout: float):
        from ..client.loop import LoopThread

        self.token = token
        self.nthreads = nthreads
        self.timeout = timeout
        self.id = next(_ids)
        self.scheduler_address = f"inproc://graphflow-threads-{self.id}-scheduler"
        self.scheduler = None
        self.workers: dict = {}  # name -> Worker, while it runs
        self._thread = LoopThread(f"graphflow-cluster-{self.id}")
        try:
            self._thread.call(self._start_scheduler, timeout=timeout)
        except BaseException:
            self._thread.stop()
            raise

    def _start_scheduler(self) -> None:
        from ..scheduler.server import Scheduler

        self.scheduler = Scheduler(self.scheduler_address, self.token, loop=self._thread.loop).start()

    def start_workers(self, names: list) -> None:
        """Start a worker per name (they connect on their own; the cluster waits for them by name)."""
        self._thread.call(self._start_on_loop, names, timeout=self.timeout)

    def _start_on_loop(self, names: list) -> None:
        from ..client.actors import ActorHandle
        from ..worker import inprocess
        from ..worker.server import Worker

        for name in names:
            listen = f"inproc://graphflow-threads-{self.id}-{name}"
            worker = Worker(self.scheduler_address, self.token, nthreads=self.nthreads, listen=listen,
                            name=name, loop=self._thread.loop, actor_handle=ActorHandle,
                            on_exit=lambda code, reason, name=name: self._exited(name))
            self.workers[name] = worker.start()
            inprocess.register(worker)

    def _exited(self, name: str) -> None:
        from ..worker import inprocess

        worker = self.workers.pop(name, None)
        if worker is not None:
            inprocess.unregister(worker)

    def running(self, name: str) -> bool:
        return name in self.workers

    def stop_workers(self, names) -> None:
        """Close these workers (already retired, or never connected)."""
        def stop():
            for name in names:
                worker = self.workers.get(name)
                if worker is not None:
                    worker.close("cluster scaled down")
                    self._exited(name)

        self._thread.call(stop, timeout=self.timeout)

    def close(self) -> None:
        """Close the task clients of this process on the scheduler, the workers, the scheduler, the loop thread."""
        from ..client.current import close_task_clients

        close_task_clients(self.scheduler_address)

        def stop():
            for name in list(self.workers):
                self.workers[name].close("cluster closing")
                self._exited(name)
            if self.scheduler is not None:
                self.scheduler.close()

        try:
            self._thread.call(stop, timeout=10)
        finally:
            self._thread.stop()
