"""The wire protocol: every message graphflow processes send each other, declared once.

Clients, the scheduler and workers exchange only these slotted dataclasses
(pickled by `graphflow.comm.protocol`, authenticated before they are read).
They are not the state machines' events: a shell turns a message into an
event of its own state machine (`graphflow.scheduler.events`,
`graphflow.worker.events`) and its commands into messages, so either side can
change its internals without changing what travels.  A message that names a
sender (a worker's results) never carries it: the receiving shell knows who
sent it, and a peer speaks only for itself.

A session of a worker with the scheduler::

    worker -> RegisterWorker(address, nthreads, ...)     scheduler: WorkerJoined
    worker <- Welcome(...)
    worker -> WorkerStatus(...) every 0.5 s              scheduler: Heartbeat; worker <- HeartbeatAck
    worker <- RunTasks([TaskSpec, ...]) / ReleaseKeys / StealAsk / CopyKeys
    worker -> TaskDone / TasksDone / TaskFailed / DepMissing / StealAnswer / LongRunning

of a client::

    client -> RegisterClient(client)                     client <- Welcome(...)
    client -> SubmitGraph(specs, ...) / DropKeys / CancelKeys
    client <- KeyStatus(key, "memory" | "erred" | "lost" | "cancelled", ...) / KeyStatuses (a batch of them)
    client -> Rpc(id, WhoHasRequest(...)) ...            client <- RpcReply(id, value)

and between peers (and from a client gathering results)::

    GetData(request_id, keys) -> DataReply(request_id, data, nbytes, missing)
    PutData(request_id, data) -> DataReply(request_id, {}, nbytes, [])
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields, is_dataclass


@dataclass(slots=True)
class RegisterWorker:
    address: str
    nthreads: int
    memory_limit: int | None
    pid: int
    name: str = ""
    resources: dict | None = None  # {name: amount} it offers (graphflow worker --resources)


@dataclass(slots=True)
class RegisterClient:
    client: str
    pid: int = 0


@dataclass(slots=True)
class Welcome:
    """The scheduler's answer to a registration."""

    address: str
    heartbeat_interval: float
    heartbeat_timeout: float
    setup: list = field(default_factory=list)  # to a worker: what every worker runs on joining (`WorkerSetup`s)


@dataclass(slots=True)
class Ping:
    """A client's liveness probe; answered by `HeartbeatAck`."""

    sent: float = 0.0


@dataclass(slots=True)
class HeartbeatAck:
    sent: float = 0.0


@dataclass(slots=True)
class StopWorker:
    """Sent to a worker: stop (the cluster is shutting down, or the worker was retired).

    ``timed_out``: the scheduler dropped it for silence (its work was given
    to others); it exits with `graphflow.worker.server.EXIT_TIMED_OUT`, which
    a supervisor answers with a fresh worker, where a deliberate stop exits 0.
    """

    reason: str = ""
    timed_out: bool = False


@dataclass(slots=True)
class Goodbye:
    """A worker or client closing on purpose: forget it now, not after the heartbeat timeout.

    ``memory``: ``(rss, limit)`` when a worker leaves because its process
    passed the terminate threshold -- a death (its running tasks get a
    strike), with the reason known, so a task that keeps doing it fails with
    `MemoryLimitError` rather than `KilledWorkerError`.
    """

    reason: str = ""
    memory: tuple | None = None


@dataclass(slots=True)
class FreezeActors:
    """Sent to a retiring worker: hold back new calls to these actors and checkpoint each once idle; it also
    hands its results to peers on its host through shared memory from now on (``keys`` may be empty)."""

    keys: list


@dataclass(slots=True)
class RetireRefused:
    """Sent to a worker that asked to retire (its ``--lifetime`` is up) when it cannot yet: it asks again later."""

    reason: str = ""


@dataclass(slots=True)
class SchedulerClosing:
    """Sent to everyone when the scheduler shuts down on purpose."""

    reason: str = ""


@dataclass(slots=True)
class GetData:
    """Ask a worker for values.  ``host``: the asker's `graphflow.comm.vmcopy.host_id`, so a worker
    on the same host may lend large values for the asker to copy from its memory."""

    request_id: int
    keys: list
    host: str = ""


@dataclass(slots=True)
class PutData:
    request_id: int
    data: dict


@dataclass(slots=True)
class DataReply:
    request_id: int
    data: dict
    nbytes: dict
    missing: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # key -> exception: held, but cannot be sent
    lent: dict = field(default_factory=dict)  # key -> comm.vmcopy.Lent (same host, large values)
    shared: dict = field(default_factory=dict)  # key -> comm.shm.ShmRef (same host, in shared memory)
    on_disk: dict = field(default_factory=dict)  # key -> ShmRef of a spilled block the asker maps itself


@dataclass(slots=True)
class ReturnLease:
    """The reader copied a lent value: the holder may stop pinning its frames."""

    lease: int


@dataclass(slots=True)
class Rpc:
    """A question to the scheduler or a worker: ``request`` is one of the `Request` types below;
    answered by `RpcReply` with the same id."""

    request_id: int
    request: "Request"


@dataclass(slots=True)
class RpcReply:
    request_id: int
    value: object = None
    error: BaseException | None = None


@dataclass(slots=True)
class ActorCalls:
    """Calls on ``actor``, to the worker hosting it (`graphflow.worker.actors`).

    ``calls``: ``[(seq, method, kind, args, kwargs)]`` of one ``caller``, whose
    sequence numbers the host runs in order, each once.  From a caller,
    answered with `ActorResults`; forwarded by the scheduler after a restart
    (``reply=False``), only run (and their results kept for a resend).
    """

    actor: object
    caller: str
    incarnation: int
    calls: list
    reply: bool = True
    acked: int = 0  # the caller has every answer up to this seq: the host may forget their results


@dataclass(slots=True)
class ActorResults:
    """Answers to `ActorCalls`: ``[(seq, ok, value or exception, traceback)]``."""

    actor: object
    caller: str
    results: list


@dataclass(slots=True)
class Unreadable:
    """Back to the sender of messages that passed authentication but could not be loaded: they hold objects
    of a module the receiver cannot import (`graphflow.comm.salvage`).

    ``messages``: one ``(kind, request_id, keys, error, module)`` per such
    message -- its type name, its request id (None if it has none), the keys
    it carried (task keys; ``(actor, seq)`` for actor calls), what could not
    be loaded where and what to do, and the missing module (None if that was
    not why).  The sender fails those requests, tasks and calls with a
    `graphflow.errors.SerializationError` of that text.
    """

    messages: list


# --------------------------------------------------------------------------- requests
# What a client may ask the scheduler (or, for WorkerLogsRequest, a worker), each answered by one value.
# The answering side keeps one table from these types to its handlers (graphflow.scheduler.answers).


@dataclass(slots=True)
class Request:
    """Base of the typed questions carried by `Rpc`."""


@dataclass(slots=True)
class WhoHasRequest(Request):
    """``{key: [worker addresses]}`` for ``keys`` (all keys when None)."""

    keys: list | None = None


@dataclass(slots=True)
class SchedulerInfoRequest(Request):
    """The scheduler's address, pid, workers (with their memory), task counts and dashboard URL."""


@dataclass(slots=True)
class MemoryRequest(Request):
    """Each worker's memory as its last heartbeat told it."""


@dataclass(slots=True)
class ChooseWorkersRequest(Request):
    """Where to scatter ``nbytes`` of data: ``[address]`` (one of ``workers`` if given), or ``[]``."""

    nbytes: int
    workers: list | None = None


@dataclass(slots=True)
class ScatteredRequest(Request):
    """This client put values on ``worker`` (``nbytes`` per key): the scheduler records them as in memory."""

    worker: str
    nbytes: dict


@dataclass(slots=True)
class ReplicateRequest(Request):
    """Give each of ``keys`` ``n`` holders (None: every worker, or every one of ``workers``); answers True at once."""

    keys: list
    n: int | None = None
    workers: list | None = None


@dataclass(slots=True)
class RebalanceRequest(Request):
    """Even out the bytes of ``keys`` (None: all) over ``workers`` (None: all); answers the number of moves."""

    keys: list | None = None
    workers: list | None = None


@dataclass(slots=True)
class ChooseActorWorkerRequest(Request):
    """Where a new actor should live (among ``workers`` if given)."""

    workers: list | None = None


@dataclass(slots=True)
class ActorLocationRequest(Request):
    """``(worker address, incarnation)`` of the live actor ``key``, or None while it is (re)created."""

    key: object


@dataclass(slots=True)
class RetireWorkersRequest(Request):
    """Retire ``workers`` gracefully; answered with the retired addresses once they are gone."""

    workers: list
    close_anyway: bool = False
    retire_timeout: float | None = None


@dataclass(slots=True)
class AdaptiveTargetRequest(Request):
    """How many workers the work needs, and which to retire first (`graphflow.scheduler.adaptive`)."""

    minimum: int = 0
    maximum: int | None = None
    target_duration: float = 5.0


@dataclass(slots=True)
class ShutdownRequest(Request):
    """Stop the scheduler and its workers."""


@dataclass(slots=True)
class StoryRequest(Request):
    """The scheduler's recent events about ``keys``."""

    keys: list


@dataclass(slots=True)
class ProgressRequest(Request):
    """Open a progress tracker for ``keys``, or poll (and with ``close`` end) tracker ``ident``."""

    keys: list | None = None
    ident: int | None = None
    close: bool = False


@dataclass(slots=True)
class TaskStreamRequest(Request):
    """Task-stream records with ``stop >= start``, the last ``count`` of them."""

    start: float | None = None
    count: int | None = None


@dataclass(slots=True)
class MemoryHistoryRequest(Request):
    """Each worker's memory samples since ``start``."""

    start: float | None = None


@dataclass(slots=True)
class SnapshotRequest(Request):
    """What the dashboard shows, fresh."""


@dataclass(slots=True)
class MissingDataRequest(Request):
    """The client could not fetch these keys from these holders (key -> worker address, "" if none was named):
    the scheduler drops those replicas (recomputing a key with none left) and answers ``{key: [holders left]}``."""

    holders: dict


@dataclass(slots=True)
class WorkerLogsRequest(Request):
    """Sent to a worker: its last ``n`` log records and task prints (all it keeps when None)."""

    n: int | None = None


@dataclass(slots=True)
class RunRequest(Request):
    """Run a function (``function``: cloudpickle bytes) with ``args``/``kwargs`` where it is received -- on a
    worker's or the scheduler's event loop -- and answer its result (``client.run``, ``run_on_scheduler``)."""

    function: bytes
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(slots=True)
class WorkerSetup:
    """Something every worker does once, now and when it joins later: ``kind`` ``"upload"`` (``payload``:
    ``(filename, bytes)``, a file saved and imported) or ``"plugin"`` (``payload``: ``(name, cloudpickle bytes of
    a plugin)``)."""

    kind: str
    name: str
    payload: object


@dataclass(slots=True)
class SetupRequest(Request):
    """To a worker: apply ``setup`` now (answered with None, or the error).  To the scheduler: remember it for
    workers that join later (``remember=True``), or forget the plugin ``setup.name`` (``remember=False``)."""

    setup: WorkerSetup
    remember: bool = True


@dataclass(slots=True)
class SchedulerPluginRequest(Request):
    """Install (or with ``plugin`` None, remove) the scheduler plugin ``name`` (``plugin``: cloudpickle bytes)."""

    name: str
    plugin: bytes | None


@dataclass(slots=True)
class ProcessingRequest(Request):
    """``{worker: [keys it is running or will run]}`` (of ``workers`` if given)."""

    workers: list | None = None


@dataclass(slots=True)
class MetadataRequest(Request):
    """The scheduler's metadata store, a nested dict: set the value at the path ``keys`` (``value``, with
    ``set``) or answer it (`KeyError` naming the path when absent)."""

    keys: list
    value: object = None
    set: bool = False


@dataclass(slots=True)
class EventLogRequest(Request):
    """Topic logs kept by the scheduler: append ``(time, msg)`` to ``topic`` (``log``), or answer its records
    (every topic's, ``{topic: [...]}``, when ``topic`` is None)."""

    topic: object = None
    msg: object = None
    log: bool = False


@dataclass(slots=True)
class SchedulerLogsRequest(Request):
    """The scheduler's last ``n`` ``graphflow`` log records (all it keeps when None)."""

    n: int | None = None


@dataclass(slots=True)
class KeySizesRequest(Request):
    """``{key: bytes}`` of the results of ``keys`` (all held results when None) held in memory."""

    keys: list | None = None


@dataclass(slots=True)
class RetryRequest(Request):
    """Run the erred ``keys`` (and the erred tasks around them) again."""

    keys: list


@dataclass(slots=True)
class KeepKeysRequest(Request):
    """Keep ``keys`` computing for nobody until each settles (``fire_and_forget``)."""

    keys: list


@dataclass(slots=True)
class DatasetRequest(Request):
    """Published datasets: ``op`` ``"publish"`` (``name``, ``value``: a pickled object, ``keys`` it holds,
    ``override``), ``"get"`` (answers ``(value, keys)``), ``"want"`` (the asker now holds futures to ``keys``:
    the scheduler reports them to it), ``"list"``, ``"delete"``."""

    op: str
    name: object = None
    value: bytes | None = None
    keys: list = field(default_factory=list)
    override: bool = False


@dataclass(slots=True)
class PrimitiveRequest(Request):
    """An operation on a coordination primitive kept by the scheduler (`graphflow.scheduler.coordination`):
    ``kind`` ("lock", "semaphore", "event", "queue", "variable"), its ``name``, ``op`` ("acquire", "release",
    "set", "get", "put", ...), an ``arg`` and a ``timeout`` (None: wait as long as it takes).  ``holder`` names
    the handle that holds a lease, within the asking client."""

    kind: str
    name: str
    op: str
    arg: object = None
    timeout: float | None = None
    holder: str = ""


@dataclass(slots=True)
class PrimitiveTimedOut:
    """The answer to a `PrimitiveRequest` whose wait timed out (the asker raises TimeoutError with ``message``):
    an answer, not an error, so it is never taken for a scheduler that did not answer in time."""

    message: str


# --------------------------------------------------------------------------- tasks: scheduler <-> worker


@dataclass(slots=True)
class TaskSpec:
    """One task as a worker needs it: its node, where its inputs live and how big they are."""

    key: object
    spec: object
    who_has: dict  # dependency key -> list of worker addresses
    nbytes: dict  # dependency key -> bytes
    priority: tuple
    inline_result: bool = False  # the client wants the value: send it along with TaskDone when small


@dataclass(slots=True)
class RunTasks:
    """Scheduler -> worker: run these `TaskSpec` s."""

    stimulus_id: str
    tasks: list


@dataclass(slots=True)
class ReleaseKeys:
    """Scheduler -> worker: forget ``keys`` (results, queued tasks; a running one's result is dropped)."""

    stimulus_id: str
    keys: list


@dataclass(slots=True)
class StealAsk:
    """Scheduler -> worker: give ``key`` back if it has not started (answered by `StealAnswer`)."""

    stimulus_id: str
    key: object


@dataclass(slots=True)
class CopyKeys:
    """Scheduler -> worker: fetch ``who_has`` (key -> holders) and keep the copies (``nbytes``: expected sizes)."""

    stimulus_id: str
    who_has: dict
    nbytes: dict


@dataclass(slots=True)
class TaskDone:
    """Worker -> scheduler: it holds ``key``'s result.  ``inline``: the value itself (serialized, opaque to the
    scheduler) when the task asked for it and it is small; ``start``/``stop`` 0 for a copy (nothing ran)."""

    stimulus_id: str
    key: object
    nbytes: int
    type_name: str = ""
    start: float = 0.0
    stop: float = 0.0
    inline: object = None
    thread: int = 0


@dataclass(slots=True)
class TasksDone:
    """Worker -> scheduler: `TaskDone` of the tasks one pass of its loop finished, in one message as parallel
    lists (``inline``: key -> value, for the tasks that send theirs); ``stimulus_id`` is the batch's."""

    stimulus_id: str
    keys: list
    nbytes: list
    type_names: list
    starts: list
    stops: list
    threads: list
    inline: dict = field(default_factory=dict)


@dataclass(slots=True)
class TaskFailed:
    """Worker -> scheduler: running ``key`` raised ``exception`` (serialized, opaque to the scheduler)."""

    stimulus_id: str
    key: object
    exception: object
    traceback: str = ""
    start: float = 0.0
    stop: float = 0.0
    thread: int = 0


@dataclass(slots=True)
class DepMissing:
    """Worker -> scheduler: it could not get input ``missing`` of ``key`` from ``holder``."""

    stimulus_id: str
    key: object
    missing: object
    holder: str


@dataclass(slots=True)
class StealAnswer:
    """Worker -> scheduler: ``released`` True when it gave ``key`` up unstarted."""

    stimulus_id: str
    key: object
    released: bool


@dataclass(slots=True)
class WorkerStatus:
    """Worker -> scheduler, every heartbeat interval and when ``paused``/``over_target`` change: how busy it
    is and its memory (bytes managed in memory, on disk, mapped from peers; RSS; CPU percent of one core).
    ``spill_error``: why it cannot spill (it is short of room), "" while spilling works."""

    memory: int = 0
    executing: int = 0
    spilled: int = 0
    rss: int = 0
    paused: bool = False
    over_target: bool = False
    shared: int = 0
    cpu: float = 0.0
    spill_error: str = ""


@dataclass(slots=True)
class LongRunning:
    """Worker -> scheduler: the tasks it was given that now run without holding a thread slot (they seceded:
    they wait on other tasks); the whole current set, so a lost or reordered update cannot leave drift."""

    stimulus_id: str
    keys: list


@dataclass(slots=True)
class RetireMe:
    """Worker -> scheduler: its ``--lifetime`` is up; retire it gracefully (`RetireRefused` if it cannot yet)."""


# --------------------------------------------------------------------------- actors: worker -> scheduler


@dataclass(slots=True)
class ActorUp:
    """Worker -> scheduler: it now holds the instance of ``actor`` (created or restored)."""

    actor: object
    incarnation: int = 0


@dataclass(slots=True)
class ActorCheckpoint:
    """Worker -> scheduler: ``actor``'s pickled ``state`` after calls up to ``hw`` (caller -> seq), with the
    ``results`` ((caller, seq) -> result) callers have not acknowledged: a list of dicts pickled once by the
    worker, one per span of calls between two checkpoints, carried unopened by every later checkpoint until
    acknowledged (a bare pickled dict or a dict is read too)."""

    actor: object
    incarnation: int
    state: bytes
    hw: dict
    results: bytes | dict | list = field(default_factory=dict)


# --------------------------------------------------------------------------- client <-> scheduler


@dataclass(slots=True)
class SubmitGraph:
    """Client -> scheduler: tasks (``specs``: key -> node, ``dependencies``: key -> keys) and the keys it wants.

    ``priorities``: key -> order within this graph; ``retries``: key -> times an error may be retried;
    ``restrictions``: key -> set of workers allowed to run it (addresses, names or hosts), a preference
    only for the keys in ``loose`` (allow_other_workers); ``resources``: key -> {name: amount} it needs.
    ``user_priority``: key -> the ``priority=`` a user gave (higher runs first, across graphs, as in
    dask.distributed).
    """

    stimulus_id: str
    specs: dict
    dependencies: dict
    priorities: dict = field(default_factory=dict)
    wanted: list = field(default_factory=list)
    retries: dict = field(default_factory=dict)
    restrictions: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    loose: frozenset = frozenset()
    user_priority: dict = field(default_factory=dict)


@dataclass(slots=True)
class DropKeys:
    """Client -> scheduler: it no longer holds futures for ``keys``."""

    stimulus_id: str
    keys: list


@dataclass(slots=True)
class CancelKeys:
    """Client -> scheduler: cancel ``keys``: this client's futures for them, every client's with ``force``."""

    stimulus_id: str
    keys: list
    force: bool = True


@dataclass(slots=True)
class ActorCallLog:
    """Client -> scheduler: it sent calls ``first..last`` of ``caller`` to ``actor`` (``calls`` pickled once);
    kept so a restarted actor can replay them."""

    stimulus_id: str
    actor: object
    caller: str
    incarnation: int
    calls: object
    first: int = 0
    last: int = 0


@dataclass(slots=True)
class KeyStatus:
    """Scheduler -> client: ``key`` is now ``state``: ``"memory"`` (``nbytes``, ``type_name``, ``who_has``, and
    the value in ``inline`` when small), ``"erred"`` (``exception``, ``traceback``), ``"lost"`` (being
    recomputed) or ``"cancelled"``."""

    key: object
    state: str
    nbytes: int = 0
    type_name: str = ""
    who_has: list = field(default_factory=list)
    inline: object = None
    exception: object = None
    traceback: str = ""


@dataclass(slots=True)
class KeyStatuses:
    """Scheduler -> client: the `KeyStatus` es of one pass of its loop, in one message as parallel lists.

    ``inline``: position in the lists -> the value sent along; ``errors``: position -> ``(exception,
    traceback)`` of an erred key.  Positions, not keys: one key may change state twice in a pass."""

    keys: list
    states: list
    nbytes: list
    type_names: list
    who_has: list
    inline: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- pickling


def _fast_reduce(cls) -> None:
    """Give message class ``cls`` a ``__reduce__`` that pickles it as ``cls(*fields)``.

    A slotted dataclass otherwise pickles through its generated ``__getstate__``/``__setstate__``, which walk
    ``dataclasses.fields()`` on every instance: 3-6 us a message, paid per task by `TaskSpec`, `TaskDone` and
    `KeyStatus`.  An `operator.attrgetter` of the field names reads them all in one C call.
    """
    names = [f.name for f in fields(cls)]
    if not names:
        def reduce(self):
            return (cls, ())
    elif len(names) == 1:
        getter = operator.attrgetter(names[0])

        def reduce(self):
            return (cls, (getter(self),))
    else:
        getter = operator.attrgetter(*names)

        def reduce(self):
            return (cls, getter(self))
    cls.__reduce__ = reduce


for _cls in list(globals().values()):
    if isinstance(_cls, type) and is_dataclass(_cls) and _cls.__module__ == __name__:
        _fast_reduce(_cls)
del _cls
