"""The pure state of one worker: which tasks it runs, which inputs it fetches, what it holds.

`WorkerState.handle(*events) -> list[WorkerCommand]` is the whole interface.
It does no I/O and reads no clock: the shell (`graphflow.worker.server`) turns
its commands into thread-pool jobs (`Execute`), peer requests (`GatherDep`) and
messages to the scheduler (`SendToScheduler`), and feeds results back in as
events.  Every task this worker knows is a `WorkerTask` in one state:

========== ==================================================================
waiting    to run here; some inputs are not local yet (a task with none goes straight to ready)
fetch      an input to get from a peer (``who_has``), not requested yet
flight     an input being fetched (``coming_from``)
ready      to run here, all inputs local; in a heap by scheduler priority
executing  running in a thread (at most ``nthreads`` at a time, not counting
           ``seceded`` ones: they wait on other tasks, `graphflow.worker.secession`)
memory     the value is in the store (``data``)
error      it raised: reported, then forgotten (passing state)
cancelled  freed while executing or in flight: the result is thrown away
released   being removed (passing state); then forgotten
========== ==================================================================

A task is *assigned* when the scheduler counts on this worker for its result
(it sent the task in `ComputeTasks`, or scattered the value here).  A task is
kept while it is assigned or some local task still needs it (``dependents``);
losing both sends it to ``released`` (or, when a thread or a peer is busy with
it, ``cancelled``).  So a fetched input is a replica dropped once its last
local reader finishes (the scheduler never counts replicas), a result computed
here stays until `FreeKeys`, and a freed key that a queued task still reads
stays until that task is done.  Only assigned tasks are reported.

Worked example, ``c = add(a, b)``; ``a`` is here, ``b`` on peer ``P``::

    ComputeTasks([c: who_has={a: [me], b: [P]}])
        c: released -> waiting       b: released -> fetch -> flight
        -> GatherDep(P, [b])
    GatherDepSuccess(P, {b: 2})
        b: flight -> memory          c: waiting -> ready -> executing
        -> Execute(c)                (the shell calls execution_inputs(c))
    ExecuteSuccess(c, value=3)
        c: executing -> memory       b: memory -> released -> forgotten
        -> SendToScheduler([TaskDone(c)])

All state changes go through one table (``_TRANSITIONS``), logged in a bounded
``log`` that `story` filters; anything else raises `InvalidTransition`.
Events handled in one call share one `SendToScheduler`, and new work starts
(`Execute`, `GatherDep`) once, after all of them, so fetches group per peer.
The record `WorkerTask` is defined in `graphflow.worker.model`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from ..errors import InvalidTransition
from ..comm.messages import DepMissing, StealAnswer, TaskDone, TaskFailed
from .events import (
    ComputeTasks,
    Execute,
    ExecuteFailure,
    ExecuteSuccess,
    FreeKeys,
    GatherDep,
    GatherDepFailure,
    GatherDepSuccess,
    PauseChanged,
    SendToScheduler,
    StealRequest,
    UpdateData,
)
from ..store.spill import Shared, WorkerStore
from .model import WorkerTask
from .replicas import FetchReplicas, fetch_replicas
from .secession import TaskRejoined, TaskSeceded, report_long_running, task_rejoined, task_seceded

__all__ = ["WorkerState", "WorkerTask"]

MiB = 2**20


class WorkerState:
    """All the decisions of one worker (see the module docstring).

    ``max_fetch_bytes``: a `GatherDep` asks for at most this many bytes (one
    bigger key still goes alone); ``max_requests_per_peer`` and
    ``max_concurrent_fetches`` bound the requests open to one peer and in all;
    ``inline_limit``: results up to this size ride along with `TaskFinished`
    when the task asked for it.

    Every event type it handles is listed in ``_HANDLERS``, including those
    other modules define (`graphflow.worker.replicas.fetch_replicas`,
    `graphflow.worker.secession.task_seceded`); such a
    handler uses the public `transition`, `report_finished`, `add_holders`,
    `send` and ``stimulus_id``, never an underscored member.
    """

    def __init__(self, address: str, nthreads: int, data: WorkerStore | None = None, *, validate: bool = False,
                 log_length: int = 50_000, max_fetch_bytes: int = 64 * MiB, max_requests_per_peer: int = 2,
                 max_concurrent_fetches: int = 10, inline_limit: int = MiB):
        self.address = address
        self.nthreads = nthreads
        # How many tasks may be handed to the shell at once.  The shell raises it
        # above ``nthreads`` when tasks take microseconds, so a thread finds its
        # next task queued instead of waiting for a trip through the event loop.
        self.slots = nthreads
        # Paused by the shell's memory monitor: ready tasks wait, nothing new starts.
        self.paused = False
        self.data = WorkerStore() if data is None else data
        self.validate = validate
        self.log: deque = deque(maxlen=log_length)
        self.max_fetch_bytes = max_fetch_bytes
        self.max_requests_per_peer = max_requests_per_peer
        self.max_concurrent_fetches = max_concurrent_fetches
        self.inline_limit = inline_limit
        self.tasks: dict = {}
        self.executing: set = set()  # executing tasks and cancelled ones whose thread still runs
        self.seceded: set = set()  # executing tasks that gave their slot back (graphflow.worker.secession)
        self._ready: list = []  # heap of (priority, seq, task); entries of tasks no longer ready are skipped
        self._n_ready = 0
        self._fetch_queues: dict = {}  # peer -> heap of (priority, seq, task), same lazy deletion
        self._requests: dict = {}  # peer -> one dict (ordered key set) per open GatherDep
        self._n_requests = 0
        self._seq = itertools.count()
        self._stimulus_id = "init"
        self._commands: list = []
        self._messages: list = []
        for key in self.data:  # a store handed in full is held as if scattered here
            value = self.data[key]
            self.tasks[key] = WorkerTask(key, "memory", assigned=True, nbytes=self.data.nbytes(key),
                                         type_name=type(value).__name__)

    # ------------------------------------------------------------ public API

    @property
    def executing_count(self) -> int:
        """Threads busy with tasks (cancelled ones included: their thread is still taken)."""
        return len(self.executing)

    @property
    def ready_count(self) -> int:
        return self._n_ready

    @property
    def nbytes_total(self) -> int:
        """Bytes held in the store."""
        return self.data.total_bytes

    def handle(self, *events) -> list:
        """Apply ``events`` in order; return the commands for the shell.

        New work starts once, after all events, and all messages for the
        scheduler travel in one `SendToScheduler`, which comes first.  If a
        handler raises (a bug), the state is not rolled back.
        """
        commands = self._commands = []
        messages = self._messages = []
        handlers = self._HANDLERS
        for event in events:
            handler = handlers.get(type(event))
            if handler is None:
                raise TypeError(f"WorkerState cannot handle {type(event).__name__} events")
            self._stimulus_id = event.stimulus_id
            handler(self, event)
        self._ensure_communicating()
        self._ensure_computing()
        if messages:
            commands.insert(0, SendToScheduler(self._stimulus_id, messages))
        if self.validate:
            self.validate_state()
        return commands

    @property
    def stimulus_id(self) -> str:
        """The stimulus of the event being handled (for handlers defined in other modules)."""
        return self._stimulus_id

    def send(self, message) -> None:
        """Queue ``message`` for the scheduler; it leaves with this `handle` call's `SendToScheduler`."""
        self._messages.append(message)

    def execution_inputs(self, key) -> tuple:
        """``(spec, {dependency key: value})`` to run the task of an `Execute` command.

        Call it on the loop thread when the command arrives: the thread then
        runs ``spec(inputs)`` and never touches the store.  The inputs stay in
        the store until the result (or failure) event comes back, even if the
        task is freed meanwhile.
        """
        ts = self.tasks[key]
        if ts not in self.executing:
            raise KeyError(f"{key!r} is not executing (state {ts.state})")
        data = self.data
        return ts.run.spec, {dep.key: data[dep.key] for dep in ts.dependencies}

    def story(self, *keys) -> list:
        """Log entries about ``keys``, oldest first.

        Each entry is a tuple starting with the key and ending with the
        stimulus id: ``(key, start, finish, stimulus_id)`` for a transition,
        ``(key, what, ..., stimulus_id)`` for a note.
        """
        wanted = set(keys)
        return [entry for entry in self.log if entry[0] in wanted]

    # ------------------------------------------------------------ events

    def _handle_compute_tasks(self, ev: ComputeTasks) -> None:
        tasks = self.tasks
        log = self.log
        for es in ev.tasks:
            key = es.key
            log.append((key, "compute-task", ev.stimulus_id))
            ts = tasks.get(key)
            if ts is None:
                ts = tasks[key] = WorkerTask(key, run=es, priority=es.priority, assigned=True)
                # Nothing to wait for (every root task): straight to ready, one transition instead of two.
                self.transition(ts, "waiting" if es.spec.dependencies else "ready")
            else:
                self._compute_known(ts, es)

    def _compute_known(self, ts: WorkerTask, es) -> None:
        """The scheduler sends a key this worker already knows (resent, stolen back, or raced)."""
        state = ts.state
        if ts.run is None or state in ("memory", "fetch", "flight"):
            ts.run = es
            ts.priority = es.priority
        ts.assigned = True
        if state == "memory":
            # Finished before (perhaps as a replica): tell the scheduler again, it may not know.
            self.report_finished(ts, self.data[ts.key], self.data.nbytes(ts.key), 0.0, 0.0)
        elif state == "fetch":
            self.transition(ts, "waiting")
        elif state == "cancelled":
            self.transition(ts, ts.previous)
        # waiting, ready, executing, flight: already under way, and reported when done.

    def _handle_free_keys(self, ev: FreeKeys) -> None:
        for key in ev.keys:
            ts = self.tasks.get(key)
            if ts is not None:
                self.log.append((key, "free-keys", ev.stimulus_id))
                ts.assigned = False
                self._release_if_unneeded(ts)

    def _handle_steal_request(self, ev: StealRequest) -> None:
        # released=False promises the scheduler a report it has had or will get; True promises none.
        # An unknown key was reported (finished, erred or missing) or freed before: nothing more comes.
        ts = self.tasks.get(ev.key)
        if ts is None or (ts.assigned and ts.state in ("executing", "memory")):
            released = False
        else:
            released = True
            if ts.assigned:
                ts.assigned = False
                self._release_if_unneeded(ts)
        self.log.append((ev.key, "steal-request", released, ev.stimulus_id))
        self._messages.append(StealAnswer(ev.stimulus_id, key=ev.key, released=released))

    def _running(self, key):
        """The task whose thread just reported, or None for a stale report."""
        ts = self.tasks.get(key)
        if ts is None or ts not in self.executing:
            self.log.append((key, "ignored-result", ts.state if ts else None, self._stimulus_id))
            return None
        if ts in self.seceded:  # its thread is done: the scheduler must stop discounting it
            self.seceded.discard(ts)
            report_long_running(self)
        return ts

    def _handle_execute_success(self, ev: ExecuteSuccess) -> None:
        ts = self.tasks.get(ev.key)
        if ts is None or ts.state != "executing" or ts in self.seceded:  # the common case skips _running
            ts = self._running(ev.key)
            if ts is None:
                return
        if ts.state == "cancelled":
            self.transition(ts, "released")
            return
        self.transition(ts, "memory", ev.value, ev.nbytes, ev.type_name)
        if ts.assigned:
            self.report_finished(ts, ev.value, ev.nbytes, ev.start, ev.stop, ev.thread)

    def _handle_execute_failure(self, ev: ExecuteFailure) -> None:
        ts = self._running(ev.key)
        if ts is None:
            return
        if ts.state == "cancelled":
            self.transition(ts, "released")
        else:
            self.transition(ts, "error", ev)

    def _handle_gather_dep_success(self, ev: GatherDepSuccess) -> None:
        request = self._close_request(ev.peer, [*ev.data, *ev.missing])
        for key in request:
            ts = self.tasks.get(key)
            if ts is None or ts.coming_from != ev.peer:
                continue  # freed, or scattered here meanwhile
            if key not in ev.data:
                self._fetch_failed(ts, ev.peer)
            elif ts.state == "cancelled":
                self.transition(ts, "released")
            else:
                value = ev.data[key]
                plain = value.value if type(value) is Shared else value  # Shared: the store keeps it apart
                nbytes = ev.nbytes.get(key)
                if nbytes is None:
                    nbytes = int(self.data.sizer(plain))
                self.transition(ts, "memory", value, nbytes, type(plain).__name__)
                if ts.assigned:
                    self.report_finished(ts, plain, nbytes, 0.0, 0.0)

    def _handle_gather_dep_failure(self, ev: GatherDepFailure) -> None:
        for key in self._close_request(ev.peer, ev.keys):
            ts = self.tasks.get(key)
            if ts is not None and ts.coming_from == ev.peer:
                self._fetch_failed(ts, ev.peer)

    def _fetch_failed(self, ts: WorkerTask, peer: str) -> None:
        """``peer`` did not deliver ``ts``: compute it if it is ours, else try another holder, else give up."""
        if peer in ts.who_has:
            ts.who_has.remove(peer)
        self.log.append((ts.key, "missing", peer, self._stimulus_id))
        if ts.state == "cancelled":
            self.transition(ts, "released")
        elif ts.assigned and ts.run is not None:
            # The scheduler asked us to compute it, so its own who_has is empty: ours is stale.
            self.transition(ts, "waiting")
        elif ts.who_has:
            self.transition(ts, "fetch")
        else:  # (an assigned one was a copy the scheduler asked for, worker/replicas.py: say it is not to be had)
            self._missing(ts, ts.key, peer)
            self.transition(ts, "released")

    def _handle_update_data(self, ev: UpdateData) -> None:
        for key, value in ev.data.items():
            nbytes = ev.nbytes.get(key)
            if nbytes is None:
                nbytes = int(self.data.sizer(value))
            ts = self.tasks.get(key)
            if ts is None:
                ts = self.tasks[key] = WorkerTask(key)
            ts.assigned = True
            self.log.append((key, "update-data", self._stimulus_id))
            if ts.state == "cancelled":
                self.transition(ts, ts.previous)
            if ts.state == "memory":
                self._store(ts, value, nbytes, type(value).__name__)
            elif ts.state != "executing":  # a running task keeps its own result
                self.transition(ts, "memory", value, nbytes, type(value).__name__)

    def _handle_pause_changed(self, ev: PauseChanged) -> None:
        self.paused = ev.paused
        self.log.append(("worker", "paused" if ev.paused else "running", self._stimulus_id))

    _HANDLERS = {
        PauseChanged: _handle_pause_changed,
        ComputeTasks: _handle_compute_tasks,
        FreeKeys: _handle_free_keys,
        StealRequest: _handle_steal_request,
        ExecuteSuccess: _handle_execute_success,
        ExecuteFailure: _handle_execute_failure,
        GatherDepSuccess: _handle_gather_dep_success,
        GatherDepFailure: _handle_gather_dep_failure,
        UpdateData: _handle_update_data,
        FetchReplicas: fetch_replicas,  # worker/replicas.py
        TaskSeceded: task_seceded,  # worker/secession.py
        TaskRejoined: task_rejoined,
    }

    # ------------------------------------------------------------ starting work

    def _ensure_computing(self) -> None:
        if self.paused:
            return
        ready = self._ready
        executing = self.executing
        slots = self.slots + len(self.seceded)  # a seceded task's thread was replaced: its slot is free
        while ready and len(executing) < slots:
            ts = heapq.heappop(ready)[2]
            if ts.state == "ready":
                self.transition(ts, "executing")

    def _ensure_communicating(self) -> None:
        """Open requests to peers, up to the limits; a peer we already talk to goes first."""
        queues = self._fetch_queues
        if not queues or self._n_requests >= self.max_concurrent_fetches:
            return
        requests = self._requests
        for peer in sorted(queues, key=lambda p: (p not in requests, queues[p][0][:2])):
            queue = queues[peer]
            while queue and len(requests.get(peer, ())) < self.max_requests_per_peer:
                if self._n_requests >= self.max_concurrent_fetches:
                    return
                self._open_request(peer, queue)
            if not queue:
                del queues[peer]

    def _open_request(self, peer: str, queue: list) -> None:
        """Take the best keys of ``queue`` up to ``max_fetch_bytes`` into one `GatherDep` to ``peer``."""
        keys = []
        total = 0
        while queue:
            ts = queue[0][2]
            if ts.state != "fetch" or peer not in ts.who_has:
                heapq.heappop(queue)  # taken from another peer, freed, or peer lost
                continue
            if keys and total + ts.nbytes > self.max_fetch_bytes:
                break
            heapq.heappop(queue)
            total += ts.nbytes
            keys.append(ts.key)
            # At once, so a second queue entry for this task (it may be queued twice) is seen as stale.
            self.transition(ts, "flight", peer)
            self.log.append((ts.key, "gather-dep", peer, self._stimulus_id))
        if keys:
            self._requests.setdefault(peer, []).append(dict.fromkeys(keys))
            self._n_requests += 1
            self._commands.append(GatherDep(self._stimulus_id, peer=peer, keys=keys))

    def _close_request(self, peer: str, keys: list) -> dict:
        """The keys of the open request to ``peer`` that a reply about ``keys`` answers (now closed)."""
        requests = self._requests.get(peer)
        if not requests:
            self.log.append((peer, "unexpected-reply", keys, self._stimulus_id))
            return {}
        # Keys are in at most one open request, so any overlap identifies it; a peer that
        # (wrongly) answers nothing at all can only be matched when one request is open.
        match = next((r for r in requests if not r.keys().isdisjoint(keys)), None)
        if match is None and not keys and len(requests) == 1:
            match = requests[0]
        if match is None:
            self.log.append((peer, "unexpected-reply", keys, self._stimulus_id))
            return {}
        requests.remove(match)
        if not requests:
            del self._requests[peer]
        self._n_requests -= 1
        return match

    # ------------------------------------------------------------ helpers

    def report_finished(self, ts: WorkerTask, value, nbytes: int, start: float, stop: float,
                        thread: int = 0) -> None:
        """Tell the scheduler ``ts`` is in memory here (with its value inline if it asked and it is small)."""
        run = ts.run
        inline = value if run is not None and run.inline_result and nbytes <= self.inline_limit else None
        self._messages.append(TaskDone(self._stimulus_id, key=ts.key, nbytes=nbytes, type_name=ts.type_name,
                                       start=start, stop=stop, inline=inline, thread=thread))

    def _store(self, ts: WorkerTask, value, nbytes: int, type_name: str) -> None:
        self.data.set(ts.key, value, nbytes)
        ts.nbytes = nbytes
        ts.type_name = type_name

    def _link_dependencies(self, ts: WorkerTask) -> None:
        """Connect a task about to run here to its inputs, creating fetch tasks for remote ones."""
        run = ts.run
        tasks = self.tasks
        lost = []
        for dkey in run.spec.dependencies:
            dts = tasks.get(dkey)
            if dts is None:
                holders = [w for w in run.who_has.get(dkey, ()) if w != self.address]
                if not holders:
                    lost.append(dkey)
                    continue
                dts = tasks[dkey] = WorkerTask(dkey, priority=ts.priority, nbytes=run.nbytes.get(dkey, 0),
                                               who_has=holders)
                dts.dependents[ts] = None
                self.transition(dts, "fetch")
            else:
                dts.dependents[ts] = None
                if dts.state == "cancelled":
                    self.transition(dts, dts.previous)
                elif dts.state in ("fetch", "flight"):
                    self.add_holders(dts, run.who_has.get(dkey, ()))
            ts.dependencies[dts] = None
            if dts.state != "memory":
                ts.waiting_for[dts] = None
        if lost:
            for dkey in lost:
                holder = self.address if self.address in run.who_has.get(dkey, ()) else ""
                self._missing(ts, dkey, holder)
            self.transition(ts, "released")
        elif not ts.waiting_for:
            self.transition(ts, "ready")

    def add_holders(self, ts: WorkerTask, holders) -> None:
        """More peers hold ``ts`` (fetched, or to be fetched): queue it towards them too."""
        for peer in holders:
            if peer != self.address and peer not in ts.who_has:
                ts.who_has.append(peer)
                if ts.state == "fetch":
                    self._queue_fetch(ts, peer)

    def _queue_fetch(self, ts: WorkerTask, peer: str) -> None:
        heapq.heappush(self._fetch_queues.setdefault(peer, []), (ts.priority, next(self._seq), ts))

    def _missing(self, ts: WorkerTask, missing, holder: str) -> None:
        """``ts`` cannot get its input ``missing``: tell the scheduler, which will place it again."""
        self.log.append((ts.key, "missing-data", missing, holder, self._stimulus_id))
        self.log.append((missing, "missing-data-for", ts.key, holder, self._stimulus_id))
        if ts.assigned:
            self._messages.append(DepMissing(self._stimulus_id, key=ts.key, missing=missing, holder=holder))

    def _unlink_dependencies(self, ts: WorkerTask) -> None:
        """``ts`` no longer reads its inputs: drop the ones nothing else keeps."""
        deps = ts.dependencies
        if not deps:
            return
        ts.dependencies = {}
        ts.waiting_for.clear()
        for dep in deps:
            dep.dependents.pop(ts, None)
            if not dep.dependents and not dep.assigned:
                self._release_if_unneeded(dep)

    def _notify_dependents(self, ts: WorkerTask) -> None:
        for dependent in ts.dependents:  # (callers skip the call when there are none: most results)
            if dependent.state == "waiting":
                dependent.waiting_for.pop(ts, None)
                if not dependent.waiting_for:
                    self.transition(dependent, "ready")

    def _release_if_unneeded(self, ts: WorkerTask) -> None:
        if ts.assigned or ts.dependents:
            return
        state = ts.state
        if state == "flight" or state == "executing":
            self.transition(ts, "cancelled")
        elif state in ("fetch", "waiting", "ready", "memory"):
            self.transition(ts, "released")

    def _drop(self, ts: WorkerTask, holder: str) -> None:
        """Common end of every ``*_released`` transition; local readers of ``ts`` lose their input."""
        self._unlink_dependencies(ts)
        for dependent in list(ts.dependents) if ts.dependents else ():
            if dependent in ts.dependents:  # not already dropped along with an earlier one
                self._missing(dependent, ts.key, holder)
                self.transition(dependent, "released")
        self.transition(ts, "forgotten")

    # ------------------------------------------------------------ transitions

    def transition(self, ts: WorkerTask, finish: str, *args) -> None:
        """Move ``ts`` to ``finish`` through ``_TRANSITIONS`` (`InvalidTransition` if it has no such change)."""
        # The new state is set before the method runs, so a method may chain
        # further transitions of the same task (waiting -> ready, error -> released).
        start = ts.state
        method = self._TRANSITIONS.get((start, finish))
        if method is None:
            raise InvalidTransition(f"{ts.key!r}: {start} -> {finish} is not a worker transition "
                                    f"(stimulus {self._stimulus_id!r}); story: {self.story(ts.key)[-5:]}",
                                    key=ts.key, start=start, finish=finish, stimulus_id=self._stimulus_id)
        self.log.append((ts.key, start, finish, self._stimulus_id))
        ts.state = finish
        method(self, ts, *args)

    def _transition_released_waiting(self, ts):
        self._link_dependencies(ts)

    def _transition_released_fetch(self, ts):
        for peer in ts.who_has:
            self._queue_fetch(ts, peer)

    def _transition_released_memory(self, ts, value, nbytes, type_name):
        self._store(ts, value, nbytes, type_name)

    def _transition_released_forgotten(self, ts):
        if self.tasks.get(ts.key) is ts:
            del self.tasks[ts.key]

    def _transition_waiting_ready(self, ts):
        heapq.heappush(self._ready, (ts.priority, next(self._seq), ts))
        self._n_ready += 1

    _transition_released_ready = _transition_waiting_ready  # a task with no inputs: nothing to link

    def _transition_waiting_memory(self, ts, value, nbytes, type_name):
        if ts.dependencies:
            self._unlink_dependencies(ts)
        self.data.set(ts.key, value, nbytes)
        ts.nbytes = nbytes
        ts.type_name = type_name
        if ts.dependents:
            self._notify_dependents(ts)

    def _transition_waiting_released(self, ts):
        self._drop(ts, self.address)

    def _transition_ready_executing(self, ts):
        self._n_ready -= 1
        self.executing.add(ts)
        self._commands.append(Execute(self._stimulus_id, ts.key))

    def _transition_ready_memory(self, ts, value, nbytes, type_name):
        self._n_ready -= 1
        self._transition_waiting_memory(ts, value, nbytes, type_name)

    def _transition_ready_released(self, ts):
        self._n_ready -= 1
        self._drop(ts, self.address)

    def _transition_fetch_flight(self, ts, peer):
        ts.coming_from = peer

    def _transition_fetch_waiting(self, ts):
        self._link_dependencies(ts)

    def _transition_fetch_memory(self, ts, value, nbytes, type_name):
        self._store(ts, value, nbytes, type_name)
        self._notify_dependents(ts)

    def _transition_fetch_released(self, ts):
        self._drop(ts, self.address)

    def _transition_flight_memory(self, ts, value, nbytes, type_name):
        ts.coming_from = None
        self._store(ts, value, nbytes, type_name)
        self._notify_dependents(ts)

    def _transition_flight_fetch(self, ts):
        ts.coming_from = None
        for peer in ts.who_has:
            self._queue_fetch(ts, peer)

    def _transition_flight_waiting(self, ts):
        ts.coming_from = None  # no peer has it, but the scheduler asked us to compute it
        self._link_dependencies(ts)

    def _transition_flight_cancelled(self, ts):
        ts.previous = "flight"

    def _transition_flight_released(self, ts):
        holder, ts.coming_from = ts.coming_from, None
        self._drop(ts, holder)

    def _transition_executing_memory(self, ts, value, nbytes, type_name):
        self.executing.discard(ts)
        self._transition_waiting_memory(ts, value, nbytes, type_name)

    def _transition_executing_error(self, ts, ev):
        self.executing.discard(ts)
        if ts.assigned:
            self._messages.append(TaskFailed(self._stimulus_id, key=ts.key, exception=ev.exception,
                                             traceback=ev.traceback, start=ev.start, stop=ev.stop, thread=ev.thread))
        self.transition(ts, "released")

    def _transition_executing_cancelled(self, ts):
        ts.previous = "executing"  # stays in self.executing, and keeps its inputs, until the thread returns

    def _transition_error_released(self, ts):
        self._drop(ts, self.address)

    def _transition_cancelled_executing(self, ts):
        ts.previous = None

    def _transition_cancelled_flight(self, ts):
        ts.previous = None

    def _transition_cancelled_released(self, ts):
        self.executing.discard(ts)
        ts.previous = ts.coming_from = None
        self._drop(ts, self.address)

    def _transition_memory_released(self, ts):
        del self.data[ts.key]
        self._drop(ts, self.address)

    _TRANSITIONS = {
        ("released", "waiting"): _transition_released_waiting,
        ("released", "fetch"): _transition_released_fetch,
        ("released", "ready"): _transition_released_ready,
        ("released", "memory"): _transition_released_memory,
        ("released", "forgotten"): _transition_released_forgotten,
        ("waiting", "ready"): _transition_waiting_ready,
        ("waiting", "memory"): _transition_waiting_memory,
        ("waiting", "released"): _transition_waiting_released,
        ("ready", "executing"): _transition_ready_executing,
        ("ready", "memory"): _transition_ready_memory,
        ("ready", "released"): _transition_ready_released,
        ("fetch", "flight"): _transition_fetch_flight,
        ("fetch", "waiting"): _transition_fetch_waiting,
        ("fetch", "memory"): _transition_fetch_memory,
        ("fetch", "released"): _transition_fetch_released,
        ("flight", "memory"): _transition_flight_memory,
        ("flight", "fetch"): _transition_flight_fetch,
        ("flight", "waiting"): _transition_flight_waiting,
        ("flight", "cancelled"): _transition_flight_cancelled,
        ("flight", "released"): _transition_flight_released,
        ("executing", "memory"): _transition_executing_memory,
        ("executing", "error"): _transition_executing_error,
        ("executing", "cancelled"): _transition_executing_cancelled,
        ("error", "released"): _transition_error_released,
        ("cancelled", "executing"): _transition_cancelled_executing,
        ("cancelled", "flight"): _transition_cancelled_flight,
        ("cancelled", "released"): _transition_cancelled_released,
        ("memory", "released"): _transition_memory_released,
    }

    # ------------------------------------------------------------ validation

    def validate_state(self) -> None:
        """Check every invariant (raises AssertionError); meant to run between `handle` calls."""
        for key, ts in self.tasks.items():
            assert ts.key == key, (key, ts)
            self._VALIDATORS[ts.state](self, ts)
            for dep in ts.dependencies:
                assert ts in dep.dependents and self.tasks.get(dep.key) is dep, (ts, dep)
            for dependent in ts.dependents:
                assert ts in dependent.dependencies and self.tasks.get(dependent.key) is dependent, (ts, dependent)
        in_memory = {key for key, ts in self.tasks.items() if ts.state == "memory"}
        assert set(self.data) == in_memory, ("store and memory tasks differ", set(self.data) ^ in_memory)
        if hasattr(self.data, "validate"):
            self.data.validate()
        self._validate_queues()

    def _validate_queues(self) -> None:
        tasks = self.tasks.values()
        running = {ts for ts in tasks if ts.state == "executing" or ts.previous == "executing"}
        assert self.executing == running, (self.executing, running)
        ready = {ts for ts in tasks if ts.state == "ready"}
        assert self._n_ready == len(ready), (self._n_ready, ready)
        assert not ready or self.paused or len(self.executing) >= self.slots + len(self.seceded), \
            "a thread is idle while tasks are ready"
        assert self.seceded <= self.executing, ("seceded tasks that are not running", self.seceded - self.executing)
        assert ready <= {entry[2] for entry in self._ready}
        assert self._n_requests == sum(map(len, self._requests.values())) <= self.max_concurrent_fetches
        for peer, requests in self._requests.items():
            assert 0 < len(requests) <= self.max_requests_per_peer, (peer, requests)
        queued = {(peer, entry[2]) for peer, queue in self._fetch_queues.items() for entry in queue}
        for ts in tasks:
            if ts.state == "flight" or ts.previous == "flight":
                assert any(ts.key in r for r in self._requests.get(ts.coming_from, ())), ts
            elif ts.state == "fetch":
                assert any((peer, ts) in queued for peer in ts.who_has), f"{ts} is in no fetch queue"
                idle = [p for p in ts.who_has if len(self._requests.get(p, ())) < self.max_requests_per_peer]
                assert not idle or self._n_requests >= self.max_concurrent_fetches, (ts, idle)

    def _validate_needed(self, ts: WorkerTask) -> None:
        assert ts.assigned or ts.dependents, f"{ts} is neither assigned nor read by a local task"

    def _validate_waiting(self, ts):
        self._validate_needed(ts)
        assert ts.run is not None and ts.waiting_for, ts
        assert list(ts.waiting_for) == [d for d in ts.dependencies if d.state != "memory"], ts

    def _validate_ready(self, ts):
        self._validate_needed(ts)
        assert ts.run is not None and not ts.waiting_for, ts
        assert all(d.state == "memory" for d in ts.dependencies), ts

    def _validate_executing(self, ts):
        self._validate_ready(ts)
        assert ts in self.executing, ts

    def _validate_fetch(self, ts):
        # assigned without a task to run: a copy the scheduler asked for (worker/replicas.py)
        assert (not ts.assigned and ts.dependents) or (ts.assigned and ts.run is None), ts
        assert ts.who_has and self.address not in ts.who_has, ts
        assert not ts.dependencies and ts.coming_from is None and ts.key not in self.data, ts

    def _validate_flight(self, ts):
        self._validate_needed(ts)
        assert ts.coming_from is not None and not ts.dependencies and ts.key not in self.data, ts

    def _validate_memory(self, ts):
        self._validate_needed(ts)
        assert ts.key in self.data and not ts.dependencies and not ts.waiting_for, ts
        assert ts.nbytes == self.data.nbytes(ts.key), ts

    def _validate_cancelled(self, ts):
        assert not ts.assigned and not ts.dependents, ts
        if ts.previous == "executing":
            assert ts in self.executing and all(d.state == "memory" for d in ts.dependencies), ts
        else:
            assert ts.previous == "flight" and ts.coming_from is not None and not ts.dependencies, ts

    def _validate_transient(self, ts):
        raise AssertionError(f"{ts} rests in a passing state")

    _VALIDATORS = {
        "waiting": _validate_waiting,
        "ready": _validate_ready,
        "executing": _validate_executing,
        "fetch": _validate_fetch,
        "flight": _validate_flight,
        "memory": _validate_memory,
        "cancelled": _validate_cancelled,
        "released": _validate_transient,
        "error": _validate_transient,
        "forgotten": _validate_transient,
    }
