"""Values between this client and the workers: fetched straight from their holders, scattered to them.

The scheduler only says who holds a key (``who_has`` in its report); the
client then asks that worker (`graphflow.comm.messages.GetData`) over a
connection of its own, opened on first use and kept (`connection`).  A large
value on the same host is not copied through the socket: the worker lends it
and the client copies it out of the worker's memory (`graphflow.comm.vmcopy`),
or maps its shared-memory or spilled block (`graphflow.store.shm`).  A worker
running in this very process (``LocalCluster(processes=False)``) is not asked
at all: its value is read from its store (`graphflow.worker.inprocess`).  Every
request is a pending answer of the `SchedulerSession`, so one lost worker or
a lost scheduler fails exactly the requests it should.

A value the scheduler says is in memory may still not come: its holder
answers that it does not have it, its connection fails, or it does not
answer within `FETCH_TIMEOUT`.  `fetch` then tells the scheduler
(`graphflow.comm.messages.MissingDataRequest`), which drops that replica and
answers with the holders left: the fetch tries another, and a key with none
left is recomputed (the client's key report says "lost", so the caller waits
for it again: `fetch` returns None).  It never spins: every round either
fetches, moves to another holder, or waits on the key's new state, and a key
that could not be fetched `MAX_FETCH_ROUNDS` times raises `LostDataError`
naming it, its holders and why.

    values = transfer.fetch(states, deadline)     # None: a key is no longer finished; wait and call again
"""

from __future__ import annotations

import concurrent.futures
import logging
import time

from ..comm import messages
from ..errors import CommClosedError, LostDataError, annotate_task_error
from ..worker.inprocess import read_values
from .unreadable import repair

__all__ = ["WorkerData", "MAX_FETCH_ROUNDS"]

logger = logging.getLogger("graphflow.client")

MAX_FETCH_ROUNDS = 5  # failed fetches of one key (recomputations included) before it raises LostDataError
FETCH_TIMEOUT = 30.0  # seconds a holder may take to answer, plus 1 s per 20 MB asked
ANSWER_TIMEOUT = 300.0  # seconds the scheduler may take to answer which holders are left (it may be busy)


class WorkerData:
    """A client's connections to workers and the requests on them (see the module docstring)."""

    def __init__(self, session, on_message):
        self.session = session
        self.on_message = on_message  # where worker messages go (the session's dispatch)
        self.peers: dict = {}  # worker address -> Connection
        self._pending: dict = {}  # request id -> worker address
        self.no_vmcopy: set = set()  # workers whose memory this process cannot read

    # ------------------------------------------------------------------ connections (I/O thread)

    def connection(self, worker: str):
        """The open connection to ``worker``, made on first use (I/O thread)."""
        conn = self.peers.get(worker)
        if conn is None:
            from ..comm.transport import Connection

            session = self.session
            conn = self.peers[worker] = Connection(
                worker, session.token, self.on_message, loop=session.loop,
                on_close=lambda exc, w=worker: self.lost(w, exc), curve_secret=session.curve_secret,
                fail_if_unreachable=True)
            conn.repair = repair  # a value this process cannot load becomes that key's error
        return conn

    def request(self, worker: str, make_message) -> concurrent.futures.Future:
        """Send ``make_message(request_id)`` to ``worker`` (I/O thread); the future resolves with its answer."""
        request_id, answer = self.session.new_request()
        self._pending[request_id] = worker
        answer.add_done_callback(lambda _, rid=request_id: self._pending.pop(rid, None))
        self.connection(worker).send(make_message(request_id))
        return answer

    def lost(self, worker: str, exc) -> None:
        """``worker``'s connection closed: fail the requests waiting on it (I/O thread)."""
        conn = self.peers.pop(worker, None)
        if conn is not None:
            conn.close()
        for request_id, w in list(self._pending.items()):
            if w == worker:
                del self._pending[request_id]
                request = self.session.requests.pop(request_id, None)
                if request is not None and not request.done():
                    request.set_exception(CommClosedError(f"lost worker {worker}: {exc}"))

    def forget(self, answers) -> None:
        """Drop the bookkeeping of these pending answers, answered or not (I/O thread)."""
        wanted = set(map(id, answers))
        for request_id in [rid for rid, r in self.session.requests.items() if id(r) in wanted]:
            self.session.requests.pop(request_id, None)
            self._pending.pop(request_id, None)

    def close(self) -> None:
        """Close every worker connection (I/O thread)."""
        for conn in self.peers.values():
            conn.close()
        self.peers.clear()

    # ------------------------------------------------------------------ values

    def put(self, worker: str, data: dict) -> concurrent.futures.Future:
        """Store ``data`` (key -> value) on ``worker``; resolves with its `DataReply` (call from any thread)."""
        return self.session.io.call(self.request, worker, lambda rid: messages.PutData(rid, data))

    def _get(self, worker: str, keys: list) -> concurrent.futures.Future:
        from ..comm.vmcopy import host_id

        host = "" if worker in self.no_vmcopy else host_id()
        return self.request(worker, lambda request_id: messages.GetData(request_id, keys, host))

    def fetch(self, states: list, deadline) -> list | None:
        """The values of these finished keys, fetched from their holders (call from a user thread).

        None when a key is no longer finished (lost and being recomputed):
        the caller waits for it to settle and calls again.  Raises
        `LostDataError` for a key that could not be fetched `MAX_FETCH_ROUNDS`
        times, and TimeoutError past ``deadline``.
        """
        while True:
            failed: dict = {}  # key -> (holder, why) for keys whose holder did not deliver
            values = self._fetch_once(states, deadline, failed)
            if values is not None:
                for s in states:
                    s.fetch_failures = 0
                return values
            if any(s.status != "finished" for s in states):
                return None  # lost meanwhile: the caller waits for the recomputation
            if not failed:
                continue  # asked again at once (a lent value this host cannot copy)
            for s in states:
                if s.key in failed:
                    s.fetch_failures += 1
                    if s.fetch_failures >= MAX_FETCH_ROUNDS:
                        holder, why = failed[s.key]
                        raise LostDataError(
                            f"could not fetch the result of {s.key!r} {s.fetch_failures} times (asking the scheduler "
                            f"for its holders in between, which recomputes it when none is left); the last try "
                            f"asked worker {holder or '(none known)'}: {why}.  Can this "
                            f"process reach the workers' addresses?", key=s.key, worker=holder)
            # The scheduler still lists those holders: tell it they did not deliver.  It drops those replicas and
            # answers with the holders left; a key with none left is recomputed, and its "lost" report reaches us
            # before this answer, so its state is pending by the time we look.
            holders = {key: holder for key, (holder, _) in failed.items()}
            # A generous wait: a scheduler that is gone fails this at once; one that is slow is only busy.
            fresh = self.session.ask(messages.MissingDataRequest(holders), timeout=ANSWER_TIMEOUT)
            for s in states:
                if s.key in fresh and s.status == "finished" and not s.has_value:
                    s.who_has = list(fresh[s.key])
            if any(s.status != "finished" for s in states):
                return None

    def _fetch_once(self, states: list, deadline, failed: dict) -> list | None:
        """One try at fetching ``states``; None if some did not come (their holders and why put in ``failed``)."""
        by_worker: dict = {}
        for s in states:
            if not s.who_has:
                failed[s.key] = ("", "the scheduler named no worker holding it")
                continue
            by_worker.setdefault(s.who_has[0], []).append(s)
        if failed:
            return None
        found: dict = {}
        for worker in list(by_worker):  # a worker of this process (LocalCluster(processes=False)): no pickling
            group = by_worker[worker]
            values = read_values(worker, [s.key for s in group])
            if values is not None and len(values) == len(group):
                found.update(values)
                del by_worker[worker]
        io = self.session.io
        requests = {w: io.call(self._get, w, [s.key for s in group]) for w, group in by_worker.items()}
        incomplete = False
        for worker, request in requests.items():
            group = by_worker[worker]
            limit = FETCH_TIMEOUT + sum(s.nbytes for s in group) / 20e6
            try:
                reply = _await_reply(request, states, deadline, time.monotonic() + limit)
            except concurrent.futures.CancelledError:  # a key was lost meanwhile
                return None
            except CommClosedError as exc:
                self.session.check_open()  # the scheduler is gone: that error, not the worker's
                failed.update({s.key: (worker, str(exc)) for s in group})
                continue
            except _NoAnswer:
                io.call(self.forget, [request])
                failed.update({s.key: (worker, f"no answer within {limit:.0f} s") for s in group})
                continue
            if reply.errors:
                key, error = next(iter(reply.errors.items()))
                raise annotate_task_error(error, key)
            if reply.lent and self._borrow(worker, reply.lent, found):
                incomplete = True  # asked again, over the socket this time
                continue
            if reply.shared or reply.on_disk:
                from ..store import shm

                for key, ref in {**reply.shared, **reply.on_disk}.items():
                    try:
                        found[key] = shm.open_ref(ref)
                    except OSError as exc:  # released by its worker meanwhile
                        failed[key] = (worker, f"its shared-memory block is gone ({exc})")
            for key in reply.missing:
                failed[key] = (worker, "the worker does not hold it")
            found.update(reply.data)
        if failed or incomplete:
            return None
        return [found[s.key] for s in states]

    def _borrow(self, worker: str, lent: dict, found: dict) -> bool:
        """Copy lent values out of ``worker``'s memory into ``found``; True if this host cannot (ask again)."""
        from ..comm.vmcopy import borrow_all

        conn = self.peers[worker]
        loop = self.session.loop
        if borrow_all(lent, found, lambda lease: loop.add_callback(conn.send, messages.ReturnLease(lease))):
            self.no_vmcopy.add(worker)
            return True
        return False

    # ------------------------------------------------------------------ questions to workers

    def ask_each(self, workers: list, request: messages.Request, timeout: float) -> dict:
        """Ask every worker ``request`` at once: ``{worker: answer}`` for those that answered within ``timeout``.

        One that cannot be reached or does not answer in time is left out, and named in a warning.
        """
        io = self.session.io
        answers = {}
        for worker in workers:
            try:
                answers[worker] = io.call(self.request, worker, lambda rid: messages.Rpc(rid, request))
            except Exception as exc:
                logger.warning("%s: cannot reach worker %s: %s", type(request).__name__, worker, exc)
        deadline = time.monotonic() + timeout
        got = {}
        for worker, answer in answers.items():
            try:
                got[worker] = answer.result(max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                logger.warning("%s: no answer from worker %s (%s: %s); left out", type(request).__name__, worker,
                               type(exc).__name__, exc or "no answer in time")
        io.call(self.forget, list(answers.values()))
        return got


class _NoAnswer(Exception):
    """A holder did not answer a data request in time."""


def _await_reply(request: concurrent.futures.Future, states: list, deadline, give_up: float):
    """The reply to a data request; CancelledError if a key was lost meanwhile, `_NoAnswer` after ``give_up``
    (a `time.monotonic` time), TimeoutError after the caller's ``deadline``."""
    while True:
        now = time.monotonic()
        timeout = 0.1 if deadline is None else min(0.1, max(0.0, deadline - now))
        try:
            return request.result(timeout)
        except concurrent.futures.TimeoutError:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                keys = [s.key for s in states]
                raise TimeoutError(f"fetching the results of {keys} took longer than the timeout") from None
            if any(s.status != "finished" for s in states):
                raise concurrent.futures.CancelledError() from None
            if now >= give_up:
                raise _NoAnswer() from None
