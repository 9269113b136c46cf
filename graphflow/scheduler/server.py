"""The scheduler process: a tornado IOLoop and a zmq ROUTER socket around a `SchedulerState`.

The shell does I/O only.  Every message from a peer becomes an event for the
pure `SchedulerState`; every command the state returns becomes a message to
a worker or a client.  Commands produced while handling one burst of
messages are sent in one zmq message per peer (``flush``), so ten thousand
ready tasks reach a worker as a handful of sends.

Who is who: a worker introduces itself with `RegisterWorker` (its peer
address becomes its name), a client with `RegisterClient`; before that, a peer
may send nothing else.  Every message was authenticated by the transport
before it was deserialized.

Liveness: the transport's disconnect notice removes a killed worker or
client at once (and one whose host vanished, when the transport's own
heartbeats -- answered by libzmq's I/O thread, off every Python loop -- stop).
Workers also heartbeat every ``heartbeat_interval``; a worker silent for
``heartbeat_timeout`` is logged as unresponsive (once), and a `Tick` every
``tick_interval`` lets the state drop workers silent for longer than
``heartbeat_timeout`` over ``inproc://`` (no disconnect notices there), or
``scheduler.wedged_after`` (`WEDGED_AFTER` by default) over tcp/ipc: there, silence on a live
connection means a busy worker (a task holding the GIL in a long C call), not a dead one.  That
silence is measured on the scheduler's *liveness clock* (`clock`), which
stands still while the scheduler's own loop is stalled (taking in a graph of
a million tasks can take half a minute): a worker is not dead because the
scheduler was too busy to read its heartbeats.  Clients ping; a client is only dropped for silence (after
``client_timeout``) over ``inproc://``, where no disconnect is ever noticed:
over tcp a client busy pickling a huge graph is alive while its connection
is.  A lost client is one WARNING line naming it (one that says goodbye,
INFO), and its keys are released.

    $ graphflow scheduler --port 8786
    graphflow scheduler at tcp://127.0.0.1:8786
"""

from __future__ import annotations

import itertools
import logging
import os
import time

from ..comm import messages as wire
from ..comm.batching import batch_of, fold_key_status, unfold_task_done
from ..comm.salvage import missing_in, task_exception
from ..comm.transport import Listener
from ..errors import GraphflowError
from . import actors, longrunning, policy, replicate, restrictions, retire
from . import events as ev
from .extensions import ANSWERS as _EXTENSION_ANSWERS, Extensions
from .progress import ProgressBoard
from .snapshot import Diagnostics
from .state import SchedulerState
from .trim import COMPACT, TRIM, Trimmer, compact, trim

logger = logging.getLogger("graphflow.scheduler")

__all__ = ["Scheduler"]

WEDGED_AFTER = 300.0  # seconds: the default of scheduler.wedged_after (silent this long on a live connection: wedged)

# Wire messages (graphflow.comm.messages) as events of the state machine.  A peer speaks only for itself:
# the worker or client a message names is the one the shell knows sent it, never a field of the message.
_FROM_WORKER = {
    wire.TaskFailed: lambda w, m, now: ev.TaskErred(m.stimulus_id, w, m.key, m.exception, m.traceback, m.start,
                                                    m.stop, m.thread),
    wire.DepMissing: lambda w, m, now: ev.MissingData(m.stimulus_id, w, m.key, m.missing, m.holder),
    wire.StealAnswer: lambda w, m, now: ev.StealResponse(m.stimulus_id, w, m.key, m.released),
    wire.WorkerStatus: lambda w, m, now: ev.Heartbeat("heartbeat", w, now, m.memory, m.executing, m.spilled, m.rss,
                                                      m.paused, m.over_target, m.shared, m.cpu,
                                                      m.spill_error),
    wire.ActorUp: lambda w, m, now: actors.ActorHosted("actor-hosted", w, m.actor, m.incarnation),
    wire.ActorCheckpoint: lambda w, m, now: actors.ActorCheckpointed("actor-checkpoint", w, m.actor, m.incarnation,
                                                                     m.state, m.hw, m.results),
    wire.LongRunning: lambda w, m, now: longrunning.TasksLongRunning(m.stimulus_id, w, m.keys),
    wire.RetireMe: lambda w, m, now: retire.WorkerAsksToRetire("lifetime", w, now, _retire_timeout()),
}
_FROM_CLIENT = {
    wire.SubmitGraph: lambda c, m: ev.UpdateGraph(m.stimulus_id, c, m.specs, m.dependencies, m.priorities, m.wanted,
                                                  m.retries, m.restrictions, m.resources, m.loose,
                                                  m.user_priority),
    wire.DropKeys: lambda c, m: ev.ClientReleasesKeys(m.stimulus_id, c, m.keys),
    wire.CancelKeys: lambda c, m: ev.ClientCancelsKeys(m.stimulus_id, c, m.keys, m.force),
    wire.ActorCallLog: lambda c, m: actors.ActorLog(m.stimulus_id, c, m.actor, m.caller, m.incarnation, m.calls,
                                                    m.first, m.last),
}


class Scheduler:
    """The scheduler shell; `start` binds, `run_forever` serves until `close`.

    ``address``: ``tcp://HOST:PORT`` (port 0 picks one) or ``inproc://NAME``.
    ``token``: the cluster secret (bytes), or None to accept anyone (tests only).
    """

    def __init__(self, address: str = "tcp://127.0.0.1:8786", token: bytes | None = None, *,
                 heartbeat_interval: float = 0.5, heartbeat_timeout: float = 5.0,
                 client_timeout: float = 30.0, tick_interval: float = 0.25, validate: bool = False,
                 allowed_failures: int | None = None, loop=None):
        from .. import config

        self.requested_address = address
        self.token = token
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.client_timeout = client_timeout
        self.tick_interval = tick_interval
        if allowed_failures is None:
            allowed_failures = config.get("scheduler.allowed_failures")
        # Over tcp/ipc a dead worker's connection closes (the transport's own heartbeats, answered off every
        # Python loop, catch a vanished host): silence alone only removes a worker wedged that long.
        wedged = config.get("scheduler.wedged_after", WEDGED_AFTER)
        dead_after = heartbeat_timeout if address.startswith("inproc://") else max(heartbeat_timeout, wedged)
        self.state = SchedulerState(heartbeat_timeout=dead_after, validate=validate,
                                    allowed_failures=allowed_failures,
                                    no_worker_timeout=config.get("scheduler.no_worker_timeout"))
        self.diagnostics = Diagnostics(self)  # task stream, memory history, dashboard snapshots
        self.progress = ProgressBoard()  # per-prefix counters for gf.progress
        self.loop = loop
        self.listener: Listener | None = None
        self.peer_of: dict = {}  # worker address or client id -> zmq routing id
        self.name_of: dict = {}  # zmq routing id -> ("worker" | "client", name)
        self.client_seen: dict = {}
        self.worker_pid: dict = {}
        self.worker_name: dict = {}
        self.dashboard = None  # set by whoever starts a dashboard on it (graphflow.deploy.scheduler_process)
        self.tasks_executed = 0
        self.started = time.time()
        self._stimulus = itertools.count()
        self._outbox: dict = {}
        self._events: list = []
        self._process_scheduled = False
        self._trimmer = Trimmer()  # memory back to the OS after a large release (scheduler/trim.py)
        self._deferred: dict = {}  # request id -> Deferred: RPC answers that wait for the state (retirements)
        self._deferred_ids = itertools.count(1)
        self._timers: list = []
        self._closed = False
        self._stalled = 0.0  # seconds this scheduler's loop was too busy to listen, summed (see `clock`)
        self._last_tick: float | None = None
        self._silent: set = set()  # workers logged as unresponsive, until they are heard again
        self.extensions = Extensions(self, Deferred)  # run, plugins, datasets, primitives

    # ------------------------------------------------------------------ lifecycle

    @property
    def address(self) -> str:
        return self.listener.address

    def start(self) -> "Scheduler":
        """Bind the socket and start the periodic tick (on the current IOLoop)."""
        from tornado.ioloop import IOLoop, PeriodicCallback

        self.loop = self.loop or IOLoop.current()
        self.listener = Listener(self.requested_address, self.token, self._on_message, loop=self.loop,
                                 on_auth_failure=self._on_auth_failure, on_disconnect=self._on_disconnect)
        self.listener.on_drained = self._process
        self.listener.repair = _repair
        tick = PeriodicCallback(self._tick, self.tick_interval * 1000)
        tick.start()
        self._timers.append(tick)
        self.diagnostics.start()
        logger.info("graphflow scheduler at %s", self.address)
        return self

    def close(self, reason: str = "the scheduler was closed") -> None:
        """Tell workers and clients, then close the socket."""
        if self._closed:
            return
        self._closed = True
        for timer in self._timers:
            timer.stop()
        self.diagnostics.close()
        self.extensions.close()
        for peer in list(self.name_of):
            self._send(peer, wire.SchedulerClosing(reason))
        self._flush()
        self.listener.close()

    # ------------------------------------------------------------------ receiving

    def _on_message(self, peer: bytes, msg) -> None:
        try:
            self._dispatch(peer, msg)
        except GraphflowError as exc:
            logger.error("scheduler: bad message %s from %r: %s", type(msg).__name__, self.name_of.get(peer), exc)
        except Exception:  # a bug here must not take the whole cluster down
            logger.exception("scheduler: error handling %s from %r", type(msg).__name__, self.name_of.get(peer))

    def _dispatch(self, peer: bytes, msg) -> None:
        known = self.name_of.get(peer)
        if isinstance(msg, wire.RegisterWorker):
            return self._register_worker(peer, msg)
        if isinstance(msg, wire.RegisterClient):
            return self._register_client(peer, msg)
        if known is None:
            logger.warning("scheduler: %s from a peer that has not registered; ignored", type(msg).__name__)
            return
        role, name = known
        if isinstance(msg, wire.Goodbye):
            logger.info("scheduler: %s %s is leaving: %s", role, name, msg.reason)
            if role == "client":
                return self._forget_peer(peer, expected=True)
            return self._forget_peer(peer, expected=msg.memory is None, memory=msg.memory)
        if role == "worker" and type(msg) is wire.TasksDone:
            return self._tasks_done(name, msg)
        if role == "worker" and type(msg) is wire.TaskDone:  # a lone report: a batch of one, one path for both
            return self._tasks_done(name, batch_of([msg]))
        if role == "worker" and type(msg) in _FROM_WORKER:
            event = _FROM_WORKER[type(msg)](name, msg, self.clock())
            kind = type(event)
            if kind is ev.Heartbeat:
                self._send(peer, wire.HeartbeatAck())
                self.diagnostics.heartbeat(event)
            elif kind is ev.TaskErred:
                self.extensions.task_done(event.key, "erred")
                self.diagnostics.task_done(event)
            self._feed(event)
        elif role == "client" and type(msg) in _FROM_CLIENT:
            self.client_seen[name] = self.clock()
            self._feed(_FROM_CLIENT[type(msg)](name, msg))
        elif role == "client" and isinstance(msg, wire.Ping):
            self.client_seen[name] = self.clock()
            self._send(peer, wire.HeartbeatAck(msg.sent))
        elif role == "client" and isinstance(msg, wire.Rpc):
            self.client_seen[name] = self.clock()
            self._rpc(peer, name, msg)
        elif isinstance(msg, wire.Unreadable):  # sent by design only loadable things: say what was not
            for kind, _, keys, error, _ in msg.messages:
                logger.error("scheduler: %s %s could not load a %s we sent (keys %s): %s", role, name, kind,
                             keys[:5], error)
        else:
            logger.warning("scheduler: unexpected %s from %s %s; ignored", type(msg).__name__, role, name)

    def _tasks_done(self, worker: str, msg: wire.TasksDone) -> None:
        """A worker's batch of finished tasks: one `TaskFinished` event each, diagnostics once per batch."""
        stim = msg.stimulus_id
        events = [ev.TaskFinished(stim, worker, key, nbytes, type_name, start, stop, inline, thread)
                  for key, nbytes, type_name, start, stop, thread, inline in unfold_task_done(msg)]
        self.extensions.tasks_done(msg.keys, "memory")
        ran = [event for event in events if event.stop]  # start == stop == 0: a copy or a re-report
        self.tasks_executed += len(ran)
        self.diagnostics.tasks_done(ran)
        self._feed(*events)

    def _register_worker(self, peer: bytes, msg: wire.RegisterWorker) -> None:
        old = self.peer_of.get(msg.address)
        if old is not None and old != peer:
            self._forget_peer(old, expected=False)
        self.peer_of[msg.address] = peer
        self.name_of[peer] = ("worker", msg.address)
        self._send(peer, wire.Welcome(self.address, self.heartbeat_interval, self.heartbeat_timeout,
                                      self.extensions.worker_setup()))
        name = self._unique_name(msg.name, msg.address)
        self.extensions.peer_joined("worker", msg.address)
        self._feed(ev.WorkerJoined(self._stim("worker-joined"), msg.address, msg.nthreads, msg.memory_limit,
                                   self.clock(), name, msg.resources))
        self.worker_pid[msg.address] = msg.pid
        self.worker_name[msg.address] = name  # the launcher's name for it (Cluster.scale matches on it)
        logger.info("scheduler: worker %s joined (%d threads, pid %d)", msg.address, msg.nthreads, msg.pid)

    def _unique_name(self, name: str, address: str) -> str:
        """``name``, or ``name-2``, ``name-3``... if a connected worker already has it.

        Two ``graphflow worker`` commands both call their first worker ``worker-0``; names are how
        ``workers=`` and the dashboard tell workers apart, so the second one to register is suffixed
        (and logged), not refused: refusing would leave a worker started by hand doing nothing.
        """
        if not name:
            return address
        taken = {n: a for a, n in self.worker_name.items() if a != address and a in self.state.workers}
        unique, i = name, 1
        while unique in taken:
            i += 1
            unique = f"{name}-{i}"
        if unique != name:
            logger.warning("scheduler: worker %s asked for the name %r, which worker %s has; it is called %r",
                           address, name, taken[name], unique)
        return unique

    def _register_client(self, peer: bytes, msg: wire.RegisterClient) -> None:
        self.peer_of[msg.client] = peer
        self.name_of[peer] = ("client", msg.client)
        self.client_seen[msg.client] = self.clock()
        self._send(peer, wire.Welcome(self.address, self.heartbeat_interval, self.heartbeat_timeout))
        self._feed(ev.ClientJoined(self._stim("client-joined"), msg.client))
        self.extensions.peer_joined("client", msg.client)

    def _on_auth_failure(self, peer: bytes, reason: str) -> None:
        # The listener already logged it, rate-limited per peer (graphflow.comm.transport).
        logger.debug("scheduler: refused a message from an unauthenticated peer: %s", reason)

    def _on_disconnect(self, peer: bytes) -> None:
        if peer in self.name_of:
            self._forget_peer(peer, expected=False, why="its connection closed")

    def _forget_peer(self, peer: bytes, expected: bool, memory=None, why: str = "") -> None:
        role, name = self.name_of.pop(peer)
        if self.peer_of.get(name) == peer:
            del self.peer_of[name]
        if role == "worker":
            # A worker saying goodbye (retired, lifetime, shutdown) is routine; one that vanished is not.
            logger.log(logging.INFO if expected else logging.WARNING, "scheduler: worker %s %s", name,
                       "left" if expected else "is gone")
            self._feed(ev.WorkerLeft(self._stim("worker-left"), name, expected, memory))
        else:
            self.client_seen.pop(name, None)
            wanted = len(self.state.wants.get(name, ()))
            if not expected:  # a client that said goodbye was logged as leaving already
                logger.warning("scheduler: client %s is gone (%s); releasing the %d keys it wanted", name,
                               why or "no reason given", wanted)
            self._feed(ev.ClientLeft(self._stim("client-left"), name))
        self.extensions.peer_left(role, name)

    def clock(self) -> float:
        """The liveness clock: `time.monotonic` less the time this scheduler's loop was stalled.

        Heartbeats are stamped with it and silences measured on it, so a
        scheduler too busy to read (a graph of a million tasks going in)
        never blames its workers for the wait.  A stall is noticed as a late
        `Tick`: lateness beyond ``tick_interval`` is added to the stalled time.
        """
        return time.monotonic() - self._stalled

    def _tick(self) -> None:
        real = time.monotonic()
        if self._last_tick is not None:
            self._stalled += max(0.0, real - self._last_tick - self.tick_interval)
        self._last_tick = real
        now = self.clock()
        self._process()
        before = set(self.state.workers)
        self._feed(ev.Tick(self._stim("tick"), now))
        self._process()
        self._note_silent_workers(now)
        for gone in before - set(self.state.workers):  # timed out: stop listening to its ghost
            peer = self.peer_of.pop(gone, None)
            if peer is not None:
                self.name_of.pop(peer, None)
                # Alive but given up on (its work went elsewhere): it exits so that its supervisor replaces it.
                self._send(peer, wire.StopWorker("no heartbeat within the timeout", timed_out=True))
        if self.address.startswith("inproc://"):  # no disconnect notices there: silence is all we have
            for client, seen in list(self.client_seen.items()):
                if now - seen > self.client_timeout:
                    peer = self.peer_of.get(client)
                    if peer is not None:
                        self._forget_peer(peer, expected=False, why=f"silent for {now - seen:.0f} s")
        self._schedule_flush()

    def _note_silent_workers(self, now: float) -> None:
        """Log once each worker silent for ``heartbeat_timeout``, and once more when it is heard again."""
        silent = {a for a, ws in self.state.workers.items() if now - ws.last_seen > self.heartbeat_timeout}
        for address in sorted(silent - self._silent):
            logger.warning("scheduler: worker %s has sent no heartbeat for %.0f s; its connection is up, so it is "
                           "busy (a task holding the GIL?) and keeps its work", address,
                           now - self.state.workers[address].last_seen)
        for address in sorted(self._silent - silent):
            if address in self.state.workers:
                logger.info("scheduler: worker %s is heard again", address)
        self._silent = silent

    # ------------------------------------------------------------------ the state machine

    def _stim(self, what: str) -> str:
        return f"{what}-{next(self._stimulus)}"

    def _feed(self, *events) -> None:
        """Queue events; they are handled together once the current burst of messages is read.

        One ``handle()`` call for a burst of a hundred `TaskFinished` costs far
        less than a hundred calls: the state fills worker slots and balances
        load once per call, and the commands come out batched per worker.
        """
        self.feed_event(*events)

    def feed_event(self, *events) -> None:
        """Queue events for the state machine (`graphflow.scheduler.extensions` feeds its own this way)."""
        self._events.extend(events)
        if not self._process_scheduled and not (self.listener is not None and self.listener.receiving):
            self._process_scheduled = True
            self.loop.add_callback(self._process)

    def _process(self) -> None:
        self._process_scheduled = False
        events, self._events = self._events, []
        try:
            if events:
                for command in self.state.handle(*events):
                    self._command(command)
                if self.progress.trackers:  # gf.progress is watching: count finished and erred tasks
                    self.progress.observe(events, self.state)
                due = self._trimmer.due(len(self.state.tasks))
                if due is COMPACT:
                    self._released_all()
                elif due is TRIM:
                    self.loop.add_callback(trim)
        finally:  # whatever raised (logged by the loop), what the pass decided still goes out: no client waits
            self._flush()

    def _released_all(self) -> None:
        """A big computation was released (no task left): hand its memory back to the system, before anyone
        asking how many tasks are left can hear "none" (`graphflow.scheduler.trim`).

        Python and the C allocator keep what was freed for reuse, and the records the scheduler keeps on
        purpose (log, task stream) pin the memory around them: those are packed, then the heap trimmed.
        """
        compact(self.state)  # the tables sized for the peak emptied, the log's records packed
        self.diagnostics.stream.compact()
        trim()  # one full collection, then malloc_trim

    def _command(self, cmd) -> None:
        if isinstance(cmd, retire.RetireDone):
            return self._retire_done(cmd)
        if isinstance(cmd, ev.KeyReport):
            peer = self.peer_of.get(cmd.client)
            if peer is not None:
                self._send(peer, wire.KeyStatus(cmd.key, cmd.state, cmd.nbytes, cmd.type_name, cmd.who_has, cmd.inline,
                                                cmd.exception, cmd.traceback))
            else:  # a pseudo-client's (datasets, fire-and-forget), or a client that left
                self.extensions.key_report(cmd)
            return
        peer = self.peer_of.get(cmd.worker)
        if peer is None:
            return  # the worker is gone; the state learns it through WorkerLeft
        if isinstance(cmd, ev.AssignTasks):
            self._send(peer, wire.RunTasks(cmd.stimulus_id, cmd.tasks))
        elif isinstance(cmd, ev.ReleaseOnWorker):
            self._send(peer, wire.ReleaseKeys(cmd.stimulus_id, cmd.keys))
        elif isinstance(cmd, ev.RequestSteal):
            self._send(peer, wire.StealAsk(cmd.stimulus_id, cmd.key))
        elif isinstance(cmd, actors.ForwardActorCalls):
            from ..comm.serialize import SerializedValue

            self._send(peer, wire.ActorCalls(cmd.actor, cmd.caller, -1, SerializedValue(cmd.calls.frames), False))
        elif isinstance(cmd, ev.RetireWorker):
            self._send(peer, wire.StopWorker("asked by the scheduler"))
        elif isinstance(cmd, retire.ReplicateKeys):
            self._send(peer, wire.CopyKeys(cmd.stimulus_id, cmd.who_has, cmd.nbytes))
        elif isinstance(cmd, retire.FreezeActors):
            self._send(peer, wire.FreezeActors(cmd.keys))
        else:  # pragma: no cover - a new command type without a route is a bug
            raise TypeError(f"scheduler shell has no route for {cmd!r}")

    # ------------------------------------------------------------------ sending

    def _send(self, peer: bytes, msg) -> None:
        self._outbox.setdefault(peer, []).append(msg)

    def _schedule_flush(self) -> None:
        if not self._process_scheduled:
            self._process_scheduled = True
            self.loop.add_callback(self._process)

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, {}
        for peer, msgs in outbox.items():
            try:
                self.listener.send_many(peer, fold_key_status(msgs))  # a client: one report per pass
            except Exception as exc:
                logger.warning("scheduler: could not send %d messages to %r: %s", len(msgs),
                               self.name_of.get(peer), exc)

    # ------------------------------------------------------------------ rpc

    def _rpc(self, peer: bytes, client: str, msg: wire.Rpc) -> None:
        handler, owner = _ANSWERS.get(type(msg.request)), self
        if handler is None:
            handler, owner = _EXTENSION_ANSWERS.get(type(msg.request)), self.extensions
        self._process()  # answer with every earlier message taken into account
        try:
            if handler is None:
                known = [*_ANSWERS, *_EXTENSION_ANSWERS]
                raise GraphflowError(f"the scheduler does not answer {type(msg.request).__name__}; it answers "
                                     f"{sorted(t.__name__ for t in known)}")
            value = handler(owner, client, msg.request)
        except Exception as exc:
            value = Deferred()
            value.fail(exc)
        if not isinstance(value, Deferred):
            self._send(peer, wire.RpcReply(msg.request_id, value))
            return self._schedule_flush()
        value.then(lambda result, error: self._reply_later(peer, msg.request_id, result, error))

    def _reply_later(self, peer: bytes, request_id, value, error) -> None:
        self._send(peer, wire.RpcReply(request_id, value, error))
        self._schedule_flush()

    def _answer_who_has(self, client, req: wire.WhoHasRequest):
        return self.state.who_has(req.keys)

    def _answer_missing_data(self, client, req: wire.MissingDataRequest):
        """A client could not fetch these keys from these holders: drop those replicas (a key left with none is
        recomputed, and the client told "lost" before this answer), and answer with the holders left."""
        holders = {key: holder for key, holder in req.holders.items() if holder}
        if holders:
            logger.info("scheduler: client %s could not fetch %d keys from their holders (e.g. %r from %s); "
                        "dropping those replicas", client, len(holders), *next(iter(holders.items())))
            self._feed(*[ev.MissingData(self._stim("client-missing-data"), holder, key, key, holder)
                         for key, holder in holders.items()])
            self._process()
        return self.state.who_has(list(req.holders))

    def _answer_choose_workers(self, client, req: wire.ChooseWorkersRequest):
        """The worker a client should scatter data to: one of ``req.workers`` (addresses, names or hosts) if
        given, else the least loaded."""
        if req.workers:
            workers = self.state.workers
            matched = [a for a in restrictions.resolve(self.state, req.workers) if a in workers]
            if not matched:
                names = {a: self.worker_name.get(a, "") for a in workers}
                raise GraphflowError(f"unknown workers {list(req.workers)}: no connected worker matches them by "
                                     f"address, name or host; the workers are {names}")
            return sorted(matched)[:1]
        closing = self.state.retiring.closing
        if closing:  # a retiring worker takes no new data
            open_workers = [w for a, w in self.state.workers.items() if a not in closing]
            ws = policy.choose_worker_for_data(open_workers, req.nbytes)
            return [] if ws is None else [ws.address]
        chosen = self.state.choose_worker_for_data(req.nbytes)
        return [] if chosen is None else [chosen]

    def _answer_choose_actor_worker(self, client, req: wire.ChooseActorWorkerRequest):
        """Where a new actor should live: among ``req.workers`` if given, else the worker with the fewest actors."""
        closing = self.state.retiring.closing
        pool = [ws for a, ws in self.state.workers.items()
                if (not req.workers or a in req.workers) and a not in closing]
        return self.state.actors.choose_worker(pool)

    def _answer_actor_location(self, client, req: wire.ActorLocationRequest):
        """``(host address, incarnation)`` of a live actor, or None while it is being (re)created."""
        rec = self.state.actors.records.get(req.key)
        if rec is None or rec.host is None or self.state.task_state(req.key) != "memory":
            return None
        return (rec.host, rec.incarnation)

    def _answer_scattered(self, client, req: wire.ScatteredRequest):
        self._feed(ev.KeysScattered(self._stim("scatter"), client, req.worker, req.nbytes))
        return True

    def _answer_replicate(self, client, req: wire.ReplicateRequest):
        self._feed(replicate.ReplicateRequested(self._stim("replicate"), list(req.keys), req.n, req.workers))
        return True

    def _answer_rebalance(self, client, req: wire.RebalanceRequest):
        before = len(self.state.moves.pending)
        self._feed(replicate.RebalanceRequested(self._stim("rebalance"), req.keys, req.workers))
        self._process()
        return len(self.state.moves.pending) - before

    def _answer_scheduler_info(self, client, req: wire.SchedulerInfoRequest):
        workers = {}
        for address, ws in self.state.workers.items():
            workers[address] = {
                "nthreads": ws.nthreads,
                "memory_limit": ws.memory_limit,
                "nbytes": getattr(ws, "nbytes", 0),
                "processing": len(getattr(ws, "processing", ())),
                "pid": self.worker_pid.get(address),
                "name": self.worker_name.get(address, ""),
                "host": ws.host,
                "resources": dict(ws.resources) if ws.resources else None,
                "resources_used": dict(ws.used),
                "status": "closing" if address in self.state.retiring.closing else "running",
                "memory": memory_report(ws),
            }
        return {
            "address": self.address,
            "pid": os.getpid(),
            "workers": workers,
            "tasks": len(self.state.tasks),
            "tasks_executed": self.tasks_executed,
            "held": self.held(),
            "started": self.started,
            "dashboard": self.dashboard.url if self.dashboard is not None else None,
            # whether it asks for the token; never the token itself: this answer may cross an unencrypted link
            "dashboard_token": bool(self.dashboard is not None and self.dashboard.require_token),
        }

    def held(self) -> dict:
        """How many entries each of the scheduler's growing structures holds now: per-key state (empty once
        every key is released) and the bounded rings (``log``, ``task_stream``; full at their size)."""
        st = self.state
        return {"tasks": len(st.tasks), "wanted": sum(len(w) for w in st.wants.values()),
                "queue": len(st.queue), "no_worker": len(st.no_worker), "steals": len(st.steals),
                "recommendations": len(st.recommendations), "clients": len(st.clients),
                "progress_trackers": len(self.progress.trackers), "pending_answers": len(self._deferred),
                "peers": len(self.name_of), "log": len(st.log), "task_stream": len(self.diagnostics.stream)}

    def _answer_memory(self, client, req: wire.MemoryRequest):
        return {address: memory_report(ws) for address, ws in self.state.workers.items()}

    def _answer_retire_workers(self, client, req: wire.RetireWorkersRequest):
        """Retire ``req.workers`` gracefully (`graphflow.scheduler.retire`); answered once they are gone."""
        from .. import config

        self.state.retiring.target = config.get("worker.memory.target") or retire.DEFAULT_TARGET
        request = next(self._deferred_ids)
        answer = self._deferred[request] = Deferred()
        timeout = _retire_timeout() if req.retire_timeout is None else float(req.retire_timeout)
        self._feed(retire.RetireWorkers(self._stim("retire-workers"), list(req.workers), request, self.clock(),
                                        timeout, req.close_anyway))
        return answer

    def _retire_done(self, cmd) -> None:
        if cmd.request is None:  # a worker asked (--lifetime): tell it if it must stay for now
            for address, why in cmd.failed.items():
                peer = self.peer_of.get(address)
                if peer is not None:
                    self._send(peer, wire.RetireRefused(why))
            return
        answer = self._deferred.pop(cmd.request, None)
        if answer is not None:
            if cmd.error is not None:
                answer.fail(cmd.error)
            else:
                answer.resolve(cmd.retired)

    def _answer_adaptive_target(self, client, req: wire.AdaptiveTargetRequest):
        """How many workers the cluster should have and who should leave (`graphflow.scheduler.adaptive`)."""
        from . import adaptive

        self.state.pool.adaptive = True  # workers may still come: requests nobody offers yet wait (resources.py)
        return adaptive.recommend(adaptive.observe(self.state), req.minimum, req.maximum, req.target_duration).as_dict()

    def _answer_shutdown(self, client, req: wire.ShutdownRequest):
        self.loop.add_callback(self.shutdown)
        return True

    def shutdown(self):
        """Close, then stop the IOLoop this scheduler runs on (a SIGTERM or a client's shutdown request)."""
        self.close("the cluster was shut down")
        self.loop.add_callback(self.loop.stop)

    def _answer_story(self, client, req: wire.StoryRequest):
        return [tuple(map(str, record)) for record in self.state.story(*req.keys)]

    def _answer_progress(self, client, req: wire.ProgressRequest):
        """Open a progress tracker for ``req.keys`` or poll tracker ``req.ident`` (`graphflow.scheduler.progress`)."""
        return self.progress.rpc(self.state, req.keys, req.ident, req.close)

    def _answer_task_stream(self, client, req: wire.TaskStreamRequest):
        """Task-stream records (`graphflow.scheduler.taskstream`) with ``stop >= req.start``, the last ``req.count``."""
        return self.diagnostics.task_stream(req.start, req.count)

    def _answer_memory_history(self, client, req: wire.MemoryHistoryRequest):
        """Each worker's memory samples since ``req.start`` (`Diagnostics.memory_history`)."""
        return self.diagnostics.memory_history(req.start)

    def _answer_snapshot(self, client, req: wire.SnapshotRequest):
        """What the dashboard shows (`graphflow.scheduler.snapshot`), fresh."""
        return self.diagnostics.snapshot()


# What the scheduler answers, by request type (graphflow.comm.messages): the one table of its questions.
_ANSWERS = {
    wire.WhoHasRequest: Scheduler._answer_who_has,
    wire.MissingDataRequest: Scheduler._answer_missing_data,
    wire.ChooseWorkersRequest: Scheduler._answer_choose_workers,
    wire.ChooseActorWorkerRequest: Scheduler._answer_choose_actor_worker,
    wire.ActorLocationRequest: Scheduler._answer_actor_location,
    wire.ScatteredRequest: Scheduler._answer_scattered,
    wire.ReplicateRequest: Scheduler._answer_replicate,
    wire.RebalanceRequest: Scheduler._answer_rebalance,
    wire.SchedulerInfoRequest: Scheduler._answer_scheduler_info,
    wire.MemoryRequest: Scheduler._answer_memory,
    wire.RetireWorkersRequest: Scheduler._answer_retire_workers,
    wire.AdaptiveTargetRequest: Scheduler._answer_adaptive_target,
    wire.ShutdownRequest: Scheduler._answer_shutdown,
    wire.StoryRequest: Scheduler._answer_story,
    wire.ProgressRequest: Scheduler._answer_progress,
    wire.TaskStreamRequest: Scheduler._answer_task_stream,
    wire.MemoryHistoryRequest: Scheduler._answer_memory_history,
    wire.SnapshotRequest: Scheduler._answer_snapshot,
}


class Deferred:
    """An RPC answer that comes later: an ``_answer_*`` method returns one and calls `resolve` or `fail` once
    the answer is known (e.g. when the state machine says a retirement is over); the shell replies then.

        >>> d = Deferred(); got = []
        >>> d.then(lambda value, error: got.append((value, error)))
        >>> d.resolve(["tcp://a"]); got
        [(['tcp://a'], None)]
    """

    __slots__ = ("_callbacks", "_outcome")

    def __init__(self):
        self._callbacks: list = []
        self._outcome = None

    def then(self, callback) -> None:
        """Call ``callback(value, error)`` once the answer is known (at once if it is)."""
        if self._outcome is not None:
            callback(*self._outcome)
        else:
            self._callbacks.append(callback)

    def resolve(self, value=None) -> None:
        self._finish((value, None))

    def fail(self, error: BaseException) -> None:
        self._finish((None, error))

    def _finish(self, outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback(*outcome)


def _repair(msg, error):
    """A worker's report holding a value or exception of a module this scheduler lacks (`graphflow.comm.salvage`):
    a result goes on without its inline value (the client fetches it from the worker), an exception as a
    `SerializationError` saying what the task raised.  Anything else goes back to its sender."""
    if type(msg) is wire.TaskDone and missing_in(msg.inline):
        msg.inline = None
        return msg
    if type(msg) is wire.TasksDone and any(missing_in(value) for value in msg.inline.values()):
        msg.inline = {key: value for key, value in msg.inline.items() if not missing_in(value)}
        return msg
    if type(msg) is wire.TaskFailed and missing_in(msg.exception):
        msg.exception = task_exception(msg.key, msg.exception)
        return msg
    return None


def _retire_timeout() -> float:
    from .. import config

    return float(config.get("scheduler.retire_timeout"))


def memory_report(ws) -> dict:
    """One worker's memory as its last heartbeat told it (see `Client.memory`)."""
    managed = ws.memory
    return {"managed": managed, "spilled": ws.spilled, "shared": ws.shared,
            "unmanaged": max(0, ws.rss - managed - ws.shared), "rss": ws.rss, "limit": ws.memory_limit,
            "paused": ws.paused, "spill_error": ws.spill_error}
