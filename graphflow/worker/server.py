"""The worker process: a tornado IOLoop, zmq sockets and a thread pool around a `WorkerState`.

The shell does I/O only; `WorkerState` decides.  Three kinds of traffic:

* with the scheduler (one DEALER): `RegisterWorker`, then task batches in
  (`RunTasks`, `ReleaseKeys`, `StealAsk`, `CopyKeys`), results out (`TaskDone`,
  `TaskFailed`, ...), and a `WorkerStatus` every ``heartbeat_interval``;
* with peers (a ROUTER this worker binds; its address is the worker's name):
  `GetData` requests answered straight from the store, and `PutData` from a
  client scattering;
* to peers (one DEALER per peer, opened on first use): `GatherDep` becomes
  a `GetData` request.

Tasks run in ``nthreads`` threads fed by a queue.  A thread never touches the
state or the store: it runs ``spec(inputs)``, measures the result, and appends
an `ExecuteSuccess`/`ExecuteFailure` to a list that the loop drains in one go,
so a burst of tiny tasks costs one loop wake-up, not one each.  A task that
waits on other tasks gives its thread slot back (`graphflow.worker.secession`):
another thread is started in its place.

If the scheduler goes away (its socket closes; over ``inproc://``, where no
close is noticed, no heartbeat answer for ``heartbeat_timeout``), the worker
logs why and exits with code
`EXIT_SCHEDULER_GONE`, which tells a supervising parent not to restart it.
If the scheduler refuses it (another token, or the encryption setting
differs), it says so and exits with `EXIT_AUTH_FAILED`, also final.  Told to
stop it exits 0, or `EXIT_TIMED_OUT` (restarted) if dropped for silence.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import queue
import sys
import threading
import time
import traceback

from .. import config
from ..comm import messages as wire
from ..comm import recvbuffers
from ..comm.batching import fold_task_done
from ..store import shm
from ..comm.transport import Connection, Listener
from ..errors import AuthenticationError, RemoteTaskError, SerializationError, blame_task, task_error_key
from ..spec.actors import bind_host
from . import events as wev
from .actors import ActorHost, register_worker, repair_calls
from ..spec.keys import key_split
from ..units import format_bytes
from .lending import lend_large, peek
from .admin import WorkerAdmin
from .logs import running
from ..store.rss import process_rss
from .monitor import SMALL_RESULT, CpuMeter, MemoryPolicy, RoomLog, no_room_error, trim_freed_memory
from .replicas import FetchReplicas
from .secession import TaskThreads, task_context
from .state import WorkerState
from ..store.spill import Shared, WorkerStore, clean_stale_spill_dirs

logger = logging.getLogger("graphflow.worker")

__all__ = ["Worker", "EXIT_SCHEDULER_GONE", "EXIT_MEMORY", "EXIT_AUTH_FAILED", "EXIT_TIMED_OUT"]

# Supervisors take 0, EXIT_SCHEDULER_GONE, EXIT_AUTH_FAILED as final (lifetime.EXIT_LIFETIME_RESTART is 5).
EXIT_SCHEDULER_GONE = 3
EXIT_MEMORY = 4  # past the terminate threshold: the supervisor starts a fresh worker
EXIT_AUTH_FAILED = 6  # the scheduler refused our token or our encryption: a restart would be refused too
EXIT_TIMED_OUT = 7  # the scheduler gave this (silent) worker up and told it to go: a fresh one takes its place
MEMORY_MONITOR_INTERVAL = 0.1  # seconds between RSS samples (a /proc read: microseconds)
ROOM_MIN_BYTES = 2**20  # results and fetches smaller than this make no room first (tiny tasks stay cheap)
SHORT_TASK = 0.002  # seconds; below this a task costs less than handing it over
# Short tasks queue ahead by expected work: more finished per loop pass (fewer passes and reports a task),
# while what a thread has taken (and so cannot be stolen) stays a few milliseconds.
QUEUED_WORK_PER_THREAD, MAX_TASKS_PER_THREAD = 0.004, 64  # seconds, tasks


class Worker:
    """One worker.  `start` connects and registers; `close` leaves cleanly.

    ``scheduler_address``: where the scheduler listens.  ``listen``: where to
    bind the peer socket (port 0 picks one); its resolved address names the
    worker.  ``on_exit(code, reason)`` is called when the worker stops on its
    own (scheduler gone or closed, or told to close).

    Memory: with a ``memory_limit`` the store spills to Arrow blocks under
    ``local_directory`` (at most ``max_spill`` bytes) and a monitor samples
    the process's RSS every 100 ms (`graphflow.worker.monitor`); ``memory``
    overrides the thresholds, e.g. ``{"target": 0.5, "pause": False}``.
    """

    def __init__(self, scheduler_address: str, token: bytes | None = None, *, nthreads: int = 1,
                 memory_limit: int | None = None, listen: str = "tcp://127.0.0.1:0", name: str = "",
                 heartbeat_interval: float = 0.5, fetch_timeout: float = 60.0, loop=None, on_exit=None,
                 validate: bool = False, local_directory: str | None = None, max_spill: int | None = None,
                 memory: dict | None = None, lifetime: float | None = None, lifetime_stagger: float = 0.0,
                 lifetime_restart: bool = False, actor_handle=None, resources: dict | None = None):
        self.scheduler_address = scheduler_address
        self.resources = resources or None  # {name: amount} offered to tasks that ask (the scheduler counts)
        # What an actor's creation task returns to its callers: the client's ActorHandle class, given by
        # whoever starts the worker (graphflow.deploy.worker_process), since the worker cannot import the client.
        self.actor_handle = actor_handle
        self.token = token
        self.nthreads = nthreads
        self.memory_limit = memory_limit
        self.local_directory = local_directory
        # client.run, uploads, plugins (graphflow.worker.admin); a restart exits as a timed-out worker does
        self.admin = WorkerAdmin(self, local_directory, EXIT_TIMED_OUT)
        self.max_spill = max_spill
        self.memory_policy = MemoryPolicy(memory_limit, **(memory or {}))
        self._paused = False
        # A spill failed (disk full, max_spill reached): tasks that need room fail with SpillError instead of
        # running, the rest run (graphflow.worker.monitor); the scheduler hears it in every heartbeat.
        self._short_of_room = False
        self._room_log = RoomLog()  # one line per episode of failed spills
        self._trimmed_at = 0.0  # when freed heap pages were last given back (monotonic)
        self._small_budget = 0  # bytes of small results still taken in, short of room, past the pause threshold
        self._cpu = CpuMeter()  # the heartbeat reports CPU use (graphflow.worker.monitor)
        self._over_target = False
        self._rss = 0
        self.listen_address = listen
        self.name = name
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = 10.0 * heartbeat_interval
        self.fetch_timeout = fetch_timeout
        self.loop = loop
        self.on_exit = on_exit
        self.validate = validate
        self._lifetime_options = (lifetime, lifetime_stagger, lifetime_restart)  # graphflow.worker.lifetime
        self._lifetime = None
        self._retiring = False  # leaving: peers on this host get its results through shared memory
        self.state: WorkerState | None = None
        self.peers: dict = {}  # peer address -> Connection
        self.requests: dict = {}  # request id -> (peer, keys, started)
        self._request_ids = itertools.count(1)
        self._stimulus = itertools.count()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done: list = []
        self._done_lock = threading.Lock()
        self._drain_scheduled = False
        self._events: list = []
        self._process_scheduled = False
        self._no_vmcopy: set = set()  # peers whose memory we cannot read (process_vm_readv)
        self._owned_shm: dict = {}  # key -> ShmRef: our results in host shared memory, mapped by peers
        self._lent_once: dict = {}  # key -> None: large results already copied to a peer on this host
        self._shm_failed = False
        self._output_sizes: dict = {}  # key prefix -> largest result it made here (room to make before a task)
        # Bytes on their way into memory: fetches in flight (request id -> bytes) and running tasks' expected
        # outputs (key -> bytes).  Room made for one must not be counted again for the next.
        self._reserved: dict = {}
        self._reserved_total = 0
        self._mean_duration = 1.0  # assume slow until measured: no deep queues of unknown work
        self.threads = TaskThreads(self._run_jobs, nthreads)  # grows while tasks secede (worker/secession.py)
        self._timers: list = []
        self._last_ack = time.monotonic()
        self._welcomed = False
        self._closed = False

    @property
    def address(self) -> str:
        return self.listener.address

    @property
    def closed(self) -> bool:
        """True once `close` has run (the process is on its way out)."""
        return self._closed

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "Worker":
        """Bind the peer socket, start the threads, connect and register (on the current IOLoop)."""
        from tornado.ioloop import IOLoop, PeriodicCallback

        self.loop = self.loop or IOLoop.current()
        from ..comm.vmcopy import host_id

        self._host = host_id()
        self.listener = Listener(self.listen_address, self.token, self._on_peer_message, loop=self.loop)
        policy = self.memory_policy
        clean_stale_spill_dirs(self.local_directory)  # blocks of workers killed here before us
        shm.clean_stale()
        recvbuffers.keep(config.get("worker.receive_buffers"), self.memory_limit)
        store = WorkerStore(self.memory_limit, target=policy.target or False, local_directory=self.local_directory,
                            max_spill=self.max_spill, log_spill_errors=False,  # _check_memory logs per episode
                            background_writes=True)  # the loop must answer heartbeats and fetches while we write
        self.state = WorkerState(self.address, self.nthreads, store, validate=self.validate)
        self.actors = ActorHost(self.address, self.loop.add_callback, self.listener.send_many,
                                lambda msgs: self.scheduler.send_many(msgs), self.actor_handle)
        register_worker(self.scheduler_address, self.token)
        self.threads.start()
        self.scheduler = Connection(self.scheduler_address, self.token, self._on_scheduler_message, loop=self.loop,
                                    on_close=self._on_scheduler_lost)
        self.scheduler.on_drained = self.listener.on_drained = self._process
        self.scheduler.repair = self.listener.repair = repair_calls  # calls we cannot load fail in their turn
        self.scheduler.send(wire.RegisterWorker(self.address, self.nthreads, self.memory_limit, os.getpid(),
                                                self.name, self.resources))
        timers = [(self._heartbeat, self.heartbeat_interval), (self._check_fetches, 1.0)]
        if self.memory_limit:
            timers.append((self._check_memory, MEMORY_MONITOR_INTERVAL))
        for callback, seconds in timers:
            timer = PeriodicCallback(callback, seconds * 1000)
            timer.start()
            self._timers.append(timer)
        self._last_ack = time.monotonic()
        self._silence_noted = False
        if self._lifetime_options[0] is not None:
            from .lifetime import Lifetime

            self._lifetime = Lifetime(self, *self._lifetime_options)
            self._lifetime.start()
        return self

    def close(self, reason: str = "closed", code: int = 0) -> None:
        """Stop: threads, timers, sockets.  Running tasks are abandoned."""
        if self._closed:
            return
        self._closed = True
        for timer in self._timers:
            timer.stop()
        if self._lifetime is not None:
            self._lifetime.stop()
        for _ in range(self.threads.count):
            self._jobs.put(None)
        self.actors.close()
        self.admin.close()
        for conn in self.peers.values():
            conn.close()
        if code in (0, EXIT_MEMORY) and not self.scheduler.closed:
            memory = (self._rss, self.memory_limit) if code == EXIT_MEMORY else None
            self.scheduler.send(wire.Goodbye(reason, memory))
        self.scheduler.close()
        self.listener.close()
        self.state.data.close()  # its spill directory goes with it
        if self.on_exit is not None:
            self.on_exit(code, reason)

    # ------------------------------------------------------------------ scheduler traffic

    def _on_scheduler_message(self, msg) -> None:
        t = type(msg)
        if t is wire.RunTasks:
            self._feed(wev.ComputeTasks(msg.stimulus_id, msg.tasks))
        elif t is wire.ReleaseKeys:
            self.actors.forget(msg.keys)
            self._feed(wev.FreeKeys(msg.stimulus_id, msg.keys))
        elif t is wire.StealAsk:
            self._feed(wev.StealRequest(msg.stimulus_id, msg.key))
        elif t is wire.CopyKeys:  # a retiring peer's results, to keep (graphflow.scheduler.retire)
            self._feed(FetchReplicas(msg.stimulus_id, msg.who_has, msg.nbytes))
        elif isinstance(msg, wire.ActorCalls):  # forwarded by the scheduler after an actor was restored
            self.actors.submit(msg, None)
        elif isinstance(msg, wire.HeartbeatAck):
            self._last_ack = time.monotonic()
        elif isinstance(msg, wire.Welcome):
            self._welcomed = True
            self._last_ack = time.monotonic()
            self.heartbeat_timeout = max(self.heartbeat_timeout, 2 * msg.heartbeat_timeout)
            for setup in msg.setup:  # uploads and plugins every worker has, before any task runs here
                try:
                    self.admin.apply(setup)
                except Exception:
                    logger.exception("worker %s: could not apply %s %r", self.address, setup.kind, setup.name)
            logger.info("worker %s: registered with the scheduler at %s", self.address, self.scheduler_address)
        elif isinstance(msg, wire.StopWorker):
            if msg.timed_out:  # dropped for silence: our tasks run elsewhere now; a fresh worker replaces us
                logger.warning("worker %s: the scheduler gave this worker up (%s); exiting to be replaced",
                               self.address, msg.reason)
                return self.close(msg.reason, EXIT_TIMED_OUT)
            logger.info("worker %s: closing: %s", self.address, msg.reason)
            self.close(msg.reason, self._lifetime.exit_code() if self._lifetime is not None else 0)
        elif isinstance(msg, wire.FreezeActors):  # retiring: its actors move (graphflow.scheduler.retire)
            self._retiring = True
            self.actors.freeze(msg.keys)
        elif isinstance(msg, wire.RetireRefused):
            if self._lifetime is not None:
                self._lifetime.refused(msg.reason)
        elif isinstance(msg, wire.SchedulerClosing):
            self._scheduler_gone(f"the scheduler closed ({msg.reason})", expected=True)
        else:
            logger.warning("worker %s: unexpected %s from the scheduler", self.address, type(msg).__name__)

    def _on_scheduler_lost(self, exc=None) -> None:
        if isinstance(exc, AuthenticationError):
            if not self._closed:
                logger.error("worker %s: authentication failed, the scheduler refused this worker: %s; exiting",
                             self.address, exc)
                self.close(str(exc), EXIT_AUTH_FAILED)
            return
        self._scheduler_gone(f"lost the connection to the scheduler at {self.scheduler_address}: {exc}")

    def _scheduler_gone(self, reason: str, expected: bool = False) -> None:
        if not self._closed:
            # A scheduler that said goodbye was shut down on purpose: not an error for whoever reads the log.
            logger.log(logging.INFO if expected else logging.ERROR, "worker %s: %s; exiting", self.address, reason)
            self.close(reason, EXIT_SCHEDULER_GONE)

    def _heartbeat(self) -> None:
        silent = time.monotonic() - self._last_ack
        if silent > self.heartbeat_timeout:
            if self.scheduler_address.startswith("inproc://"):  # no disconnect notice there: silence must do
                return self._scheduler_gone(
                    f"no answer from the scheduler at {self.scheduler_address} for {silent:.1f} s")
            # Over tcp/ipc a dead scheduler closes the connection (or stops answering the transport's own
            # heartbeats, which libzmq answers off the Python loop): silence on a live connection means busy.
            if not self._silence_noted:
                self._silence_noted = True
                logger.warning("worker %s: the scheduler at %s has not answered for %.0f s; its connection is up, "
                               "so it is busy; still waiting", self.address, self.scheduler_address, silent)
        else:
            self._silence_noted = False
        self.scheduler.send(self._heartbeat_message())
        self._sweep_shared()
        recvbuffers.trim()  # unmap receiving buffers no transfer has wanted for a while

    def _heartbeat_message(self):
        """The heartbeat message: how busy this worker is and how much it holds."""
        store = self.state.data
        short = self._short_of_room and store.last_spill_error is not None
        return wire.WorkerStatus(store.managed_bytes, self.state.executing_count, store.spilled_bytes,
                                 process_rss(), self._paused or self._short_of_room, self._over_target,
                                 store.shared_bytes, self._cpu.sample(),
                                 str(store.last_spill_error) if short else "")

    # ------------------------------------------------------------------ shared memory

    def _share_by_shm(self, key) -> bool:
        """Hand ``key`` to a peer on this host through shared memory rather than a copy?

        ``worker.shared_memory`` True or False decides; ``"auto"`` shares a
        result asked for a second time (a broadcast: one block, any number of
        readers, one copy on the host), when this worker is short of memory or retiring
        -- otherwise a copy with `process_vm_readv` is faster on hosts whose
        shared memory has no huge pages (see `graphflow.store.shm`).
        """
        if self._shm_failed or not shm.available():
            return False
        mode = config.get("worker.shared_memory")
        if mode != "auto":
            return bool(mode)
        return key in self._lent_once or self._paused or self._over_target or self._retiring

    def _put_shared(self, key):
        """Write ``key``'s value into shared memory once and keep the mapped view in place of our copy."""
        ref = self._owned_shm.get(key)
        if ref is not None:
            return ref
        store = self.state.data
        try:
            ref = shm.put(store[key])
            view = shm.open_ref(ref)
        except OSError as exc:  # /dev/shm full or missing: copies still work
            logger.warning("worker %s: cannot put %r in shared memory (%s); copying instead", self.address, key, exc)
            self._shm_failed = True
            return None
        store.set(key, view, store.nbytes(key))  # our private copy goes; the host holds one
        self._owned_shm[key] = ref
        return ref

    def _sweep_shared(self) -> None:
        """Unlink the blocks of results this worker no longer holds (readers keep their mappings)."""
        store = self.state.data
        gone = [k for k in self._owned_shm if k not in store]
        refs = [self._owned_shm.pop(k) for k in gone]
        for k in [k for k in self._lent_once if k not in store]:
            del self._lent_once[k]
        if refs:  # unlinking a big block takes tens of ms: not on the event loop
            threading.Thread(target=lambda: [shm.release(r) for r in refs], daemon=True).start()

    # ------------------------------------------------------------------ memory

    def _check_memory(self) -> None:
        """Sample RSS; spill, pause, resume, go short of room or terminate as `MemoryPolicy` says."""
        if self._closed:
            return
        store = self.state.data
        policy = self.memory_policy
        self._rss = process_rss()
        target = policy.bytes_at("target")
        if store.spill_failed:
            wanted = policy.decide(rss=self._rss, managed=store.managed_bytes, spill_failed=False).spill_bytes
            over = target is not None and store.managed_bytes > target
            if not wanted and not over:
                store.reset_spill_failure()  # memory was freed another way: no spill needed, the episode is over
            elif over:
                store.spill_lru(store.managed_bytes - target)  # a statvfs while the disk stays full; ends it if not
        decision = policy.decide(rss=self._rss, managed=store.managed_bytes, spill_failed=store.spill_failed)
        # kept receiving buffers are the cheapest memory to give back (before spilling), then freed heap pages
        if ((decision.spill_bytes or decision.paused or decision.terminate) and recvbuffers.clear()) or \
                ((decision.paused or decision.short_of_room) and not decision.terminate and self._trim_heap(target)):
            self._rss = process_rss()
            decision = policy.decide(rss=self._rss, managed=store.managed_bytes, spill_failed=store.spill_failed)
        if decision.terminate:
            logger.error("worker %s: process memory %s is past %d%% of the limit %s; restarting (the scheduler "
                         "recomputes its results elsewhere)", self.address, format_bytes(self._rss),
                         round(100 * policy.terminate), format_bytes(self.memory_limit))
            return self.close("memory limit", EXIT_MEMORY)
        if decision.spill_bytes > store.writing_bytes:  # values being written leave RSS when their block is done
            store.spill_lru(decision.spill_bytes - store.writing_bytes)
            if store.spill_failed != decision.short_of_room:  # this very spill failed (or ended the episode)
                decision = policy.decide(rss=self._rss, managed=store.managed_bytes, spill_failed=store.spill_failed)
        over = target is not None and store.managed_bytes > target
        self._memory_state(decision.paused, decision.short_of_room, over)

    def _trim_heap(self, target) -> bool:
        """Return freed heap pages to the OS when memory is high but mostly not held values (released,
        spilled); at most once a second.  True if it did (sample RSS again)."""
        now = time.monotonic()
        if now - self._trimmed_at < 1.0 or (target is not None and self.state.data.managed_bytes > target):
            return False
        self._trimmed_at = now
        return trim_freed_memory()

    def _memory_state(self, paused: bool, short: bool, over: bool) -> None:
        """Apply a memory decision: feed a pause change to the state machine, log, tell the scheduler at once."""
        short_changed = short != self._short_of_room
        if not short_changed and paused == self._paused and over == self._over_target:
            return
        if short_changed:
            self._short_of_room = short
            self._small_budget = self.memory_policy.small_results_budget()
            self._room_log.note(short, self.address, self.state.data, self._rss, self.memory_limit)
        if paused != self._paused:
            if not (short_changed and not paused):  # going short of room lifts a pause: the line above says so
                logger.warning("worker %s: %s (process memory %s of %s)", self.address,
                               "paused" if paused else "resumed", format_bytes(self._rss),
                               format_bytes(self.memory_limit))
            self._feed(wev.PauseChanged(self._stim("memory"), paused))
        self._paused, self._over_target = paused, over
        self.scheduler.send(self._heartbeat_message())  # the scheduler learns at once, not in 0.5 s

    # ------------------------------------------------------------------ the state machine

    def _stim(self, what: str) -> str:
        return f"{what}-{next(self._stimulus)}"

    def _feed(self, *events) -> None:
        """Queue events; they are handled in one ``handle()`` call once the current burst is read."""
        self._events.extend(events)
        if self.scheduler.receiving or self.listener.receiving:
            return  # on_drained handles them at the end of the burst
        if not self._process_scheduled:
            self._process_scheduled = True
            self.loop.add_callback(self._process)

    def feed_threadsafe(self, event) -> None:
        """`_feed` ``event`` from any thread (a task seceding or rejoining: graphflow.worker.secession)."""
        self.loop.add_callback(self._feed, event)

    def _process(self) -> None:
        self._process_scheduled = False
        events, self._events = self._events, []
        if self._closed or not events:
            return
        for cmd in self.state.handle(*events):
            kind = type(cmd)  # the commands are final classes: one type test each, not an isinstance chain
            if kind is wev.Execute:
                self._start_job(cmd.key)
            elif kind is wev.GatherDep:
                self._gather(cmd.peer, cmd.keys)
            elif kind is wev.SendToScheduler:
                self._send_to_scheduler(cmd.messages)
            else:  # pragma: no cover - a new command without a route is a bug
                raise TypeError(f"worker shell has no route for {cmd!r}")

    def _start_job(self, key) -> None:
        """Queue ``key``'s spec and inputs for a task thread (or fail it at once when no room can be made)."""
        spec, inputs = self.state.execution_inputs(key)
        refused = self._make_room(key, inputs) if self.memory_limit else None
        if refused is not None:  # short of room: the task fails now instead of filling memory
            now = time.time()
            self._feed(wev.ExecuteFailure(self._stim("no-room"), key, refused, "", now, now, 0))
            return
        nbytes = self.state.data.nbytes
        self._jobs.put((key, spec, inputs, sum([nbytes(k) for k in inputs]) if inputs else 0))

    def _send_to_scheduler(self, messages: list) -> None:
        self.admin.transitions(messages)
        try:
            self.scheduler.send_many(fold_task_done(messages))  # one report per run of finished tasks
        except Exception:
            # One unpicklable inline result must not lose the rest of the batch.
            for msg in messages:
                self.scheduler.send_many([_sendable(msg)])

    # ------------------------------------------------------------------ running tasks

    def _run_jobs(self, thread: int = 0) -> None:
        bind_host(self.actors)  # actors created by tasks of this thread live in this worker
        sizer = self.state.data.sizer
        limit = self.memory_limit
        while True:
            job = self._jobs.get()
            if job is None:
                return
            key, spec, inputs, input_bytes = job
            running(key)  # what it prints is logged under this key (graphflow.worker.logs)
            start = time.time()
            try:
                with task_context(self, key) as ctx:  # gf.get_worker(), gf.secede() (graphflow.worker.secession)
                    value = spec(inputs)
            except BaseException as exc:  # noqa: B902 - every task error goes back to its caller
                event = wev.ExecuteFailure(self._stim("task-erred"), key, _picklable(exc, key),
                                           traceback.format_exc(), start, time.time(), thread)
            else:
                stop = time.time()
                try:
                    nbytes = sizer(value)
                except Exception:
                    nbytes = sys.getsizeof(value)
                if limit and nbytes + input_bytes > limit:
                    exc = blame_task(_too_big(key, self.address, input_bytes, nbytes, limit), key)
                    event = wev.ExecuteFailure(self._stim("task-erred"), key, exc, "", start, stop, thread)
                else:
                    event = wev.ExecuteSuccess(self._stim("task-finished"), key, value, nbytes,
                                               type(value).__name__, start, stop, thread)
                del value
            del inputs, job, spec  # a finished task must not keep its arguments (actor handles) alive
            self._completed(event)
            if self.threads.leave_after_job(ctx):  # it seceded and was replaced, or one thread too many
                return

    def _completed(self, event) -> None:
        with self._done_lock:
            self._done.append(event)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        self.loop.add_callback(self._drain_done)

    def _drain_done(self) -> None:
        with self._done_lock:
            done, self._done = self._done, []
            self._drain_scheduled = False
        self._adapt_slots(done)
        if self.memory_limit:
            sizes = self._output_sizes
            reserved = self._reserved
            spill_failed = self.state.data.spill_failed
            for event in done:
                # Remembered: big results, and the result of any task room was made for (a guess from its
                # inputs may have been far off: a 400 MB array in, a float out).  Tiny tasks pay nothing.
                guessed = reserved and event.key in reserved
                if guessed:
                    self._unreserve(event.key)  # its result is in the store (or it failed)
                if type(event) is wev.ExecuteSuccess and (guessed or event.nbytes >= ROOM_MIN_BYTES or
                                                          spill_failed):  # nothing can be spilled: all count
                    prefix = key_split(event.key)
                    if guessed or event.nbytes > sizes.get(prefix, -1):
                        sizes[prefix] = event.nbytes
        if done:
            self._events.extend(done)
            self._process()

    def _make_room(self, key, inputs: dict):
        """Spill before a task starts, so its output fits under the target too; None, or the `SpillError`
        the task fails with when no room can be made.

        The store spills by what it holds, the monitor by RSS every 100 ms:
        neither sees a 200 MB output being allocated, and two inputs plus
        the output of one tree-sum add are 600 MB at once.  The output is
        guessed as the largest one this key prefix made here so far (else the
        largest input).  When spilling fails (short of room), a task whose
        prefix is known to make output is refused unless that output fits as
        it is (`MemoryPolicy.fits_without_spilling`) -- small outputs too,
        since thousands of them fill memory as surely, except within the
        episode's `MemoryPolicy.small_results_budget`; a task never seen
        before runs (its output may be small: a sum of a large input), and
        teaches the guess.
        """
        store = self.state.data
        if not inputs and not self._output_sizes and not store.spill_failed:
            return None  # nothing guessed (no inputs, no history), so nothing to make room for: the common tiny task
        known = self._output_sizes.get(key_split(key)) if self._output_sizes else None
        guess = known if known is not None else max((store.nbytes(k) for k in inputs), default=0)
        if guess >= ROOM_MIN_BYTES:
            needed = self._spill_for(guess)
        elif store.spill_failed and known is not None:
            needed = guess  # below ROOM_MIN_BYTES nothing is spilled for it: it all needs room
        else:
            return None  # below ROOM_MIN_BYTES the monitor and the store's own target suffice
        if store.spill_failed and not self._short_of_room:  # the monitor would see it within 100 ms: now
            self._memory_state(False, True, self._over_target)
        if needed and store.spill_failed and known is not None:
            rss = process_rss()
            fits = self.memory_policy.fits_without_spilling(rss=rss, incoming=self._reserved_total + guess)
            if not fits and guess < SMALL_RESULT and guess <= self._small_budget:
                self._small_budget -= guess  # a count or a sum still runs, up to a bound per episode
                fits = True
            room = store.spill_room()  # a block written or dropped since the failure may have made room
            if not fits and (room is None or room < needed):
                return no_room_error(key, self.address, guess, needed, rss, self.memory_limit,
                                     store.last_spill_error, room, store.directory)
        self._reserve(key, guess)
        return None

    def _reserve(self, what, nbytes: int) -> None:
        self._reserved[what] = nbytes
        self._reserved_total += nbytes

    def _unreserve(self, what) -> None:
        if self._reserved:
            self._reserved_total -= self._reserved.pop(what, 0)

    def _spill_for(self, incoming: int) -> int:
        """Spill least recently used values until ``incoming`` more bytes fit: managed bytes under the
        target, and the process's RSS under the spill threshold (which sees what the store cannot:
        values lent to a peer, temporaries, a result just made).  Returns the bytes it could not free."""
        policy = self.memory_policy
        target = policy.bytes_at("target")
        if target is None or not incoming:
            return 0
        store = self.state.data
        incoming += self._reserved_total
        excess = store.managed_bytes + incoming - target
        spill_at = policy.bytes_at("spill")
        if spill_at is not None:
            excess = max(excess, process_rss() + incoming - spill_at)
        if excess <= 0:
            return 0
        return max(0, excess - store.spill_lru(excess))

    def _adapt_slots(self, done: list) -> None:
        """Queue several tasks per thread while tasks are tiny (a loop round trip would cost more)."""
        mean = self._mean_duration
        for event in done:
            mean += 0.1 * ((event.stop - event.start) - mean)
        self._mean_duration = mean
        self.state.slots = self.nthreads * tasks_per_thread(mean)

    # ------------------------------------------------------------------ fetching from peers

    def _gather(self, peer: str, keys: list) -> None:
        if self.memory_limit:  # the values land in memory before the store sees them: make room first
            tasks = self.state.tasks
            incoming = sum(tasks[k].nbytes or 0 for k in keys if k in tasks)
            if incoming >= ROOM_MIN_BYTES:
                self._spill_for(incoming)
        request_id = next(self._request_ids)
        if self.memory_limit and incoming >= ROOM_MIN_BYTES:
            self._reserve(("fetch", request_id), incoming)
        self.requests[request_id] = (peer, keys, time.monotonic())
        conn = self.peers.get(peer)
        if conn is None:
            conn = Connection(peer, self.token, self._on_peer_reply, loop=self.loop,
                              on_close=lambda exc, peer=peer: self._peer_lost(peer, exc), fail_if_unreachable=True)
            self.peers[peer] = conn
        conn.send(wire.GetData(request_id, keys, self._host if peer not in self._no_vmcopy else ""))

    def _on_peer_reply(self, msg) -> None:
        if not isinstance(msg, wire.DataReply):
            return
        entry = self.requests.pop(msg.request_id, None)
        self._unreserve(("fetch", msg.request_id))
        if entry is None:
            return  # timed out earlier: already reported as failed
        peer, keys, _ = entry
        data, missing = dict(msg.data), list(msg.missing)
        for key, ref in msg.shared.items():
            try:
                data[key] = Shared(shm.open_ref(ref))
            except OSError:  # released by its owner meanwhile: ask again
                missing.append(key)
        for key, ref in msg.on_disk.items():
            try:
                data[key] = shm.open_ref(ref)  # our own mapping of the holder's spill file: ours to count
            except OSError:  # the holder dropped it meanwhile
                missing.append(key)
        if msg.lent:
            from ..comm.vmcopy import borrow_all

            conn = self.peers[peer]
            failed = borrow_all(msg.lent, data, lambda lease: conn.send(wire.ReturnLease(lease)))
            if failed:
                self._no_vmcopy.add(peer)  # cannot read that process: use the socket from now on
                missing.extend(failed)
        self._feed(wev.GatherDepSuccess(self._stim("gather-dep"), peer, data, msg.nbytes, missing))

    def _peer_lost(self, peer: str, exc) -> None:
        conn = self.peers.pop(peer, None)
        if conn is not None:
            conn.close()
        failed = [rid for rid, (p, _, _) in self.requests.items() if p == peer]
        for rid in failed:
            self._unreserve(("fetch", rid))
        events = [wev.GatherDepFailure(self._stim("gather-dep-failed"), peer, self.requests.pop(rid)[1], str(exc))
                  for rid in failed]
        if events:
            self._feed(*events)

    def _check_fetches(self) -> None:
        now = time.monotonic()
        late = {p for p, _, started in self.requests.values() if now - started > self.fetch_timeout}
        for peer in late:
            self._peer_lost(peer, f"no answer within {self.fetch_timeout:.0f} s")

    # ------------------------------------------------------------------ serving peers

    def _serve_data(self, peer_id: bytes, msg: wire.GetData) -> None:
        """Answer a peer's (or client's) `GetData`: values inline, lent for copying, or in shared memory.

        Whatever goes wrong is answered as an error for the keys asked, so the
        asker never waits for its fetch timeout.
        """
        data = self.state.data
        keys = [k for k in msg.keys if k in data]
        try:
            reply = self._data_reply(msg, keys)
            self.listener.send(peer_id, reply)
        except Exception as exc:
            logger.exception("worker %s: cannot serve %s", self.address, keys)
            errors = {k: RemoteTaskError(f"the result of {k!r} on worker {self.address} cannot be sent: "
                                         f"{type(exc).__name__}: {exc}") for k in keys}
            self.listener.send(peer_id, wire.DataReply(msg.request_id, {}, {}, [], errors))

    def _data_reply(self, msg: wire.GetData, keys: list) -> wire.DataReply:
        from ..comm.vmcopy import MIN_BYTES, host_id

        data = self.state.data
        found = {k: peek(data, k) for k in keys}
        nbytes = {k: data.nbytes(k) for k in keys}
        shared, lent, on_disk = {}, {}, {}
        if msg.host == host_id():
            for key in [k for k in keys if nbytes[k] >= MIN_BYTES and data.is_spilled(k)]:
                # On disk here: the asker maps the block file itself.  Lending the mapped frames instead
                # would fault the whole block into this worker's memory while the asker copies it.
                path = data.block_path(key)
                if path is not None:
                    on_disk[key] = shm.ShmRef(path, nbytes[key], "block", os.getpid())
                    del found[key]
            for key in [k for k in keys if k in found and nbytes[k] >= MIN_BYTES and self._share_by_shm(k)]:
                ref = self._put_shared(key)
                if ref is not None:
                    shared[key] = ref
                    del found[key]
            lent = lend_large(found, {k: nbytes[k] for k in found})
            self._lent_once.update(dict.fromkeys(lent))
        missing = [k for k in msg.keys if k not in data]
        return wire.DataReply(msg.request_id, found, nbytes, missing, {}, lent, shared, on_disk)

    def _on_peer_message(self, peer_id: bytes, msg) -> None:
        if type(msg) is wire.ActorCalls:
            self.actors.submit(msg, peer_id)
        elif isinstance(msg, wire.GetData):
            self._serve_data(peer_id, msg)
        elif isinstance(msg, wire.ReturnLease):
            from ..comm.vmcopy import return_lease

            return_lease(msg.lease)
        elif isinstance(msg, wire.Rpc):  # a client asking for logs, client.run, an upload or a plugin
            self.listener.send(peer_id, self.admin.answer(msg))
        elif isinstance(msg, wire.PutData):
            sizer = self.state.data.sizer
            nbytes = {k: sizer(v) for k, v in msg.data.items()}
            self._feed(wev.UpdateData(self._stim("scatter"), msg.data, nbytes))
            # Stored before the answer: the asker may tell the scheduler and be asked for the data again within
            # this same burst of messages (which on_drained would only handle at its end).
            self._process()
            self.listener.send(peer_id, wire.DataReply(msg.request_id, {}, nbytes, []))
        else:
            logger.warning("worker %s: unexpected %s from a peer", self.address, type(msg).__name__)


def tasks_per_thread(mean_duration: float) -> int:
    """Tasks handed to each thread at once for tasks of ``mean_duration`` seconds: 1 unless short
    (`SHORT_TASK`), else `QUEUED_WORK_PER_THREAD` of work, 2 to `MAX_TASKS_PER_THREAD`."""
    short = mean_duration < SHORT_TASK
    return max(2, min(MAX_TASKS_PER_THREAD, int(QUEUED_WORK_PER_THREAD / max(mean_duration, 1e-6)))) if short else 1


def _too_big(key, address: str, input_bytes: int, nbytes: int, limit: int):
    from ..errors import MemoryLimitError

    return MemoryLimitError(
        f"task {key!r} on worker {address}: its inputs ({format_bytes(input_bytes)}) plus its output "
        f"({format_bytes(nbytes)}) do not fit the worker's memory limit of {format_bytes(limit)}; split the work "
        f"into smaller pieces or give workers more memory (memory_limit=)", key=key,
        nbytes=input_bytes + nbytes, limit=limit)


def _picklable(exc: BaseException, key) -> BaseException:
    """``exc`` if it can cross to the client as it is, else a RemoteTaskError carrying its text; either way
    blamed on the task that raised it (the inner task of a fused one), so every dependent's error names it."""
    blame_task(exc, key)
    if type(exc) is SerializationError and exc.key is None:
        exc.key = task_error_key(exc, key)
    try:
        from ..utils.pickling import dumps

        dumps(exc)
        return exc
    except Exception:
        error = RemoteTaskError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        return blame_task(error, task_error_key(exc, key))


def _sendable(msg):
    """``msg`` without its inline value when that value cannot be pickled (the client fetches instead)."""
    inline = getattr(msg, "inline", None)
    if inline is not None:
        try:
            pickle.dumps(inline, protocol=5)
        except Exception:
            msg.inline = None
    return msg
