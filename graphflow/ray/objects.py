"""ObjectRefs and the calls that read them: ``ray.get``, ``ray.wait``, ``ray.put``, ``ray.cancel``.

Model.  An `ObjectRef` names one value on the cluster and is backed by one of
three things (its *target*):

* a graphflow `Future` -- the result of a remote function or of ``ray.put``,
  a key the scheduler knows; passed to another task as a top-level argument it
  becomes a dependency (`graphflow.spec.Ref`) and the worker receives the value;
* an `graphflow.client.actors.ActorFuture` -- the result of an actor method
  call, answered by the actor's worker straight to the caller;
* nothing yet (*pending*): a call whose arguments include results not yet
  ready to be sent (an actor call's result) is submitted when they are
  (`graphflow.ray.calls`); its ref is bound to the call's Future then.

A ref pickles as its key.  Unpickled in a task (a ref nested in a list, as
Ray leaves it), it is *borrowed*: bound on first use to the worker process's
client, which then wants the key, so ``ray.get(ref)`` inside the task fetches
it; unpickled in the driver (a task returned refs) it is wanted at once.  The
process that pickled it keeps the key wanted for `LEND_SECONDS` (`_lend`), so
a task may return the refs of tasks it launched and drop its own.

Only task results can travel so: an actor call's result nested in a
container raises a `TypeError` saying to pass it as a top-level argument.

    >>> import graphflow.ray as ray                  # doctest: +SKIP
    >>> ref = ray.put(41)                            # doctest: +SKIP
    >>> ready, not_ready = ray.wait([ref], timeout=5)    # doctest: +SKIP
    >>> ray.get(ready[0]) + 1                        # doctest: +SKIP
    42
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid

from ..client.actors import ActorFuture
from ..client.futures import Future
from ..client.futures import wait as wait_futures
from ..errors import ActorDiedError as GraphflowActorDied
from ..errors import FutureCancelledError
from ..sizeof import sizeof
from ..spec import DataNode
from ..worker.secession import waiting
from . import session
from .exceptions import ActorDiedError, GetTimeoutError, TaskCancelledError, as_task_error

__all__ = ["ObjectRef", "get", "put", "wait", "cancel", "ray_error"]

_pending_ids = itertools.count()


class ObjectRef:
    """A reference to one value on the cluster (see the module note for what backs it)."""

    __slots__ = ("_target", "_key", "_bound", "_error", "_callbacks", "_lock", "__weakref__")

    def __init__(self, target=None, key=None, pending: bool = False):
        self._target = target  # Future | ActorFuture | None (pending, or borrowed and not yet bound)
        self._key = target.key if target is not None else key
        self._bound = threading.Event()  # set once something backs the ref (or it failed)
        self._error: BaseException | None = None  # a pending call that could not be submitted
        self._callbacks: list = []
        self._lock = threading.Lock()
        if not pending:
            self._bound.set()

    @classmethod
    def pending(cls) -> "ObjectRef":
        """A ref for a call not submitted yet; `bind` or `fail` settles what it stands for."""
        return cls(None, ("pending", next(_pending_ids)), pending=True)

    # -- binding a pending ref

    def bind(self, target) -> None:
        """The call was submitted: ``target`` (a Future or ActorFuture) now backs this ref."""
        with self._lock:
            self._target = target  # the key stays: the ref may already be in a set or a dict
            self._bound.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def fail(self, error: BaseException) -> None:
        """The call could not be submitted (an argument failed): ``ray.get`` raises ``error``."""
        with self._lock:
            self._error = error
            self._bound.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def on_bound(self, callback) -> None:
        """Call ``callback()`` once the ref is backed (or failed): at once if it is."""
        with self._lock:
            if not self._bound.is_set():
                self._callbacks.append(callback)
                return
        callback()

    # -- reading

    def graphflow_future(self, timeout: float | None = None):
        """The Future (or ActorFuture) backing this ref; waits for a pending ref to be submitted."""
        if not self._bound.is_set():
            with waiting():  # inside a task: give its thread slot back while it waits
                self._bound.wait(timeout)
        if not self._bound.is_set():
            raise GetTimeoutError(f"the call behind {self!r} was not submitted within {timeout} s")
        if self._error is not None:
            raise self._error
        target = self._target
        if target is None:  # borrowed: want the key through this process's client
            with self._lock:
                if self._target is None:
                    c = session.client()
                    self._target = c.submit_graph({}, [self._key])[self._key]
                target = self._target
        return target

    def is_bound(self) -> bool:
        """True unless this is a pending call not submitted yet."""
        return self._bound.is_set()

    def is_task_result(self) -> bool:
        """True when backed by a scheduler key (a task's result or a put value): it can be a task's dependency."""
        return self._bound.is_set() and self._error is None and type(self._target) is not ActorFuture

    def is_ready(self) -> bool:
        """Submitted and settled (finished, failed or cancelled)."""
        if not self._bound.is_set():
            return False
        if self._error is not None:
            return True
        return self.graphflow_future().done()

    def on_ready(self, callback) -> None:
        """Call ``callback()`` once `is_ready` (at once if it is); runs on whichever thread settles it."""
        def bound():
            if self._error is not None:
                callback()
            else:
                self.graphflow_future().key_state.on_done(callback)
        self.on_bound(bound)

    def hex(self) -> str:
        """The key, as text."""
        return str(self._key)

    def task_id(self):
        """The name this ref was made under (stable: a pending ref keeps it once submitted)."""
        return self._key

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, ObjectRef) and other.task_id() == self._key

    def __reduce__(self):
        target = self._target
        if type(target) is ActorFuture or not self._bound.is_set() or self._error is not None:
            raise TypeError(f"{self!r} is the result of an actor call: pass it to a task or actor call as a "
                            "top-level argument (it is then resolved first), or ray.get it, rather than inside "
                            "a list, dict or object")
        if target is not None:
            _lend(target)
        return (_borrow, (target.key if target is not None else self._key,))

    def __repr__(self):
        return f"ObjectRef({self._key!r})"


LEND_SECONDS = 60.0
_lent: dict = {}  # key -> (Future, when lent): refs pickled out of this process keep their keys wanted a while
_lent_lock = threading.Lock()


def _lend(future) -> None:
    """Keep ``future``'s key wanted by this process for `LEND_SECONDS` after its ref was pickled: a task that
    returns a ref (or a list of refs) drops its own when it ends, before the receiver can want the key."""
    now = time.monotonic()
    with _lent_lock:
        _lent.pop(future.key, None)  # re-inserted at the end: the dict stays ordered by time
        _lent[future.key] = (future, now)
        while _lent:
            key, (_, when) = next(iter(_lent.items()))
            if now - when < LEND_SECONDS:
                break
            del _lent[key]


def _borrow(key) -> ObjectRef:
    # In a driver the key is wanted at once (the sender keeps it only a while); in a task, on first use
    # (unpickling may happen where opening a client would block).
    client = session.driver_client()
    if client is not None:
        return ObjectRef(client.submit_graph({}, [key])[key])
    return ObjectRef(None, key)


def as_ref(future) -> ObjectRef:
    """An ObjectRef backed by a Future or ActorFuture."""
    return ObjectRef(future)


# --------------------------------------------------------------------------- reading values


def _as_list(object_refs, what: str) -> tuple:
    if isinstance(object_refs, ObjectRef):
        return [object_refs], True
    if not isinstance(object_refs, (list, tuple)):
        raise TypeError(f"{what} expects an ObjectRef or a list of ObjectRefs, not {type(object_refs).__name__}")
    refs = list(object_refs)
    for r in refs:
        if not isinstance(r, ObjectRef):
            raise TypeError(f"{what} expects a list of ObjectRefs, but it holds a {type(r).__name__}: {r!r}")
    return refs, False


def get(object_refs, *, timeout: float | None = None):
    """The value of one ref, or the values of a list of refs (in order).

    Raises `GetTimeoutError` after ``timeout`` seconds, a task's own error as
    ``RayTaskError(<its class>)``, `TaskCancelledError` for a cancelled task,
    `ActorDiedError` for a call on a dead actor.
    """
    refs, single = _as_list(object_refs, "ray.get")
    deadline = None if timeout is None else time.monotonic() + timeout
    futures = [r.graphflow_future(_left(deadline)) for r in refs]
    try:
        wait_futures(futures, timeout=_left(deadline))
    except TimeoutError:
        left = sum(not f.done() for f in futures)
        raise GetTimeoutError(f"ray.get: {left} of {len(futures)} objects were not ready within {timeout} s") \
            from None
    for f in futures:
        if f.status != "finished":
            raise ray_error(f)
    values = _values(futures)
    return values[0] if single else values


def _values(futures: list) -> list:
    by_key = [f for f in futures if not f.key_state.has_value]  # on a worker: fetched in one batch
    fetched = dict(zip((f.key for f in by_key), session.client().gather(by_key))) if by_key else {}
    return [f.key_state.value if f.key_state.has_value else fetched[f.key] for f in futures]


def ray_error(future) -> BaseException:
    """The Ray-style error for a Future that did not finish."""
    try:
        future.result(0)
    except FutureCancelledError as err:
        return TaskCancelledError(f"{err}; it was cancelled with ray.cancel")
    except GraphflowActorDied as err:
        return ActorDiedError(str(err))
    except Exception as err:
        return as_task_error(err, _function_name(future.key))
    return RuntimeError(f"{future!r} did not fail")  # pragma: no cover - only called on unfinished futures


def _function_name(key) -> str:
    if isinstance(key, tuple):
        return f"actor call #{key[1]} on {key[0]}"
    return str(key).rsplit("-", 1)[0]


def _left(deadline):
    return None if deadline is None else max(0.0, deadline - time.monotonic())


PUT_INLINE_BYTES = 64 * 1024


def put(value) -> ObjectRef:
    """Store ``value`` on the cluster once; the ref can be passed to any number of tasks.

    A value under `PUT_INLINE_BYTES` travels in one message through the
    scheduler (``put`` returns at once); a larger one goes straight to a
    worker (`graphflow.client.Client.scatter`).
    """
    if isinstance(value, ObjectRef):
        raise TypeError("ray.put of an ObjectRef is not allowed: pass the ref itself")
    key = f"put-{uuid.uuid4().hex}"
    client = session.client()
    if sizeof(value) < PUT_INLINE_BYTES:  # small: one message, no round trip (the graph carries it to a worker)
        return ObjectRef(client.submit_graph({key: DataNode(key, value)}, [key])[key])
    return ObjectRef(client.scatter({key: value})[key])  # a dict: a list would be scattered item by item


def wait(object_refs, *, num_returns: int = 1, timeout: float | None = None, fetch_local: bool = True) -> tuple:
    """``(ready, not_ready)``: returns once ``num_returns`` refs are ready, or at ``timeout`` with those that are.

    Both lists keep the order of ``object_refs``; ``ready`` holds at most
    ``num_returns`` refs.  ``fetch_local`` is accepted (values are fetched by ``ray.get``).
    """
    if isinstance(object_refs, ObjectRef):
        raise TypeError("ray.wait expects a list of ObjectRefs, not a single ObjectRef: wrap it in a list")
    refs, _ = _as_list(object_refs, "ray.wait")
    if len(set(refs)) != len(refs):
        raise ValueError("ray.wait got the same ObjectRef more than once")
    if isinstance(num_returns, bool) or not isinstance(num_returns, int) or not 1 <= num_returns <= max(1, len(refs)):
        raise ValueError(f"ray.wait needs 1 <= num_returns <= len(object_refs) ({len(refs)}), not {num_returns!r}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"ray.wait needs timeout >= 0 or None, not {timeout!r}")
    if refs:
        enough = threading.Event()
        count = itertools.count(1)

        def one_ready():
            if next(count) >= num_returns:
                enough.set()

        for r in refs:
            r.on_ready(one_ready)
        if not enough.is_set():
            with waiting():  # inside a task: give its thread slot back while it waits
                enough.wait(timeout)
    ready = [r for r in refs if r.is_ready()][:num_returns]
    chosen = set(map(id, ready))
    return ready, [r for r in refs if id(r) not in chosen]


def cancel(object_ref: ObjectRef, *, force: bool = False, recursive: bool = True) -> None:
    """Cancel the task behind ``object_ref``: ``ray.get`` then raises `TaskCancelledError`.

    Calls on actors are not cancelled (as in Ray for a call that started).
    """
    if not isinstance(object_ref, ObjectRef):
        raise TypeError(f"ray.cancel expects an ObjectRef, not {type(object_ref).__name__}")
    target = object_ref.graphflow_future()
    if type(target) is Future:
        target.client.cancel([target], force=True)  # as Ray: cancelled for every holder of the ref
