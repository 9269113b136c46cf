"""Typed events into, and commands out of, the pure `WorkerState`.

A worker's logic is a state machine like the scheduler's:
``WorkerState.handle(*events) -> list[WorkerCommand]``, no I/O, no clock (times
come in on events).  The shell (`graphflow.worker.server`) runs the commands:
it executes tasks in a thread pool, fetches inputs from peer workers, and
batches messages to the scheduler.

Worked example, task ``c = add(a, b)`` where ``a`` is local and ``b`` lives on
peer ``P``::

    ComputeTasks([c: who_has={a: [me], b: [P]}])
        -> GatherDep(P, [b])                     c: waiting;  b: flight
    GatherDepSuccess(P, {b: 2})
        -> Execute(c)                            b: memory;  c: executing
    ExecuteSuccess(c, value=3, nbytes=28)
        -> SendToScheduler([TaskDone(c, ...)])
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------- events


@dataclass(slots=True)
class WorkerEvent:
    stimulus_id: str


@dataclass(slots=True)
class ComputeTasks(WorkerEvent):
    """The scheduler sends tasks to run: a list of `graphflow.comm.messages.TaskSpec`."""

    tasks: list


@dataclass(slots=True)
class FreeKeys(WorkerEvent):
    """Forget ``keys``: drop results, drop queued tasks, ignore the result of a running one."""

    keys: list


@dataclass(slots=True)
class StealRequest(WorkerEvent):
    """Give ``key`` back if it has not started; answered by a `graphflow.comm.messages.StealAnswer`."""

    key: object


@dataclass(slots=True)
class ExecuteSuccess(WorkerEvent):
    key: object
    value: object
    nbytes: int
    type_name: str
    start: float
    stop: float
    thread: int = 0  # index of the pool thread that ran it


@dataclass(slots=True)
class ExecuteFailure(WorkerEvent):
    key: object
    exception: object  # the exception instance
    traceback: str
    start: float
    stop: float
    thread: int = 0


@dataclass(slots=True)
class GatherDepSuccess(WorkerEvent):
    """``peer`` sent ``data`` (key -> value); keys it did not have are in ``missing``."""

    peer: str
    data: dict
    nbytes: dict
    missing: list = field(default_factory=list)


@dataclass(slots=True)
class GatherDepFailure(WorkerEvent):
    """Fetching ``keys`` from ``peer`` failed (peer gone or unreachable)."""

    peer: str
    keys: list
    reason: str = ""


@dataclass(slots=True)
class UpdateData(WorkerEvent):
    """Data put straight into this worker (scatter): key -> value, with sizes."""

    data: dict
    nbytes: dict


@dataclass(slots=True)
class PauseChanged(WorkerEvent):
    """The shell's memory monitor paused the worker (no task starts) or let it run again."""

    paused: bool


# ------------------------------------------------------------------- commands


@dataclass(slots=True)
class WorkerCommand:
    stimulus_id: str


@dataclass(slots=True)
class Execute(WorkerCommand):
    """Run ``key``'s spec in the thread pool with its inputs from the store."""

    key: object


@dataclass(slots=True)
class GatherDep(WorkerCommand):
    """Fetch ``keys`` from ``peer`` (one request per peer, many keys)."""

    peer: str
    keys: list


@dataclass(slots=True)
class SendToScheduler(WorkerCommand):
    """Messages for the scheduler (`graphflow.comm.messages`: `TaskDone`, `TaskFailed`, `DepMissing`, ...)."""

    messages: list
