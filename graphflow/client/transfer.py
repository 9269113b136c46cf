"""Values between this client and the workers: fetched straight from their holders, scattered to them.

The scheduler only says who holds a key (``who_has`` in its report); the
client then asks that worker (`graphflow.comm.messages.GetData`) over a
connection of its own, opened on first use and kept (`connection`).  A large
value on the same host is not copied through the socket: the worker lends it
and the client copies it out of the worker's memory (`graphflow.comm.vmcopy`),
or maps its shared-memory or spilled block (`graphflow.store.shm`).  Every
request is a pending answer of the `SchedulerSession`, so one lost worker or
a lost scheduler fails exactly the requests it should.

`fetch` returns None when a value was lost on the way (its worker died or
dropped it): the caller waits for the scheduler to recompute it and asks
again.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time

from ..comm import messages
from ..errors import CommClosedError, annotate_task_error

__all__ = ["WorkerData"]

logger = logging.getLogger("graphflow.client")


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
        """The values of these finished keys, fetched from their holders; None if one was lost on the way."""
        by_worker: dict = {}
        for s in states:
            if not s.who_has:
                return None
            by_worker.setdefault(s.who_has[0], []).append(s.key)
        io = self.session.io
        requests = {w: io.call(self._get, w, keys) for w, keys in by_worker.items()}
        found: dict = {}
        for worker, request in requests.items():
            try:
                reply = _await_reply(request, states, deadline)
            except (CommClosedError, concurrent.futures.CancelledError):
                self.session.check_open()
                return None
            except concurrent.futures.TimeoutError:
                raise TimeoutError(f"fetching results from worker {worker} took longer than the timeout") from None
            if reply.errors:
                key, error = next(iter(reply.errors.items()))
                raise annotate_task_error(error, key)
            if reply.lent and self._borrow(worker, reply.lent, found):
                return None  # asked again, over the socket this time
            if reply.shared or reply.on_disk:
                from ..store import shm

                try:
                    refs = {**reply.shared, **reply.on_disk}
                    found.update({key: shm.open_ref(ref) for key, ref in refs.items()})
                except OSError:  # released by its worker meanwhile: ask again
                    return None
            if reply.missing:
                return None
            found.update(reply.data)
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


def _await_reply(request: concurrent.futures.Future, states: list, deadline):
    """The reply to a data request; CancelledError if a key was lost meanwhile (ask again later)."""
    while True:
        timeout = 0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic()))
        try:
            return request.result(timeout)
        except concurrent.futures.TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if any(s.status != "finished" for s in states):
                raise concurrent.futures.CancelledError() from None
