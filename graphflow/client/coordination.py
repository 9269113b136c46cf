"""Coordination primitives kept by the scheduler: `Lock`, `Semaphore`, `Event`, `Queue`, `Variable`.

Each is a handle on a named record in the scheduler
(`graphflow.scheduler.coordination`); handles with the same name, in any
client or task, share it.  A handle talks through ``client`` (default: the
current client; inside a task, the one client of that worker process, opened
on first use -- `graphflow.client.current.process_client`).  Handles pickle
by name, so they can be passed to tasks.

Leases die with their holder: when the client holding a lock or a semaphore
lease disconnects -- closed, or killed together with the worker process whose
task opened it -- the scheduler releases the lease and the next waiter
proceeds.

    >>> import graphflow as gf
    >>> lock = gf.Lock("resource")                          # a handle: nothing is asked yet
    >>> def use(x, lock=lock):
    ...     with lock:                                      # one task at a time
    ...         return touch_the_resource(x)
    >>> client.gather(client.map(use, range(10)))           # doctest: +SKIP
"""

from __future__ import annotations

import uuid

from ..comm import messages as wire
from .current import current_client, process_client

__all__ = ["Lock", "Semaphore", "Event", "Queue", "Variable"]

_FOREVER = 10 * 365 * 86400.0  # how long "no timeout" waits for the scheduler's answer


class _Primitive:
    kind = ""

    def __init__(self, name: str | None = None, client=None):
        self.name = name or f"{self.kind}-{uuid.uuid4().hex}"
        self._client = client

    @property
    def client(self):
        if self._client is None:
            try:
                return current_client()
            except Exception:
                return process_client()  # in a task on a worker: that process's client
        return self._client

    def _ask(self, op: str, arg=None, timeout: float | None = None, holder: str = ""):
        wait = _FOREVER if timeout is None else max(0.0, timeout) + max(10.0, self.client.timeout)
        answer = self.client.ask(wire.PrimitiveRequest(self.kind, self.name, op, arg, timeout, holder), timeout=wait)
        if type(answer) is wire.PrimitiveTimedOut:
            raise TimeoutError(answer.message)
        return answer

    def __reduce__(self):
        return (type(self), (self.name,))

    def __repr__(self):
        return f"<{type(self).__name__}: {self.name}>"


class Semaphore(_Primitive):
    """At most ``max_leases`` holders at once (dask.distributed's ``Semaphore``).

    ``acquire(timeout=None)`` -> True, or False if no lease came within ``timeout``; ``release()``; usable
    as a context manager.  Handles of one name must agree on ``max_leases`` (`LeaseError` otherwise).
    """

    kind = "semaphore"

    def __init__(self, max_leases: int = 1, name: str | None = None, client=None):
        if not isinstance(max_leases, int) or max_leases < 1:
            raise ValueError(f"a Semaphore needs max_leases >= 1, not {max_leases!r}")
        super().__init__(name, client)
        self.max_leases = max_leases
        self._holder = uuid.uuid4().hex  # this handle's identity within its client
        self._created = False

    def _create(self) -> None:
        if not self._created:
            self._ask("create", self.max_leases)
            self._created = True

    def acquire(self, timeout: float | None = None) -> bool:
        self._create()
        return self._ask("acquire", None, timeout, self._holder)

    def release(self) -> bool:
        return self._ask("release", None, None, self._holder)

    def get_value(self) -> int:
        """How many leases are held now."""
        return self._ask("value")

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()

    def __reduce__(self):
        return (_semaphore, (self.max_leases, self.name))


def _semaphore(max_leases, name):
    return Semaphore(max_leases, name)


class Lock(_Primitive):
    """A lock across the cluster (dask.distributed's ``Lock``): ``acquire(blocking=True, timeout=None)``,
    ``release()``, ``locked()``, a context manager.  The handle that acquired it releases it; a handle
    passed to a task is a new holder there."""

    kind = "lock"

    def __init__(self, name: str | None = None, client=None):
        super().__init__(name, client)
        self._holder = uuid.uuid4().hex

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking:
            timeout = 0
        elif timeout is not None and timeout < 0:
            timeout = None
        return self._ask("acquire", None, timeout, self._holder)

    def release(self) -> bool:
        return self._ask("release", None, None, self._holder)

    def locked(self) -> bool:
        return self._ask("value") > 0

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()


class Event(_Primitive):
    """A flag across the cluster (dask.distributed's ``Event``): ``set()``, ``clear()``, ``is_set()``,
    ``wait(timeout=None)`` -> True once set, False if ``timeout`` passed first."""

    kind = "event"

    def set(self) -> None:
        self._ask("set")

    def clear(self) -> None:
        self._ask("clear")

    def is_set(self) -> bool:
        return self._ask("is_set")

    def wait(self, timeout: float | None = None) -> bool:
        return self._ask("wait", None, timeout)


class Queue(_Primitive):
    """A first-in first-out queue across the cluster (dask.distributed's ``Queue``): ``put(value)``,
    ``get(timeout=None, batch=False)`` (`TimeoutError` if nothing came; ``batch=True`` takes what there is,
    maybe ``[]``), ``qsize()``.  Values are pickled into the scheduler: keep them small, put futures'
    results or keys rather than futures."""

    kind = "queue"

    def __init__(self, name: str | None = None, client=None, maxsize: int = 0):
        if maxsize:
            raise NotImplementedError("Queue(maxsize=) is not supported: graphflow queues are unbounded")
        super().__init__(name, client)

    def put(self, value, timeout: float | None = None) -> None:
        _check_no_futures(value, "Queue.put")
        self._ask("put", value)

    def get(self, timeout: float | None = None, batch=False):
        return self._ask("get", batch, timeout)

    def qsize(self) -> int:
        return self._ask("qsize")


class Variable(_Primitive):
    """One value shared across the cluster (dask.distributed's ``Variable``): ``set(value)``,
    ``get(timeout=None)`` (waits for a first value; `TimeoutError` after ``timeout``), ``delete()``."""

    kind = "variable"

    def set(self, value, timeout: float | None = None) -> None:
        _check_no_futures(value, "Variable.set")
        self._ask("set", value)

    def get(self, timeout: float | None = None):
        return self._ask("get", None, timeout)

    def delete(self) -> None:
        self._ask("delete")


def _check_no_futures(value, what: str) -> None:
    from .futures import futures_of

    if futures_of(value):
        raise TypeError(f"{what} takes plain values, not futures (the scheduler keeps the value, not the "
                        f"result): put the result (future.result()) or the key (future.key), or publish it "
                        f"with client.publish_dataset")
