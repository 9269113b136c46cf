"""A worker's log: its recent ``graphflow`` log records and what its tasks printed, for ``client.get_worker_logs()``.

State, one per worker process: a ring of the last `RING_SIZE` records, each
``(time.time(), level name, message)``.  Two things fill it:

* a handler on the ``graphflow`` logger (records at the level that logger
  lets through: ``GRAPHFLOW_LOGGING_LEVEL``, WARNING by default);
* ``print()`` (or any write to ``sys.stdout``/``sys.stderr``) from a task
  thread: `install` wraps both streams once; a write from a thread that is
  running a task is cut into lines, and each line becomes a record
  ``("INFO" for stdout, "WARNING" for stderr, "[key] text")`` and still goes
  to the real stream as before.  Other threads' writes pass straight
  through.  The task threads say which key they run with `running` (a
  thread-local attribute write per task); a thread that never prints costs
  nothing more.

    >>> install()                                                        # doctest: +SKIP
    >>> running("inc-1"); print("hello from a task"); running(None)   # doctest: +SKIP
    >>> recent(1)                                                        # doctest: +SKIP
    [(1714557600.0, 'INFO', '[inc-1] hello from a task')]

The client asks each worker directly (a `graphflow.comm.messages.WorkerLogsRequest` on the
worker's peer socket, answered by `graphflow.worker.admin`), so a worker that is gone
only leaves its own entry out of the answer.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time

__all__ = ["install", "running", "running_keys", "recent", "RING_SIZE"]

logger = logging.getLogger("graphflow.worker.logs")

RING_SIZE = 10_000

_ring: collections.deque = collections.deque(maxlen=RING_SIZE)
_local = threading.local()  # .key: the key this task thread runs; .pending_<level>: (key, unfinished line)
_installed = False
_install_lock = threading.Lock()


_by_thread: dict = {}  # thread id -> the key it runs (None between tasks), for client.call_stack


def running(key) -> None:
    """The calling (task) thread now runs ``key``; None when it is between tasks."""
    _local.key = key
    _by_thread[threading.get_ident()] = key


def running_keys() -> dict:
    """``{thread id: key}`` of the task threads running a task now."""
    return {tid: key for tid, key in list(_by_thread.items()) if key is not None}


def recent(n: int | None = None) -> list:
    """The last ``n`` records (all when None), oldest first."""
    records = list(_ring)
    return records[-n:] if n else records


def record(level: str, message: str) -> None:
    """Add one record to the ring."""
    _ring.append((time.time(), level, message))


class RingHandler(logging.Handler):
    """Copies ``graphflow`` log records into the ring."""

    def emit(self, rec: logging.LogRecord) -> None:
        try:
            _ring.append((rec.created, rec.levelname, f"{rec.name}: {rec.getMessage()}"))
        except Exception:  # a bad format string must not break the code that logged
            self.handleError(rec)


class TaskOutput:
    """Stands in for ``sys.stdout`` or ``sys.stderr``: task threads' lines are also recorded."""

    def __init__(self, stream, level: str):
        self._stream = stream
        self._level = level
        self._attr = f"pending_{level}"

    def write(self, text):
        key = getattr(_local, "key", None)
        if key is not None and isinstance(text, str):
            self._capture(key, text)
        return self._stream.write(text)

    def _capture(self, key, text: str) -> None:
        # A line a task left unfinished is its own; it is recorded once the thread writes for another task.
        owner, pending = getattr(_local, self._attr, (key, ""))
        if owner != key:
            if pending:
                record(self._level, f"[{owner}] {pending}")
            pending = ""
        pending += text
        if "\n" not in pending:
            setattr(_local, self._attr, (key, pending))
            return
        *lines, rest = pending.split("\n")
        setattr(_local, self._attr, (key, rest))
        for line in lines:
            record(self._level, f"[{key}] {line}")

    def flush(self):
        owner, pending = getattr(_local, self._attr, (None, ""))
        if pending:
            setattr(_local, self._attr, (owner, ""))
            record(self._level, f"[{owner}] {pending}")
        return self._stream.flush()

    def __getattr__(self, name):  # encoding, isatty, fileno ...: the real stream's
        return getattr(self._stream, name)


def install() -> None:
    """Start recording (once per process): the ring handler, and the wrapped stdout/stderr."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
        logging.getLogger("graphflow").addHandler(RingHandler())
        if sys.stdout is not None and not isinstance(sys.stdout, TaskOutput):
            sys.stdout = TaskOutput(sys.stdout, "INFO")
        if sys.stderr is not None and not isinstance(sys.stderr, TaskOutput):
            sys.stderr = TaskOutput(sys.stderr, "WARNING")
