"""Child processes of a cluster: start them, restart the ones that die, never orphan them.

`Supervisor` keeps a set of long-lived child processes (workers, a scheduler)
running: a watcher thread polls them, restarts a child that exits while the
supervisor is open (a worker killed by ``kill -9`` comes back, as under a Dask
nanny), and `close` terminates them all, then kills what is left.

Orphans: a child calls `die_with_parent` first thing.  On Linux the kernel
then sends it SIGKILL the moment its parent dies, however the parent died; a
thread also checks ``os.getppid()`` every second, for other platforms and for
the window before ``prctl`` ran.

    >>> import sys
    >>> sup = Supervisor()
    >>> child = sup.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], restart=False)
    >>> child.alive
    True
    >>> sup.close()
    >>> child.alive
    False
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import subprocess
import threading
import time

from ..utils.processes import SUPERVISED_ENV

logger = logging.getLogger("graphflow.deploy.process")

__all__ = ["Supervisor", "Child"]


class Child:
    """One supervised process: its command, its current `subprocess.Popen`, how often it restarted."""

    __slots__ = ("name", "argv", "env", "restart", "popen", "restarts", "on_restart", "final_codes", "stdout")

    def __init__(self, name, argv, env, restart, on_restart=None, final_codes=(0,), stdout=None):
        self.final_codes = tuple(final_codes)
        self.stdout = stdout
        self.name = name
        self.argv = argv
        self.env = env
        self.restart = restart
        self.popen = None
        self.restarts = 0
        self.on_restart = on_restart

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def spawn(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env[SUPERVISED_ENV] = "1"
        self.popen = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, stdout=self.stdout)


class Supervisor:
    """Starts child processes and keeps them running until `close`.

    Every child is started by the supervisor's own thread, which lives until
    `close`: Linux's parent-death signal fires when the *thread* that forked a
    child exits, so a LocalCluster made from a short-lived thread must not fork
    from that thread, or its processes would die with it.
    """

    def __init__(self, poll_interval: float = 0.1, max_restarts: int = 100):
        self.children: dict = {}
        self.poll_interval = poll_interval
        self.max_restarts = max_restarts
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._watch, name="graphflow-supervisor", daemon=True)
        self._thread.start()

    def start(self, name: str, argv: list, *, env=None, restart: bool = True, on_restart=None,
              final_codes=(0,), stdout=None) -> Child:
        """Start ``argv`` as child ``name``; with ``restart``, bring it back when it dies.

        An exit with a code in ``final_codes`` (a clean close, or "my scheduler
        is gone") is final: the child is not restarted.
        """
        if self._closing.is_set():
            raise RuntimeError("this Supervisor is closed")
        child = Child(name, list(argv), env, restart, on_restart, final_codes, stdout)
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._requests.put((child, done))
        done.result()  # re-raises a failed spawn (no such executable, ...)
        with self._lock:
            self.children[name] = child
        return child

    def running(self) -> list:
        """Children that are alive now."""
        with self._lock:
            return [c for c in self.children.values() if c.alive]

    def stop(self, name: str, timeout: float = 3.0) -> None:
        """Stop child ``name`` and do not restart it."""
        with self._lock:
            child = self.children.pop(name, None)
        if child is not None:
            _terminate([child], timeout)

    def _watch(self) -> None:
        while not self._closing.is_set():
            try:
                child, done = self._requests.get(timeout=self.poll_interval)
            except queue.Empty:
                self._restart_dead()
                continue
            try:
                child.spawn()
                done.set_result(child)
            except BaseException as exc:
                done.set_exception(exc)

    def _restart_dead(self) -> None:
        with self._lock:
            dead = [c for c in self.children.values()
                    if c.restart and c.popen.poll() is not None and c.popen.returncode not in c.final_codes]
        for child in dead:
            if self._closing.is_set():
                return
            if child.restarts >= self.max_restarts:
                logger.error("%s exited %d times; not restarting it again", child.name, child.restarts)
                child.restart = False
                continue
            logger.warning("%s (pid %d) exited with code %s; restarting it", child.name, child.popen.pid,
                           child.popen.returncode)
            child.restarts += 1
            child.spawn()
            if child.on_restart is not None:
                child.on_restart(child)

    def close(self, timeout: float = 3.0) -> None:
        """Terminate every child (SIGTERM, then SIGKILL after ``timeout``) and wait for them.

        The children go first and the thread after: the thread's exit sends
        every child it forked the parent-death SIGKILL, which would cut short
        their clean exit (a worker removing its spill directory, saying
        goodbye).  Emptying ``children`` first keeps the thread from
        restarting them meanwhile.
        """
        with self._lock:
            children = list(self.children.values())
            self.children.clear()
        _terminate(children, timeout)
        self._closing.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def _terminate(children: list, timeout: float) -> None:
    for child in children:
        if child.alive:
            child.popen.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        if child.popen is None:
            continue
        try:
            child.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.popen.kill()
            child.popen.wait()
