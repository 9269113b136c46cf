"""Eager actors on a cluster: ``client.actor(Counter, 10)``, handles, and pipelined calls.

    >>> import graphflow as gf
    >>> with gf.Client(n_workers=2) as client:           # doctest: +SKIP
    ...     h = client.actor(Counter, 10)                # created on one worker, chosen by load
    ...     futs = [h.add(1) for _ in range(1000)]       # each returns a Future at once
    ...     client.gather(futs)[-1]
    1010

Model.  The actor is a scheduler task (its key is the actor's name) whose
result is an `ActorHandle`: key, class, the hosting worker's address and its
incarnation.  The client holds a `Future` of that key while any handle or
unfinished call refers to the actor, so the usual release of unwanted keys
frees the actor on its worker when the last reference goes (or the client
closes).

Calls do not go through the scheduler.  Per (client, actor) one `ActorCaller`
numbers the calls (``seq``), buffers them, and the client's I/O thread sends
each buffer in one `graphflow.comm.messages.ActorCalls` message straight to the host,
which answers with `ActorResults`: two hops for a blocking call, and ten
thousand pipelined calls travel as a few dozen messages.  For actors that may
be restarted, each buffer also goes to the scheduler's call log
(`graphflow.comm.messages.ActorCallLog`).  The caller keeps every unanswered
call; when the actor's key is reported lost it holds new calls back, and when
it is reported in memory again (restored elsewhere) it resends the unanswered
ones there -- the host answers each sequence number once, so no result is
delivered twice.  Reported erred: every pending call fails with
`ActorDiedError` naming the call.

A handle pickles as ``(key, class, address, incarnation)``.  Unpickled in a
task, its first call binds it to that process's client (the open one, or a
client of the worker's scheduler made on first use), which wants the key
and asks the scheduler where the actor lives.
"""

from __future__ import annotations

import itertools
import threading

from ..comm import messages as wire
from ..errors import ActorDiedError, CommClosedError, GraphflowError
from ..spec import unique_suffix
from ..spec.actors import ActorCreate, as_actor_class
from .current import process_client
from .futures import Future, KeyState, futures_to_refs

__all__ = ["ActorHandle", "ActorCaller", "ActorFuture", "create_actor", "bind"]

READY, MOVING, DEAD = "ready", "moving", "dead"
_caller_ids = itertools.count()


class ActorFuture(Future):
    """The Future of one actor call: settled by the host's answer, not by the scheduler."""

    __slots__ = ("_owner",)

    def __init__(self, key, client, state: KeyState, owner):
        self.key = key
        self.client = client
        self.key_state = state
        self._owner = owner  # the caller: keeps the actor alive while this call may still be answered

    def cancel(self) -> bool:
        """Actor calls cannot be cancelled once made (they run in order); returns False."""
        return False

    def __del__(self):
        pass

    def __repr__(self):
        return f"<ActorFuture: {self.status}, call #{self.key[1]} on {self.key[0]!r}>"


class ActorHandle:
    """A handle on an actor living on a cluster worker.

    ``h.method(*args)`` returns an `ActorFuture` at once; ``h.field`` too (a
    field read is a call); ``h.checkpoint()`` asks for a checkpoint now.
    Calls from one process run in the order they were made.
    """

    __slots__ = ("key", "actor_class", "_address", "_incarnation", "_caller", "__weakref__")

    def __init__(self, key, actor_class, address=None, incarnation: int = 0, caller=None):
        self.key = key
        self.actor_class = actor_class
        self._address = address
        self._incarnation = incarnation
        self._caller = caller

    @property
    def address(self):
        """The worker hosting the actor (as last heard: it moves when its worker dies)."""
        caller = self._caller
        return caller.address if caller is not None and caller.address else self._address

    @property
    def incarnation(self) -> int:
        """How many times the actor was recreated after losing its worker."""
        caller = self._caller
        return caller.incarnation if caller is not None else self._incarnation

    def __graphflow_caller__(self) -> "ActorCaller":
        """This process's `ActorCaller` for the actor, bound on first use (a dunder: it never shadows a method
        of the actor class, which the handle exposes by name)."""
        caller = self._caller
        if caller is None:
            caller = self._caller = bind(self)
        return caller

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"actor handles do not expose private attribute {name!r}")
        if name in self.actor_class.methods:
            return ActorMethod(self, name)
        return self.__graphflow_caller__().call(name, "getattr", (), None)

    def checkpoint(self) -> ActorFuture:
        """Checkpoint the actor now (in call order); the Future settles once the state is sent."""
        return self.__graphflow_caller__().call("checkpoint", "checkpoint", (), None)

    def call_blocking(self, method: str, kind: str, args, kwargs):
        """Make a call and wait for its value (what an `ActorCall` node does on a cluster).

        The handle is not bound in place: an `ActorCall` task gets it from the
        worker's store, and a bound handle there would keep the actor wanted.
        """
        caller = self._caller or bind(self)
        return caller.call(method, kind, args, kwargs).result()

    def __reduce__(self):
        return (ActorHandle, (self.key, self.actor_class, self.address, self.incarnation))

    def __repr__(self):
        where = f" on {self.address}" if self.address else ""
        return f"<ActorHandle {self.actor_class.name} {self.key!r}{where}>"


class ActorMethod:
    """``handle.method``: calling it makes one call and returns its `ActorFuture`."""

    __slots__ = ("_handle", "_name")

    def __init__(self, handle: ActorHandle, name: str):
        self._handle = handle
        self._name = name

    def __call__(self, *args, **kwargs) -> ActorFuture:
        return self._handle.__graphflow_caller__().call(self._name, "call", args, kwargs or None)

    def __repr__(self):
        return f"<actor method {self._handle.actor_class.name}.{self._name}>"


class ActorCaller:
    """One client's calls to one actor: numbering, buffering, sending, answers, recovery."""

    def __init__(self, client, key, actor_class, future: Future | None, address=None, incarnation: int = 0):
        self.client = client
        self.key = key
        self.actor_class = actor_class
        self.future = future  # the actor's key, wanted while this caller lives
        self.address = address
        self.incarnation = incarnation
        self.caller_id = f"{client.id}-{next(_caller_ids)}"  # sequence numbers start at 1 per caller
        self.logged = actor_class.options.max_restarts > 0
        self.status = READY if address else MOVING
        self.error: BaseException | None = None
        self.seq = 0
        self.acked = 0  # every call up to this seq is answered (the host is told, so it can forget them)
        self.pending: dict = {}  # seq -> (KeyState, entry): sent, not answered
        self.outbox: list = []
        self.lock = threading.Lock()
        self.scheduled = False
        self._loop = client.session.loop

    # -- user threads

    def call(self, method: str, kind: str, args, kwargs) -> ActorFuture:
        """Make one call; returns its Future at once."""
        state = KeyState(None)
        with self.lock:
            if self.status == DEAD:
                raise self._died(method, self.seq + 1)
            seq = self.seq = self.seq + 1
            entry = (seq, method, kind, args, kwargs)
            self.pending[seq] = (state, entry)
            self.outbox.append(entry)
            schedule = not self.scheduled and self.status == READY
            if schedule:
                self.scheduled = True
        state.key = key = (self.key, seq)
        if schedule:
            self._loop.add_callback(self._flush)
        return ActorFuture(key, self.client, state, self)

    # -- the client's I/O thread

    def _flush(self) -> None:
        with self.lock:
            self.scheduled = False
            if self.status != READY or not self.outbox:
                return
            calls, self.outbox = self.outbox, []
        client = self.client
        if client.session.error is not None:
            return
        from ..comm.serialize import Serialized, SerializedValue

        try:  # pickled once, here: the same frames go to the host and, opaque, to the scheduler's log
            blob = Serialized.from_object(calls)
        except Exception:  # an argument that will not pickle: fail those calls, send the rest
            calls = self._drop_unpicklable(calls)
            if not calls:
                return
            blob = Serialized.from_object(calls)
        self._conn().send(wire.ActorCalls(self.key, self.caller_id, self.incarnation, SerializedValue(blob.frames)))
        if self.logged:
            client.session.send(wire.ActorCallLog("actor-log", self.key, self.caller_id, self.incarnation, blob,
                                                  calls[0][0], calls[-1][0]))

    def _drop_unpicklable(self, calls: list) -> list:
        from ..comm.serialize import Serialized

        good = []
        for entry in calls:
            try:
                Serialized.from_object(entry)
                good.append(entry)
            except Exception as err:
                item = self.pending.pop(entry[0], None)
                if item is not None:
                    item[0].fail(err, "")
        return good

    def _conn(self):
        return self.client.transfer.connection(self.address)

    def on_results(self, msg) -> None:
        """Answers from the host: settle each pending call once."""
        pending = self.pending
        for seq, ok, value, tb in msg.results:
            item = pending.pop(seq, None)
            if item is None:
                continue  # answered already (a resend after a restore): never delivered twice
            if ok:
                item[0].finish(value, True, (), 0, "")
            else:
                item[0].fail(value, tb)
        if self.logged:
            self._acknowledge()

    def _acknowledge(self) -> None:
        """Tell the host which answers arrived, so its checkpoints stop carrying their results."""
        with self.lock:
            acked, last, pending = self.acked, self.seq, self.pending
            while acked < last and acked + 1 not in pending:
                acked += 1
            if acked == self.acked or self.status != READY:
                return
            self.acked = acked
        self._conn().send(wire.ActorCalls(self.key, self.caller_id, self.incarnation, [], True, acked))

    def on_report(self, msg) -> None:
        """The scheduler reports the actor's key: lost (moving), in memory (here now), erred (dead)."""
        if msg.state == "lost":
            with self.lock:
                if self.status == READY:
                    self.status = MOVING
        elif msg.state == "memory":
            info = msg.inline
            if isinstance(info, ActorHandle):
                self._located((info.address, info.incarnation))
            else:
                self._ask_location()
        elif msg.state in ("erred", "cancelled"):
            error = msg.exception if isinstance(msg.exception, BaseException) else None
            self.fail_all(error)

    def _ask_location(self) -> None:
        session = self.client.session
        request_id, request = session.new_request()
        session.send(wire.Rpc(request_id, wire.ActorLocationRequest(self.key)))
        request.add_done_callback(
            lambda f: self._loop.add_callback(self._located, f.result() if not f.exception() else None))

    def _located(self, where) -> None:
        if not where or not where[0]:
            return  # not hosted yet: a report follows once it is
        address, incarnation = where
        with self.lock:
            if self.status == DEAD or (self.status == READY and incarnation <= self.incarnation):
                return
            moved = self.address is not None and (address, incarnation) != (self.address, self.incarnation)
            self.address, self.incarnation = address, incarnation
            self.status = READY
            queued = {id(e) for e in self.outbox}
            resend = sorted((e for _, e in self.pending.values() if id(e) not in queued), key=_seq) if moved else []
            self.scheduled = True
        if resend:  # unanswered calls made before the move: the new host answers each once
            self._conn().send(wire.ActorCalls(self.key, self.caller_id, incarnation, resend))
        self._flush()

    def fail_all(self, error: BaseException | None) -> None:
        """The actor is gone (or the client closed): every pending call fails, and later calls raise."""
        with self.lock:
            self.status = DEAD
            self.error = error
            pending, self.pending = self.pending, {}
            self.outbox = []
        for seq, (state, entry) in sorted(pending.items()):
            state.fail(self._died(entry[1], seq))

    def _died(self, method: str, seq: int) -> BaseException:
        error = self.error
        if isinstance(error, CommClosedError):
            return error
        base = str(error) if error is not None else f"actor {self.key!r} is gone"
        if isinstance(error, ActorDiedError):
            worker = error.worker
        else:
            worker = self.address
        return ActorDiedError(f"{base}; call #{seq} ({self.actor_class.name}.{method}) did not complete",
                              actor=self.key, worker=worker, call=(method, seq))


# --------------------------------------------------------------------------- creating and binding


def create_actor(client, cls, args: tuple, kwargs: dict, workers=None, timeout: float | None = None,
                 key=None) -> ActorHandle:
    """``client.actor(cls, *args, **kwargs)``: create the actor on a worker and return its handle.

    ``key``: the actor's key (default: a fresh one); a name known in advance lets other processes find it.
    """
    actor_class = as_actor_class(cls)
    key = key or f"{actor_class.name}-actor-{unique_suffix()}"
    allowed = ([workers] if isinstance(workers, str) else list(workers)) if workers else None
    chosen = client.ask(wire.ChooseActorWorkerRequest(allowed))
    if chosen is None:
        raise GraphflowError(f"no worker to create the {actor_class.name} actor on"
                             + (f" among {allowed}" if allowed else "; wait for workers to join"))
    spec = ActorCreate(key, actor_class, futures_to_refs(args, client), futures_to_refs(kwargs, client))
    future = client.submit_graph({key: spec}, [key], {key: 0}, None, {key: {chosen}})[key]
    info = future.result(timeout if timeout is not None else max(client.timeout, 60.0))
    caller = ActorCaller(client, key, actor_class, future, info.address, info.incarnation)
    _register(client, caller)
    return ActorHandle(key, actor_class, info.address, info.incarnation, caller)


def _register(client, caller: ActorCaller) -> None:
    client.actor_callers[caller.key] = caller


_bind_lock = threading.Lock()


def bind(handle: ActorHandle) -> ActorCaller:
    """The caller of this process's client for ``handle``'s actor (made, and the key wanted, on first use)."""
    client = process_client()
    with _bind_lock:
        caller = client.actor_callers.get(handle.key)
        if caller is not None:
            return caller
        caller = ActorCaller(client, handle.key, handle.actor_class, None)
        _register(client, caller)
    caller.future = client.submit_graph({}, [handle.key])[handle.key]  # its report says where it lives
    return caller


def _seq(entry) -> int:
    return entry[0]
