"""Coordination primitives kept by the scheduler: locks, semaphores, events, queues and variables, by name.

The model: each primitive is a small record in `Coordination`, changed only
by `handle(client, request, reply)` and by `client_left`.  An operation that
can answer at once calls ``reply(value)`` (or ``reply(None, error)``) before
returning; one that must wait (an acquire on a full semaphore, a ``get`` on
an empty queue) becomes a `Waiter` that is answered when another operation
frees it, when `expire` is called for it (its timeout; the shell owns the
clock and calls it), or when its client leaves.  No socket, no loop, no clock
in here: the shell (`graphflow.scheduler.extensions`) passes ``reply`` and
schedules `expire`.

A lease belongs to a holder within a client: ``(client id, handle id)``.
When a client goes away -- closed, or killed with the worker process whose
task opened it -- every lease it held is released and its waiters dropped,
so the next waiter proceeds.

    >>> c = Coordination(); got = []
    >>> from graphflow.comm.messages import PrimitiveRequest as R
    >>> c.handle("a", R("lock", "L", "acquire", holder="h1"), lambda v, e=None: got.append(v))
    >>> c.handle("b", R("lock", "L", "acquire", holder="h2"), lambda v, e=None: got.append(v))  # a waiter id
    1
    >>> got          # b waits
    [True]
    >>> c.client_left("a"); got
    [True, True]
"""

from __future__ import annotations

import itertools
from collections import deque

from ..errors import LeaseError

__all__ = ["Coordination", "Waiter"]


class Waiter:
    """An operation waiting for its primitive: answered once, by `reply`."""

    __slots__ = ("ident", "client", "holder", "op", "arg", "reply", "kind", "name")

    def __init__(self, ident: int, client: str, req, reply):
        self.ident, self.client, self.holder, self.op, self.arg = ident, client, req.holder, req.op, req.arg
        self.kind, self.name, self.reply = req.kind, req.name, reply


class _Leases:
    """A semaphore (a lock is one with a single lease): who holds leases, who waits for one."""

    __slots__ = ("max_leases", "held", "waiters")

    def __init__(self, max_leases: int):
        self.max_leases = max_leases
        self.held: dict = {}  # (client, holder) -> number of leases it holds
        self.waiters: deque = deque()

    def count(self) -> int:
        return sum(self.held.values())


class Coordination:
    """Every named primitive of one scheduler (see the module docstring)."""

    def __init__(self):
        self.leases: dict = {}  # (kind, name) -> _Leases
        self.events: dict = {}  # name -> bool (set?)
        self.event_waiters: dict = {}  # name -> [Waiter]
        self.queues: dict = {}  # name -> deque of items
        self.queue_waiters: dict = {}  # name -> deque of Waiter (getters)
        self.variables: dict = {}  # name -> value
        self.variable_waiters: dict = {}  # name -> [Waiter]
        self.waiting: dict = {}  # waiter id -> Waiter
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ entry points

    def handle(self, client: str, req, reply) -> int | None:
        """Do ``req`` for ``client``; returns a waiter id when the answer must wait (see `expire`), else None."""
        method = getattr(self, f"_{req.kind}_{req.op}", None)
        if method is None:
            raise ValueError(f"unknown operation {req.op!r} on a {req.kind!r} (name {req.name!r})")
        return method(client, req, reply)

    def expire(self, ident: int) -> None:
        """Waiter ``ident``'s timeout passed: answer it with its time-out answer (False, or TimeoutError)."""
        w = self.waiting.pop(ident, None)
        if w is None:
            return
        self._unqueue(w)
        if w.op in ("acquire", "wait"):
            w.reply(False)
        else:
            w.reply(None, TimeoutError(f"{w.kind} {w.name!r}: nothing to {w.op} within the timeout"))

    def client_left(self, client: str) -> None:
        """``client`` is gone: its leases are released (waiters proceed) and its own waiters forgotten."""
        for w in [w for w in self.waiting.values() if w.client == client]:
            del self.waiting[w.ident]
            self._unqueue(w)
        for sem in self.leases.values():
            gone = [h for h in sem.held if h[0] == client]
            for h in gone:
                del sem.held[h]
            if gone:
                self._grant(sem)

    # ------------------------------------------------------------------ waiting

    def _wait(self, client, req, reply, queue) -> int:
        w = Waiter(next(self._ids), client, req, reply)
        self.waiting[w.ident] = w
        queue.append(w)
        return w.ident

    def _unqueue(self, w: Waiter) -> None:
        if w.kind in ("lock", "semaphore"):
            sem = self.leases.get((w.kind, w.name))
            queue = sem.waiters if sem is not None else ()
        else:
            table = {"event": self.event_waiters, "queue": self.queue_waiters,
                     "variable": self.variable_waiters}[w.kind]
            queue = table.get(w.name, ())
        if w in queue:
            queue.remove(w)

    def _answer(self, w: Waiter, value) -> None:
        self.waiting.pop(w.ident, None)
        w.reply(value)

    # ------------------------------------------------------------------ locks and semaphores

    def _sem(self, req, create: int | None = None) -> _Leases:
        key = (req.kind, req.name)
        sem = self.leases.get(key)
        if sem is None:
            sem = self.leases[key] = _Leases(1 if req.kind == "lock" else int(create or 1))
        return sem

    def _semaphore_create(self, client, req, reply):
        sem = self.leases.get(("semaphore", req.name))
        if sem is not None and sem.max_leases != int(req.arg):
            reply(None, LeaseError(f"semaphore {req.name!r} exists with max_leases={sem.max_leases}; "
                                   f"it cannot be created again with max_leases={req.arg}"))
            return
        self._sem(req, req.arg)
        reply(True)

    def _semaphore_acquire(self, client, req, reply):
        sem = self._sem(req)
        if sem.count() < sem.max_leases and not sem.waiters:
            h = (client, req.holder)
            sem.held[h] = sem.held.get(h, 0) + 1
            return reply(True)
        if req.timeout is not None and req.timeout <= 0:
            return reply(False)
        return self._wait(client, req, reply, sem.waiters)

    def _semaphore_release(self, client, req, reply):
        sem = self.leases.get((req.kind, req.name))
        h = (client, req.holder)
        if sem is None or not sem.held.get(h):
            return reply(None, LeaseError(f"{req.kind} {req.name!r} released by a handle that does not hold it "
                                          f"(client {client}); acquire it first"))
        sem.held[h] -= 1
        if not sem.held[h]:
            del sem.held[h]
        self._grant(sem)
        reply(True)

    def _semaphore_value(self, client, req, reply):
        sem = self.leases.get((req.kind, req.name))
        reply(sem.count() if sem is not None else 0)

    _lock_acquire = _semaphore_acquire
    _lock_release = _semaphore_release
    _lock_value = _semaphore_value

    def _grant(self, sem: _Leases) -> None:
        while sem.waiters and sem.count() < sem.max_leases:
            w = sem.waiters.popleft()
            h = (w.client, w.holder)
            sem.held[h] = sem.held.get(h, 0) + 1
            self._answer(w, True)

    # ------------------------------------------------------------------ events

    def _event_set(self, client, req, reply):
        self.events[req.name] = True
        for w in self.event_waiters.pop(req.name, []):
            self._answer(w, True)
        reply(True)

    def _event_clear(self, client, req, reply):
        self.events[req.name] = False
        reply(True)

    def _event_is_set(self, client, req, reply):
        reply(self.events.get(req.name, False))

    def _event_wait(self, client, req, reply):
        if self.events.get(req.name, False):
            return reply(True)
        if req.timeout is not None and req.timeout <= 0:
            return reply(False)
        return self._wait(client, req, reply, self.event_waiters.setdefault(req.name, []))

    # ------------------------------------------------------------------ queues

    def _queue_put(self, client, req, reply):
        waiters = self.queue_waiters.get(req.name)
        if waiters:
            w = waiters.popleft()
            self._answer(w, [req.arg] if w.arg else req.arg)
        else:
            self.queues.setdefault(req.name, deque()).append(req.arg)
        reply(True)

    def _queue_get(self, client, req, reply):
        items = self.queues.get(req.name)
        batch = req.arg  # False: one item; True: all there are (maybe none); n: n items (waits for them)
        if batch is True:
            got = list(items or ())
            if items:
                items.clear()
            return reply(got)
        want = 1 if not batch else int(batch)
        if items and len(items) >= want:
            got = [items.popleft() for _ in range(want)]
            return reply(got if batch else got[0])
        if want > 1:
            return reply(None, ValueError("Queue.get(batch=n) for n > 1 waits for nothing; ask for batch=True "
                                          "(what there is) or get items one at a time"))
        if req.timeout is not None and req.timeout <= 0:
            return reply(None, TimeoutError(f"queue {req.name!r} is empty"))
        return self._wait(client, req, reply, self.queue_waiters.setdefault(req.name, deque()))

    def _queue_qsize(self, client, req, reply):
        reply(len(self.queues.get(req.name, ())))

    # ------------------------------------------------------------------ variables

    def _variable_set(self, client, req, reply):
        self.variables[req.name] = req.arg
        for w in self.variable_waiters.pop(req.name, []):
            self._answer(w, req.arg)
        reply(True)

    def _variable_get(self, client, req, reply):
        if req.name in self.variables:
            return reply(self.variables[req.name])
        if req.timeout is not None and req.timeout <= 0:
            return reply(None, TimeoutError(f"variable {req.name!r} has no value"))
        return self._wait(client, req, reply, self.variable_waiters.setdefault(req.name, []))

    def _variable_delete(self, client, req, reply):
        self.variables.pop(req.name, None)
        reply(True)
