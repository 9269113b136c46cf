"""The local process pool behind ``scheduler="processes"``.

Model: ``n`` child processes, each joined to the parent by one socket pair.
The parent owns all scheduling state; a child (`graphflow.local.child`) only
runs what it is sent:

    parent                                   child
    ------                                   -----
    batch = [(i, node, {dep: value}), ...]  ->  run each node in turn
                                            <-  [(i, ok, value | error), ...]

A batch holds one task at first.  The child reports how long its batch took;
while tasks take under a millisecond each, the batch size doubles (up to 256
and to a fair share of the ready tasks), so ten thousand tiny tasks cost a
few hundred messages, not ten thousand.  Tasks that take longer go one at a
time, so results come back, and inputs are freed, in the optimizer's order:
a tree reduction over 80 MB arrays holds a handful of them, not all.  Messages are
cloudpickle'd (lambdas and closures work); results travel back the same way.

Children are fresh interpreters (``python -m graphflow.local.child``), not
`multiprocessing` children: they never import the user's main module, so a
script works without an ``if __name__ == "__main__":`` guard, and so do
notebooks.  The parent sends its ``sys.path`` first so that functions pickled
by reference import the same way there.

The pool is kept between calls (a process takes ~100 ms to start) and is
exclusive to one run at a time: a second concurrent run gets a private pool.
Children ignore SIGINT, so Ctrl-C reaches only the parent, which kills the
children and drops the pool; a child whose parent dies reads EOF and exits.
A child that dies mid-run raises `WorkerProcessDiedError` naming its tasks.
"""

from __future__ import annotations

import atexit
import heapq
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for

from ..spec.actors import ActorRelease, LocalActorRef, home_pid
from ..errors import RemoteTaskError, SerializationError, WorkerProcessDiedError
from ..utils.pickling import describe_unpicklable, dumps, loads

_MAX_BATCH = 256
_FAST_TASK = 1e-3  # seconds: tasks faster than this are worth batching


class ProcessPool:
    """``n`` worker processes with one socket each."""

    def __init__(self, n: int):
        self.n = n
        self.procs: list = []
        self.conns: list = []
        hello = dumps({"sys_path": list(sys.path)})
        for _ in range(n):
            parent_end, child_end = socket.socketpair()
            fd = child_end.fileno()
            proc = subprocess.Popen(
                [sys.executable, "-m", "graphflow.local.child", str(fd)],
                pass_fds=(fd,), stdin=subprocess.DEVNULL,
            )
            child_end.close()
            conn = Connection(parent_end.detach())
            conn.send_bytes(hello)
            self.procs.append(proc)
            self.conns.append(conn)

    def alive(self) -> bool:
        """True while every child is running."""
        return all(p.poll() is None for p in self.procs)

    def pids(self) -> list:
        """The children's process ids."""
        return [p.pid for p in self.procs]

    def exit_code(self, conn) -> int | None:
        """The exit code of the child behind ``conn`` (waiting briefly for it to go)."""
        proc = self.procs[self.conns.index(conn)]
        try:
            return proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def close(self, kill: bool = False) -> None:
        """Stop the children: politely (EOF on their socket) or at once (``kill``)."""
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            if kill:
                proc.kill()
            try:
                proc.wait(timeout=0.5 if kill else 2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2)


# --------------------------------------------------------------------- the shared pool

_pool_lock = threading.Lock()
_shared: ProcessPool | None = None
_shared_busy = False


def _acquire(n: int) -> tuple:
    """The shared pool (recreated if its size changed or a child is gone), or a private one if busy."""
    global _shared, _shared_busy
    with _pool_lock:
        if not _shared_busy:
            if _shared is not None and (_shared.n != n or not _shared.alive()):
                _shared.close()
                _shared = None
            if _shared is None:
                _shared = ProcessPool(n)
            _shared_busy = True
            return _shared, True
    return ProcessPool(n), False


def _release(pool: ProcessPool, shared: bool, broken: bool) -> None:
    global _shared, _shared_busy
    if not shared:
        pool.close(kill=broken)
        return
    with _pool_lock:
        _shared_busy = False
        if broken:
            pool.close(kill=True)
            _shared = None


@atexit.register
def shutdown() -> None:
    """Stop the shared pool (also run at interpreter exit)."""
    global _shared
    with _pool_lock:
        if _shared is not None:
            _shared.close()
            _shared = None


# --------------------------------------------------------------------- parent side


def run_on_pool(plan, num_workers: int, raise_task_error, results=None, callbacks=()) -> dict:
    """Run every task of ``plan`` on the pool; returns ``{key: value}`` for the outputs.

    ``results``: the mapping results are kept in while the run needs them
    (default a dict; a spilling `WorkerStore` with ``memory_limit``).
    ``callbacks``: `graphflow.diagnostics.Callback`s told when each task is sent and when it is back.
    """
    pool, shared = _acquire(num_workers)
    dispatcher = _Dispatcher(plan, pool, raise_task_error, results, callbacks)
    try:
        return dispatcher.run()
    finally:
        dispatcher.release_actors()
        # After Ctrl-C or a dead child the pool's state is unknown: kill it.
        _release(pool, shared, broken=not dispatcher.clean)


class _Dispatcher:
    def __init__(self, plan, pool: ProcessPool, raise_task_error, results=None, callbacks=()):
        self.plan = plan
        self.callbacks = callbacks
        self.pool = pool
        self.raise_task_error = raise_task_error
        self.ready = plan.initial_ready()
        self.results = {} if results is None else results
        self.in_flight: dict = {}  # conn -> list of task indices
        self.remaining = len(plan)
        self.batch_size = 1  # grows while tasks are fast; see the module docstring
        self.clean = False  # True once no batch is left running in a child
        # Actors (graphflow.actor): each lives in the child that created it; its calls wait for that child.
        self.home_of = {proc.pid: conn for proc, conn in zip(pool.procs, pool.conns)}
        self.parked: dict = {}  # conn -> task indices waiting for that child
        self.actors: dict = {}  # conn -> uids of actors pinned there, released when the run ends

    def run(self) -> dict:
        """Dispatch and collect until every task is done; returns the results dict."""
        while self.remaining:
            self._dispatch()
            if not self.in_flight:
                raise RuntimeError("graphflow: no task is ready or running, but tasks remain")
            for conn in wait_for(list(self.in_flight)):
                self._receive(conn)
        self.clean = True
        return self.results

    def _dispatch(self) -> None:
        plan, ready = self.plan, self.ready
        idle = [c for c in self.pool.conns if c not in self.in_flight]
        for conn in idle:
            for i in self.parked.pop(conn, ()):
                heapq.heappush(ready, plan.rank[i])
        while ready and idle:
            size = max(1, min(self.batch_size, -(-len(ready) // len(self.pool.conns))))
            batch = self._take(idle[-1], size)
            if not batch:
                continue
            self._send_batch(idle.pop(), batch)
        for conn in idle:  # actor calls parked for a child that is still idle
            batch = self.parked.pop(conn, None)
            if batch:
                self._send_batch(conn, batch)

    def _take(self, conn, size: int) -> list:
        """Up to ``size`` ready tasks for ``conn``; actor calls pinned to another child are parked for it."""
        plan, ready, results = self.plan, self.ready, self.results
        batch = []
        while ready and len(batch) < size:
            i = plan.by_rank[heapq.heappop(ready)]
            pid = home_pid(plan.nodes[i], results)
            home = self.home_of.get(pid) if pid is not None else None
            if home is None or home is conn:
                batch.append(i)
            else:
                self.parked.setdefault(home, []).append(i)
        return batch

    def _send_batch(self, conn, batch: list) -> None:
        plan, results = self.plan, self.results
        payload = []
        for i in batch:
            node = plan.nodes[i]
            payload.append((i, node, {k: results[k] for k in node.dependencies}))
        try:
            message = self._serialize(payload)
        except SerializationError:
            self._drain()
            raise
        conn.send_bytes(message)
        self.in_flight[conn] = batch
        for cb in self.callbacks:
            for i in batch:
                cb.task_start(plan.keys[i])

    def release_actors(self, timeout: float = 2.0) -> None:
        """Tell each child to drop the actors this run pinned there (a child still busy is killed anyway)."""
        for conn, uids in self.actors.items():
            if conn in self.in_flight:
                continue
            try:
                conn.send_bytes(dumps([(-1, ActorRelease(uids), {})]))
                if conn.poll(timeout):
                    conn.recv_bytes()
                    continue
            except (EOFError, OSError):
                pass
            self.clean = False  # no answer: the pool is replaced
        self.actors.clear()

    def _serialize(self, payload) -> bytes:
        try:
            return dumps(payload)
        except Exception:
            for i, node, inputs in payload:
                key = self.plan.keys[i]
                for what, obj in (("task", node), ("inputs", inputs)):
                    try:
                        dumps(obj)
                    except Exception as exc:
                        raise SerializationError(
                            f"task {key!r} cannot be sent to a worker process: its {what} cannot be "
                            f"pickled: {describe_unpicklable(obj)} ({type(exc).__name__}: {exc}). "
                            f"Make it picklable, or use scheduler='threads'.",
                            key=key,
                        ) from exc
            raise

    def _receive(self, conn) -> None:
        plan, results, ready = self.plan, self.results, self.ready
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return self._died(conn)
        batch = self.in_flight.pop(conn)
        elapsed, outcomes = loads(message)
        if elapsed < _FAST_TASK * len(batch):
            self.batch_size = min(_MAX_BATCH, 2 * self.batch_size)
        else:
            self.batch_size = 1
        failure = None
        for i, ok, value in outcomes:
            if not ok:
                failure = failure or (i, value)
                continue
            results[plan.keys[i]] = value
            if type(value) is LocalActorRef:
                self.actors.setdefault(conn, []).append(value.uid)
            for d in plan.dependents[i]:
                plan.waiting[d] -= 1
                if plan.waiting[d] == 0:
                    heapq.heappush(ready, plan.rank[d])
            plan.release(i, results)
            self.remaining -= 1
        for cb in self.callbacks:
            for i, ok, _ in outcomes:
                if ok:
                    cb.task_finish(plan.keys[i])
        if failure is not None:
            self._fail(*failure)

    def _fail(self, i, error) -> None:
        kind, exc, tb = error
        key = self.plan.keys[i]
        self._drain()
        if kind == "serialize":
            raise SerializationError(f"task {key!r}: {exc}", key=key)
        if kind == "opaque":
            exc = RemoteTaskError(exc)
        self.raise_task_error(exc, key, tb)

    def _drain(self, timeout: float = 0.5) -> None:
        """Collect batches still running, so the pool is clean for the next call.

        Waits at most ``timeout`` seconds: an error must not wait for a slow
        task elsewhere.  Past that the pool stays unclean and is killed.
        """
        deadline = time.monotonic() + timeout
        for conn in list(self.in_flight):
            try:
                if not conn.poll(max(0.0, deadline - time.monotonic())):
                    return
                conn.recv_bytes()
            except (EOFError, OSError):
                return  # a child died: the pool stays unclean and is replaced
            del self.in_flight[conn]
        self.clean = True

    def _died(self, conn) -> None:
        keys = [self.plan.keys[i] for i in self.in_flight.get(conn, [])]
        shown = ", ".join(repr(k) for k in keys[:5]) + (" ..." if len(keys) > 5 else "")
        pid = self.pool.procs[self.pool.conns.index(conn)].pid
        raise WorkerProcessDiedError(
            f"a worker process (pid {pid}) died with exit code {self.pool.exit_code(conn)} while running "
            f"task(s) {shown}. A task may have crashed the interpreter (segfault, os._exit, out of "
            f"memory); run it with scheduler='sync' to see where."
        )
