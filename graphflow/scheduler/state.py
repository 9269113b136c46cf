"""The scheduler's brain: a pure state machine from events to commands.

`SchedulerState` owns every task and worker the scheduler knows.  The network
shell feeds it `graphflow.scheduler.events` and performs the commands it
returns; it does no I/O and reads no clock, so tests drive it with events.

Model.  A `SchedTask` is in exactly one state:

    released     known, kept as lineage to recompute dependents, not needed now
    waiting      needed; some inputs are not in memory yet
    queued       ready root-ish task held back until a worker has a free slot
    no-worker    ready, but no connected worker may run it
    processing   sent to one worker (``processing_on``)
    memory       the result lives on one or more workers (``who_has``)
    erred        failed, or an input failed (``error`` blames the original key)
    forgotten    dropped from ``tasks``

A task is *needed* while a client wants it or a dependent in an active state
(waiting, queued, no-worker, processing) still has to read it.  Two counters
keep that cheap: ``n_waiting_on`` (inputs not in memory, for a waiting task)
and ``n_waiters`` (active dependents).  Every state change goes through one
table, ``_TRANSITIONS``; a change it lacks raises `InvalidTransition`.  A
transition may recommend more transitions; after each event ``handle`` runs
them until none remain, hands queued tasks to workers with free slots
(`policy.task_slots`), asks busy workers to give tasks to idle ones, and at
the end returns the commands batched: one `ReleaseOnWorker` and one `AssignTasks` (in
priority order) per worker, then steal requests, then client reports.

Worked example, ``b = inc(a)`` on one worker::

    >>> from graphflow.testing.events import finished, graph, joined
    >>> s = SchedulerState(validate=True)
    >>> s.handle(joined("W"))
    []
    >>> [type(c).__name__ for c in s.handle(graph({"a": (), "b": ("a",)}, wanted=["b"]))]
    ['AssignTasks']
    >>> s.tasks["a"].state, s.tasks["b"].state
    ('processing', 'waiting')
    >>> [type(c).__name__ for c in s.handle(finished("W", "a"))]
    ['AssignTasks']
    >>> [(type(c).__name__, c.key if hasattr(c, "key") else c.keys) for c in s.handle(finished("W", "b"))]
    [('ReleaseOnWorker', ['a']), ('KeyReport', 'b')]
    >>> s.tasks["a"].state  # lineage: b can be recomputed if its worker dies
    'released'

The records and their invariants are in `graphflow.scheduler.model`, what
each event does in `graphflow.scheduler.handlers`, and where a task runs, how
deep the root queue is and what to steal in `graphflow.scheduler.policy`.
"""

from __future__ import annotations

import heapq
import itertools
from operator import attrgetter

from ..errors import InvalidTransition, blame_task
from ..spec.keys import key_split
from . import policy, resources, restrictions
from ..comm.messages import TaskSpec
from .events import AssignTasks, KeyReport, ReleaseOnWorker, RequestSteal, TaskFinished, event_record, story
from .actors import SchedActors
from .replicate import Moves
from .retire import SchedRetirements
from .ring import Ring
from .failures import killed_worker, lost_scattered, memory_limit_error, out_of_memory
from .handlers import HANDLERS
from .model import (
    ACTIVE, ERRED, FORGOTTEN, MEMORY, NO_WORKER, PROCESSING, QUEUED, RELEASED, WAITING, SchedPrefix, SchedTask,
    SchedWorker, drop_dependent, validate_scheduler_state,
)

__all__ = ["SchedulerState", "SchedTask", "SchedWorker", "SchedPrefix"]

_priority = attrgetter("priority")


class SchedulerState:
    """Tasks, workers and clients of one scheduler; ``handle(*events) -> list of commands``.

    Read-only views for the shell: ``tasks`` (key -> `SchedTask`), ``workers``
    (address -> `SchedWorker`), ``clients`` (set of ids), `who_has`,
    `has_what`, `processing`, `queued_count`, `choose_worker_for_data`,
    `story`.  ``log`` holds the last ``log_length`` records of events and
    transitions (see `story`); ``log_length=0`` turns logging off.

    The event handlers (`graphflow.scheduler.handlers`) use the other public
    members, an API internal to ``graphflow.scheduler`` (`transition`, `note`,
    `emit`, ``recommendations``, ...); underscored members are this class's own.
    """

    def __init__(self, *, allowed_failures: int = 3, heartbeat_timeout: float = 5.0, validate: bool = False,
                 log_length: int = 100_000, saturation: float = policy.SATURATION,
                 slot_budget: float = policy.SLOT_BUDGET, slot_cap: int = policy.SLOT_CAP,
                 bandwidth: float = policy.BANDWIDTH, default_duration: float = policy.DEFAULT_DURATION,
                 work_stealing: bool = True, no_worker_timeout: float = 30.0):
        self.allowed_failures = allowed_failures
        self.heartbeat_timeout = heartbeat_timeout
        self.validate = validate
        self.saturation, self.slot_budget, self.slot_cap = saturation, slot_budget, slot_cap  # policy.task_slots
        self.bandwidth = bandwidth
        self.default_duration = default_duration
        self.work_stealing = work_stealing
        self.actors = SchedActors()  # actors' hosts, call logs and checkpoints (scheduler/actors.py)
        self.retiring = SchedRetirements()  # workers leaving gracefully (scheduler/retire.py)
        self.pool = resources.ResourcePool()  # tasks held until their resources are free (scheduler/resources.py)
        self.placement = restrictions.Placement(no_worker_timeout)  # the no-worker clock (scheduler/restrictions.py)
        self.moves = Moves()  # rebalance's copies whose giver drops its copy when they land (scheduler/replicate.py)
        self.tasks = {}
        self.workers = {}
        self.clients = set()
        self.log = Ring(maxlen=log_length)  # packed after a big release (scheduler/ring.py)
        # shared with the handlers (see the class docstring)
        self.wants = {}  # client -> set of SchedTask it wants
        self.queue = []  # heap of (priority, seq, SchedTask); entries of tasks no longer queued are skipped lazily
        self.no_worker = {}  # ordered set of tasks in no-worker
        self.steals = {}  # SchedTask -> (victim, thief) while a RequestSteal is unanswered
        self.recommendations = {}  # SchedTask -> finish state, or (finish state, argument)
        self.dirty_workers = set()  # workers whose processing shrank or who joined: may take more work
        self.generation = 0  # UpdateGraph calls so far: the first part of every priority
        self.total_nthreads = 0
        # this class's own
        self._logging = log_length > 0
        self._prefixes = {}
        self._seq = itertools.count()
        self._n_queued = 0
        self._memory_cap = None  # the largest worker memory limit, when every worker has one
        self._memory_deaths = {}  # task -> (rss, limit) of the last worker that died of memory running it
        self._queue_grew = False
        self._heap_len = 0  # entries of ``queue`` in heap order; those after them arrived since (`_fill_slots`)
        # commands of the current handle() call, merged per worker
        self._out_free = {}  # SchedWorker -> [stimulus_id, {key: None}]
        self._out_execute = {}  # SchedWorker -> [stimulus_id, {SchedTask: None}]
        self._out_steal = []  # (stimulus_id, SchedTask)
        self._out_other = []  # KeyReport, RetireWorker in order

    # ------------------------------------------------------------- public API

    def handle(self, *events) -> list:
        """Apply ``events`` in order; return the commands they cause, batched per worker.

        After each event its recommendations run to completion; queued tasks
        are handed out and steals requested once per call, after the last
        event, so a batch of events yields one deep `AssignTasks` per worker.
        """
        stim = None
        for ev in events:
            handler = HANDLERS.get(type(ev))
            if handler is None:
                raise TypeError(f"SchedulerState cannot handle {ev!r}: not a graphflow.scheduler.events event")
            stim = ev.stimulus_id
            if self._logging:
                rec = event_record(ev)
                if rec is not None:
                    self.log.append(rec)
            handler(self, ev)
            self.run_recommendations(stim)
            if self.validate:
                self.validate_state()
        if stim is not None:
            if self.retiring.closing or self.retiring.requests:
                self.retiring.progress(self, events, stim)
            self._balance(stim)
            if self.validate:
                self.validate_state()
        return self._flush()

    @property
    def queued_count(self) -> int:
        """Ready root-ish tasks waiting for a free worker slot."""
        return self._n_queued

    def who_has(self, keys=None) -> dict:
        """``{key: [worker addresses]}`` for ``keys`` (default: every task in memory)."""
        tasks = self.tasks
        if keys is None:
            return {k: [ws.address for ws in ts.who_has] for k, ts in tasks.items() if ts.who_has}
        return {k: [ws.address for ws in tasks[k].who_has] if k in tasks else [] for k in keys}

    def has_what(self, worker: str) -> list:
        """Keys whose results ``worker`` holds."""
        ws = self.workers.get(worker)
        return [ts.key for ts in ws.has_what] if ws is not None else []

    def processing(self, worker: str) -> list:
        """Keys sent to ``worker`` and not finished, in priority order."""
        ws = self.workers.get(worker)
        return [ts.key for ts in sorted(ws.processing, key=_priority)] if ws is not None else []

    def task_state(self, key) -> str:
        """The state of ``key``; ``"forgotten"`` for keys the scheduler does not hold."""
        ts = self.tasks.get(key)
        return ts.state if ts is not None else FORGOTTEN

    def choose_worker_for_data(self, nbytes: int):
        """Address of the worker that should receive ``nbytes`` of scattered data, or None."""
        ws = policy.choose_worker_for_data(self.workers.values(), nbytes)
        return ws.address if ws is not None else None

    def story(self, *keys) -> list:
        """Log records that involve any of ``keys`` (task keys, worker addresses or client ids), oldest first
        (the record format: `graphflow.scheduler.events.story`)."""
        return story(self.log, keys)

    # ------------------------------------------------------- clients' wishes

    def add_client(self, client: str) -> None:
        if client not in self.wants:
            self.wants[client] = set()
            self.clients.add(client)

    def add_want(self, ts: SchedTask, client: str) -> None:
        self.add_client(client)
        if ts.wanted_by is None:
            ts.wanted_by = {client}
        else:
            ts.wanted_by.add(client)
        self.wants[client].add(ts)

    def want(self, ts: SchedTask, client: str, stim: str) -> None:
        """``client`` wants ``ts``: reported at once if done, else recommended to be computed."""
        self.add_want(ts, client)
        state = ts.state
        if state == MEMORY:
            self._report_memory(ts, client, None, stim)
        elif state == ERRED:
            self._report_erred(ts, client, stim)
        elif state == RELEASED:
            self.recommendations[ts] = WAITING

    def unwant(self, ts: SchedTask, client: str) -> None:
        wb = ts.wanted_by
        if wb is None or client not in wb:
            return
        wb.discard(client)
        wants = self.wants.get(client)
        if wants is not None:
            wants.discard(ts)
        if not wb:
            ts.wanted_by = None
            self.maybe_release(ts)

    def maybe_release(self, ts: SchedTask) -> None:
        """Recommend releasing (or forgetting) ``ts`` if nothing needs it any more."""
        if ts.n_waiters or ts.wanted_by is not None:
            return
        state = ts.state
        if state == RELEASED or state == ERRED:
            if not ts.dependents:
                self.recommendations[ts] = FORGOTTEN
        else:
            self.recommendations[ts] = RELEASED

    def _report_memory(self, ts: SchedTask, client: str, inline, stim: str) -> None:
        self._out_other.append(KeyReport(stim, client, ts.key, MEMORY, ts.nbytes, ts.type_name,
                                         [ws.address for ws in ts.who_has], inline))

    def _report_erred(self, ts: SchedTask, client: str, stim: str) -> None:
        self._out_other.append(KeyReport(stim, client, ts.key, ERRED, exception=ts.error[0], traceback=ts.error[1]))

    # --------------------------------------------------------------- workers

    def remove_worker(self, ws: SchedWorker, died: bool, stim: str, why: str, memory=None) -> None:
        """Forget a worker: its results are lost, its tasks run elsewhere (a death is a strike).

        ``memory``: ``(rss, limit)`` if it died of memory; the tasks it was
        running remember it, and one that runs out of strikes that way errs
        with `MemoryLimitError`.
        """
        self.actors.worker_removed(self, ws, stim)  # actors it hosted: restore specs or tombstones
        del self.workers[ws.address]
        self.total_nthreads -= ws.nthreads
        self.update_memory_cap()
        self.note(ws.address, "worker-removed", why, stim)
        lost = []
        for ts in ws.has_what:
            ts.who_has.remove(ws)
            if not ts.who_has:
                ts.who_has = ()
                lost.append(ts)
        ws.has_what = set()
        ws.nbytes = 0
        # release lost results first, so tasks that were running see their inputs missing
        for ts in lost:
            self.transition(ts, RELEASED, stim)
        recs = self.recommendations
        for ts in ws.processing:
            if died:
                ts.suspicious += 1
                if memory is not None:
                    self._memory_deaths[ts] = memory
            if died and ts.suspicious >= self.allowed_failures:
                memory_death = self._memory_deaths.pop(ts, None)
                if memory_death is not None:
                    error = out_of_memory(ts.key, ts.suspicious, ws.address, *memory_death)
                else:
                    error = killed_worker(ts.key, ts.suspicious, ws.address)
                recs[ts] = (ERRED, (error, "", ts.key))
            else:
                recs[ts] = WAITING
        self.run_recommendations(stim)
        self._out_free.pop(ws, None)
        self._out_execute.pop(ws, None)
        self.dirty_workers.discard(ws)

    def update_memory_cap(self) -> None:
        limits = [ws.memory_limit for ws in self.workers.values()]
        self._memory_cap = max(limits) if limits and all(limits) else None

    def prefix(self, key) -> SchedPrefix:
        """The `SchedPrefix` of ``key`` (created on first use)."""
        name = key_split(key)
        prefix = self._prefixes.get(name)
        if prefix is None:
            prefix = self._prefixes[name] = SchedPrefix(name)
        return prefix

    def cost(self, ts: SchedTask, ws: SchedWorker) -> float:
        """Expected seconds ``ts`` keeps ``ws`` busy: its duration plus fetching its inputs."""
        d = ts.prefix.duration
        cost = self.default_duration if d is None else d
        if ts.dependencies:
            cost += policy.transfer_cost(ts, ws, self.bandwidth)
        return cost

    def assign(self, ts: SchedTask, ws: SchedWorker, stim: str) -> None:
        """Send ``ts`` to ``ws`` (state processing); no transition: callers are transitions or steals."""
        ts.state = PROCESSING
        ts.processing_on = ws
        ws.processing[ts] = cost = self.cost(ts, ws)
        ws.occupancy += cost
        if ts.resources is not None:
            resources.acquire(ts, ws)
        buf = self._out_execute.get(ws)
        if buf is None:
            self._out_execute[ws] = [stim, {ts: None}]
        else:
            buf[0] = stim
            buf[1][ts] = None

    def exit_processing(self, ts: SchedTask) -> SchedWorker:
        """Take ``ts`` off its worker, which is returned; the caller sets the new state."""
        ws = ts.processing_on
        cost = ws.processing.pop(ts)
        ws.occupancy = ws.occupancy - cost if ws.processing else 0.0  # 0 when empty: float error never builds up
        ts.processing_on = None
        self.dirty_workers.add(ws)
        if ts.resources is not None:
            self.pool.release(ts, ws)
        if self.steals:
            self.steals.pop(ts, None)
        return ws

    def add_replica(self, ts: SchedTask, ws: SchedWorker, stim: str) -> None:
        if ts.who_has:
            ts.who_has.append(ws)
        else:
            ts.who_has = [ws]
        ws.has_what.add(ts)
        ws.nbytes += ts.nbytes
        pending = self._out_free.get(ws)
        if pending is not None:
            pending[1].pop(ts.key, None)  # it has the key again: do not tell it to drop it

    def remove_replica(self, ts: SchedTask, ws: SchedWorker) -> None:
        ts.who_has.remove(ws)
        if not ts.who_has:
            ts.who_has = ()
        ws.has_what.discard(ts)
        ws.nbytes -= ts.nbytes

    def free_on_worker(self, ws: SchedWorker, key, stim: str) -> None:
        """Tell ``ws`` to drop ``key`` (one `ReleaseOnWorker` per worker per `handle` call)."""
        if self.workers.get(ws.address) is not ws:
            return
        buf = self._out_free.get(ws)
        if buf is None:
            self._out_free[ws] = [stim, {key: None}]
        else:
            buf[0] = stim
            buf[1][key] = None

    def note(self, key, what: str, detail, stim: str) -> None:
        """Log something that changed no state (see `story`)."""
        if self._logging:
            self.log.append((key, what, detail, stim))

    def emit(self, command) -> None:
        """Return ``command`` from this `handle` call, after the batched worker commands and steals."""
        self._out_other.append(command)

    # ------------------------------------------------- queue and stealing

    def _balance(self, stim: str) -> None:
        """Place tasks held for resources, fill free slots from the queue, then let idle workers steal."""
        if self.pool.changed or (self.dirty_workers and self.pool.heaps):
            self.pool.fill(self, stim)
        if self._n_queued and self.workers and (self._queue_grew or self.dirty_workers):
            self._fill_slots(self.workers.values() if self._queue_grew else list(self.dirty_workers), stim)
        if self.work_stealing and self.dirty_workers and not self._n_queued:
            workers = self.workers
            for ws in self.dirty_workers:
                if len(ws.processing) < ws.nthreads and not ws.paused and workers.get(ws.address) is ws:
                    self._request_steals(ws, stim)
        self.dirty_workers.clear()
        self._queue_grew = False
        self.run_recommendations(stim)

    def _fill_slots(self, candidates, stim: str) -> None:
        """Hand queued tasks, best priority first, to the least loaded workers with a free slot."""
        workers = self.workers
        # Admission control: a paused worker, or one holding more than its memory target, gets no root
        # tasks; the ready tasks that consume results (and so free memory) still go everywhere.
        heap = [(len(ws.processing) / ws.nthreads, i, ws) for i, ws in enumerate(candidates)
                if workers.get(ws.address) is ws and not ws.paused and not ws.over_target]
        if not heap:  # no worker takes root tasks, and if none can spill either, the queue would wait forever
            heap = [(len(ws.processing) / ws.nthreads, i, ws)
                    for i, ws in enumerate(policy.short_of_room_only(workers, self.retiring.closing))]
        heapq.heapify(heap)
        if self._heap_len != len(self.queue):  # roots arrived since the last fill: `_transition_waiting_queued`
            policy.order_heap(self.queue, self._heap_len)
        queue = self.queue
        prefix = nthreads = slots = None  # `task_slots` again only when the worker's size or the task's kind changes
        while heap and self._n_queued:
            ts = queue[0][2]
            if ts.state != QUEUED:
                heapq.heappop(queue)  # left the queue some other way
                continue
            _, i, ws = heap[0]
            if ts.prefix is not prefix or ws.nthreads != nthreads:
                prefix, nthreads = ts.prefix, ws.nthreads
                slots = policy.task_slots(nthreads, prefix.duration, saturation=self.saturation,
                                          budget=self.slot_budget, cap=self.slot_cap)
            if len(ws.processing) - ws.seceded >= slots:  # seceded tasks wait: no slot (scheduler/longrunning.py)
                heapq.heappop(heap)
                continue
            heapq.heappop(queue)
            self.transition(ts, PROCESSING, stim, ws)
            heapq.heapreplace(heap, (len(ws.processing) / ws.nthreads, i, ws))
        self._heap_len = len(self.queue)

    def _request_steals(self, thief: SchedWorker, stim: str) -> None:
        plan = policy.steal_plan(thief, self.workers.values(), self.steals, bandwidth=self.bandwidth,
                                 default_duration=self.default_duration)
        for ts, victim in plan:
            self.request_steal(ts, victim, thief, stim)

    def request_steal(self, ts: SchedTask, victim, thief, stim: str, why: str = "steal-request") -> None:
        """Ask ``victim`` to give ``ts`` back (`RequestSteal`); its `StealResponse` moves it to ``thief``."""
        self.steals[ts] = (victim, thief)
        self._out_steal.append((stim, ts))
        self.note(ts.key, why, f"{victim.address}->{thief.address}", stim)

    def _ready_target(self, ts: SchedTask) -> str:
        """Where a task whose inputs are all in memory goes next (erred if no worker could hold them)."""
        cap = self._memory_cap
        if cap is not None and ts.dependencies:
            need = sum([dep.nbytes for dep in ts.dependencies])
            if need > cap:
                return (ERRED, (memory_limit_error(ts, need, cap), "", ts.key))
        if ts.resources is not None:
            return self.pool.ready_target(self, ts)
        if policy.is_rootish(ts, self.total_nthreads):
            return QUEUED
        return restrictions.ready_target(self, ts)

    # --------------------------------------------------------------- output

    def _flush(self) -> list:
        out = []
        workers = self.workers
        for ws, (stim, keys) in self._out_free.items():
            if keys and workers.get(ws.address) is ws:
                out.append(ReleaseOnWorker(stim, ws.address, list(keys)))
        for ws, (stim, tasks) in self._out_execute.items():
            if workers.get(ws.address) is not ws:
                continue
            specs = [self._execute_spec(ts) for ts in sorted(tasks, key=_priority) if ts.processing_on is ws]
            if specs:
                out.append(AssignTasks(stim, ws.address, specs))
        sent = set()
        for stim, ts in self._out_steal:
            rec = self.steals.get(ts)
            if rec is not None and ts not in sent and ts.processing_on is rec[0]:
                sent.add(ts)
                out.append(RequestSteal(stim, rec[0].address, ts.key))
        out.extend(self._out_other)
        self._out_free, self._out_execute, self._out_steal, self._out_other = {}, {}, [], []
        return out

    def _execute_spec(self, ts: SchedTask) -> TaskSpec:
        who_has = {}
        nbytes = {}
        for dep in ts.dependencies:
            who_has[dep.key] = [ws.address for ws in dep.who_has]
            nbytes[dep.key] = dep.nbytes
        return TaskSpec(ts.key, ts.spec, who_has, nbytes, ts.priority, ts.wanted_by is not None)

    # ---------------------------------------------------------- transitions

    def run_recommendations(self, stim: str) -> None:
        """Apply recommendations until none remain, skipping those that went stale meanwhile."""
        recs = self.recommendations
        while recs:
            ts, rec = recs.popitem()
            if type(rec) is tuple:
                finish, arg = rec
            else:
                finish, arg = rec, None
            start = ts.state
            if start == finish or start == FORGOTTEN:
                continue
            if finish == RELEASED:
                # needed again meanwhile; only a lost result is released while needed
                if (ts.n_waiters or ts.wanted_by is not None) and (start != MEMORY or ts.who_has):
                    continue
            elif finish == WAITING and start == RELEASED:
                if not ts.n_waiters and ts.wanted_by is None:
                    if not ts.dependents:
                        recs[ts] = FORGOTTEN
                    continue
            elif finish == FORGOTTEN:
                if ts.dependents or ts.wanted_by is not None or ts.n_waiters:
                    continue
            self.transition(ts, finish, stim, arg)

    def transition(self, ts: SchedTask, finish: str, stim: str, arg=None) -> None:
        """Move ``ts`` to ``finish`` through ``_TRANSITIONS``; `InvalidTransition` if the table lacks it."""
        start = ts.state
        method = _TRANSITIONS.get((start, finish))
        if method is None:
            raise InvalidTransition(
                f"task {ts.key!r} cannot go from {start!r} to {finish!r} (stimulus {stim!r}); "
                f"this is a bug in graphflow: SchedulerState.story({ts.key!r}) shows how it got there",
                key=ts.key, start=start, finish=finish, stimulus_id=stim)
        method(self, ts, stim, arg)
        if self._logging:
            self.log.append((ts.key, start, finish, stim))
        if (start in ACTIVE) != (finish in ACTIVE):
            self._toggle_active(ts, finish in ACTIVE)

    def _toggle_active(self, ts: SchedTask, active: bool) -> None:
        """Keep ``n_waiters`` of the inputs current; release inputs no active task reads any more."""
        if active:
            for dep in ts.dependencies:
                dep.n_waiters += 1
            return
        recs = self.recommendations
        for dep in ts.dependencies:
            dep.n_waiters -= 1
            if not dep.n_waiters and dep.wanted_by is None:
                state = dep.state
                if state == MEMORY or state in ACTIVE:
                    recs[dep] = RELEASED

    def _enter_waiting(self, ts: SchedTask) -> None:
        ts.state = WAITING
        missing = 0
        error = None
        for dep in ts.dependencies:
            state = dep.state
            if state != MEMORY:
                missing += 1
                if state == ERRED:
                    error = dep.error
        ts.n_waiting_on = missing
        recs = self.recommendations
        if error is not None:
            recs[ts] = (ERRED, error)
        elif missing:
            for dep in ts.dependencies:
                if dep.state == RELEASED:
                    recs[dep] = WAITING  # recompute from lineage
        else:
            recs[ts] = self._ready_target(ts)

    def _enter_memory(self, ts: SchedTask, ev: TaskFinished, stim: str) -> None:
        ws = self.workers[ev.worker]
        if self._memory_deaths:
            self._memory_deaths.pop(ts, None)
        ts.state = MEMORY
        ts.nbytes = ev.nbytes
        ts.type_name = ev.type_name
        self.add_replica(ts, ws, stim)
        recs = self.recommendations
        for dts in ts.dependents:
            if dts.state == WAITING:
                dts.n_waiting_on -= 1
                if not dts.n_waiting_on:
                    recs[dts] = self._ready_target(dts)
        if ts.wanted_by is not None:
            for client in ts.wanted_by:
                self._report_memory(ts, client, ev.inline, stim)
        elif not ts.n_waiters:
            recs[ts] = RELEASED

    def _enter_erred(self, ts: SchedTask, error: tuple, stim: str) -> None:
        ts.state = ERRED
        ts.error = error
        # Dependents fail with this exception: it names the failed task (workers name theirs; this covers ours).
        blame_task(error[0], error[2])
        recs = self.recommendations
        for dts in ts.dependents:
            if dts.state in ACTIVE:
                recs[dts] = (ERRED, error)
        if ts.wanted_by is not None:
            for client in ts.wanted_by:
                self._report_erred(ts, client, stim)
        elif not ts.dependents:
            recs[ts] = FORGOTTEN

    def _enter_released(self, ts: SchedTask) -> None:
        ts.state = RELEASED
        if not ts.dependents and ts.wanted_by is None:
            self.recommendations[ts] = FORGOTTEN

    def _leave_queued(self, ts: SchedTask) -> None:
        self._n_queued -= 1
        if not self._n_queued:  # every heap entry left is stale: drop them now (a released queue kept 100k tasks)
            self.queue = []
            self._heap_len = 0

    def _leave_no_worker(self, ts: SchedTask) -> None:
        del self.no_worker[ts]  # a task held for resources leaves its pool heap lazily (ResourcePool.fill)

    def _transition_released_waiting(self, ts, stim, arg):
        if ts.spec is None or getattr(ts.spec, "__graphflow_actor__", None) == "dead":
            # scattered data has no lineage to recompute from; a dead actor cannot come back
            ts.state = WAITING
            error = lost_scattered(ts.key) if ts.spec is None else ts.spec.error
            self.recommendations[ts] = (ERRED, (error, "", ts.key))
            return
        self._enter_waiting(ts)

    def _transition_released_erred(self, ts, stim, arg):
        self._enter_erred(ts, arg, stim)

    def _transition_released_memory(self, ts, stim, arg):
        self._enter_memory(ts, arg, stim)

    def _transition_released_forgotten(self, ts, stim, arg):
        self._forget(ts)

    def _transition_waiting_queued(self, ts, stim, arg):
        ts.state = QUEUED
        queue = self.queue
        # Appended unordered, put in order by `_fill_slots`: a graph's roots arrive by the thousand in
        # reverse priority (recommendations pop last first), so a push each sifted every one to the top.
        queue.append((ts.priority, next(self._seq), ts))
        self._n_queued += 1
        self._queue_grew = True
        if len(queue) > 2 * self._n_queued + 1000:  # drop entries of tasks that left the queue
            live = {entry[2]: entry for entry in queue if entry[2].state == QUEUED}
            self.queue = list(live.values())
            heapq.heapify(self.queue)
            self._heap_len = len(self.queue)

    def _transition_waiting_processing(self, ts, stim, arg):
        self.assign(ts, arg or policy.decide_worker(ts, self.workers), stim)

    def _transition_waiting_no_worker(self, ts, stim, arg):
        ts.state = NO_WORKER
        self.no_worker[ts] = None
        if ts.resources is not None:
            self.pool.hold(ts)

    def _transition_waiting_released(self, ts, stim, arg):
        self._enter_released(ts)

    def _transition_waiting_erred(self, ts, stim, arg):
        self._enter_erred(ts, arg, stim)

    def _transition_waiting_memory(self, ts, stim, arg):
        self._enter_memory(ts, arg, stim)

    def _transition_queued_processing(self, ts, stim, arg):
        self._leave_queued(ts)
        self.assign(ts, arg or policy.decide_worker(ts, self.workers), stim)

    def _transition_queued_waiting(self, ts, stim, arg):
        self._leave_queued(ts)
        self._enter_waiting(ts)

    def _transition_queued_released(self, ts, stim, arg):
        self._leave_queued(ts)
        self._enter_released(ts)

    def _transition_queued_erred(self, ts, stim, arg):
        self._leave_queued(ts)
        self._enter_erred(ts, arg, stim)

    def _transition_queued_memory(self, ts, stim, arg):
        self._leave_queued(ts)
        self._enter_memory(ts, arg, stim)

    def _transition_no_worker_processing(self, ts, stim, arg):
        self._leave_no_worker(ts)
        self.assign(ts, arg or policy.decide_worker(ts, self.workers), stim)

    def _transition_no_worker_waiting(self, ts, stim, arg):
        self._leave_no_worker(ts)
        self._enter_waiting(ts)

    def _transition_no_worker_released(self, ts, stim, arg):
        self._leave_no_worker(ts)
        self._enter_released(ts)

    def _transition_no_worker_erred(self, ts, stim, arg):
        self._leave_no_worker(ts)
        self._enter_erred(ts, arg, stim)

    def _transition_no_worker_memory(self, ts, stim, arg):
        self._leave_no_worker(ts)
        self._enter_memory(ts, arg, stim)

    def _transition_processing_memory(self, ts, stim, arg):
        on = ts.processing_on
        if on.address == arg.worker:
            if arg.stop > arg.start:
                ts.prefix.record(arg.stop - arg.start)
        else:  # another worker finished first: cancel the copy still running
            self.free_on_worker(on, ts.key, stim)
        self.exit_processing(ts)
        self._enter_memory(ts, arg, stim)

    def _transition_processing_waiting(self, ts, stim, arg):
        self.free_on_worker(self.exit_processing(ts), ts.key, stim)
        self._enter_waiting(ts)

    def _transition_processing_released(self, ts, stim, arg):
        self.free_on_worker(self.exit_processing(ts), ts.key, stim)
        self._enter_released(ts)

    def _transition_processing_erred(self, ts, stim, arg):
        self.free_on_worker(self.exit_processing(ts), ts.key, stim)
        self._enter_erred(ts, arg, stim)

    def _transition_memory_released(self, ts, stim, arg):
        """Drop a result: freed when unneeded, or lost with its last worker (then recomputed if needed)."""
        ts.state = RELEASED
        for ws in ts.who_has:
            ws.has_what.discard(ts)
            ws.nbytes -= ts.nbytes
            self.free_on_worker(ws, ts.key, stim)
        ts.who_has = ()
        recs = self.recommendations
        for dts in ts.dependents:
            state = dts.state
            if state == WAITING:
                dts.n_waiting_on += 1
            elif state == PROCESSING or state == QUEUED or state == NO_WORKER:
                recs[dts] = WAITING
        if ts.wanted_by is not None:
            for client in ts.wanted_by:
                self._out_other.append(KeyReport(stim, client, ts.key, "lost"))
        if ts.n_waiters or ts.wanted_by is not None:
            recs[ts] = WAITING
        elif not ts.dependents:
            recs[ts] = FORGOTTEN

    def _transition_erred_forgotten(self, ts, stim, arg):
        self._forget(ts)

    def _forget(self, ts: SchedTask) -> None:
        ts.state = FORGOTTEN
        del self.tasks[ts.key]
        self.actors.forget(ts.key)
        if self._memory_deaths:
            self._memory_deaths.pop(ts, None)
        recs = self.recommendations
        for dep in ts.dependencies:
            drop_dependent(dep, ts)
            if not dep.dependents and dep.wanted_by is None and (dep.state == RELEASED or dep.state == ERRED):
                recs[dep] = FORGOTTEN

    # ------------------------------------------------------------ validation

    def validate_state(self) -> None:
        """Check every invariant; raise AssertionError naming the key and what is wrong."""
        validate_scheduler_state(self)


_TRANSITIONS = {
    (RELEASED, WAITING): SchedulerState._transition_released_waiting,
    (RELEASED, ERRED): SchedulerState._transition_released_erred,
    (RELEASED, MEMORY): SchedulerState._transition_released_memory,
    (RELEASED, FORGOTTEN): SchedulerState._transition_released_forgotten,
    (WAITING, QUEUED): SchedulerState._transition_waiting_queued,
    (WAITING, PROCESSING): SchedulerState._transition_waiting_processing,
    (WAITING, NO_WORKER): SchedulerState._transition_waiting_no_worker,
    (WAITING, RELEASED): SchedulerState._transition_waiting_released,
    (WAITING, ERRED): SchedulerState._transition_waiting_erred,
    (WAITING, MEMORY): SchedulerState._transition_waiting_memory,
    (QUEUED, PROCESSING): SchedulerState._transition_queued_processing,
    (QUEUED, WAITING): SchedulerState._transition_queued_waiting,
    (QUEUED, RELEASED): SchedulerState._transition_queued_released,
    (QUEUED, ERRED): SchedulerState._transition_queued_erred,
    (QUEUED, MEMORY): SchedulerState._transition_queued_memory,
    (NO_WORKER, PROCESSING): SchedulerState._transition_no_worker_processing,
    (NO_WORKER, WAITING): SchedulerState._transition_no_worker_waiting,
    (NO_WORKER, RELEASED): SchedulerState._transition_no_worker_released,
    (NO_WORKER, ERRED): SchedulerState._transition_no_worker_erred,
    (NO_WORKER, MEMORY): SchedulerState._transition_no_worker_memory,
    (PROCESSING, MEMORY): SchedulerState._transition_processing_memory,
    (PROCESSING, WAITING): SchedulerState._transition_processing_waiting,
    (PROCESSING, RELEASED): SchedulerState._transition_processing_released,
    (PROCESSING, ERRED): SchedulerState._transition_processing_erred,
    (MEMORY, RELEASED): SchedulerState._transition_memory_released,
    (ERRED, FORGOTTEN): SchedulerState._transition_erred_forgotten,
}
