"""Futures for results that live on a cluster: `Future`, `wait`, `as_completed`.

A `Future` names a key on the scheduler.  Many Future objects may name the
same key; they share one `KeyState` (status, value or error, an event to wait
on), kept by the client.  The client counts the Future objects per key; when
the last one is garbage-collected (or cancelled), the client tells the
scheduler it no longer wants the key, and the result is freed on its worker.

Inside a task on a worker, every wait here gives the task's thread slot back
while it lasts (`graphflow.worker.secession`), so tasks waiting on the tasks
they submitted cannot deadlock a cluster whose threads they all hold.

Status moves ``pending -> finished | error | cancelled``; a result lost with a
worker moves ``finished -> pending`` until it is recomputed.

    >>> import graphflow as gf
    >>> with gf.Client(n_workers=2) as client:
    ...     futs = client.map(lambda x: x * 2, range(4))
    ...     sorted(f.result() for f in gf.as_completed(futs))
    [0, 2, 4, 6]
"""

from __future__ import annotations

import queue
import threading
import time
from collections import namedtuple

from ..errors import FutureCancelledError, GraphflowError, annotate_task_error
from ..spec import DataNode, Ref
from ..spec.collections import is_collection
from ..utils.traverse import leaves, rebuild
from ..worker.secession import waiting
from . import aio

__all__ = ["Future", "KeyState", "wait", "as_completed", "DoneAndNotDone", "futures_of", "futures_to_refs"]

PENDING, FINISHED, ERROR, CANCELLED = "pending", "finished", "error", "cancelled"


class KeyState:
    """What the client knows about one key; updated on the client's I/O thread."""

    __slots__ = ("key", "status", "value", "has_value", "exception", "traceback", "who_has", "nbytes",
                 "type_name", "event", "callbacks", "lock", "by_task", "fetch_failures")

    def __init__(self, key):
        self.key = key
        self.status = PENDING
        self.value = None
        self.has_value = False
        self.exception = None
        self.traceback = ""
        self.who_has: list = []
        self.nbytes = 0
        self.type_name = ""
        self.event = threading.Event()
        self.callbacks: list = []
        self.lock = threading.Lock()
        self.by_task = True  # the error (if any) was raised by the task, not by losing the scheduler
        self.fetch_failures = 0  # tries to fetch the finished value that failed (graphflow.client.transfer)

    def finish(self, value, has_value: bool, who_has, nbytes: int, type_name: str) -> None:
        self.value, self.has_value = value, has_value
        self.who_has, self.nbytes, self.type_name = list(who_has), nbytes, type_name
        self._settle(FINISHED)

    def fail(self, exception, traceback: str = "", by_task: bool = True) -> None:
        """Settle with an error: the task's own (``by_task``), or why the result is gone (the scheduler is)."""
        self.exception, self.traceback, self.by_task = exception, traceback, by_task
        self._settle(ERROR)

    def cancel(self) -> None:
        if self.status == PENDING:
            self._settle(CANCELLED)

    def lose(self) -> None:
        """The value was lost with its worker and is being recomputed: wait again."""
        with self.lock:
            self.status = PENDING
            self.value, self.has_value, self.who_has = None, False, []
            self.event.clear()

    def _settle(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.event.set()
            callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()

    def on_done(self, callback) -> None:
        """Call ``callback()`` once the key settles (at once if it has)."""
        with self.lock:
            if not self.event.is_set():
                self.callbacks.append(callback)
                return
        callback()


class Future:
    """A result being computed (or held) on the cluster, named by ``key``.

    ``result(timeout=None)`` waits and returns it (fetching it from its worker
    when it was not sent along), or raises the task's own exception;
    ``exception()``, ``done()``, ``cancel()``, ``cancelled()``, ``status`` and
    ``add_done_callback(fn)`` behave as in `concurrent.futures`.
    """

    __slots__ = ("key", "client", "key_state", "__weakref__")

    def __init__(self, key, client, state: KeyState | None = None):
        self.key = key
        self.client = client
        self.key_state = state if state is not None else client.refs.state(key)
        client.refs.acquire(key)

    @property
    def status(self) -> str:
        return self.key_state.status

    def done(self) -> bool:
        """True once the task finished, failed or was cancelled."""
        return self.key_state.event.is_set()

    def cancelled(self) -> bool:
        return self.key_state.status == CANCELLED

    def wait_settled(self, timeout) -> None:
        """Block until the key finished, failed or was cancelled (TimeoutError after ``timeout`` s).

        Inside a task on a worker, the task's thread slot is given back while it waits (`waiting`).
        """
        event = self.key_state.event
        if event.is_set():
            return
        with waiting():
            settled = event.wait(timeout)
        if not settled:
            raise TimeoutError(f"the result of {self.key!r} was not ready within {timeout} s")

    def result(self, timeout: float | None = None):
        """The task's value; waits up to ``timeout`` seconds (TimeoutError after)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.wait_settled(None if deadline is None else max(0.0, deadline - time.monotonic()))
            state = self.key_state
            if state.status == FINISHED:
                if state.has_value:
                    return state.value
                values = self.client.transfer.fetch([state], deadline)
                if values is not None:
                    return values[0]
                continue  # lost while fetching (now pending): wait for the recomputation
            self.raise_error()

    def __await__(self):
        """``await future``: its value (or its error), without blocking the running event loop."""
        return aio.result(self).__await__()

    def raise_error(self):
        """Raise what ended this key: the task's own exception (with its key and remote traceback), or
        `FutureCancelledError`."""
        state = self.key_state
        if state.status == CANCELLED:
            raise FutureCancelledError(f"the future for {self.key!r} was cancelled", key=self.key)
        exc = state.exception
        if not state.by_task:  # the scheduler was lost: one error shared by every key, not this task's doing
            raise _copy_error(exc, f" [the result of {self.key!r} was waiting on it]") from None
        raise annotate_task_error(exc, self.key, state.traceback or None)

    def exception(self, timeout: float | None = None):
        """The task's exception, or None if it succeeded."""
        self.wait_settled(timeout)
        if self.key_state.status == CANCELLED:
            self.raise_error()
        return self.key_state.exception if self.key_state.status == ERROR else None

    def cancel(self) -> bool:
        """Stop computing this key (and what depends on it); returns True."""
        self.client.cancel([self])
        return True

    def add_done_callback(self, fn) -> None:
        """Call ``fn(future)`` when it settles, on the client's I/O thread (or here, if it has)."""
        self.key_state.on_done(lambda: fn(self))

    def __graphflow_tokenize__(self):
        return ("graphflow.Future", self.key)

    def _repr_html_(self):
        from ..cards import future_html

        return future_html(self)

    def __repr__(self):
        extra = f", type: {self.key_state.type_name}" if self.key_state.type_name else ""
        return f"<Future: {self.status}{extra}, key: {self.key!r}>"

    def __del__(self):
        try:
            self.client.refs.release(self.key, self.key_state)
        except Exception:  # interpreter shutdown: the client is going away anyway
            pass

    def __reduce__(self):
        raise TypeError(
            f"a Future ({self.key!r}) cannot be pickled into a task; pass it as an argument to "
            f"client.submit(...) instead, and the task receives its value"
        )


def _copy_error(exc: BaseException, suffix: str) -> BaseException:
    """A fresh copy of a shared error with ``suffix`` added to its message (the shared one is left alone)."""
    try:
        return type(exc)(f"{exc}{suffix}")
    except Exception:  # an exception type that wants other arguments
        return exc


DoneAndNotDone = namedtuple("DoneAndNotDone", ["done", "not_done"])


def wait(fs, timeout: float | None = None, return_when: str = "ALL_COMPLETED") -> DoneAndNotDone:
    """Wait until all (``"ALL_COMPLETED"``) or any (``"FIRST_COMPLETED"``) of ``fs`` settle.

    Returns ``DoneAndNotDone(done, not_done)`` sets; raises TimeoutError if
    ``timeout`` passes first (like dask's ``wait``).
    """
    if isinstance(fs, Future):
        fs = [fs]
    fs = list(fs)
    if return_when not in ("ALL_COMPLETED", "FIRST_COMPLETED"):
        raise ValueError(f"return_when must be 'ALL_COMPLETED' or 'FIRST_COMPLETED', not {return_when!r}")
    if all(f.done() for f in fs):
        return DoneAndNotDone(set(fs), set())
    with waiting():  # inside a task: give its thread slot back while it waits
        return _wait(fs, timeout, return_when)


def _wait(fs: list, timeout, return_when: str) -> DoneAndNotDone:
    deadline = None if timeout is None else time.monotonic() + timeout
    if return_when == "ALL_COMPLETED":
        for f in fs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not f.key_state.event.wait(left):
                raise TimeoutError(f"{sum(not g.done() for g in fs)} of {len(fs)} futures not done "
                                   f"within {timeout} s")
    elif fs:
        first = threading.Event()
        for f in fs:
            f.key_state.on_done(first.set)
        if not first.wait(timeout):
            raise TimeoutError(f"none of {len(fs)} futures finished within {timeout} s")
    done = {f for f in fs if f.done()}
    return DoneAndNotDone(done, {f for f in fs if f not in done})


class as_completed:
    """Iterate over futures in the order they finish; ``add(f)`` adds more while iterating.

    ``with_results=True`` yields ``(future, result)`` pairs (raising a task's
    error when its turn comes, like ``result()``).
    """

    def __init__(self, futures=(), with_results: bool = False, timeout: float | None = None):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0
        self._lock = threading.Lock()
        self.with_results = with_results
        self.timeout = timeout
        for f in futures:
            self.add(f)

    def add(self, future: Future) -> None:
        with self._lock:
            self._pending += 1
        future.key_state.on_done(lambda: self._queue.put(future))

    def update(self, futures) -> None:
        for f in futures:
            self.add(f)

    def count(self) -> int:
        """Futures not yet yielded."""
        return self._pending

    def is_empty(self) -> bool:
        return self._pending == 0

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            if self._pending == 0:
                raise StopIteration
        try:
            try:
                future = self._queue.get_nowait()
            except queue.Empty:
                with waiting():  # inside a task: give its thread slot back while it waits
                    future = self._queue.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"{self._pending} futures not done within {self.timeout} s") from None
        with self._lock:
            self._pending -= 1
        if self.with_results:
            return future, future.result()
        return future

    def __aiter__(self):
        return self

    async def __anext__(self):
        """``async for future in as_completed(...)``: the next to finish, without blocking the event loop."""
        with self._lock:
            if self._pending == 0:
                raise StopAsyncIteration
        future = await aio.next_completed(self._queue, self.timeout)
        with self._lock:
            self._pending -= 1
        if self.with_results:
            return future, await aio.result(future)
        return future


def futures_to_refs(obj, client):
    """``obj`` with every Future of ``client`` replaced by a Ref to its key (containers rebuilt only when needed).

    A Future of another client cannot be used by this one's tasks: `GraphflowError`.
    """
    return rebuild(obj, _is_plain_future, lambda f: _ref_of(f, client))


def _is_plain_future(obj) -> bool:
    return type(obj) is Future


def _ref_of(future: Future, client) -> Ref:
    if future.client is not client:
        raise GraphflowError(f"the future {future.key!r} belongs to another client; gather it first")
    return Ref(future.key)


def futures_of(obj) -> list:
    """The Futures inside ``obj``, each once: a Future, lists/tuples/sets/dicts of them, or a collection
    persisted on a cluster (``client.persist(x)``: the futures its graph holds).

    >>> futures_of([1, "two"])
    []
    """
    found: dict = {}
    for item in leaves(obj, _is_future_or_collection):
        if isinstance(item, Future):
            found.setdefault(item.key, item)
            continue
        for node in item.__graphflow_graph__().values():
            if type(node) is DataNode and isinstance(node.value, Future):
                found.setdefault(node.value.key, node.value)
    return list(found.values())


def _is_future_or_collection(obj) -> bool:
    return isinstance(obj, Future) or is_collection(obj)
