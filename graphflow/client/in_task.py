"""Tasks that launch tasks: ``gf.get_client()``, ``gf.worker_client()``, ``gf.get_worker()``.

A task running on a worker may submit more tasks and wait for them.  It needs
a client: `get_client` opens one to its worker's scheduler, with the worker's
token (and the worker's encryption, which both take from the process's
environment), the first time a task of this process asks, and hands every
later task the same one (`graphflow.client.current.task_client`).  Waiting
inside a task gives the task's thread slot back for as long as it waits
(`graphflow.worker.secession.waiting`), so parents waiting on children never
starve the children of threads.  `worker_client` secedes for a whole block, as
dask.distributed's does, for a task that mostly waits.

    >>> def fib(n):                                               # doctest: +SKIP
    ...     if n < 2:
    ...         return n
    ...     client = gf.get_client()
    ...     a, b = client.submit(fib, n - 1), client.submit(fib, n - 2)
    ...     return a.result() + b.result()
    >>> client.submit(fib, 10).result()                           # doctest: +SKIP
    55
"""

from __future__ import annotations

from contextlib import contextmanager

from ..worker.secession import current_task, rejoin, secede
from .current import default_client, task_client

__all__ = ["get_client", "get_worker", "worker_client", "secede", "rejoin"]


def get_worker():
    """The worker running the current task (``.address``, ``.name``, ``.nthreads``, ``.scheduler_address``).

    Raises ValueError outside a task running on a worker.
    """
    ctx = current_task()
    if ctx is None:
        raise ValueError("gf.get_worker() works only inside a task running on a graphflow worker; "
                         "no task runs in this thread")
    return ctx.worker


def get_client():
    """A client on the cluster running this task (one per worker process, reused); outside a task, the
    default client (`GraphflowError` if none is open)."""
    ctx = current_task()
    if ctx is None:
        return default_client()
    return task_client(ctx.worker.scheduler_address, ctx.worker.token)


@contextmanager
def worker_client():
    """``with gf.worker_client() as client:`` -- this task's client, with its thread slot given back
    (seceded) for the whole block and taken again after it.

    Raises ValueError outside a task running on a worker.
    """
    ctx = current_task()
    if ctx is None:
        raise ValueError("gf.worker_client() works only inside a task running on a graphflow worker; "
                         "outside one, use gf.Client() or gf.get_client()")
    client = task_client(ctx.worker.scheduler_address, ctx.worker.token)
    was_seceded = ctx.seceded
    secede()
    try:
        yield client
    finally:
        if not was_seceded:
            rejoin()
