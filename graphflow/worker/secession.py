"""Tasks that give their thread back while they wait: secede, rejoin, and the worker's growing thread pool.

A worker runs ``nthreads`` tasks at once.  A task that submits children and
waits for them would hold its thread while doing nothing; with every thread
held by such parents the children never run, and the cluster deadlocks.  So a
task may *secede*: it keeps running on its own thread, but that thread no
longer counts against ``nthreads``:

* the shell starts another thread (`TaskThreads.secede`), so queued jobs keep
  being taken;
* the state machine (`task_seceded`) stops counting the task as a busy slot,
  so it hands the shell the next ready task, and tells the scheduler
  (`comm.messages.LongRunning`), which stops counting it against the
  worker's slots for queued root tasks;
* `rejoin` undoes it: the task counts again (the worker may run more than
  ``nthreads`` tasks for a moment; no new one starts until it is back under),
  and once the surplus thread finishes its task it ends.

Blocking calls of a client inside a task (``future.result()``, ``gather``,
``wait``, ``as_completed``) secede for as long as they wait (`waiting`), as
Ray's ``ray.get`` gives back the task's CPU, so nested waits cannot deadlock.

The thread running a task knows it through `current_task` (a thread-local
`TaskContext`: the worker and the key), which is how ``gf.get_worker()`` and
``gf.get_client()`` find their worker.

Worked example, a one-thread worker running parent ``p`` that waits on ``c``::

    thread 0 runs p; p submits c, calls c.result()      -> waiting(): secede
        TaskThreads starts thread 1       TaskSeceded(p): p leaves the slot count
        -> LongRunning([p]) to the scheduler, which sends c here: thread 1 runs c
    c finishes; p's wait returns                        -> rejoin: TaskRejoined(p)
    p finishes on thread 0; two threads take jobs, one too many: thread 0 ends
"""

from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from ..comm.messages import LongRunning
from .events import WorkerEvent

__all__ = ["TaskContext", "TaskThreads", "TaskSeceded", "TaskRejoined", "task_seceded", "task_rejoined",
           "current_task", "task_context", "secede", "rejoin", "waiting"]

_local = threading.local()


# ---------------------------------------------------------------------- events of the state machine


@dataclass(slots=True)
class TaskSeceded(WorkerEvent):
    """The running task ``key`` gave its thread slot back (it waits, or runs long)."""

    key: object


@dataclass(slots=True)
class TaskRejoined(WorkerEvent):
    """The seceded task ``key`` counts against the worker's threads again."""

    key: object


def task_seceded(ws, ev: TaskSeceded) -> None:
    """``ev.key`` stops counting as a busy slot: the next ready task may start (listed in WorkerState's table)."""
    ts = ws.tasks.get(ev.key)
    if ts is None or ts not in ws.executing or ts in ws.seceded:
        ws.log.append((ev.key, "ignored-secede", ts.state if ts else None, ev.stimulus_id))
        return
    ws.seceded.add(ts)
    ws.log.append((ev.key, "seceded", ev.stimulus_id))
    report_long_running(ws)


def task_rejoined(ws, ev: TaskRejoined) -> None:
    """``ev.key`` counts as a busy slot again (listed in WorkerState's table)."""
    ts = ws.tasks.get(ev.key)
    if ts is None or ts not in ws.seceded:
        ws.log.append((ev.key, "ignored-rejoin", ts.state if ts else None, ev.stimulus_id))
        return
    ws.seceded.discard(ts)
    ws.log.append((ev.key, "rejoined", ev.stimulus_id))
    report_long_running(ws)


def report_long_running(ws) -> None:
    """Tell the scheduler which of the tasks it gave this worker hold no slot now (the whole set: no drift)."""
    ws.send(LongRunning(ws.stimulus_id, [ts.key for ts in ws.seceded if ts.assigned]))


# ---------------------------------------------------------------------- the thread running a task


class TaskContext:
    """What the thread running a task knows: its ``worker`` (the shell), the task's ``key``, whether it seceded."""

    __slots__ = ("worker", "key", "seceded")

    def __init__(self, worker, key):
        self.worker = worker
        self.key = key
        self.seceded = False

    def __enter__(self) -> "TaskContext":
        _local.task = self
        return self

    def __exit__(self, *exc_info) -> None:
        _local.task = None


def current_task() -> TaskContext | None:
    """The task this thread is running on a worker, or None (not a worker's task thread)."""
    return getattr(_local, "task", None)


def task_context(worker, key) -> TaskContext:
    """Mark this thread as running ``key`` for ``worker`` while the block runs (the shell's job loop).

    A plain class, not a generator context manager: it is entered once per task, and a generator's
    setup costs a microsecond of the few a tiny task takes."""
    return TaskContext(worker, key)


def secede() -> None:
    """Give this task's thread slot back to its worker (see the module docstring); no-op if seceded already.

    Raises ValueError outside a task running on a worker.
    """
    ctx = _require_task("secede")
    if ctx.seceded:
        return
    ctx.seceded = True
    ctx.worker.threads.secede()
    ctx.worker.feed_threadsafe(TaskSeceded(f"secede-{ctx.key}", ctx.key))


def rejoin() -> None:
    """Count this seceded task against its worker's threads again; no-op if it did not secede.

    Raises ValueError outside a task running on a worker.
    """
    ctx = _require_task("rejoin")
    if not ctx.seceded:
        return
    ctx.seceded = False
    ctx.worker.threads.rejoin()
    ctx.worker.feed_threadsafe(TaskRejoined(f"rejoin-{ctx.key}", ctx.key))


@contextmanager
def waiting():
    """Secede for the block when this thread runs a task (and has not seceded already); rejoin after.

    What a client's blocking calls wrap their wait in; outside a worker's task it costs one lookup.
    """
    ctx = current_task()
    if ctx is None or ctx.seceded:
        yield
        return
    secede()
    try:
        yield
    finally:
        rejoin()


def _require_task(what: str) -> TaskContext:
    ctx = current_task()
    if ctx is None:
        raise ValueError(f"gf.{what}() works only inside a task running on a graphflow worker; "
                         f"this thread ({threading.current_thread().name}) runs none")
    return ctx


# ---------------------------------------------------------------------- the shell's threads


class TaskThreads:
    """The worker's task threads: ``nthreads`` take jobs at a time; one that secedes is replaced.

    ``target(index)`` is the shell's job loop; it calls `leave_after_job` after
    each job and returns when told to.  ``index`` numbers threads in start
    order (the task stream's ``thread``); replacements get new numbers.
    """

    def __init__(self, target, nthreads: int, name: str = "graphflow-task"):
        self._target = target
        self.nthreads = nthreads
        self.name = name
        self.threads: list = []
        self._taking = 0  # threads counted against nthreads (not seceded)
        self._lock = threading.Lock()
        self._index = itertools.count()

    def start(self) -> None:
        with self._lock:
            for _ in range(self.nthreads):
                self._spawn()

    def _spawn(self) -> None:
        i = next(self._index)
        t = threading.Thread(target=self._target, args=(i,), name=f"{self.name}-{i}", daemon=True)
        self._taking += 1
        self.threads.append(t)
        t.start()

    def secede(self) -> None:
        """This thread leaves the count: start another (it runs the next jobs) if we fell below ``nthreads``."""
        with self._lock:
            self._taking -= 1
            if self._taking < self.nthreads:
                self._spawn()
            self.threads = [t for t in self.threads if t.is_alive()]

    def rejoin(self) -> None:
        with self._lock:
            self._taking += 1

    def leave_after_job(self, ctx: TaskContext) -> bool:
        """After a job: True when this thread should end (it seceded and was replaced, or one too many)."""
        if ctx.seceded:  # never rejoined: a replacement takes jobs in its place
            return True
        if self._taking <= self.nthreads:
            # No lock for the common answer (once per task): a rejoin racing this read is seen by the
            # rejoining thread itself after its own job, so a surplus thread still ends.
            return False
        with self._lock:
            if self._taking > self.nthreads:
                self._taking -= 1
                return True
        return False

    @property
    def count(self) -> int:
        """Threads started and not known to have ended (what `close` must wake)."""
        return len(self.threads)
