"""Running the cluster from a client: ``run``, ``restart``, uploads, plugins, versions, what runs where.

`ClusterAdmin` is a mixin of `graphflow.client.Client`: these methods act on
the processes of the cluster rather than on tasks.

- ``client.run(fn)`` runs ``fn()`` on every worker (or ``workers=``), on the
  worker's event loop, and returns ``{address: result}``; a function with a
  ``dask_worker`` parameter gets the worker.  ``run_on_scheduler(fn)`` runs
  it on the scheduler (``dask_scheduler`` gets the scheduler).
- ``upload_file(path)`` (``.py``, ``.zip``, ``.egg``) and
  ``register_plugin(plugin)`` reach every worker now and every worker that
  joins later: the scheduler keeps them and hands them to joining workers
  with its welcome.  A `SchedulerPlugin` runs in the scheduler.
- ``restart()`` asks every worker to exit; their supervisor (LocalCluster,
  or ``graphflow worker``) starts fresh ones.  As in dask.distributed, every
  future of this client is cancelled first: its data is gone.
- ``get_versions(check=True)`` raises `VersionMismatchError` naming each
  package whose version differs between client, scheduler and workers.

    >>> with gf.Client(n_workers=2) as client:                       # doctest: +SKIP
    ...     client.run(os.getpid)
    {'tcp://127.0.0.1:40231': 4101, 'tcp://127.0.0.1:40232': 4102}
"""

from __future__ import annotations

import os
import platform
import sys
import time
import uuid

from ..comm import messages as wire
from ..errors import GraphflowError, VersionMismatchError
from ..utils.pickling import dumps
from .current import as_current_client, current_client

__all__ = ["ClusterAdmin", "WorkerPlugin", "SchedulerPlugin", "versions", "VERSIONED_PACKAGES"]

# Packages whose versions must agree everywhere (what pickles cross between processes).
VERSIONED_PACKAGES = ("python", "graphflow", "cloudpickle", "numpy", "pandas", "pyarrow", "tornado", "zmq")


class WorkerPlugin:
    """Base of worker plugins (as dask.distributed's): override any of ``setup(worker)``,
    ``teardown(worker)`` and ``transition(key, start, finish)``; register with `ClusterAdmin.register_plugin`."""

    def setup(self, worker):
        """Called on each worker when the plugin is registered, and on every worker that joins later."""

    def teardown(self, worker):
        """Called when the worker closes, or when the plugin is replaced."""

    def transition(self, key, start, finish, **kwargs):
        """A task of this worker ended: ``"executing" -> "memory"`` or ``"executing" -> "error"``."""


class SchedulerPlugin:
    """Base of scheduler plugins: ``start(scheduler)``, ``close()``, ``add_worker(scheduler, worker)``,
    ``remove_worker(scheduler, worker)``, ``add_client(scheduler, client)``, ``remove_client(scheduler,
    client)`` and ``transition(key, start, finish)`` (a worker reported a task in ``"memory"`` or ``"erred"``)."""

    def start(self, scheduler):
        """Called once, in the scheduler, when registered."""

    def close(self):
        """Called when the scheduler closes, or when the plugin is replaced."""


class ClusterAdmin:
    """The cluster-wide methods of `graphflow.client.Client` (see the module docstring)."""

    # ------------------------------------------------------------------ running functions

    def run(self, function, *args, workers=None, wait: bool = True, on_error: str = "raise",
            timeout: float | None = None, **kwargs):
        """Run ``function(*args, **kwargs)`` on every worker (or those in ``workers``); ``{address: result}``.

        ``wait=False`` sends it and returns None at once.  ``on_error="raise"``
        raises the first worker's error (naming the worker);
        ``"return"`` puts the exception in the dict instead.
        """
        if on_error not in ("raise", "return"):
            raise ValueError(f"on_error must be 'raise' or 'return', not {on_error!r}")
        request = wire.RunRequest(dumps(function), tuple(args), kwargs)
        answers = self._ask_workers(self._worker_addresses(workers), request)
        if not wait:
            return None
        return self._collect(answers, timeout, on_error, f"client.run({_name(function)})")

    def run_on_scheduler(self, function, *args, **kwargs):
        """Run ``function(*args, **kwargs)`` in the scheduler process and return its result."""
        return self.ask(wire.RunRequest(dumps(function), tuple(args), kwargs))

    def _worker_addresses(self, workers=None) -> list:
        known = list(self.scheduler_info()["workers"])
        if workers is None:
            return known
        workers = [workers] if isinstance(workers, str) else list(workers)
        unknown = [w for w in workers if w not in known]
        if unknown:
            raise GraphflowError(f"no worker at {unknown}; the workers are {known}")
        return workers

    def _ask_workers(self, workers: list, request) -> dict:
        """Send ``request`` to each worker at once: ``{address: concurrent future of its answer}``."""
        self.check_open()
        io = self.session.io
        return {w: io.call(self.transfer.request, w, lambda rid: wire.Rpc(rid, request)) for w in workers}

    def _collect(self, answers: dict, timeout, on_error: str, what: str) -> dict:
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        out = {}
        try:
            for worker, answer in answers.items():
                try:
                    out[worker] = answer.result(max(0.0, deadline - time.monotonic()))
                except Exception as exc:
                    if on_error == "return":
                        out[worker] = exc
                    elif isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
                        raise TimeoutError(f"{what}: worker {worker} did not answer within {limit} s") from None
                    else:
                        raise _on_worker(exc, worker, what) from None
        finally:
            self.session.io.call(self.transfer.forget, list(answers.values()))
        return out

    # ------------------------------------------------------------------ files and plugins

    def upload_file(self, filename: str, load: bool = True) -> None:
        """Send a ``.py``, ``.zip`` or ``.egg`` file to every worker, now and as workers join; a ``.py`` is
        imported there (reloaded if it was), an archive put on ``sys.path``."""
        base = os.path.basename(filename)
        if not base.endswith((".py", ".zip", ".egg")):
            raise GraphflowError(f"upload_file takes .py, .zip or .egg files, not {filename!r}")
        with open(filename, "rb") as f:
            data = f.read()
        self._setup_everywhere(wire.WorkerSetup("upload", base, (base, data)), "upload_file")

    def register_plugin(self, plugin, name: str | None = None, idempotent: bool = False):
        """Install ``plugin``: a `SchedulerPlugin` in the scheduler, any other (a `WorkerPlugin`) on every
        worker now and on each that joins.  ``name`` (default: ``plugin.name``, else its class and a random
        suffix) replaces an earlier plugin of that name (its ``teardown``/``close`` runs first) unless
        ``idempotent``, which keeps the earlier one."""
        name = name or getattr(plugin, "name", None) or f"{type(plugin).__name__}-{uuid.uuid4().hex[:8]}"
        if idempotent and name in self._plugin_names():
            return None
        if _is_scheduler_plugin(plugin):
            self.ask(wire.SchedulerPluginRequest(name, dumps(plugin)))
        else:
            self._setup_everywhere(wire.WorkerSetup("plugin", name, dumps(plugin)), "register_plugin")
        return None

    def register_worker_plugin(self, plugin, name: str | None = None, **kwargs):
        """Install a worker plugin (dask.distributed's older name for `register_plugin`)."""
        return self.register_plugin(plugin, name=name, **kwargs)

    def unregister_worker_plugin(self, name: str) -> None:
        """Remove worker plugin ``name`` everywhere (its ``teardown`` runs on each worker)."""
        self.ask(wire.SetupRequest(wire.WorkerSetup("plugin", name, None), remember=False))
        self._collect(self._ask_workers(self._worker_addresses(), wire.SetupRequest(
            wire.WorkerSetup("plugin", name, dumps(None)))), None, "raise", "unregister_worker_plugin")

    def _plugin_names(self) -> set:
        return set(self.run_on_scheduler(_plugin_names))

    def _setup_everywhere(self, setup: wire.WorkerSetup, what: str) -> None:
        self.ask(wire.SetupRequest(setup, remember=True))  # first: a worker joining meanwhile gets it too
        answers = self._ask_workers(self._worker_addresses(), wire.SetupRequest(setup))
        self._collect(answers, None, "raise", what)

    # ------------------------------------------------------------------ workers coming and going

    def unregister_scheduler_plugin(self, name: str) -> None:
        """Remove scheduler plugin ``name`` (its ``close`` runs first)."""
        self.ask(wire.SchedulerPluginRequest(name, None))

    def register_worker_callbacks(self, setup=None) -> None:
        """Run ``setup()`` (``setup(dask_worker)`` if it takes it) on every worker now and on each that joins
        (dask.distributed's older form of a worker plugin)."""
        if setup is not None:
            self.register_plugin(_SetupCallback(setup), name=f"setup-{_name(setup)}-{uuid.uuid4().hex[:8]}")

    def restart(self, timeout: float | None = None, wait_for_workers: bool = True):
        """Restart every worker process: their data is lost, and (as in dask.distributed) every future of
        this client is cancelled.  Waits until as many fresh workers have joined (``timeout``, default 60 s:
        `TimeoutError`) unless ``wait_for_workers=False``.  Needs supervised workers (a LocalCluster, or
        ``graphflow worker``), which start a fresh process for one that exits."""
        keys = list(self.refs.states)
        for key in keys:
            state = self.refs.get(key)
            if state is not None:
                state.cancel(settled_too=True)
        if keys:
            self.session.send_threadsafe(wire.CancelKeys("client-restart", keys, True))
        self.restart_workers(list(self.scheduler_info()["workers"]), timeout if wait_for_workers else 0)

    def restart_workers(self, workers: list, timeout: float | None = None) -> list:
        """Restart these worker processes (their results are lost and recomputed when needed); waits until
        as many fresh workers joined (``timeout``, default 60 s; 0: no wait) and returns their addresses."""
        before = self.scheduler_info()["workers"]
        workers = self._worker_addresses(workers)
        old_pids = {before[w].get("pid") for w in workers}
        known_pids = {info.get("pid") for info in before.values()}
        self._collect(self._ask_workers(workers, wire.RunRequest(dumps(_restart_worker))), None, "return",
                      "restart")
        if timeout == 0:
            return []
        limit = 60.0 if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            now = self.scheduler_info()["workers"]
            fresh = [a for a, info in now.items() if info.get("pid") not in known_pids]
            if len(fresh) >= len(workers) and not old_pids & {info.get("pid") for info in now.values()}:
                return fresh
            if time.monotonic() > deadline:
                raise TimeoutError(f"restart: {len(fresh)} of {len(workers)} workers came back within {limit} s")
            time.sleep(0.05)

    def wait_for_workers(self, n_workers: int = 1, timeout: float | None = None) -> None:
        """Block until at least ``n_workers`` workers are connected (`TimeoutError` after ``timeout`` s)."""
        if not isinstance(n_workers, int) or n_workers < 0:
            raise ValueError(f"wait_for_workers needs a number of workers >= 0, not {n_workers!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            have = len(self.scheduler_info()["workers"])
            if have >= n_workers:
                return None
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"only {have} of {n_workers} workers joined within {timeout} s")
            time.sleep(0.05)

    # ------------------------------------------------------------------ what is where

    def nthreads(self, workers=None) -> dict:
        """``{address: number of threads}`` of every worker (or of ``workers``)."""
        info = self.scheduler_info()["workers"]
        return {a: w["nthreads"] for a, w in info.items() if workers is None or a in _as_set(workers)}

    ncores = nthreads

    def has_what(self, workers=None) -> dict:
        """``{address: [keys it holds]}`` for every worker (or ``workers``), all clients' keys."""
        info = self.scheduler_info()["workers"]
        out = {a: [] for a in info if workers is None or a in _as_set(workers)}
        for key, holders in self.ask(wire.WhoHasRequest(None)).items():
            for w in holders:
                if w in out:
                    out[w].append(key)
        return out

    def nbytes(self, keys=None, summary: bool = True) -> dict:
        """Bytes of the results held in memory: ``{key: bytes}``, or with ``summary`` summed by key prefix
        (``{"inc": 2400}``), as dask.distributed's."""
        sizes = self.ask(wire.KeySizesRequest(None if keys is None else [getattr(k, "key", k) for k in keys]))
        if not summary:
            return sizes
        from ..spec.keys import key_split

        out: dict = {}
        for key, n in sizes.items():
            prefix = key_split(key)
            out[prefix] = out.get(prefix, 0) + n
        return out

    def futures_of(self, obj) -> list:
        """The futures inside ``obj`` (see `graphflow.futures_of`)."""
        from .futures import futures_of

        return futures_of(obj)

    def normalize_collection(self, collection):
        """``collection`` with each part this client already holds a future for replaced by that future, so
        computing it again reuses the results on the cluster instead of recomputing them."""
        from ..spec import DataNode, TaskGraph
        from ..spec.collections import is_collection
        from .futures import Future

        if not is_collection(collection):
            return collection
        graph = collection.__graphflow_graph__()
        held = [k for k in graph if self.refs.get(k) is not None and self.refs.get(k).status == "finished"]
        if not held:
            return collection
        nodes = dict(graph.items())
        for key in held:
            nodes[key] = DataNode(key, Future(key, self))
        return collection.__graphflow_rebuild__(TaskGraph.adopt(nodes))

    def get_scheduler_logs(self, n: int | None = None) -> list:
        """The scheduler's recent log records, ``[(time, level, message), ...]`` oldest first (the last ``n``)."""
        return self.ask(wire.SchedulerLogsRequest(n))

    def get_executor(self, **options):
        """A `concurrent.futures.Executor` running on this cluster (`graphflow.client.executor`)."""
        from .executor import ClientExecutor

        return ClientExecutor(self, **options)

    def call_stack(self, futures=None, keys=None) -> dict:
        """Where running tasks are now: ``{worker: {key: [stack lines]}}`` for the tasks of ``futures`` (or
        ``keys``; all running tasks when neither is given), workers running none of them left out."""
        wanted = None
        if futures is not None or keys is not None:
            wanted = [f.key for f in (futures or [])] + list(keys or [])
        stacks = self.run(_call_stack, wanted)
        return {w: s for w, s in stacks.items() if s}

    def write_scheduler_file(self, scheduler_file: str) -> None:
        """Write ``{"address": ...}`` as JSON to ``scheduler_file`` (what ``Client(scheduler_file=)`` reads
        in dask.distributed)."""
        import json

        with open(scheduler_file, "w") as f:
            json.dump({"address": self.scheduler_address, "type": "Scheduler"}, f)

    def processing(self, workers=None) -> dict:
        """``{address: [keys assigned to it, running or about to]}`` for every worker (or ``workers``)."""
        return self.ask(wire.ProcessingRequest(None if workers is None else list(_as_set(workers))))

    def get_versions(self, check: bool = False, packages=None) -> dict:
        """Versions of Python and the packages that must agree, in this client, the scheduler and each worker:
        ``{"client": {...}, "scheduler": {...}, "workers": {address: {...}}}``.  ``check=True`` raises
        `VersionMismatchError` naming each package whose version differs (and where)."""
        extra = tuple(packages or ())
        out = {"client": versions(extra), "scheduler": self.run_on_scheduler(versions, extra),
               "workers": self.run(versions, extra)}
        if check:
            check_versions(out)
        return out

    # ------------------------------------------------------------------ the current client

    @classmethod
    def current(cls, allow_global: bool = True):
        """The client in use here: the one made current by `as_current`, else the most recent open one."""
        return current_client(allow_global)

    def as_current(self):
        """A context manager making this client the current one (`current`, `default_client`) in the block."""
        return as_current_client(self)


# ---------------------------------------------------------------------- helpers run elsewhere


def versions(extra=()) -> dict:
    """``{"host": {...}, "packages": {name: version or None}}`` of this process."""
    import importlib

    packages = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in (*VERSIONED_PACKAGES[1:], *extra):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = importlib.import_module(name)
            except Exception:
                packages[name] = None
                continue
        version = getattr(module, "__version__", None)
        if name == "zmq":
            version = getattr(module, "pyzmq_version", lambda: version)()
        packages[name] = str(version) if version is not None else None
    host = {"python": sys.version.split()[0], "OS": platform.system(), "machine": platform.machine()}
    return {"host": host, "packages": packages}


def check_versions(found: dict) -> None:
    """Raise `VersionMismatchError` if a package's version differs between the places in ``found`` (as
    returned by `ClusterAdmin.get_versions`); a package missing on the client only is not a mismatch."""
    places = {"client": found["client"], "scheduler": found["scheduler"], **found["workers"]}
    names = {n for v in places.values() for n in v["packages"]}
    mismatches = {}
    for name in sorted(names):
        seen = {where: v["packages"].get(name) for where, v in places.items()}
        if len(set(seen.values())) > 1:
            mismatches[name] = seen
    if mismatches:
        lines = [f"  {name}: " + ", ".join(f"{where}={v}" for where, v in seen.items())
                 for name, seen in mismatches.items()]
        raise VersionMismatchError("package versions differ between the client, the scheduler and the "
                                   "workers; install the same versions everywhere:\n" + "\n".join(lines),
                                   mismatches)


class _SetupCallback(WorkerPlugin):
    """`register_worker_callbacks`' function as a worker plugin."""

    def __init__(self, setup):
        self.setup_function = setup

    def setup(self, worker):
        if "dask_worker" in _parameters(self.setup_function):
            self.setup_function(dask_worker=worker)
        else:
            self.setup_function()


def _parameters(func) -> set:
    import inspect

    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


def _restart_worker(dask_worker):
    """Run on a worker by `ClusterAdmin.restart`: exit so that its supervisor starts a fresh one."""
    dask_worker.admin.restart()
    return True


def _call_stack(keys, dask_worker=None):
    return dask_worker.admin.call_stack(keys)


def _plugin_names(dask_scheduler):
    return [name for kind, name in dask_scheduler.extensions.setup if kind == "plugin"] + \
        list(dask_scheduler.extensions.plugins)


def _is_scheduler_plugin(plugin) -> bool:
    if isinstance(plugin, SchedulerPlugin):
        return True
    if isinstance(plugin, WorkerPlugin):
        return False
    # dask.distributed's plugin classes, by the hooks only a scheduler plugin has
    return any(hasattr(plugin, h) for h in ("start", "add_worker", "remove_worker", "add_client"))


def _on_worker(exc: BaseException, worker: str, what: str) -> BaseException:
    """``exc`` with the worker and call named in its message, of its own type where possible."""
    try:
        return type(exc)(f"{exc} [raised on worker {worker} by {what}]")
    except Exception:
        return exc


def _name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _as_set(workers) -> set:
    return {workers} if isinstance(workers, str) else set(workers)
