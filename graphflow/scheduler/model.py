"""What the scheduler remembers: task, worker and prefix records, and the invariants between them.

`SchedTask` and `SchedWorker` are plain slotted records; only the state
machine (`graphflow.scheduler.state` and its event `handlers`) changes them,
task states only through its transition table.  They hold direct references to each other (a task's
``who_has`` is a list of `SchedWorker`, a worker's ``processing`` a dict of
`SchedTask`), so hot paths never look anything up by key.

Two counters replace the sets Dask keeps per task, which keeps a task near
half a kilobyte:

* ``n_waiting_on``: for a waiting task, how many inputs are not in memory;
  at 0 the task is ready.
* ``n_waiters``: how many dependents are *active* (waiting, queued,
  no-worker or processing) and so still have to read this result.  A result
  with no waiters that no client wants is released at once.

Worked example, ``c = add(a, b)`` while ``a`` runs and ``b`` is done::

    a: processing   n_waiters 1 (c)
    b: memory       n_waiters 1 (c)
    c: waiting      n_waiting_on 1 (a)
    a finishes   -> c.n_waiting_on 0: c is ready and goes to processing
    c finishes   -> a.n_waiters and b.n_waiters drop to 0: both released

`validate_scheduler_state` checks every such invariant (and `_validate_<state>`
the ones particular to each state); tests run it after every event.
"""

from __future__ import annotations


def host_of(address: str) -> str:
    """``"127.0.0.1"`` for ``"tcp://127.0.0.1:40123"`` (the address itself when it has no host part)."""
    rest = address.split("://", 1)[-1]
    host, sep, port = rest.rpartition(":")
    return host.strip("[]") if sep and port.isdigit() else rest


__all__ = ["host_of", "SchedPrefix", "SchedTask", "SchedWorker", "validate_scheduler_state", "STATES", "ACTIVE",
           "add_dependent", "drop_dependent"]

RELEASED = "released"
WAITING = "waiting"
QUEUED = "queued"
NO_WORKER = "no-worker"
PROCESSING = "processing"
MEMORY = "memory"
ERRED = "erred"
FORGOTTEN = "forgotten"
ACTIVE = frozenset({WAITING, QUEUED, NO_WORKER, PROCESSING})


class SchedPrefix:
    """Measured durations of all tasks whose keys share a `key_split` prefix."""

    __slots__ = ("name", "duration", "count")

    def __init__(self, name: str):
        self.name = name
        self.duration = None  # seconds; None until one task was measured
        self.count = 0

    def record(self, seconds: float) -> None:
        # a true mean of the first five, then an exponential average that follows drift
        self.count += 1
        if self.duration is None:
            self.duration = seconds
        else:
            self.duration += (seconds - self.duration) * max(1.0 / self.count, 0.2)

    def __repr__(self):
        return f"<SchedPrefix {self.name!r} duration={self.duration}>"


class SchedTask:
    """The scheduler's record of one key."""

    __slots__ = ("key", "spec", "state", "prefix", "priority", "dependencies", "dependents", "n_waiting_on",
                 "n_waiters", "who_has", "nbytes", "type_name", "processing_on", "wanted_by", "retries",
                 "suspicious", "restrictions", "loose", "resources", "error")

    def __init__(self, key, spec, prefix: SchedPrefix, priority: tuple):
        self.key = key
        self.spec = spec  # None for data a client scattered: no lineage
        self.state = RELEASED
        self.prefix = prefix
        self.priority = priority  # (generation, priority within its graph)
        self.dependencies = ()  # tuple of SchedTask
        self.dependents = ()  # () / (one SchedTask,) / set of SchedTask: see add_dependent
        self.n_waiting_on = 0
        self.n_waiters = 0
        self.who_has = ()  # list of SchedWorker while in memory; the shared () otherwise saves memory
        self.nbytes = 0
        self.type_name = ""
        self.processing_on = None
        self.wanted_by = None  # set of client ids, None when empty
        self.retries = 0
        self.suspicious = 0
        self.restrictions = None  # frozenset of worker addresses (and the names and hosts asked for)
        self.loose = False  # allow_other_workers: restrictions are a preference (scheduler/restrictions.py)
        self.resources = None  # {name: amount} it holds while processing (scheduler/resources.py)
        self.error = None  # (exception, traceback, blamed key)

    def __repr__(self):
        return f"<SchedTask {self.key!r} {self.state}>"


def add_dependent(dep: SchedTask, ts: SchedTask) -> None:
    """Record that ``ts`` reads ``dep``.

    ``dep.dependents`` is ``()`` when nothing reads it, a one-tuple for one reader and a set from two on:
    most tasks of a big graph have one dependent (the leaves of a tree) or none (a map), and a set
    costs 216 bytes against a one-tuple's 48, which is a fifth of what the scheduler holds per task.
    Readers only iterate, test and count it, which all three support.
    """
    held = dep.dependents
    if not held:
        dep.dependents = (ts,)
    elif type(held) is tuple:
        if held[0] is not ts:
            dep.dependents = {held[0], ts}
    else:
        held.add(ts)


def drop_dependent(dep: SchedTask, ts: SchedTask) -> None:
    """Forget that ``ts`` reads ``dep`` (nothing if it did not)."""
    held = dep.dependents
    if type(held) is tuple:
        if held and held[0] is ts:
            dep.dependents = ()
    else:
        held.discard(ts)
        if not held:
            dep.dependents = ()


class SchedWorker:
    """The scheduler's record of one worker process."""

    __slots__ = ("address", "nthreads", "memory_limit", "last_seen", "memory", "executing", "processing",
                 "occupancy", "has_what", "nbytes", "spilled", "rss", "paused", "over_target",
                 "shared", "spill_error", "name", "host", "resources", "used", "seceded")

    def __init__(self, address: str, nthreads: int, memory_limit, now: float, name: str = "",
                 resources: dict | None = None):
        self.address = address
        self.name = name or address  # unique among connected workers (the shell suffixes duplicates)
        self.host = host_of(address)
        self.resources = resources or None  # {name: amount} it offers; None: none
        self.used = {}  # {name: amount} held by the tasks it processes
        self.nthreads = max(1, nthreads)
        self.memory_limit = memory_limit
        self.last_seen = now
        self.memory = 0  # bytes the worker last reported holding
        self.executing = 0
        self.processing = {}  # SchedTask -> expected seconds (duration + input transfer)
        self.occupancy = 0.0  # sum of processing.values()
        self.has_what = set()
        self.nbytes = 0  # sum of nbytes of has_what
        self.spilled = 0  # bytes on the worker's disk, last reported
        self.shared = 0  # bytes it maps from other workers' shared-memory blocks, last reported
        self.rss = 0  # the worker process's resident memory, last reported
        self.paused = False  # starts no tasks: gets no new ones
        self.over_target = False  # holds more than its target in memory: gets no root tasks
        self.spill_error = ""  # why it cannot spill (paused too, but runs what fits): root tasks as a last resort
        self.seceded = 0  # processing tasks that hold no thread slot (graphflow.scheduler.longrunning)

    def __repr__(self):
        return f"<SchedWorker {self.address!r} processing={len(self.processing)} memory={len(self.has_what)}>"


STATES = (RELEASED, WAITING, QUEUED, NO_WORKER, PROCESSING, MEMORY, ERRED, FORGOTTEN)


# ---------------------------------------------------------------- validation


def _fail(ts, msg: str):
    raise AssertionError(f"scheduler task {ts.key!r} ({ts.state}): {msg}")


def _needed(ts) -> bool:
    return bool(ts.n_waiters) or ts.wanted_by is not None


def _check_inputs_in_memory(ts) -> None:
    for dep in ts.dependencies:
        if dep.state != MEMORY:
            _fail(ts, f"input {dep.key!r} is {dep.state}, not in memory")


def _validate_released(state, ts) -> None:
    if _needed(ts):
        _fail(ts, f"released but needed (n_waiters={ts.n_waiters}, wanted_by={ts.wanted_by})")


def _validate_waiting(state, ts) -> None:
    if not _needed(ts):
        _fail(ts, "waiting but neither wanted nor read by an active dependent")
    missing = [dep for dep in ts.dependencies if dep.state != MEMORY]
    if ts.n_waiting_on != len(missing) or not missing:
        _fail(ts, f"n_waiting_on={ts.n_waiting_on} but inputs not in memory: {[d.key for d in missing]}")
    for dep in missing:
        if dep.state not in ACTIVE:
            _fail(ts, f"waits for input {dep.key!r}, which is {dep.state} and so will never arrive")


def _validate_queued(state, ts) -> None:
    if not _needed(ts):
        _fail(ts, "queued but not needed")
    _check_inputs_in_memory(ts)
    if ts.restrictions is not None:
        _fail(ts, "restricted tasks are placed directly, never queued")


def _validate_no_worker(state, ts) -> None:
    if not _needed(ts):
        _fail(ts, "no-worker but not needed")
    _check_inputs_in_memory(ts)
    if ts not in state.no_worker:
        _fail(ts, "missing from the no-worker set")
    allowed = state.workers if ts.restrictions is None else [a for a in ts.restrictions if a in state.workers]
    if allowed and ts.resources is None:  # held for resources: placed when they free (scheduler/resources.py)
        _fail(ts, f"no-worker although workers may run it: {list(allowed)}")


def _validate_processing(state, ts) -> None:
    if not _needed(ts):
        _fail(ts, "processing but not needed: it should have been cancelled")
    _check_inputs_in_memory(ts)
    ws = ts.processing_on
    if ws is None or state.workers.get(ws.address) is not ws:
        _fail(ts, f"processing on {ws!r}, which is not a registered worker")
    if ts not in ws.processing:
        _fail(ts, f"not in {ws.address}'s processing")


def _validate_memory(state, ts) -> None:
    if not ts.who_has:
        _fail(ts, "in memory on no worker")
    for ws in ts.who_has:
        if state.workers.get(ws.address) is not ws:
            _fail(ts, f"held by {ws.address}, which is not a registered worker")
        if ts not in ws.has_what:
            _fail(ts, f"missing from {ws.address}'s has_what")
    if len(set(ts.who_has)) != len(ts.who_has):
        _fail(ts, "a worker is listed twice in who_has")
    if not _needed(ts):
        _fail(ts, "in memory but wanted by nobody: it should have been released")


def _validate_erred(state, ts) -> None:
    if not (type(ts.error) is tuple and len(ts.error) == 3):
        _fail(ts, f"erred without (exception, traceback, blamed key): {ts.error!r}")


_VALIDATORS = {
    RELEASED: _validate_released,
    WAITING: _validate_waiting,
    QUEUED: _validate_queued,
    NO_WORKER: _validate_no_worker,
    PROCESSING: _validate_processing,
    MEMORY: _validate_memory,
    ERRED: _validate_erred,
}


def _validate_links(state, ts) -> None:
    tasks = state.tasks
    for dep in ts.dependencies:
        if tasks.get(dep.key) is not dep:
            _fail(ts, f"input {dep.key!r} is not a known task")
        if ts not in dep.dependents:
            _fail(ts, f"missing from the dependents of its input {dep.key!r}")
    active = 0
    for dts in ts.dependents:
        if tasks.get(dts.key) is not dts or ts not in dts.dependencies:
            _fail(ts, f"dependent {dts.key!r} is forgotten or does not list it as an input")
        active += dts.state in ACTIVE
    if active != ts.n_waiters:
        _fail(ts, f"n_waiters={ts.n_waiters} but {active} dependents are active")
    if ts.wanted_by is not None:
        if not ts.wanted_by:
            _fail(ts, "wanted_by is an empty set instead of None")
        for client in ts.wanted_by:
            if ts not in state.wants.get(client, ()):
                _fail(ts, f"wanted by {client!r}, whose wants do not include it")
    if ts.state != MEMORY and ts.who_has:
        _fail(ts, f"who_has {ts.who_has} outside memory")
    if (ts.state == PROCESSING) != (ts.processing_on is not None):
        _fail(ts, f"processing_on {ts.processing_on!r} does not match the state")


def _validate_workers(state) -> None:
    tasks = state.tasks
    total = 0
    for address, ws in state.workers.items():
        assert ws.address == address, f"worker {ws.address} stored under {address}"
        total += ws.nthreads
        for ts, cost in ws.processing.items():
            if ts.processing_on is not ws or tasks.get(ts.key) is not ts:
                raise AssertionError(f"worker {address} processes {ts!r}, placed on {ts.processing_on!r}")
        expected = sum(ws.processing.values())
        assert abs(ws.occupancy - expected) <= 1e-6 * max(1.0, expected), (
            f"worker {address}: occupancy {ws.occupancy} != {expected}")
        for ts in ws.has_what:
            if ts.state != MEMORY or ws not in ts.who_has or tasks.get(ts.key) is not ts:
                raise AssertionError(f"worker {address} holds {ts!r}, whose who_has is {ts.who_has}")
        nbytes = sum(ts.nbytes for ts in ws.has_what)
        assert ws.nbytes == nbytes, f"worker {address}: nbytes {ws.nbytes} != {nbytes}"
    assert total == state.total_nthreads, f"total threads {state.total_nthreads} != {total}"


def _validate_queues(state) -> None:
    queued = [ts for ts in state.tasks.values() if ts.state == QUEUED]
    assert len(queued) == state.queued_count, f"{len(queued)} tasks queued, counter says {state.queued_count}"
    in_heap = {entry[2] for entry in state.queue}
    for ts in queued:
        if ts not in in_heap:
            _fail(ts, "queued but not in the queue heap")
    no_worker = {ts for ts in state.tasks.values() if ts.state == NO_WORKER}
    assert no_worker == set(state.no_worker), "the no-worker set does not match the tasks in no-worker"
    for ts, (victim, _) in state.steals.items():
        if ts.processing_on is not victim:
            _fail(ts, f"steal from {victim.address} in flight but the task is on {ts.processing_on!r}")
    assert not state.recommendations, f"recommendations left unapplied: {state.recommendations}"


def _validate_clients(state) -> None:
    assert set(state.wants) == state.clients, f"clients {state.clients} != wants {set(state.wants)}"
    for client, wanted in state.wants.items():
        for ts in wanted:
            if state.tasks.get(ts.key) is not ts or client not in (ts.wanted_by or ()):
                raise AssertionError(f"client {client!r} wants {ts!r}, which does not list it")


def validate_scheduler_state(state) -> None:
    """Check every invariant of ``state`` (a `SchedulerState`); raise AssertionError naming what is wrong."""
    for key, ts in state.tasks.items():
        if ts.key != key:
            _fail(ts, f"stored under key {key!r}")
        _validate_links(state, ts)
        validator = _VALIDATORS.get(ts.state)
        if validator is None:
            _fail(ts, "unknown state")
        validator(state, ts)
    _validate_workers(state)
    _validate_queues(state)
    _validate_clients(state)
