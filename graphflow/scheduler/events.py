"""Typed events into, and commands out of, the pure `SchedulerState`.

The scheduler's logic is a state machine: ``SchedulerState.handle(*events)``
returns a list of commands and does no I/O.  The network shell
(`graphflow.scheduler.server`) turns wire messages from clients and workers
(`graphflow.comm.messages`) into these events, and these commands into wire
messages; neither is the other, so the state machine's vocabulary can change
without changing the protocol.  Everything here is
a slotted dataclass carrying a ``stimulus_id`` (a short string naming what
caused it, e.g. ``"update-graph-3"``), so the event log can explain any
transition (`SchedulerState.story`).

Workers are named by their peer address (``"tcp://127.0.0.1:40123"``), clients
by an opaque id string.  A task's ``spec`` is the graph node
(`graphflow.spec.Task`, `FusedTask` or `DataNode`); the scheduler never calls
it, only forwards it to the worker that runs it.

Worked example, ``b = inc(a)`` on one worker ``W``::

    UpdateGraph(a: deps=(), b: deps=(a,), wanted=[b])
        -> AssignTasks(W, [a])                     a: processing on W
    TaskFinished(W, a, nbytes=28)
        -> AssignTasks(W, [b])                     a: memory;  b: processing
    TaskFinished(W, b, nbytes=28)
        -> ReleaseOnWorker(W, [a]), KeyReport(client, b, "memory")
    ClientReleasesKeys(client, [b])
        -> ReleaseOnWorker(W, [b])                    both forgotten
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------- events


@dataclass(slots=True)
class SchedulerEvent:
    stimulus_id: str


@dataclass(slots=True)
class UpdateGraph(SchedulerEvent):
    """A client submits tasks and says which keys it wants back.

    ``specs``: key -> node (tasks already known by key are not recomputed: a
    key in memory stays there).  ``dependencies``: key -> tuple of keys (may
    name keys submitted earlier and still held).  ``priorities``: key -> int,
    the optimizer's order within this graph (lower first).  ``wanted``: keys the
    client holds futures for.  ``retries``: key -> how many times an error may
    be retried.  ``restrictions``: key -> set of workers allowed (addresses, names or hosts;
    `graphflow.scheduler.restrictions`), a preference only for keys in ``loose``.
    ``resources``: key -> ``{name: amount}`` it holds while running (`graphflow.scheduler.resources`).
    ``inline_results``: the client asked for these keys' values, so the worker
    sends small results along with `TaskFinished`.
    """

    client: str
    specs: dict
    dependencies: dict
    priorities: dict = field(default_factory=dict)
    wanted: list = field(default_factory=list)
    retries: dict = field(default_factory=dict)
    restrictions: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    loose: frozenset = frozenset()
    user_priority: dict = field(default_factory=dict)  # key -> a user's priority= (higher first)


@dataclass(slots=True)
class ClientReleasesKeys(SchedulerEvent):
    """A client dropped its futures for ``keys`` (or cancelled them)."""

    client: str
    keys: list


@dataclass(slots=True)
class ClientCancelsKeys(SchedulerEvent):
    """A client cancels ``keys`` and what depends on them: its own futures for them become cancelled, and
    with ``force`` every client's (without, a key another client still wants keeps computing for it)."""

    client: str
    keys: list
    force: bool = True


@dataclass(slots=True)
class RetryKeys(SchedulerEvent):
    """A client asks for its erred ``keys`` to run again (``client.retry``, ``Future.retry``)."""

    client: str
    keys: list


@dataclass(slots=True)
class ClientJoined(SchedulerEvent):
    client: str


@dataclass(slots=True)
class ClientLeft(SchedulerEvent):
    """A client closed or vanished: every key it wanted is released."""

    client: str


@dataclass(slots=True)
class WorkerJoined(SchedulerEvent):
    """A worker registered; ``name`` is unique among connected workers, ``resources`` what it offers."""

    worker: str
    nthreads: int
    memory_limit: int | None
    now: float
    name: str = ""
    resources: dict | None = None


@dataclass(slots=True)
class WorkerLeft(SchedulerEvent):
    """A worker closed cleanly (``expected=True``) or was found dead.

    Tasks it was running are rescheduled; results only it held are recomputed
    from lineage if anything still needs them.  A task that was running on a
    worker that *died* counts one strike; at ``allowed_failures`` strikes it
    errs with `KilledWorkerError`.
    """

    worker: str
    expected: bool = False
    memory: tuple | None = None  # (rss, limit): it left because it ran out of memory


@dataclass(slots=True)
class Heartbeat(SchedulerEvent):
    """A worker is alive, and how much memory it uses.

    ``memory``: bytes its store holds in memory (managed); ``spilled``: bytes
    on disk; ``rss``: the process's resident set.  ``paused``: the worker
    stopped starting tasks (memory past its pause threshold, or spilling
    failed); it gets no new work until a heartbeat says otherwise.
    ``over_target``: managed bytes above the target fraction even after
    spilling -- root tasks wait for other workers.  ``spill_error``: the
    worker cannot spill (disk full, ``max_spill`` reached) and says why; it
    reports itself paused, yet runs what fits and fails with `SpillError` the
    tasks that need room, so it gets new work when no other worker can take
    it (else that work would wait forever).  Workers send one at once when
    ``paused``, ``over_target`` or ``spill_error`` changes.
    """

    worker: str
    now: float
    memory: int = 0
    executing: int = 0
    spilled: int = 0
    rss: int = 0
    paused: bool = False
    over_target: bool = False
    shared: int = 0  # bytes mapped from other workers' shared-memory blocks (they count them)
    cpu: float = 0.0  # percent of one core the worker process used since its previous heartbeat
    spill_error: str = ""


@dataclass(slots=True)
class Tick(SchedulerEvent):
    """Time passes: workers silent for longer than the heartbeat timeout are removed; stealing runs."""

    now: float


@dataclass(slots=True)
class TaskFinished(SchedulerEvent):
    """``worker`` holds the result of ``key`` (``nbytes`` bytes, of type ``type_name``).

    ``inline`` carries the value itself (serialized, opaque to the scheduler)
    when the task was sent with ``inline_result=True`` and the result is small.
    """

    worker: str
    key: object
    nbytes: int
    type_name: str = ""
    start: float = 0.0
    stop: float = 0.0
    inline: object = None
    thread: int = 0  # which of the worker's threads ran it (0 .. nthreads - 1), for the task stream


@dataclass(slots=True)
class TaskErred(SchedulerEvent):
    """Running ``key`` on ``worker`` raised; ``exception`` is opaque (serialized) to the scheduler."""

    worker: str
    key: object
    exception: object
    traceback: str = ""
    start: float = 0.0
    stop: float = 0.0
    thread: int = 0


@dataclass(slots=True)
class MissingData(SchedulerEvent):
    """``worker`` could not get ``missing`` from ``holder`` (who_has was stale or the peer is gone)."""

    worker: str
    key: object
    missing: object
    holder: str


@dataclass(slots=True)
class StealResponse(SchedulerEvent):
    """Answer to `RequestSteal`: ``released`` is True when ``worker`` gave ``key`` up unstarted."""

    worker: str
    key: object
    released: bool


@dataclass(slots=True)
class KeysScattered(SchedulerEvent):
    """``client`` put data straight into ``worker``'s store: key -> nbytes."""

    client: str
    worker: str
    nbytes: dict


# ------------------------------------------------------------------- commands


@dataclass(slots=True)
class SchedulerCommand:
    stimulus_id: str


@dataclass(slots=True)
class AssignTasks(SchedulerCommand):
    """Run ``tasks`` (a list of `graphflow.comm.messages.TaskSpec`) on ``worker``; the shell sends them as one
    message."""

    worker: str
    tasks: list


@dataclass(slots=True)
class ReleaseOnWorker(SchedulerCommand):
    """``worker`` may forget ``keys`` (results, queued or running tasks)."""

    worker: str
    keys: list


@dataclass(slots=True)
class RequestSteal(SchedulerCommand):
    """Ask ``worker`` to give back ``key`` if it has not started it."""

    worker: str
    key: object


@dataclass(slots=True)
class KeyReport(SchedulerCommand):
    """Tell ``client`` that ``key`` changed state.

    ``state``: ``"memory"`` (with ``nbytes``, ``type_name``, ``who_has`` and,
    when sent inline, ``inline``), ``"erred"`` (``exception``, ``traceback``:
    from the task itself, or a `KilledWorkerError`), ``"lost"`` (being
    recomputed: futures wait again) or ``"cancelled"``.
    """

    client: str
    key: object
    state: str
    nbytes: int = 0
    type_name: str = ""
    who_has: list = field(default_factory=list)
    inline: object = None
    exception: object = None
    traceback: str = ""


@dataclass(slots=True)
class RetireWorker(SchedulerCommand):
    """Tell ``worker`` to shut down (retirement, or it was declared dead but is still talking)."""

    worker: str


def event_record(ev) -> tuple | None:
    """The log record of an event: small, and holding no payload (results, exceptions, specs)."""
    kind = type(ev)
    name = kind.__name__
    stim = ev.stimulus_id
    if kind is TaskFinished or kind is TaskErred or kind is StealResponse:
        return (ev.key, name, ev.worker, stim)
    if kind is MissingData:
        return (ev.key, name, [ev.missing, ev.holder, ev.worker], stim)
    if kind is UpdateGraph:
        return (ev.client, name, list(ev.specs), stim)
    if kind is ClientReleasesKeys or kind is ClientCancelsKeys:
        return (ev.client, name, list(ev.keys), stim)
    if kind is KeysScattered:
        return (ev.client, name, list(ev.nbytes), stim)
    if kind is WorkerJoined:
        return (ev.worker, name, ev.nthreads, stim)
    if kind is WorkerLeft:
        return (ev.worker, name, "expected" if ev.expected else "died", stim)
    if kind is ClientJoined or kind is ClientLeft:
        return (ev.client, name, None, stim)
    return None  # heartbeats and ticks arrive every second: they would flush the log


def story(log, keys) -> list:
    """The records of ``log`` that involve any of ``keys`` (task keys, worker addresses or client ids), in order.

    Every record is a tuple ``(subject, what, detail, stimulus_id)``:

    * a transition: ``(key, start state, finish state, stimulus_id)``;
    * an event: ``(key, "TaskFinished", worker, ...)``, ``(client,
      "UpdateGraph", [keys], ...)``, ``(worker, "WorkerLeft", "died", ...)``
      and so on (heartbeats and ticks are not logged, see `event_record`);
    * a note on something that changed no state: ``(key, note, detail,
      ...)`` with ``note`` such as ``"steal-request"``, ``"stolen"``,
      ``"stale-finished"``, ``"worker-removed"``.

    A record matches when its subject is one of ``keys``, or its detail is
    a list holding one of them.

        >>> story([("a", "released", "waiting", "s1"), ("c", "UpdateGraph", ["a", "b"], "s1"), ("x", "n", 1, "s2")],
        ...       ["a"])
        [('a', 'released', 'waiting', 's1'), ('c', 'UpdateGraph', ['a', 'b'], 's1')]
    """
    wanted = set(keys)
    out = []
    for rec in log:
        detail = rec[2]
        if rec[0] in wanted or (type(detail) is list and any(k in wanted for k in detail)):
            out.append(rec)
    return out
