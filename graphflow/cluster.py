"""`LocalCluster`: a scheduler and worker processes on this machine, on loopback.

Each part is a real process started the way a user would start it on a
cluster (``python -m graphflow scheduler``, ``python -m graphflow.worker.server``),
so a LocalCluster exercises exactly the code a multi-host cluster runs.
A `graphflow.process.Supervisor` restarts a worker that dies (``kill -9``
included; the scheduler recomputes what it held), and every child dies with
this process, so nothing is orphaned even if the parent is killed.

The cluster makes a fresh random token and passes it to its processes in the
environment; only clients given the cluster (``Client(cluster)``) know it.

    >>> import graphflow as gf
    >>> with gf.LocalCluster(n_workers=2, threads_per_worker=1) as cluster:
    ...     len(cluster.workers)
    2
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from .errors import CommClosedError, ConfigError
from .process import Supervisor
from .security import CURVE_ENV, ENV_VAR, new_token
from .units import parse_bytes

__all__ = ["LocalCluster"]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def _new_curve_secret() -> bytes:
    from .security import CurveKeys

    return CurveKeys.generate().secret


def _worker_layout(n_workers, threads_per_worker) -> tuple:
    cores = _usable_cores()
    if n_workers is None and threads_per_worker is None:
        return cores, 1
    if n_workers is None:
        return max(1, cores // threads_per_worker), threads_per_worker
    if threads_per_worker is None:
        return n_workers, max(1, cores // max(1, n_workers))
    return n_workers, threads_per_worker


class LocalCluster:
    """A scheduler and ``n_workers`` worker processes of ``threads_per_worker`` threads each.

    ``memory_limit`` per worker: ``"auto"`` (the machine's memory split
    evenly), a size (``"2GiB"``, bytes) or None (no limit).
    ``local_directory``: where workers spill results (default: the system
    temp directory); ``max_spill``: most bytes each worker spills;
    ``memory``: thresholds as fractions of the limit, e.g. ``{"target": 0.5,
    "pause": False}`` (`graphflow.worker.monitor`).
    ``encrypt=True`` encrypts every connection with zmq CURVE under a fresh key.
    """

    def __init__(self, n_workers: int | None = None, threads_per_worker: int | None = None,
                 memory_limit="auto", *, host: str = "127.0.0.1", scheduler_port: int = 0,
                 local_directory: str | None = None, timeout: float = 30.0, heartbeat_timeout: float = 5.0,
                 encrypt: bool = False, max_spill=None, memory: dict | None = None):
        n_workers, threads = _worker_layout(n_workers, threads_per_worker)
        if n_workers < 0 or threads < 1:
            raise ConfigError(f"LocalCluster needs n_workers >= 0 and threads_per_worker >= 1, "
                              f"not {n_workers} and {threads}")
        self.n_workers = n_workers
        self.threads_per_worker = threads
        self.memory_limit = self._memory_limit(memory_limit, n_workers)
        self.host = host
        self.local_directory = local_directory
        from .worker.options import memory_argv

        self._memory_argv = memory_argv({"local_directory": local_directory, "max_spill": max_spill,
                                         "memory": memory})  # checked here: a typo fails before any start
        self.timeout = timeout
        self.token = new_token()
        self.curve_secret = _new_curve_secret() if encrypt else None
        self.supervisor = Supervisor()
        self._names = iter(range(10**9))
        self._admin = None
        self.status = "starting"
        try:
            self.scheduler_address = self._start_scheduler(scheduler_port, heartbeat_timeout)
            for _ in range(n_workers):
                self._start_worker()
            from .client import Client

            self._admin = Client(self, set_as_default=False, timeout=timeout)
            self.wait_for_workers(n_workers, timeout)
        except BaseException:
            self.close()
            raise
        self.status = "running"

    @staticmethod
    def _memory_limit(value, n_workers: int) -> int | None:
        if value is None or value == 0:
            return None
        if value == "auto":
            total = _total_memory()
            return None if total is None else total // max(1, n_workers)
        return parse_bytes(value)

    def _env(self) -> dict:
        from . import config

        env = dict(os.environ)
        env.update(config.as_environ())  # gf.config.set(...) around the cluster's start reaches its processes
        env[ENV_VAR] = self.token.decode()
        if self.curve_secret is not None:
            env[CURVE_ENV] = self.curve_secret.decode()
        # Children import what the parent can: functions from the user's modules pickle by reference.
        paths = [p or os.getcwd() for p in sys.path]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        return env

    def _start_scheduler(self, port: int, heartbeat_timeout: float) -> str:
        handle, address_file = tempfile.mkstemp(prefix="graphflow-scheduler-", suffix=".address")
        os.close(handle)
        os.unlink(address_file)
        argv = [sys.executable, "-m", "graphflow", "scheduler", "--host", self.host, "--port", str(port),
                "--address-file", address_file, "--heartbeat-timeout", str(heartbeat_timeout),
                "--log-level", "warning"]
        child = self.supervisor.start("scheduler", argv, env=self._env(), restart=False, stdout=subprocess.DEVNULL)
        self.scheduler_pid = child.pid
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(address_file):
            if not child.alive:
                raise CommClosedError(f"the scheduler process exited with code {child.popen.returncode} "
                                      f"before it started; see its output above")
            if time.monotonic() > deadline:
                raise CommClosedError(f"the scheduler did not start within {self.timeout} s")
            time.sleep(0.01)
        with open(address_file) as f:
            address = f.read().strip()
        os.unlink(address_file)
        return address

    def _start_worker(self) -> None:
        from .worker.server import EXIT_SCHEDULER_GONE

        name = f"worker-{next(self._names)}"
        argv = [sys.executable, "-m", "graphflow.worker.server", self.scheduler_address,
                "--nthreads", str(self.threads_per_worker), "--listen", f"tcp://{self.host}:0", "--name", name]
        if self.memory_limit:
            argv += ["--memory-limit", str(self.memory_limit)]
        argv += self._memory_argv
        self.supervisor.start(name, argv, env=self._env(), restart=True, final_codes=(0, EXIT_SCHEDULER_GONE))

    # ------------------------------------------------------------------ the user's view

    @property
    def workers(self) -> list:
        """Addresses of the workers connected to the scheduler now."""
        return sorted(self._admin.scheduler_info()["workers"])

    def scheduler_info(self) -> dict:
        return self._admin.scheduler_info()

    def wait_for_workers(self, n: int, timeout: float | None = None) -> None:
        """Block until ``n`` workers are connected (CommClosedError after ``timeout``)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(self._admin.scheduler_info()["workers"]) < n:
            if time.monotonic() > deadline:
                have = len(self._admin.scheduler_info()["workers"])
                raise CommClosedError(f"only {have} of {n} workers connected within {timeout} s")
            time.sleep(0.02)

    def scale(self, n: int) -> None:
        """Run ``n`` workers: start new ones, or retire the most recently started."""
        names = [c.name for c in self.supervisor.running() if c.name.startswith("worker-")]
        if n > len(names):
            for _ in range(n - len(names)):
                self._start_worker()
            self.wait_for_workers(n)
        elif n < len(names):
            pids = {c.pid: c.name for c in self.supervisor.running()}
            info = self._admin.scheduler_info()["workers"]
            by_name = {pids.get(w["pid"]): addr for addr, w in info.items()}
            drop = sorted(names, key=lambda s: int(s.split("-")[1]))[n:]
            self._admin.retire_workers([by_name[name] for name in drop if name in by_name])
            for name in drop:
                self.supervisor.stop(name)
        self.n_workers = n

    def _forget_workers(self, pids) -> None:
        """Stop supervising retired workers (so they are not restarted)."""
        for child in self.supervisor.running():
            if child.pid in pids:
                self.supervisor.stop(child.name)

    def close(self) -> None:
        """Stop every process of the cluster."""
        if self.status == "closed":
            return
        self.status = "closed"
        if self._admin is not None:
            self._admin.close()
        self.supervisor.close()
        from .comm import shm

        shm.clean_stale()  # blocks of workers that were killed (kill -9 leaves them behind)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        if getattr(self, "status", "closed") != "closed":
            try:
                self.close()
            except Exception:
                pass

    def __repr__(self):
        return (f"LocalCluster({self.scheduler_address!r}, workers={self.n_workers}, "
                f"threads_per_worker={self.threads_per_worker})")
