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

__all__ = ["Future", "KeyState", "wait", "as_completed", "DoneAndNotDone", "DoneAndNotDoneFutures", "futures_of",
           "futures_to_refs", "fire_and_forget", "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"]

ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION = "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"

PENDING, FINISHED, ERROR, CANCELLED = "pending", "finished", "error", "cancelled"


class KeyState:
    """What the client knows about one key; updated on the client's I/O thread.

    A client may hold a million of these, so each is small: the `threading.Event` a blocked reader
    waits on and the callback list are made only when someone waits or hooks a callback (most keys
    settle before anyone looks: an Event per key was a third of ``client.map``'s cost at 100k).
    """

    __slots__ = ("key", "status", "value", "has_value", "exception", "traceback", "who_has", "nbytes",
                 "type_name", "settled", "event", "callbacks", "by_task", "fetch_failures")

    # One lock for every key: it is held for a few assignments only, never while waiting or calling back,
    # and a lock a key was a fifth of making one (and 40 bytes of each of a million).
    lock = threading.Lock()

    def __init__(self, key):
        self.key = key
        self.status = PENDING
        self.value = None
        self.has_value = False
        self.exception = None
        self.traceback = ""
        self.who_has = ()
        self.nbytes = 0
        self.type_name = ""
        self.settled = False  # finished, failed or cancelled (a lost value makes it False again)
        self.event = None  # a threading.Event, made by the first reader that has to block (`wait`)
        self.callbacks = None  # on_done callbacks, while unsettled
        self.by_task = True  # the error (if any) was raised by the task, not by losing the scheduler
        self.fetch_failures = 0  # tries to fetch the finished value that failed (graphflow.client.transfer)

    def finish(self, value, has_value: bool, who_has, nbytes: int, type_name: str) -> None:
        self.value, self.has_value = value, has_value
        self.who_has, self.nbytes, self.type_name = list(who_has), nbytes, type_name
        self._settle(FINISHED)

    def apply_report(self, status: str, inline, who_has, nbytes: int, type_name: str, exception, traceback: str):
        """Change as the scheduler's report on the key says (``status``: its state there, `KeyStatus`)."""
        if status == "memory":
            if self.status == CANCELLED:
                return  # cancelled here while the report was on its way
            if self.status == FINISHED and self.has_value:  # new holders (a worker retired): keep the value
                self.who_has = list(who_has)
                return
            self.finish(inline, inline is not None, who_has, nbytes, type_name)
        elif status == "erred":
            self.fail(exception, traceback)
        elif status == "lost":
            self.lose()
        elif status == "cancelled":
            self.cancel()

    @classmethod
    def finish_many(cls, finished: list) -> None:
        """`finish` of each ``(state, value or None, who_has, nbytes, type_name)`` of ``finished`` (a batch of
        reports, ``who_has`` lists its own), under one hold of the lock; only keys someone waits on are woken."""
        woken = []
        with cls.lock:
            for state, value, who_has, nbytes, type_name in finished:
                state.value, state.has_value, state.who_has = value, value is not None, who_has
                state.nbytes, state.type_name, state.status, state.settled = nbytes, type_name, FINISHED, True
                if state.event is not None or state.callbacks is not None:
                    woken.append((state, state.callbacks))
                    state.callbacks = None
        for state, callbacks in woken:  # as `_settle` does, outside the lock
            if state.event is not None:
                state.event.set()
            for callback in callbacks or ():
                callback()

    def fail(self, exception, traceback: str = "", by_task: bool = True) -> None:
        """Settle with an error: the task's own (``by_task``), or why the result is gone (the scheduler is)."""
        self.exception, self.traceback, self.by_task = exception, traceback, by_task
        self._settle(ERROR)

    def cancel(self, settled_too: bool = False) -> None:
        """Settle as cancelled if still pending (or whatever its status, ``settled_too``: its data is gone)."""
        if self.status == PENDING or (settled_too and self.status != CANCELLED):
            with self.lock:
                self.value, self.has_value, self.who_has = None, False, ()
            self._settle(CANCELLED)

    def lose(self) -> None:
        """The value was lost with its worker and is being recomputed: wait again."""
        with self.lock:
            self.status = PENDING
            self.value, self.has_value, self.who_has = None, False, ()
            self.settled = False
            if self.event is not None:
                self.event.clear()

    def wait(self, timeout) -> bool:
        """Block until the key settles or ``timeout`` seconds pass (None: no limit); True if it settled."""
        if self.settled:
            return True
        with self.lock:
            if self.settled:
                return True
            event = self.event
            if event is None:
                event = self.event = threading.Event()
        return event.wait(timeout)

    def _settle(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.settled = True
            if self.event is not None:
                self.event.set()
            callbacks, self.callbacks = self.callbacks, None
        if callbacks:
            for callback in callbacks:
                callback()

    def on_done(self, callback) -> None:
        """Call ``callback()`` once the key settles (at once if it has)."""
        with self.lock:
            if not self.settled:
                if self.callbacks is None:
                    self.callbacks = [callback]
                else:
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

    @classmethod
    def many(cls, keys, client) -> dict:
        """``{key: Future(key, client)}`` for ``keys``, counted in with one hold of the client's lock."""
        keys = list(dict.fromkeys(keys))  # one Future (one count) per key, as the dict below keeps
        new = object.__new__
        out = {}
        for key, state in zip(keys, client.refs.acquire_many(keys)):
            f = new(cls)
            f.key, f.client, f.key_state = key, client, state
            out[key] = f
        return out

    @property
    def status(self) -> str:
        return self.key_state.status

    def done(self) -> bool:
        """True once the task finished, failed or was cancelled."""
        return self.key_state.settled

    def cancelled(self) -> bool:
        return self.key_state.status == CANCELLED

    def wait_settled(self, timeout) -> None:
        """Block until the key finished, failed or was cancelled (TimeoutError after ``timeout`` s).

        Inside a task on a worker, the task's thread slot is given back while it waits (`waiting`).
        """
        state = self.key_state
        if state.settled:
            return
        with waiting():
            settled = state.wait(timeout)
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

    def cancel(self, force: bool = False) -> bool:
        """Stop computing this key (and what depends on it), for every client that wants it; returns True."""
        self.client.cancel([self], force=force)
        return True

    def traceback(self, timeout: float | None = None):
        """The traceback of the task's exception (a `types.TracebackType` when it could be rebuilt here,
        else its text), or None if it succeeded -- as dask's ``Future.traceback()``.

        Use ``traceback.format_tb(f.traceback())`` or ``print(f.traceback())`` to read it.
        """
        self.wait_settled(timeout)
        state = self.key_state
        if state.status != ERROR:
            return None
        tb = getattr(state.exception, "__traceback__", None)
        return tb if tb is not None else (state.traceback or None)

    @property
    def executor(self):
        """The client this future belongs to (dask.distributed's name for it, as a `concurrent.futures` future)."""
        return self.client

    @property
    def type(self):
        """The name of the result's type once finished (``"int"``), else None."""
        return self.key_state.type_name or None

    def release(self) -> None:
        """Drop this future's hold on its key now (as when it is garbage-collected); it is unusable after."""
        if getattr(self, "client", None) is not None:
            self.client.refs.release(self.key, self.key_state)
            self.client = _Released(self.key)

    def retry(self) -> None:
        """Run this erred task again (and the erred tasks it depends on); see `Client.retry`."""
        self.client.retry([self])

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
            if type(self.client) is _Released:
                return
            self.client.refs.release(self.key, self.key_state)
        except Exception:  # interpreter shutdown: the client is going away anyway
            pass

    def __reduce__(self):
        raise TypeError(
            f"a Future ({self.key!r}) cannot be pickled into a task; pass it as an argument to "
            f"client.submit(...) instead, and the task receives its value"
        )


class _Released:
    """Stands for the client of a released Future: any use of it says so."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __getattr__(self, name):
        raise GraphflowError(f"the future for {self.key!r} was released; submit or get the result again")


def _copy_error(exc: BaseException, suffix: str) -> BaseException:
    """A fresh copy of a shared error with ``suffix`` added to its message (the shared one is left alone)."""
    try:
        return type(exc)(f"{exc}{suffix}")
    except Exception:  # an exception type that wants other arguments
        return exc


DoneAndNotDoneFutures = namedtuple("DoneAndNotDoneFutures", ["done", "not_done"])
DoneAndNotDone = DoneAndNotDoneFutures  # the name graphflow used first


def wait(fs, timeout: float | None = None, return_when: str = ALL_COMPLETED) -> DoneAndNotDoneFutures:
    """Wait until all (``ALL_COMPLETED``), any (``FIRST_COMPLETED``) of ``fs`` settle, or until one errs
    or all settle (``FIRST_EXCEPTION``), as dask.distributed's ``wait``.

    ``fs``: a Future, an iterable of them, or collections persisted on a
    cluster (their futures, `futures_of`).  Returns
    ``DoneAndNotDoneFutures(done, not_done)`` sets; raises TimeoutError if
    ``timeout`` passes first.
    """
    if isinstance(fs, Future):
        fs = [fs]
    elif is_collection(fs):
        fs = futures_of(fs)
    else:
        fs = list(fs)
        if not all(isinstance(f, Future) for f in fs):  # persisted collections among them
            fs = futures_of(fs)
    if return_when not in (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION):
        raise ValueError(f"return_when must be 'ALL_COMPLETED', 'FIRST_COMPLETED' or 'FIRST_EXCEPTION', "
                         f"not {return_when!r}")
    if all(f.done() for f in fs):
        return DoneAndNotDoneFutures(set(fs), set())
    with waiting():  # inside a task: give its thread slot back while it waits
        _wait_for(fs, timeout, return_when)
    done = {f for f in fs if f.done()}
    return DoneAndNotDoneFutures(done, {f for f in fs if f not in done})


def _wait_for(fs: list, timeout, return_when: str) -> None:
    if return_when == ALL_COMPLETED:
        _wait_until(fs, timeout, lambda: all(f.done() for f in fs), "not all of")
    elif return_when == FIRST_COMPLETED:
        _wait_until(fs, timeout, lambda: any(f.done() for f in fs), "none of")
    else:
        _wait_until(fs, timeout, lambda: all(f.done() for f in fs) or any(f.status == ERROR for f in fs),
                    "neither an error nor all of")


def _wait_until(fs: list, timeout, condition, what: str) -> None:
    """Block until ``condition()`` holds, re-checked each time one of ``fs`` settles; TimeoutError after
    ``timeout`` s (``what`` says which condition in its message)."""
    if not fs or condition():
        return
    changed = threading.Condition()

    def settled():
        with changed:
            changed.notify_all()

    for f in fs:
        f.key_state.on_done(settled)
    with changed:
        if not changed.wait_for(condition, timeout):
            raise TimeoutError(f"{what} {len(fs)} futures done within {timeout} s "
                               f"({sum(not f.done() for f in fs)} still pending)")


def fire_and_forget(obj) -> None:
    """Run the futures in ``obj`` to completion even when no client holds them any more (dask's
    ``fire_and_forget``): the scheduler keeps them wanted on behalf of no client until each settles.

    ``obj``: a Future, containers of them, or a persisted collection.
    """
    by_client: dict = {}
    for f in futures_of(obj):
        by_client.setdefault(f.client, []).append(f.key)
    for client, keys in by_client.items():
        client.keep_until_done(keys)


class as_completed:
    """Iterate over futures in the order they finish; ``add(f)`` adds more while iterating.

    ``with_results=True`` yields ``(future, result)`` pairs (raising a task's
    error when its turn comes, like ``result()``).
    """

    def __init__(self, futures=(), with_results: bool = False, timeout: float | None = None):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0
        self._lock = threading.Lock()
        self._epoch = 0  # clear() bumps it: futures added before then are not yielded
        self.with_results = with_results
        self.timeout = timeout
        for f in futures:
            self.add(f)

    def add(self, future: Future) -> None:
        """Yield ``future`` too, once it settles."""
        with self._lock:
            self._pending += 1
            epoch = self._epoch
        future.key_state.on_done(lambda: self._settled(future, epoch))

    def _settled(self, future: Future, epoch: int) -> None:
        with self._lock:
            if epoch == self._epoch:
                self._queue.put(future)

    def update(self, futures) -> None:
        for f in futures:
            self.add(f)

    def count(self) -> int:
        """Futures not yet yielded."""
        return self._pending

    def is_empty(self) -> bool:
        """True when every future added was yielded."""
        return self._pending == 0

    def has_ready(self) -> bool:
        """True when a settled future waits to be yielded."""
        return not self._queue.empty()

    def clear(self) -> None:
        """Forget every future not yet yielded (those still running keep running)."""
        with self._lock:
            self._pending = 0
            self._epoch += 1
            while not self._queue.empty():
                self._queue.get_nowait()

    def next_batch(self, block: bool = True) -> list:
        """The futures settled so far (at least one when ``block``; ``[]`` when none is and not ``block``),
        as ``(future, result)`` pairs with ``with_results``."""
        if self.is_empty() or (not block and not self.has_ready()):
            return []
        batch = [next(self)]
        while self.has_ready() and not self.is_empty():
            batch.append(next(self))
        return batch

    def batches(self):
        """Yield lists of settled futures: whatever settled while the caller handled the previous list."""
        while not self.is_empty():
            yield self.next_batch(block=True)

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
    t = type(obj)
    if t in _NO_FUTURE or (t is tuple and all(type(x) in _NO_FUTURE for x in obj)) or (t is dict and not obj):
        return obj  # map's calls: a tuple of numbers or strings and no kwargs, 100k times
    return rebuild(obj, _is_plain_future, lambda f: _ref_of(f, client))


# Types that never hold a Future: ``futures_to_refs`` returns them (or a tuple of them) without a walk.
_NO_FUTURE = frozenset([int, float, str, bytes, bool, type(None), complex, Ref])


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
