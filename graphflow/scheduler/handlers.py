"""What each scheduler event does: one function per event type, all listed in ``HANDLERS``.

A handler reads one event, updates the records it concerns and states what
should happen next, as direct transitions or as ``state.recommendations``;
`SchedulerState.handle` then runs the recommendations, fills free worker
slots and steals.  Handlers use the public members of `SchedulerState` that
the shell does not (`transition`, `note`, `emit`, ...), never its underscored
ones.

``HANDLERS`` is the scheduler's whole event table, built here once: the
events of this module, of actors (`graphflow.scheduler.actors`), of
retirement (`graphflow.scheduler.retire`) and of seceded tasks
(`graphflow.scheduler.longrunning`).  Nothing adds to it later, so what
`SchedulerState` does never depends on which modules were imported; a new
event is a new line in it.

Worked example, worker ``W`` dies while running ``b = inc(a)`` and holding
``a`` (``b`` wanted by client ``C``, worker ``V`` still alive)::

    worker_left(W, expected=False)
        a: memory -> released      only W held it; b still needs it
        b: strike 1 (suspicious), recommended waiting
        a: released -> waiting -> queued -> processing on V   (lineage)
        b: processing -> waiting   n_waiting_on 1 (a)
    -> AssignTasks(V, [a]); b runs once a is back in memory

A stale event (a result from a worker that no longer runs the task, an
answer to a steal that was overtaken) changes nothing it should not: it is
logged as a note, and a worker holding an unwanted result is told to free it.
"""

from __future__ import annotations

from ..errors import CycleError, MissingDependencyError, blame_task
from ..utils.cycles import find_cycle
from ..utils.gcpause import no_gc
from .events import (
    ClientCancelsKeys, ClientJoined, RetryKeys, ClientLeft, ClientReleasesKeys, RetireWorker, Heartbeat, KeyReport,
    KeysScattered, MissingData, StealResponse, TaskErred, TaskFinished, Tick, UpdateGraph, WorkerJoined, WorkerLeft,
)
from .actors import ActorCheckpointed, ActorHosted, ActorLog, actor_checkpointed, actor_hosted, actor_log
from .model import (
    ACTIVE, ERRED, FORGOTTEN, MEMORY, RELEASED, WAITING, SchedTask, SchedWorker, add_dependent, drop_dependent,
)
from .replicate import RebalanceRequested, ReplicateRequested, rebalance, replicate
from .restrictions import resolve, worker_joined as restrictions_worker_joined
from .longrunning import TasksLongRunning, tasks_long_running
from .retire import RetireWorkers, WorkerAsksToRetire, retire_workers, worker_asks_to_retire

__all__ = ["HANDLERS", "USER_PRIORITY_STEP"]

USER_PRIORITY_STEP = 1 << 40  # generations one unit of a user's priority= outranks


def update_graph(s, ev: UpdateGraph) -> None:
    """New tasks start released; wanted keys pull what they need to waiting, the rest is forgotten.

    New tasks that read each other in a circle would wait forever: such a
    submission is refused whole (`_refuse_cycle`), checked at one set lookup
    per edge when every task comes after its new inputs (as clients send them).

    A big graph goes in, and its first recommendations run, with the cyclic
    collector paused: each of its passes would walk every task already held,
    so with it on, taking in 300k tasks spent 40% of its time collecting and
    the cost per task grew with the graph.  Nothing here makes garbage cycles.
    """
    if len(ev.specs) < _BULK:
        return _update_graph(s, ev)
    with no_gc():
        _update_graph(s, ev)
        s.run_recommendations(ev.stimulus_id)


_BULK = 2_000  # tasks in one submission from which the collector is paused while they go in


def _update_graph(s, ev: UpdateGraph) -> None:
    s.generation += 1
    gen = s.generation
    client, stim = ev.client, ev.stimulus_id
    s.add_client(client)
    tasks = s.tasks
    prios, retries, restrictions, wants_resources = ev.priorities, ev.retries, ev.restrictions, ev.resources
    new = []
    for key, spec in ev.specs.items():
        if key in tasks:
            continue  # known key: keep its state, spec and result
        ts = tasks[key] = SchedTask(key, spec, s.prefix(key), (gen, prios.get(key, 0)))
        if ev.user_priority and ev.user_priority.get(key):
            # a user's priority= outranks the generation (higher first): each unit moves it 2**40 graphs earlier
            ts.priority = (gen - int(ev.user_priority[key]) * USER_PRIORITY_STEP, prios.get(key, 0))
        if retries:
            ts.retries = retries.get(key, 0)
        if restrictions and restrictions.get(key):
            ts.restrictions = resolve(s, restrictions[key])
            ts.loose = key in ev.loose
        if wants_resources and wants_resources.get(key):
            ts.resources = wants_resources[key]
        new.append(ts)
    broken, in_order = _link(s, new, ev.dependencies)
    if not in_order:  # some task reads a new key listed after it: a cycle is possible, look for one
        cycle = find_cycle({ts: ts.dependencies for ts in new})
        if cycle is not None:
            return _refuse_cycle(s, ev, new, [ts.key for ts in cycle])
    for ts, missing in broken:
        if ts.state == RELEASED:  # a task missing two inputs is listed twice
            s.transition(ts, ERRED, stim, (_missing_dependency(ts.key, missing), "", ts.key))
    for key in ev.wanted:
        ts = tasks.get(key)
        if ts is None:
            s.emit(KeyReport(stim, client, key, "erred", exception=_unknown_key(key)))
        else:
            s.want(ts, client, stim)
    recs = s.recommendations
    for ts in new:
        if ts.state == RELEASED and not ts.dependents and ts.wanted_by is None:
            recs[ts] = FORGOTTEN  # submitted but wanted by nobody


def _link(s, new: list, dependencies: dict) -> tuple:
    """Connect new tasks to their inputs.

    Returns ``(task, missing key)`` for inputs nobody knows, and whether every
    task came after the new tasks it reads -- the proof that the new part has
    no cycle, checked here at one set lookup per edge (`find_cycle` looks
    closer when it fails).
    """
    tasks = s.tasks
    broken = []
    unlinked = set(new)
    in_order = True
    for ts in new:
        dkeys = dependencies.get(ts.key)
        if dkeys:
            deps = []
            for dk in (dkeys if len(dkeys) == 1 else dict.fromkeys(dkeys)):
                dts = tasks.get(dk)
                if dts is None:
                    broken.append((ts, dk))
                else:
                    deps.append(dts)
                    add_dependent(dts, ts)
                    if dts in unlinked:  # listed after ts, or ts itself
                        in_order = False
            ts.dependencies = tuple(deps)
        unlinked.discard(ts)
    return broken, in_order


def _refuse_cycle(s, ev: UpdateGraph, new: list, cycle: list) -> None:
    """Take none of a cyclic submission's new tasks; its wanted new keys err with `CycleError` at once.

    Its keys the scheduler already held are wanted as usual: they cannot depend on the new ones.
    """
    for ts in new:
        for dts in ts.dependencies:
            drop_dependent(dts, ts)
        del s.tasks[ts.key]
    error = blame_task(CycleError.along(cycle), cycle[0])
    s.note(cycle[0], "cycle-refused", cycle, ev.stimulus_id)
    refused = {ts.key for ts in new}
    for key in ev.wanted:
        if key in refused:
            s.emit(KeyReport(ev.stimulus_id, ev.client, key, "erred", exception=error))
        else:
            ts = s.tasks.get(key)
            if ts is not None:
                s.want(ts, ev.client, ev.stimulus_id)
            else:
                s.emit(KeyReport(ev.stimulus_id, ev.client, key, "erred", exception=_unknown_key(key)))


def client_releases_keys(s, ev: ClientReleasesKeys) -> None:
    """The client drops its futures; what nobody needs any more is released, then forgotten."""
    for key in ev.keys:
        ts = s.tasks.get(key)
        if ts is not None:
            s.unwant(ts, ev.client)


def client_cancels_keys(s, ev: ClientCancelsKeys) -> None:
    """Cancel keys and, transitively, their dependents: for the asking client, or with ``force`` for every
    client that wanted any of them.  What nobody wants any more is released (a running task stops)."""
    stack = [s.tasks[k] for k in ev.keys if k in s.tasks]
    seen = {}
    while stack:
        ts = stack.pop()
        if ts not in seen:
            seen[ts] = None
            stack.extend(ts.dependents)
    for ts in seen:
        if ts.wanted_by is not None:
            for client in sorted(ts.wanted_by):
                if ev.force or client == ev.client:
                    s.emit(KeyReport(ev.stimulus_id, client, ts.key, "cancelled"))
                    s.wants[client].discard(ts)
                    ts.wanted_by.discard(client)
            if not ts.wanted_by:
                ts.wanted_by = None
    for ts in seen:
        s.maybe_release(ts)


def retry_keys(s, ev: RetryKeys) -> None:
    """Erred keys run again, with the erred tasks around them (those they read, those that read them).

    An erred task only leaves ``erred`` by being forgotten, so the group is
    forgotten and submitted afresh, under the same keys, specs, priorities and
    restrictions, wanted by the clients that wanted it (`update_graph`); its
    inputs in memory are kept.  Scattered keys (no spec) cannot rerun and stay erred.
    """
    tasks, stim = s.tasks, ev.stimulus_id
    group: dict = {}
    stack = [tasks[k] for k in ev.keys if k in tasks]
    while stack:
        ts = stack.pop()
        if ts in group or ts.state != ERRED or ts.spec is None:
            continue
        group[ts] = None
        stack.extend(ts.dependencies)
        stack.extend(ts.dependents)
    if not group:
        return
    saved = [(ts.key, ts.spec, tuple(d.key for d in ts.dependencies), ts.priority[1], ts.restrictions,
              sorted(ts.wanted_by or ())) for ts in sorted(group, key=lambda t: t.priority)]
    for ts in group:
        for client in list(ts.wanted_by or ()):
            s.unwant(ts, client)
    for ts in group:
        s.recommendations.pop(ts, None)
        s.transition(ts, FORGOTTEN, stim)
    wanted = {}
    for key, *_, clients in saved:
        for client in clients:
            wanted.setdefault(client, []).append(key)
    first = ev.client if ev.client in wanted or not wanted else next(iter(wanted))
    update_graph(s, UpdateGraph(stim, first, {k: spec for k, spec, *_ in saved}, {k: d for k, _, d, *_ in saved},
                                {k: p for k, _, _, p, *_ in saved}, wanted.pop(first, []), {},
                                {k: r for k, _, _, _, r, _ in saved if r}))
    for client, keys in wanted.items():
        for key in keys:
            s.want(tasks[key], client, stim)
    for dts in list(s.recommendations):  # inputs the forgetting let go of are needed again
        if s.recommendations[dts] == FORGOTTEN and (dts.dependents or dts.wanted_by is not None):
            del s.recommendations[dts]


def client_joined(s, ev: ClientJoined) -> None:
    s.add_client(ev.client)


def client_left(s, ev: ClientLeft) -> None:
    """Release everything the client wanted."""
    for ts in list(s.wants.get(ev.client, ())):
        s.unwant(ts, ev.client)
    s.wants.pop(ev.client, None)
    s.clients.discard(ev.client)


def worker_joined(s, ev: WorkerJoined) -> None:
    """Register a worker; tasks that had no allowed worker are placed (queued ones when slots are filled)."""
    old = s.workers.get(ev.worker)
    if old is not None:  # the same address again: the old process is gone
        s.remove_worker(old, False, ev.stimulus_id, "rejoined")
    ws = s.workers[ev.worker] = SchedWorker(ev.worker, ev.nthreads, ev.memory_limit, ev.now, ev.name,
                                            ev.resources)
    s.total_nthreads += ws.nthreads
    s.update_memory_cap()
    s.dirty_workers.add(ws)
    restrictions_worker_joined(s, ws)  # names and hosts it matches; what it may run now


def worker_left(s, ev: WorkerLeft) -> None:
    """A clean exit or a death: see `SchedulerState.remove_worker`."""
    ws = s.workers.get(ev.worker)
    if ws is not None:
        why = "left" if ev.expected else ("out of memory" if ev.memory else "died")
        s.remove_worker(ws, not ev.expected, ev.stimulus_id, why, ev.memory)


def heartbeat(s, ev: Heartbeat) -> None:
    """The worker is alive; remember what it reports."""
    ws = s.workers.get(ev.worker)
    if ws is None:  # declared dead (e.g. timed out) but still talking: make it restart cleanly
        s.emit(RetireWorker(ev.stimulus_id, ev.worker))
        return
    ws.last_seen = max(ws.last_seen, ev.now)
    ws.memory = ev.memory
    ws.executing = ev.executing
    ws.spilled = ev.spilled
    ws.shared = ev.shared
    ws.rss = ev.rss
    short_now = ev.spill_error and not ws.spill_error  # runs what fits: takes root tasks if no one else can
    if (ws.paused and not ev.paused) or (ws.over_target and not ev.over_target) or short_now:
        s.dirty_workers.add(ws)  # may take queued work again
    ws.paused = ev.paused
    ws.over_target = ev.over_target
    ws.spill_error = ev.spill_error


def tick(s, ev: Tick) -> None:
    """Remove silent workers, refresh occupancies, let idle workers steal, time out tasks nobody may run."""
    for ws in list(s.workers.values()):
        if ev.now - ws.last_seen > s.heartbeat_timeout:
            s.remove_worker(ws, True, ev.stimulus_id, "heartbeat-timeout")
    # durations learnt since tasks were placed make old estimates stale
    for ws in s.workers.values():
        total = 0.0
        procs = ws.processing
        for ts in procs:
            procs[ts] = cost = s.cost(ts, ws)
            total += cost
        ws.occupancy = total
    s.dirty_workers.update(s.workers.values())
    s.placement.tick(s, ev.now, ev.stimulus_id)  # tasks no connected worker may run err after a while


def task_finished(s, ev: TaskFinished) -> None:
    """A result exists on ``ev.worker``: taken whenever the task still needs computing, else freed there."""
    ws = s.workers.get(ev.worker)
    stim = ev.stimulus_id
    if ws is None:
        s.note(ev.key, "stale-finished", ev.worker, stim)
        return
    ts = s.tasks.get(ev.key)
    state = ts.state if ts is not None else FORGOTTEN
    if state in ACTIVE:  # from its worker, or from one that ran it before it moved: a result is a result
        s.transition(ts, MEMORY, stim, ev)
    elif state == MEMORY:
        if ws not in ts.who_has:
            s.add_replica(ts, ws, stim)
            if s.moves.pending:  # a copy client.rebalance asked for: its giver may drop its own
                s.moves.landed(s, ts, ws, stim)
    else:  # nobody needs it (released, erred or forgotten): let the worker drop it
        s.note(ev.key, "stale-finished", ev.worker, stim)
        s.free_on_worker(ws, ev.key, stim)


def task_erred(s, ev: TaskErred) -> None:
    """Retry while retries are left, else err the task and every active dependent."""
    ws = s.workers.get(ev.worker)
    ts = s.tasks.get(ev.key)
    stim = ev.stimulus_id
    if ws is None or ts is None or ts.processing_on is not ws:
        s.note(ev.key, "stale-erred", ev.worker, stim)
        if ws is not None and (ts is None or ws not in ts.who_has):
            s.free_on_worker(ws, ev.key, stim)
        return
    if ts.retries > 0:
        ts.retries -= 1
        s.transition(ts, WAITING, stim)
    else:
        s.transition(ts, ERRED, stim, (ev.exception, ev.traceback, ts.key))


def missing_data(s, ev: MissingData) -> None:
    """``ev.holder`` did not have ``ev.missing``: correct who_has (recompute if no copy is left), rerun the task."""
    stim = ev.stimulus_id
    mts = s.tasks.get(ev.missing)
    holder = s.workers.get(ev.holder)
    if mts is not None and holder is not None and holder in mts.who_has:
        s.remove_replica(mts, holder)
        if not mts.who_has:
            s.transition(mts, RELEASED, stim)  # lost: recomputed if still needed
    ts = s.tasks.get(ev.key)
    ws = s.workers.get(ev.worker)
    if ts is not None and ws is not None and ts.processing_on is ws:
        s.recommendations[ts] = WAITING  # resent with fresh who_has once its inputs are in memory


def steal_response(s, ev: StealResponse) -> None:
    """Move a released task to its thief; a refusal or an answer overtaken by events changes nothing."""
    ts = s.tasks.get(ev.key)
    stim = ev.stimulus_id
    rec = s.steals.get(ts) if ts is not None else None
    if rec is None or rec[0].address != ev.worker or ts.processing_on is not rec[0]:
        s.note(ev.key, "stale-steal-response", ev.worker, stim)
        return
    del s.steals[ts]
    victim, thief = rec
    if not ev.released:
        s.note(ts.key, "steal-refused", victim.address, stim)
        return
    allowed = ts.restrictions is None or thief.address in ts.restrictions
    if s.workers.get(thief.address) is thief and allowed:
        # a move between workers, not a state change: the task stays processing
        s.exit_processing(ts)
        s.assign(ts, thief, stim)
        s.note(ts.key, "stolen", f"{victim.address}->{thief.address}", stim)
    else:
        s.transition(ts, WAITING, stim)


def keys_scattered(s, ev: KeysScattered) -> None:
    """A client put data on a worker: those keys are in memory there, wanted by that client, without lineage."""
    ws = s.workers.get(ev.worker)
    stim = ev.stimulus_id
    if ws is None:
        s.note(ev.worker, "scatter-to-unknown-worker", list(ev.nbytes), stim)
        return
    s.add_client(ev.client)
    for key, nbytes in ev.nbytes.items():
        ts = s.tasks.get(key)
        if ts is None:
            ts = s.tasks[key] = SchedTask(key, None, s.prefix(key), (s.generation, 0))
        state = ts.state
        if state == MEMORY:
            if ws not in ts.who_has:
                s.add_replica(ts, ws, stim)
            s.want(ts, ev.client, stim)
        elif state == ERRED:
            s.want(ts, ev.client, stim)
            s.free_on_worker(ws, key, stim)
        else:
            s.add_want(ts, ev.client)
            s.transition(ts, MEMORY, stim, TaskFinished(stim, ev.worker, key, nbytes))


def _unknown_key(key) -> MissingDependencyError:
    return MissingDependencyError(
        f"key {key!r} is not known to the scheduler: it was never submitted or has been released; "
        f"submit its computation again", key=key, missing=key)


def _missing_dependency(key, missing) -> MissingDependencyError:
    return MissingDependencyError(
        f"task {key!r} depends on {missing!r}, which is neither in the submitted graph nor held by the "
        f"scheduler (it was released, or never submitted): submit it together with {key!r}, or keep a "
        f"future to it while it is needed", key=key, missing=missing)


HANDLERS = {
    UpdateGraph: update_graph,
    ClientReleasesKeys: client_releases_keys,
    ClientCancelsKeys: client_cancels_keys,
    RetryKeys: retry_keys,
    ClientJoined: client_joined,
    ClientLeft: client_left,
    WorkerJoined: worker_joined,
    WorkerLeft: worker_left,
    Heartbeat: heartbeat,
    Tick: tick,
    TaskFinished: task_finished,
    TaskErred: task_erred,
    MissingData: missing_data,
    StealResponse: steal_response,
    KeysScattered: keys_scattered,
    # actors.py
    ActorHosted: actor_hosted,
    ActorLog: actor_log,
    ActorCheckpointed: actor_checkpointed,
    # retire.py
    RetireWorkers: retire_workers,
    WorkerAsksToRetire: worker_asks_to_retire,
    # replicate.py
    ReplicateRequested: replicate,
    RebalanceRequested: rebalance,
    # longrunning.py
    TasksLongRunning: tasks_long_running,
}
