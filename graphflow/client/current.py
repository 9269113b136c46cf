"""Which client a call with no client in hand should use: the open ones, and one per worker process.

`default_client` is the most recently opened client still open that was
opened as a default (``set_as_default=True``, the default; what
``gf.performance_report`` uses), as in dask.distributed.  Actor handles use
`process_client`: any open client.  A task running on a worker
has no client of its own: `task_client` opens one to that worker's scheduler
the first time a task asks (``gf.get_client()``, or an actor handle through
`process_client`) and reuses it, one per scheduler address in this process.
Task clients are not listed in ``open_clients`` (in a process that also runs
the user's client -- an in-process cluster -- they must not become its
default); `close_task_clients` closes them with their cluster.

The `Client` class registers itself here (`set_client_class`, called once by
``graphflow/client/__init__.py``), so the modules below it -- actor handles
among them -- can open a client without importing the module that defines it.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading

from ..errors import GraphflowError

__all__ = ["open_clients", "default_client", "process_client", "set_client_class", "task_client",
           "close_task_clients", "current_client", "as_current_client"]

open_clients: list = []  # Clients in the order they were opened; a Client removes itself when it closes
_client_class: list = []
_task_clients: dict = {}  # scheduler address -> the Client tasks of this process use
_lock = threading.Lock()


def set_client_class(cls) -> None:
    """Tell `process_client` which class to open (``graphflow.client.Client``)."""
    _client_class[:] = [cls]


_as_current = contextvars.ContextVar("graphflow_current_client", default=None)


def default_client():
    """The client made current by ``client.as_current()`` here, else the most recently opened default one.

    A client opened with ``set_as_default=False`` is never chosen here (only through ``as_current``), as in
    dask.distributed: code that opened a side client must not find its work sent there.
    """
    chosen = _as_current.get()
    if chosen is not None and chosen.status != "closed":
        return chosen
    defaults = [client for client in open_clients if getattr(client, "is_default", True)]
    if not defaults:
        opened = f" ({len(open_clients)} open with set_as_default=False)" if open_clients else ""
        raise GraphflowError(f"no default graphflow Client is open{opened}; start one with gf.Client(), "
                             "or use client.as_current()")
    return defaults[-1]


def process_client():
    """The client this process's actor handles use: the open one, else one to this worker's scheduler."""
    if open_clients:
        return open_clients[-1]
    from ..worker.actors import worker_info

    info = worker_info()
    if info is None:
        raise GraphflowError("this actor handle is not connected to a cluster: open a gf.Client(...) first")
    return task_client(*info)


def task_client(address: str, token):
    """The client tasks of this process use on the scheduler at ``address``: opened once, then reused."""
    with _lock:
        client = _task_clients.get(address)
        if client is None or client.status != "running":
            if not _client_class:
                raise GraphflowError("graphflow.client was not set up: import graphflow.client first")
            client = _client_class[0](address, token=token, set_as_default=False)
            if client in open_clients:
                open_clients.remove(client)
            _task_clients[address] = client
        return client


def close_task_clients(address: str) -> None:
    """Close the task client on ``address`` (its cluster is closing in this process), if there is one."""
    with _lock:
        client = _task_clients.pop(address, None)
    if client is not None:
        client.close()


def current_client(allow_global: bool = True):
    """``Client.current()``: the client of ``as_current``, else (``allow_global``) the default one."""
    chosen = _as_current.get()
    if chosen is not None and chosen.status != "closed":
        return chosen
    if not allow_global:
        raise GraphflowError("no client was made current here (with client.as_current()); "
                             "pass allow_global=True to take the default client")
    return default_client()


@contextlib.contextmanager
def as_current_client(client):
    """Make ``client`` the current one in this thread or task for the block (``client.as_current()``)."""
    token = _as_current.set(client)
    try:
        yield client
    finally:
        _as_current.reset(token)
