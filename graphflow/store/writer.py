"""A writer thread: runs jobs (block writes) one after the other, off the thread that asked.

A worker's event loop must keep answering heartbeats and fetches while a
value goes to disk; writing 200 MB takes ~0.1 s, so `graphflow.store.spill`
hands each block write to a `Writer` and learns the outcome through the
job's own callback, which runs on the writer thread.

Model: a FIFO of jobs (plain callables) and at most one thread draining it.
The thread starts with the first job and exits after `IDLE_SECONDS` with
nothing to do, so an idle store (or one already collected) holds no thread;
`flush` waits until every job submitted before it has run.

    >>> w = Writer("demo")
    >>> done = []
    >>> w.submit(lambda: done.append(1))
    >>> w.flush(); done
    [1]
"""

from __future__ import annotations

import logging
import queue
import threading

__all__ = ["Writer", "IDLE_SECONDS"]

logger = logging.getLogger("graphflow.store.writer")

IDLE_SECONDS = 2.0  # an idle writer thread exits after this long; the next job starts another


class Writer:
    """One background thread running submitted callables in order (see the module docstring)."""

    def __init__(self, name: str):
        self.name = name
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()  # guards _thread
        self._thread: threading.Thread | None = None

    def submit(self, job) -> None:
        """Run ``job()`` on the writer thread, after the jobs before it.  Its exceptions are logged, not raised:
        a job reports its own outcome (the store's jobs record success or failure themselves)."""
        self._jobs.put(job)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._drain,
                                                name=f"graphflow-writer-{self.name}", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Wait until every job submitted so far has run (call without holding a lock a job takes)."""
        self._jobs.join()

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet (approximate, for reports)."""
        return self._jobs.unfinished_tasks

    def _exited(self, thread) -> bool:
        """The thread ``thread`` may stop: True unless a job arrived meanwhile (then it carries on)."""
        with self._lock:
            if not self._jobs.empty():
                return False
            if self._thread is thread:
                self._thread = None
            return True

    def _drain(self) -> None:
        """The writer thread's loop: run jobs until idle for `IDLE_SECONDS`."""
        me = threading.current_thread()
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                if self._exited(me):
                    return
                continue
            try:
                job()
            except Exception:  # a job's bug must not kill the thread that later jobs wait for
                logger.exception("writer %s: a job failed", self.name)
            finally:
                job = None
                self._jobs.task_done()
