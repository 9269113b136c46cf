"""Messages between graphflow processes that are not state-machine events.

Most of what crosses the network *is* an event or command of a state machine
(`graphflow.scheduler.events`, `graphflow.worker.events`) and travels as it is.
These are the rest: saying who you are, liveness, data requests between
peers, and small request/reply calls (`Rpc`/`RpcReply`).

A session of a worker with the scheduler::

    worker -> RegisterWorker(address, nthreads, ...)     scheduler: WorkerJoined
    worker <- Welcome(...)
    worker -> Heartbeat(...) every 0.5 s                 scheduler <- HeartbeatAck
    worker <- ComputeTasks(...) / FreeKeys / StealRequest
    worker -> TaskFinished / TaskErred / MissingData / StealResponse

and between peers (and from a client gathering results)::

    GetData(request_id, keys) -> DataReply(request_id, data, nbytes, missing)
    PutData(request_id, data) -> DataReply(request_id, {}, nbytes, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class RegisterWorker:
    address: str
    nthreads: int
    memory_limit: int | None
    pid: int
    name: str = ""


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


@dataclass(slots=True)
class Ping:
    """A client's liveness probe; answered by `HeartbeatAck`."""

    sent: float = 0.0


@dataclass(slots=True)
class HeartbeatAck:
    sent: float = 0.0


@dataclass(slots=True)
class StopWorker:
    """Sent to a worker: stop (the cluster is shutting down, or the worker was retired)."""

    reason: str = ""


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
class WorkerLogsRequest(Request):
    """Sent to a worker: its last ``n`` log records and task prints (all it keeps when None)."""

    n: int | None = None
