"""Workers running in this process, and reading their results without pickling.

``LocalCluster(processes=False)`` (`graphflow.deploy.threads`) runs its
workers as threads of the caller's process.  A client there need not ask such
a worker for a result over a socket, which pickles it: `read_values` takes it
from the worker's store on the worker's own loop thread (the store is only
ever touched there) and hands back the very object the task returned.

    >>> read_values("tcp://nowhere:1", ["x"]) is None     # no such worker in this process
    True
"""

from __future__ import annotations

import concurrent.futures
import threading

__all__ = ["register", "unregister", "read_values"]

_workers: dict = {}  # address -> Worker, for workers of this process that said they may be read directly
_lock = threading.Lock()


def register(worker) -> None:
    """Let clients of this process read ``worker``'s results directly (until `unregister`)."""
    with _lock:
        _workers[worker.address] = worker


def unregister(worker) -> None:
    with _lock:
        if _workers.get(worker.address) is worker:
            del _workers[worker.address]


def read_values(address: str, keys: list, timeout: float = 30.0) -> dict | None:
    """``{key: value}`` of the ``keys`` the in-process worker at ``address`` holds (those it lacks are left
    out); None when no worker of this process has that address, or it closed."""
    worker = _workers.get(address)
    if worker is None or worker.closed:
        return None
    answer: concurrent.futures.Future = concurrent.futures.Future()

    def read():  # on the worker's loop thread, where its store lives
        try:
            data = worker.state.data
            answer.set_result({k: data[k] for k in keys if k in data})
        except BaseException as exc:  # noqa: B902 - handed to the reading thread
            answer.set_exception(exc)

    worker.loop.add_callback(read)
    try:
        return answer.result(timeout)
    except concurrent.futures.TimeoutError:
        return None  # a wedged loop: the caller falls back to asking over the socket
