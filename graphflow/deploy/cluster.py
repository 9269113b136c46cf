"""`Cluster`, what every cluster offers (``scale``, ``adapt``, ``workers``, ``close``), and `LocalCluster`.

`Cluster` holds the logic shared by every launcher: wait for started workers
to connect, pick who leaves on scale down and retire them through the
scheduler (their results move to the others) before stopping them, and the
``adapt`` loop (`graphflow.deploy.adaptive`).  A launcher implements only
``_start_workers(n)`` and ``_stop_workers(names)`` (see `Cluster`).

`LocalCluster`: a scheduler and worker processes on this machine, on loopback.

Each part is a real process started the way a user would start it on a
cluster (``python -m graphflow scheduler``, ``python -m graphflow.deploy.worker_process``),
so a LocalCluster exercises exactly the code a multi-host cluster runs.
A `graphflow.deploy.process.Supervisor` restarts a worker that dies (``kill -9``
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

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

from ..utils.resources import parse_resources
from ..comm.messages import AdaptiveTargetRequest
from ..errors import CommClosedError, ConfigError
from .process import Supervisor
from ..comm.security import CURVE_ENV, ENV_VAR, new_token
from ..units import parse_bytes

__all__ = ["Cluster", "LocalCluster"]


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
    from ..comm.security import CurveKeys

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


class Cluster:
    """What every graphflow cluster offers, and the two methods a launcher implements.

    Users call `scale`, `adapt`, `workers`, `wait_for_workers` and `close`.
    A launcher (local processes, SSH, a batch queue) subclasses this, starts
    a scheduler, sets ``scheduler_address`` (and ``token`` /
    ``curve_secret`` when the cluster has its own), calls
    `_connect_admin`, and implements:

    * ``_start_workers(n) -> list of names``: launch ``n`` workers, each
      given its name (``graphflow worker ... --name NAME``), all at once, and
      return without waiting for them;
    * ``_stop_workers(names)``: stop those workers' processes (or cancel
      their jobs) and do not bring them back.

    The base class does the rest: waiting until started workers have
    connected (matched by name), choosing who leaves on scale down (the
    scheduler ranks workers, least data first) and retiring them through
    the scheduler -- which moves their results to the others -- before
    `_stop_workers`, and the ``adapt`` loop (`graphflow.deploy.adaptive`).
    """

    token = None  # None: the client finds the token as for any address (GRAPHFLOW_TOKEN, ~/.graphflow/token)
    curve_secret = None
    scheduler_address = ""

    def __init__(self, *, timeout: float = 30.0):
        self.timeout = timeout
        self.status = "starting"
        self.admin = None  # a Client of the cluster's own, for its questions to the scheduler (_connect_admin)
        self._adaptive = None
        self._worker_names: dict = {}  # names launched and not stopped, in start order
        self._pid_names: dict = {}  # pid -> name, as the scheduler last reported them
        self._scale_lock = threading.RLock()  # one scale at a time: adapt's thread and the user's

    # ------------------------------------------------------------------ what a launcher implements

    def _start_workers(self, n: int) -> list:
        """Launch ``n`` workers at once, without waiting for them; return their names."""
        raise NotImplementedError(f"{type(self).__name__} must implement _start_workers(n) -> list of names")

    def _stop_workers(self, names) -> None:
        """Stop the workers called ``names`` for good (already retired, or not connected)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _stop_workers(names)")

    def launched(self) -> list:
        """Names of the workers launched and not stopped (a launcher may drop those that ended on their own)."""
        return list(self._worker_names)

    def _max_workers(self) -> int | None:
        """The most workers ``adapt`` starts when given no maximum (None: no bound)."""
        return None

    def _connect_admin(self) -> None:
        from ..client.client import Client

        self.admin = Client(self, set_as_default=False, timeout=self.timeout)
        self.admin.session.log_level = logging.DEBUG  # the user's own client says it when the scheduler is lost

    # ------------------------------------------------------------------ the user's view

    @property
    def workers(self) -> list:
        """Addresses of the workers connected to the scheduler now."""
        return sorted(self.scheduler_info()["workers"])

    def scheduler_info(self) -> dict:
        """The scheduler's address, its workers (name, pid, threads, memory, tasks) and counters."""
        info = self.admin.scheduler_info()
        for w in info["workers"].values():
            if w.get("pid") is not None and w.get("name"):
                self._pid_names[w["pid"]] = w["name"]
        return info

    @property
    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard URL (with the cluster token when it asks for one); None without a dashboard."""
        return self.admin.dashboard_link if self.admin is not None else None

    def wait_for_workers(self, n: int, timeout: float | None = None) -> None:
        """Block until ``n`` workers are connected (CommClosedError after ``timeout``)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(self.scheduler_info()["workers"]) < n:
            if time.monotonic() > deadline:
                have = len(self.scheduler_info()["workers"])
                raise CommClosedError(f"only {have} of {n} workers connected within {timeout} s")
            time.sleep(0.02)

    def scale(self, n: int) -> None:
        """Run ``n`` workers; returns when they are connected (up) or retired and stopped (down).

        Scaling up starts every new worker at once, so four are ready in
        about the time one takes.  Scaling down retires the workers holding
        the least data first: the scheduler copies their results to the
        others before they stop, so nothing is recomputed.
        """
        if n < 0:
            raise ConfigError(f"scale needs a worker count >= 0, not {n}")
        self.scale_to(int(n))

    def adapt(self, minimum: int = 0, maximum: int | None = None, interval="1s", wait_count: int = 3,
              target_duration="5s"):
        """Grow and shrink between ``minimum`` and ``maximum`` workers as work queues up and drains.

        Every ``interval`` the scheduler recommends a count from its ready
        work (measured durations per task prefix: enough workers to finish
        it within ``target_duration``) and memory pressure; the cluster
        scales up at once and down after ``wait_count`` consecutive checks
        asked for it.  ``maximum=None``: the launcher's bound (`_max_workers`;
        LocalCluster: one thread per core), else none.  Returns the
        `graphflow.deploy.adaptive.Adaptive` loop (``.stop()`` ends it); calling
        adapt again replaces it.
        """
        from .adaptive import Adaptive

        self._stop_adaptive()
        if maximum is None:
            maximum = self._max_workers()
            if maximum is not None:
                maximum = max(maximum, minimum)
        self._adaptive = Adaptive(self, minimum, maximum, interval, wait_count, target_duration)
        return self._adaptive

    def close(self) -> None:
        """Stop adapting and disconnect; a launcher's close then stops its processes."""
        self._stop_adaptive()
        if self.admin is not None:
            self.admin.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------ scaling

    def _stop_adaptive(self) -> None:
        adaptive, self._adaptive = self._adaptive, None
        if adaptive is not None:
            adaptive.stop()

    def adaptive_target(self, minimum: int, maximum, target_duration: float) -> dict:
        """The scheduler's recommendation for `Adaptive`: ``{"target": n, "order": [...], "reasons": ...}``."""
        return self.admin.ask(AdaptiveTargetRequest(minimum, maximum, target_duration))

    def scale_to(self, n: int, order=None) -> None:
        """Start or retire workers until ``n`` run; ``order``: addresses best retired first (else asked for)."""
        with self._scale_lock:
            current = len(self.launched())
            if n > current:
                names = self._start_workers(n - current)
                self._worker_names.update(dict.fromkeys(names))
                self._wait_for_names(names)
            elif n < current:
                self._scale_down(current - n, order)

    def _wait_for_names(self, names, timeout: float | None = None) -> None:
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        missing = set(names)
        while missing:
            connected = {w.get("name") for w in self.scheduler_info()["workers"].values()}
            missing -= connected
            if not missing:
                return
            if time.monotonic() > deadline:
                raise CommClosedError(f"workers {sorted(missing)} did not connect to the scheduler at "
                                      f"{self.scheduler_address} within {timeout} s; see their output")
            time.sleep(0.02)

    def _scale_down(self, k: int, order=None) -> None:
        """Stop ``k`` of this cluster's workers: unconnected ones first, then retire in ``order``."""
        info = self.scheduler_info()["workers"]
        address_of = {w.get("name"): a for a, w in info.items() if w.get("name") in self._worker_names}
        unconnected = [name for name in self.launched() if name not in address_of]
        stop = unconnected[:k]
        if len(stop) < k:
            if order is None:
                order = self.adaptive_target(0, None, 5.0)["order"]
            mine = {a: name for name, a in address_of.items()}
            retire = [a for a in order if a in mine][:k - len(stop)]
            retire += [a for a in sorted(mine) if a not in retire][:k - len(stop) - len(retire)]
            retired = []
            if retire and len(retire) >= len(info):  # nobody left to take their results: scale(0) drops them
                retired = self.admin.retire_workers(retire, close_anyway=True)
            elif retire:
                retired = self.admin.retire_workers(retire)  # graceful: results move to the others first
            stop += [mine[a] for a in retired if a in mine]  # one that vanished meanwhile goes as unconnected
        self._forget_names(stop)

    def _forget_names(self, names) -> None:
        with self._scale_lock:
            names = [name for name in names if name in self._worker_names]
            for name in names:
                del self._worker_names[name]
        if names:
            self._stop_workers(names)

    def forget_workers(self, pids) -> None:
        """Workers with these pids were retired (`Client.retire_workers`): stop them for good."""
        self._forget_names([self._pid_names[p] for p in pids if p in self._pid_names])


class LocalCluster(Cluster):
    """A scheduler and ``n_workers`` worker processes of ``threads_per_worker`` threads each.

    ``memory_limit`` per worker: ``"auto"`` (the machine's memory split
    evenly), a size (``"2GiB"``, bytes) or None (no limit).
    ``local_directory``: where workers spill results (default: the system
    temp directory); ``max_spill``: most bytes each worker spills;
    ``memory``: thresholds as fractions of the limit, e.g. ``{"target": 0.5,
    "pause": False}`` (`graphflow.worker.monitor`).
    ``encrypt=True`` encrypts every connection with zmq CURVE under a fresh key (default: ``comm.encrypt``).
    ``dashboard_address``: where the scheduler serves the dashboard (``":8787"``, a free port if
    taken; ``":0"`` any free port; None: no dashboard); ``client.dashboard_link`` has its URL.
    ``lifetime`` (``"1h"``, seconds), ``lifetime_stagger``, ``lifetime_restart``: each worker retires
    itself gracefully after its lifetime, as ``graphflow worker --lifetime`` (`graphflow.worker.lifetime`);
    it is not restarted unless ``lifetime_restart``.
    ``allowed_failures``: how many workers may die running one task before it fails with
    `KilledWorkerError` (default: the setting ``scheduler.allowed_failures``, 3).
    ``resources``: what each worker offers to tasks that ask for it (``{"GPU": 1}`` or ``"GPU=1"``;
    `graphflow.scheduler.resources`).
    ``processes=False``: the scheduler and workers run as threads of this process instead
    (`graphflow.deploy.threads`; large results reach a client here unpickled); options only
    worker processes have (``memory_limit``, ``lifetime``, ``encrypt``, spill settings) are refused.
    """

    def __init__(self, n_workers: int | None = None, threads_per_worker: int | None = None,
                 memory_limit="auto", *, host: str = "127.0.0.1", scheduler_port: int = 0,
                 local_directory: str | None = None, timeout: float = 30.0, heartbeat_timeout: float = 5.0,
                 encrypt: bool | None = None, max_spill=None, memory: dict | None = None,
                 dashboard_address: str | None = ":8787", lifetime=None, lifetime_stagger=None,
                 lifetime_restart: bool = False, allowed_failures: int | None = None, resources=None,
                 processes: bool = True):
        self.processes = processes
        self._in_threads = None  # processes=False: the scheduler and workers as threads (graphflow.deploy.threads)
        if not processes:
            from .threads import refuse_process_options

            refuse_process_options(memory_limit=memory_limit, lifetime=lifetime, encrypt=encrypt, memory=memory,
                                   max_spill=max_spill, local_directory=local_directory,
                                   allowed_failures=allowed_failures)
            memory_limit = dashboard_address = None
        n_workers, threads = _worker_layout(n_workers, threads_per_worker)
        offered = parse_resources(resources)  # a typo fails here, before any process starts
        self.resources = offered
        self._resources_argv = ["--resources", ",".join(f"{k}={v!r}" for k, v in offered.items())] if offered else []
        if allowed_failures is not None and (isinstance(allowed_failures, bool) or not isinstance(allowed_failures, int)
                                             or allowed_failures < 1):
            raise ConfigError(f"LocalCluster needs allowed_failures >= 1 (a whole number), not {allowed_failures!r}")
        self.allowed_failures = allowed_failures
        if n_workers < 0 or threads < 1:
            raise ConfigError(f"LocalCluster needs n_workers >= 0 and threads_per_worker >= 1, "
                              f"not {n_workers} and {threads}")
        super().__init__(timeout=timeout)
        self.n_workers = n_workers
        self.threads_per_worker = threads
        self.memory_limit = self._memory_limit(memory_limit, n_workers)
        self.host = host
        self.local_directory = local_directory
        if dashboard_address is not None:
            from ..diagnostics.dashboard.server import parse_address

            parse_address(dashboard_address)  # a typo fails here, not in the scheduler process
        self.dashboard_address = dashboard_address
        from ..worker.options import memory_argv

        self._memory_argv = memory_argv({"local_directory": local_directory, "max_spill": max_spill,
                                         "memory": memory})  # checked here: a typo fails before any start
        from ..worker.lifetime import lifetime_argv

        self._lifetime_argv = lifetime_argv({"lifetime": lifetime, "lifetime_stagger": lifetime_stagger,
                                             "lifetime_restart": lifetime_restart})
        self.token = new_token()
        from .. import config

        if encrypt is None:
            encrypt = bool(config.get("comm.encrypt"))
        self.curve_secret = _new_curve_secret() if encrypt and processes else None
        self.supervisor = Supervisor()
        self._names = iter(range(10**9))
        try:
            self.scheduler_address = self._start_scheduler(scheduler_port, heartbeat_timeout)
            names = self._start_workers(n_workers)
            self._worker_names.update(dict.fromkeys(names))
            self._connect_admin()
            self._wait_for_names(names, timeout)
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
        from .. import config

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
        if not self.processes:
            from .threads import InThreads

            self._in_threads = InThreads(self.token, self.threads_per_worker, self.timeout)
            return self._in_threads.scheduler_address
        handle, address_file = tempfile.mkstemp(prefix="graphflow-scheduler-", suffix=".address")
        os.close(handle)
        os.unlink(address_file)
        argv = [sys.executable, "-m", "graphflow", "scheduler", "--host", self.host, "--port", str(port),
                "--address-file", address_file, "--heartbeat-timeout", str(heartbeat_timeout),
                "--log-level", "warning"]
        if self.allowed_failures is not None:
            argv += ["--allowed-failures", str(self.allowed_failures)]
        dashboard = self.dashboard_address
        argv += ["--no-dashboard"] if dashboard is None else ["--dashboard-address", dashboard]
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

    def _start_workers(self, n: int) -> list:
        """Start ``n`` worker processes; each takes ~0.3-0.5 s to import and connect, all at the same time."""
        return [self._start_worker() for _ in range(n)]

    def _stop_workers(self, names) -> None:
        if self._in_threads is not None:
            return self._in_threads.stop_workers(names)
        for name in names:
            self.supervisor.stop(name)

    def launched(self) -> list:
        """Workers running, or dead and about to be restarted; not those that ended for good (retired, lifetime)."""
        if self._in_threads is not None:
            return [name for name in list(self._worker_names) if self._in_threads.running(name)]
        out = []
        for name in list(self._worker_names):  # another thread may retire workers meanwhile
            child = self.supervisor.children.get(name)
            if child is None or child.popen is None:
                continue
            code = child.popen.poll()
            if code is None or (child.restart and code not in child.final_codes):
                out.append(name)
        return out

    def _max_workers(self) -> int:
        return max(1, _usable_cores() // self.threads_per_worker)  # more would only share the cores

    def forget_workers(self, pids) -> None:
        if self._in_threads is not None:  # one pid for all: a retired worker thread leaves `launched` by itself
            return
        by_pid = {c.pid: c.name for c in self.supervisor.running()}
        self._pid_names.update({p: by_pid[p] for p in pids if p in by_pid})
        super().forget_workers(pids)

    def _start_worker(self) -> str:
        from ..worker.server import EXIT_AUTH_FAILED, EXIT_SCHEDULER_GONE

        name = f"worker-{next(self._names)}"
        if self._in_threads is not None:
            self._in_threads.start_workers([name])
            return name
        argv = [sys.executable, "-m", "graphflow.deploy.worker_process", self.scheduler_address,
                "--nthreads", str(self.threads_per_worker), "--listen", f"tcp://{self.host}:0", "--name", name]
        if self.memory_limit:
            argv += ["--memory-limit", str(self.memory_limit)]
        argv += self._memory_argv + self._lifetime_argv + self._resources_argv
        # Final: closed or retired (0), no scheduler, refused.  Anything else -- killed, over its memory, dropped
        # by the scheduler for silence (EXIT_TIMED_OUT), a lifetime restart -- brings a fresh worker.
        self.supervisor.start(name, argv, env=self._env(), restart=True,
                              final_codes=(0, EXIT_SCHEDULER_GONE, EXIT_AUTH_FAILED))
        return name

    def close(self) -> None:
        """Stop every process of the cluster."""
        if self.status == "closed":
            return
        self.status = "closed"
        super().close()  # adapting stops before the processes do
        if self._in_threads is not None:
            self._in_threads.close()
        self.supervisor.close()
        from ..store import shm

        shm.clean_stale()  # blocks of workers that were killed (kill -9 leaves them behind)

    def __del__(self):
        if getattr(self, "status", "closed") != "closed":
            try:
                self.close()
            except Exception:
                pass

    def _repr_html_(self):
        from ..cards import cluster_html

        return cluster_html(self)

    def __repr__(self):
        return (f"LocalCluster({self.scheduler_address!r}, workers={len(self.launched())}, "
                f"threads_per_worker={self.threads_per_worker})")
