"""A worker's actors: the live instances it hosts, their mailboxes, and the threads that run their calls.

An actor arrives as a task: its create node (`graphflow.actor.ActorCreate`),
run in a task thread bound to this host (`graphflow.actor.bind_host`), builds
the instance and hands it to `ActorHost.create`, which registers it, tells the
scheduler (`graphflow.comm.messages.ActorUp`) and returns the small `ActorHandle` the task
reports as its result.  From then on calls skip the scheduler: a caller sends
`graphflow.comm.messages.ActorCalls` to this worker's peer socket, `ActorHost.submit`
sequences them and a thread per actor runs them; answers go back to the
caller's socket as `ActorResults`, batched per caller.

Sequencing is pure (`ActorMailbox`): per caller, call ``seq`` runs once, after
``seq - 1``.  A later call waits for the missing one; a repeat is answered
from the cache of results nobody was sent yet, or ignored.  That is what
makes recovery exact: a restored actor (`ActorHost.restore`) starts from the
checkpoint's sequence numbers, replays the logged calls into the cache, and
a caller resending its unanswered calls gets each answer once, whether the
call is replayed, forwarded by the scheduler, or resent.

Checkpoints (``checkpoint_every`` calls, or the ``checkpoint`` call kind):
the actor thread pickles ``__getstate__()`` and sends it to the scheduler
with the sequence numbers it includes and the results callers may still ask
for again; the state thus lives off this worker.  Those results are kept as
*segments*: the results of the calls between two checkpoints, pickled once
when the second is taken, and sent, unopened, with every later checkpoint
until their callers acknowledge them all.  A burst of 10k pipelined calls
whose answers are not acknowledged yet so costs each checkpoint the pickling
of its own 100 results, not of the thousands before (which made
``checkpoint_every=100`` cost +18% of the calls' time, quadratic in the burst).

Worked example, caller ``C`` sends seq 1, 3, 2::

    accept(C, [1])  -> run [1]
    accept(C, [3])  -> run []       3 held
    accept(C, [2])  -> run [2, 3]
    accept(C, [2])  -> run []       a repeat: answered from the cache, if there
"""

from __future__ import annotations

import logging
import pickle
import queue
import threading
import time
import traceback

from ..comm import messages as wire
from ..comm.salvage import load_error, missing_in
from ..spec.actors import checkpoint_state, invoke
from ..errors import ActorDiedError, GraphflowError, RemoteTaskError

logger = logging.getLogger("graphflow.worker")

__all__ = ["ActorHost", "ActorMailbox", "HostedActor", "register_worker", "repair_calls", "worker_info"]

INLINE_BUDGET = 0.5e-3  # seconds: a batch of calls expected to take less runs on the worker's loop

_worker_info: list = []  # (scheduler address, token) of the worker(s) in this process


def register_worker(scheduler_address: str, token) -> None:
    """Remember where this process's worker connects: handles used inside tasks connect there too."""
    _worker_info.append((scheduler_address, token))


def worker_info():
    """``(scheduler_address, token)`` of a worker running in this process, or None."""
    return _worker_info[-1] if _worker_info else None


class ActorMailbox:
    """Per-caller sequencing for one actor (pure; see the module docstring)."""

    __slots__ = ("accepted", "held", "cache", "wanted")

    def __init__(self, hw=None, cache=None):
        self.accepted = dict(hw or {})  # caller -> last seq accepted to run
        self.held: dict = {}  # caller -> {seq: (entry, reply)}
        self.cache = dict(cache or {})  # (caller, seq) -> (ok, value, traceback): results not sent to anyone
        self.wanted: dict = {}  # (caller, seq) -> reply: a repeat of a call accepted but not run yet

    def _drop_cached(self, caller, below: int) -> None:
        for k in [k for k in self.cache if k[0] == caller and k[1] < below]:
            del self.cache[k]

    def forget_answered(self, caller, acked: int) -> None:
        """The caller has every answer up to ``acked``: no repeat of those calls will come."""
        if self.cache:
            self._drop_cached(caller, acked + 1)

    def settle(self, caller, seq, result, reply) -> object:
        """Where the result of a call that just ran goes: its ``reply`` (or a repeat's), else None (cached)."""
        if reply is None:
            reply = self.wanted.pop((caller, seq), None) if self.wanted else None
            if reply is None:
                self.cache[(caller, seq)] = result
        return reply

    def accept(self, caller, calls, reply) -> tuple:
        """``(to_run, answers)``: ``[(caller, entry, reply)]`` in order, and ``[result]`` for repeats."""
        run, answers = [], []
        hw = self.accepted.get(caller, 0)
        if self.cache and reply is not None and calls and calls[-1][0] > hw:
            # a caller sends new calls only after resending the ones it missed: its older results are not wanted
            self._drop_cached(caller, calls[0][0])
        held = self.held.get(caller)
        for entry in calls:
            seq = entry[0]
            if seq <= hw:
                if reply is not None:
                    cached = self.cache.pop((caller, seq), None)
                    if cached is not None:
                        answers.append((seq, *cached))
                    else:  # still to run (forwarded or replayed): answer when it has
                        self.wanted[(caller, seq)] = reply
                continue
            if seq != hw + 1:
                if held is None:
                    held = self.held[caller] = {}
                held[seq] = (entry, reply)
                continue
            run.append((caller, entry, reply))
            hw = seq
            while held and hw + 1 in held:
                hw += 1
                e, r = held.pop(hw)
                run.append((caller, e, r))
        self.accepted[caller] = hw
        if held is not None and not held:
            del self.held[caller]
        return run, answers


class HostedActor:
    """One live instance, its mailbox, and the thread(s) running its calls."""

    def __init__(self, host: "ActorHost", key, actor_class, instance, mailbox: ActorMailbox, incarnation: int):
        self.host = host
        self.key = key
        self.actor_class = actor_class
        self.instance = instance
        self.mailbox = mailbox
        self.incarnation = incarnation
        options = actor_class.options
        self.every = options.checkpoint_every
        self.keep = options.max_restarts > 0
        self.since = 0
        self.done = dict(mailbox.accepted)  # caller -> last seq run (what a checkpoint includes)
        # Results of calls run here whose answers the callers have not acknowledged: every checkpoint carries
        # them, so a result lost with a dying worker is still answered after a restore.  ``fresh``:
        # (caller, seq) -> result since the last checkpoint; ``segments``: [(pickled results, {caller: last
        # seq})] of earlier checkpoints, dropped once every caller in one acknowledged its last seq.
        self.fresh: dict = {}
        self.segments: list = []
        self.acked: dict = {}  # caller -> highest seq whose answer it acknowledged
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.outstanding = 0  # batches queued and not run yet (guarded by the host's lock)
        self.mean = 1.0  # seconds per call, learnt; calls run on the worker's loop once they are quick
        self.inline = options.max_concurrency == 1
        self.state_lock = threading.Lock()  # only contended with max_concurrency > 1
        self.threads = [threading.Thread(target=self._loop, name=f"graphflow-actor-{actor_class.name}", daemon=True)
                        for _ in range(options.max_concurrency)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        for _ in self.threads:
            self.queue.put(None)

    def _loop(self) -> None:
        get, get_nowait = self.queue.get, self.queue.get_nowait
        while True:
            batch = get()
            if batch is None:
                return
            out: dict = {}
            stop = False
            while True:
                self.run(batch, out)
                with self.host.lock:
                    self.outstanding -= 1
                try:
                    batch = get_nowait()
                except queue.Empty:
                    break
                if batch is None:
                    stop = True
                    break
            if out:
                self.host.deliver(self.key, out)
            if stop:
                return

    def run(self, batch, out: dict) -> None:
        """Run ``[(caller, entry, reply)]`` in order; answers to ``out[(reply, caller)]``, the rest to the cache."""
        clock = time.perf_counter
        start = clock()
        for caller, entry, reply in batch:
            seq, method, kind, args, kwargs = entry
            try:
                if kind == "checkpoint":
                    result = (True, self.checkpoint(), "")
                elif kind == "unloadable":  # arguments this worker cannot load (repair_calls): the error, in turn
                    result = (False, args, "")
                else:
                    result = (True, invoke(self.instance, method, kind, args, kwargs), "")
            except BaseException as exc:  # noqa: B902 - every error goes back to its caller
                result = (False, _picklable(exc), traceback.format_exc())
            with self.state_lock:
                if seq > self.done.get(caller, 0):
                    self.done[caller] = seq
                if self.keep:
                    self.fresh[(caller, seq)] = result
                if reply is None:
                    with self.host.lock:  # a repeat may be asking for it right now
                        reply = self.mailbox.settle(caller, seq, result, None)
                if reply is not None:
                    out.setdefault((reply, caller), []).append((seq, *result))
                self.since += 1
                due = self.every is not None and self.since >= self.every and kind != "checkpoint"
            if due:
                self.checkpoint()
        self.mean += 0.2 * ((clock() - start) / len(batch) - self.mean) if batch else 0.0

    def forget_answered(self, caller, acked: int) -> None:
        """``caller`` has every answer up to ``acked``: later checkpoints need not carry those results."""
        with self.state_lock:
            if acked <= self.acked.get(caller, 0):
                return
            self.acked[caller] = acked
            fresh = self.fresh
            for entry in [e for e in fresh if e[0] == caller and e[1] <= acked]:  # fresh: one checkpoint's worth
                del fresh[entry]
            if self.segments:
                done = self.acked
                self.segments = [seg for seg in self.segments
                                 if any(done.get(c, 0) < last for c, last in seg[1].items())]

    def checkpoint(self) -> bool:
        """Send the instance's state, and the calls it includes, to the scheduler."""
        with self.state_lock:
            state = checkpoint_state(self.instance)
            try:
                blob = pickle.dumps(state, protocol=5)
            except Exception:
                from ..utils.pickling import dumps

                blob = dumps(state)
            if self.fresh:
                last: dict = {}
                for caller, seq in self.fresh:
                    if seq > last.get(caller, 0):
                        last[caller] = seq
                self.segments.append((_pickled_results(self.fresh), last))
                self.fresh = {}
            results = [segment for segment, _ in self.segments]
            done = dict(self.done)
            self.since = 0
        self.host.checkpointed(wire.ActorCheckpoint(self.key, self.incarnation, blob, done, results))
        return True


class ActorHost:
    """The actors of one worker.  ``post(fn, *args)`` runs on the worker's loop; ``send_peer(peer_id, msgs)``
    and ``send_scheduler(msgs)`` send from it.  ``make_handle(key, actor_class, address, incarnation)`` builds
    what an actor's creation returns to its callers (the client's ``ActorHandle``, given by the process that
    starts the worker: this package does not import the client)."""

    def __init__(self, address: str, post, send_peer, send_scheduler, make_handle=None):
        self.address = address
        self.make_handle = make_handle
        self.post = post
        self.send_peer = send_peer
        self.send_scheduler = send_scheduler
        self.actors: dict = {}
        self.waiting: dict = {}  # key -> [(msg, reply)] that came before the actor was registered
        self.frozen: set = set()  # actors moving off this retiring worker: later calls are not run here
        self.lock = threading.RLock()
        self._outbox: list = []
        self._checkpoints: dict = {}  # actor key -> its newest checkpoint not sent yet
        self._scheduled = False

    # -- creating (task threads)

    def create(self, node, instance):
        """Host a newly built instance for ``node`` (an ActorCreate); returns its handle."""
        actor = HostedActor(self, node.key, node.actor_class, instance, ActorMailbox(), 0)
        return self._register(actor)

    def restore(self, node, instance):
        """Host a recovered instance: replay ``node.replay`` after its checkpoint, then serve; returns its handle."""
        mailbox = ActorMailbox(node.hw, node.results)
        actor = HostedActor(self, node.key, node.actor_class, instance, mailbox, node.incarnation)
        if actor.keep:  # still unacknowledged: the next checkpoint must carry them again
            for (caller, seq), result in sorted(node.results.items(), key=lambda item: item[0][1]):
                actor.fresh[(caller, seq)] = result
        for caller, _, _, calls in node.replay:
            run, _ = mailbox.accept(caller, calls.to_object() if hasattr(calls, "to_object") else calls, None)
            actor.run(run, {})
        actor.since = 0
        logger.info("worker %s: restored actor %r (incarnation %d, %d calls replayed)", self.address, node.key,
                    node.incarnation, len(node.replay))
        return self._register(actor)

    def _register(self, actor: HostedActor):
        if self.make_handle is None:
            raise GraphflowError(
                f"worker {self.address} cannot host actor {actor.key!r}: it was started without an actor handle "
                f"type (start workers with graphflow.deploy.worker_process, or pass Worker(actor_handle=...))")

        with self.lock:
            old = self.actors.pop(actor.key, None)
            self.actors[actor.key] = actor
            early = self.waiting.pop(actor.key, ())
            actor.start()
            for msg, reply in early:
                self._accept(actor, msg, reply)
        if old is not None:
            old.stop()
        self.to_scheduler(wire.ActorUp(actor.key, actor.incarnation))
        return self.make_handle(actor.key, actor.actor_class, self.address, actor.incarnation)

    # -- calls (loop thread)

    def submit(self, msg, reply) -> None:
        """Calls arrived (``reply``: the caller's peer id, or None when the scheduler forwards them)."""
        with self.lock:
            actor = self.actors.get(msg.actor)
            if msg.actor in self.frozen:
                return  # moving: the caller keeps the calls and resends them to the next host
            if actor is None:
                self.waiting.setdefault(msg.actor, []).append((msg, reply))
                return
            self._accept(actor, msg, reply, on_loop=True)

    def _accept(self, actor: HostedActor, msg, reply, on_loop: bool = False) -> None:
        if msg.acked:
            actor.forget_answered(msg.caller, msg.acked)
            actor.mailbox.forget_answered(msg.caller, msg.acked)
        if not msg.calls:
            return
        run, answers = actor.mailbox.accept(msg.caller, msg.calls, reply if msg.reply else None)
        if answers:
            self.deliver(actor.key, {(reply, msg.caller): answers})
        if not run:
            return
        if on_loop and actor.inline and not actor.outstanding and actor.mean * len(run) < INLINE_BUDGET:
            # Quick calls, actor idle: run them here rather than pay two thread hand-offs per round trip.
            out: dict = {}
            actor.run(run, out)
            if out:
                self.deliver(actor.key, out)
                self._flush()
            return
        actor.outstanding += 1
        actor.queue.put(run)

    def deliver(self, key, out: dict) -> None:
        """Answers ready (any thread): sent from the loop, one message per caller."""
        with self.lock:
            self._outbox.append((key, out))
            if self._scheduled:
                return
            self._scheduled = True
        self.post(self._flush)

    def checkpointed(self, msg) -> None:
        """A checkpoint to send (any thread): from the loop, with the answers of the same calls.

        A newer checkpoint of the same actor replaces one not sent yet (it covers
        every call the older one did, and carries the results still unacknowledged),
        so a burst of quick calls sends one checkpoint per round of answers, not
        one per ``checkpoint_every`` calls.
        """
        with self.lock:
            self._checkpoints[msg.actor] = msg
            if self._scheduled:
                return
            self._scheduled = True
        self.post(self._flush)

    def _flush(self) -> None:
        with self.lock:
            outbox, self._outbox = self._outbox, []
            checkpoints, self._checkpoints = self._checkpoints, {}
            self._scheduled = False
        if checkpoints:  # before the answers: a caller that got one must find it covered after a restore
            self.send_scheduler(list(checkpoints.values()))
        by_peer: dict = {}
        for key, out in outbox:
            for (peer, caller), results in out.items():
                by_peer.setdefault(peer, []).append(wire.ActorResults(key, caller, results))
        for peer, msgs in by_peer.items():
            try:
                self.send_peer(peer, msgs)
            except Exception:  # an unpicklable result: send each answer alone, failing only the bad one
                for m in msgs:
                    self.send_peer(peer, [_sendable(m)])

    def to_scheduler(self, msg) -> None:
        """Send a message to the scheduler from the loop (any thread)."""
        self.post(self.send_scheduler, [msg])

    # -- lifetime (loop thread)

    def forget(self, keys) -> None:
        """The scheduler released these keys: drop the actors among them."""
        if not self.actors and not self.waiting:
            return
        dropped = []
        with self.lock:
            for key in keys:
                actor = self.actors.pop(key, None)
                if actor is not None:
                    dropped.append(actor)
                early = self.waiting.pop(key, None)
                for msg, reply in early or ():
                    if reply is not None and msg.reply:
                        err = ActorDiedError(f"actor {key!r} was released before call(s) to it arrived",
                                             actor=key, worker=self.address)
                        self.deliver(key, {(reply, msg.caller): [(c[0], False, err, "") for c in msg.calls]})
        for actor in dropped:
            actor.stop()

    def freeze(self, keys) -> None:
        """This worker is retiring: run no later calls to these actors, and checkpoint each once it is idle.

        The scheduler recreates each from that checkpoint on another worker;
        callers hold the calls nobody answered and resend them there, so none
        is lost and none runs twice (`graphflow.scheduler.retire`).
        """
        with self.lock:
            actors = [self.actors[k] for k in keys if k in self.actors]
            self.frozen.update(a.key for a in actors)
        for actor in actors:
            threading.Thread(target=self._checkpoint_when_idle, args=(actor,), daemon=True).start()

    def _checkpoint_when_idle(self, actor: HostedActor, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while actor.outstanding and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(0.01)  # the last batch's answers are handed to the loop before the checkpoint is
        try:
            actor.checkpoint()
        except Exception:  # the scheduler's retirement times out and names the actor
            logger.exception("worker %s: cannot checkpoint actor %r to move it", self.address, actor.key)

    def close(self) -> None:
        """Stop every actor thread."""
        with self.lock:
            actors, self.actors = list(self.actors.values()), {}
        for actor in actors:
            actor.stop()


def repair_calls(msg, error):
    """Actor calls holding arguments of a module this worker lacks (`graphflow.comm.salvage`): each keeps its
    place in its caller's sequence and fails, when its turn comes, with the error naming the module -- the
    calls after it still run.  None for other messages (their sender is told)."""
    if type(msg) is not wire.ActorCalls or type(msg.calls) is not list:
        return None
    msg.calls = [_unloadable_call(msg.actor, call) if missing_in(call) else call for call in msg.calls]
    return msg


def _unloadable_call(actor, call) -> tuple:
    """The call ``(seq, method, kind, args, kwargs)`` that fails in its turn with the error naming the module."""
    seq, method = call[0], call[1]
    return (seq, method, "unloadable", load_error(f"the arguments of call #{seq} ({method}) on actor {actor!r}", call),
            None)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc, protocol=5)
        return exc
    except Exception:
        try:
            from ..utils.pickling import dumps

            dumps(exc)
            return exc
        except Exception:
            return RemoteTaskError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")


def _pickled_results(window: dict) -> bytes:
    """The results a checkpoint carries, pickled once (the scheduler keeps them unopened); values that will
    not pickle are left out (their callers got them)."""
    try:
        return pickle.dumps(window, protocol=5)
    except Exception:
        out = {}
        for k, v in window.items():
            try:
                pickle.dumps(v, protocol=5)
                out[k] = v
            except Exception:
                pass
        return pickle.dumps(out, protocol=5)


def _sendable(msg):
    fixed = []
    for seq, ok, value, tb in msg.results:
        try:
            from ..utils.pickling import dumps

            dumps(value)
        except Exception as exc:
            value, ok = RemoteTaskError(f"the result of call #{seq} on actor {msg.actor!r} cannot be sent: "
                                        f"{type(exc).__name__}: {exc}"), False
        fixed.append((seq, ok, value, tb))
    msg.results = fixed
    return msg
