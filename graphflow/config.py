"""Configuration: ``gf.config.set(...)`` and ``GRAPHFLOW_*`` environment variables.

Settings live in one process-wide flat dict with dotted names.  ``set`` changes
them globally, and when used as a context manager puts the old values back on
exit:

    >>> from graphflow import config
    >>> with config.set(scheduler="sync"):
    ...     config.get("scheduler")
    'sync'
    >>> config.get("scheduler", None) is None
    True

Names are normalized: ``-`` and ``_`` are the same, and nested names are
written with dots (``optimization.fuse``).  Keyword arguments cannot hold
dots, so ``set`` also takes a dict or double underscores:
``config.set({"optimization.fuse": False})`` or
``config.set(optimization__fuse=False)``.

At import, ``GRAPHFLOW_SCHEDULER=sync`` sets ``scheduler``, and
``GRAPHFLOW_OPTIMIZATION__FUSE=false`` sets ``optimization.fuse``; values are
parsed as ints, floats, booleans or ``none`` when they look like one.

Known settings and their defaults are in `DEFAULTS`; their values are checked
when set, so a typo in a value fails here rather than deep inside a compute.
"""

from __future__ import annotations

import os
import threading

from .errors import ConfigError

__all__ = ["set", "get", "refresh", "DEFAULTS"]

DEFAULTS: dict = {
    "scheduler": None,  # None: the collection's default (threads)
    "num_workers": None,  # None: one per CPU core
    "optimization.cull": True,
    "optimization.inline": True,
    "optimization.blockwise": True,
    "optimization.fuse": True,
    "optimization.order": True,
    "tokenize_ensure_deterministic": False,
    # Fractions of a worker's memory limit (graphflow.store.spill): spill by
    # managed bytes, spill by process RSS, pause new tasks, restart the worker.
    "worker.shared_memory": "auto",  # same-host transfers: True (always), False (never), "auto" (see worker)
    # Bytes of large receiving buffers a process keeps faulted in for the next same-host copy
    # (graphflow.comm.recvbuffers); 0 maps fresh memory for every copy.
    "worker.receive_buffers": "1GiB",
    "worker.memory.target": 0.6,
    "worker.memory.spill": 0.7,
    "worker.memory.pause": 0.8,
    "worker.memory.terminate": 0.95,
    # Most bytes a worker (or a local executor's store) spills to disk: False for no cap, else bytes or "20GiB".
    # The --max-spill flag and max_spill= arguments win over it.
    "worker.max_spill": False,
    # What Client() with no address starts: a class or "module:Name" called with the Client's cluster keywords.
    # The client package names it here instead of importing graphflow.deploy (which imports the client).
    "client.default_cluster": "graphflow.deploy:LocalCluster",
    "scheduler.retire_timeout": 60.0,  # seconds a graceful retirement may take before it is called off
    # Workers that may die while running one task before it fails with KilledWorkerError (the task itself may
    # be what kills them).  `graphflow scheduler --allowed-failures N` and LocalCluster(allowed_failures=N) too.
    "scheduler.allowed_failures": 3,
    # Seconds a worker may stay silent on a live tcp/ipc connection (a task holding the GIL) before the
    # scheduler takes it for wedged, drops it and tells it to exit so that its supervisor starts a fresh one.
    "scheduler.wedged_after": 300.0,
    # Diagnostics (graphflow.scheduler.snapshot): task-stream ring size, how often the dashboard's
    # snapshot is rebuilt while someone watches (seconds), and how many tasks its graph shows at most.
    "scheduler.task_stream_size": 100_000,
    # Seconds a task may wait in no-worker because its workers= restriction or resources match no connected worker
    # (an unknown name, a departed worker) before it errs with NoWorkerError instead of waiting forever.
    "scheduler.no_worker_timeout": 30.0,
    "scheduler.dashboard_interval": 0.5,
    "scheduler.dashboard_graph_limit": 5000,
    # A file the scheduler process writes a cProfile dump of its event loop to when it exits (None: no profile).
    # For measuring, e.g. GRAPHFLOW_SCHEDULER__PROFILE=/tmp/sched.prof around a LocalCluster's start.
    "scheduler.profile": None,
    # The wire (graphflow.comm): encrypt every connection with zmq CURVE under a key derived from the
    # cluster token (every process of a cluster must agree), and the largest message a process accepts:
    # "auto" is this host's physical memory (a larger message could not be received anyway), or bytes.
    "comm.encrypt": False,
    "comm.max_message_size": "auto",
}


def _fraction(v) -> bool:
    """A memory threshold: a fraction of the limit in (0, 1], or False/None to turn it off."""
    return v is None or v is False or (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1)


def _byte_size(v) -> bool:
    """A positive byte size: an int or a string like ``"4GiB"``."""
    from .units import parse_bytes

    if isinstance(v, bool):
        return False
    try:
        return parse_bytes(v) > 0
    except (ConfigError, TypeError, ValueError):
        return False


_CHECKS = {
    "worker.shared_memory": lambda v: v in (True, False, "auto"),
    "worker.receive_buffers": lambda v: (v == 0 and not isinstance(v, bool)) or _byte_size(v),
    "num_workers": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0),
    "optimization.cull": lambda v: isinstance(v, bool),
    "optimization.inline": lambda v: isinstance(v, bool),
    "optimization.blockwise": lambda v: isinstance(v, bool),
    "optimization.fuse": lambda v: isinstance(v, bool),
    "optimization.order": lambda v: isinstance(v, bool),
    "tokenize_ensure_deterministic": lambda v: isinstance(v, bool),
    **{f"worker.memory.{k}": _fraction for k in ("target", "spill", "pause", "terminate")},
    "worker.max_spill": lambda v: v is None or v is False or _byte_size(v),
    "client.default_cluster": lambda v: callable(v) or (isinstance(v, str) and v.count(":") == 1),
    "scheduler.retire_timeout": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "scheduler.allowed_failures": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "scheduler.wedged_after": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "scheduler.no_worker_timeout": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "scheduler.task_stream_size": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "scheduler.dashboard_interval": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "scheduler.dashboard_graph_limit": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "scheduler.profile": lambda v: v is None or (isinstance(v, str) and bool(v)),
    "comm.encrypt": lambda v: isinstance(v, bool),
    "comm.max_message_size": lambda v: v == "auto" or _byte_size(v),
}

_lock = threading.Lock()
_settings: dict = {}


def _canonical(name: str) -> str:
    return name.replace("__", ".").replace("-", "_").lower()


def _check(name: str, value):
    check = _CHECKS.get(name)
    if check is not None and not check(value):
        raise ConfigError(f"config {name!r} cannot be {value!r} (default: {DEFAULTS[name]!r})")


def get(name: str, default=...):
    """The value of setting ``name``; ``default`` (or the built-in default) when unset."""
    name = _canonical(name)
    if name in _settings:
        return _settings[name]
    if default is not ...:
        return default
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise KeyError(f"no config setting {name!r}; known settings: {sorted(DEFAULTS)}")


class set:  # noqa: A001 - mirrors dask.config.set, which users already know
    """Change settings; as a context manager, restore the previous values on exit.

    >>> _ = set(num_workers=2)           # global from here on
    >>> get("num_workers")
    2
    >>> _.restore()
    """

    def __init__(self, arg: dict | None = None, **kwargs):
        updates = {}
        for name, value in list((arg or {}).items()) + list(kwargs.items()):
            name = _canonical(name)
            _check(name, value)
            updates[name] = value
        with _lock:
            self._old = {k: _settings.get(k, _MISSING) for k in updates}
            _settings.update(updates)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore()

    def restore(self) -> None:
        """Put back the values that were in force before this ``set``."""
        with _lock:
            for k, v in self._old.items():
                if v is _MISSING:
                    _settings.pop(k, None)
                else:
                    _settings[k] = v


_MISSING = object()


def _parse(text: str):
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null", ""):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def as_environ() -> dict:
    """The settings made in this process as ``GRAPHFLOW_*`` variables, for child processes to inherit.

    `LocalCluster` passes them to its scheduler and workers, so
    ``with gf.config.set(...): gf.Client()`` configures the workers too.

    >>> with set({"worker.memory.target": 0.5}):
    ...     as_environ()["GRAPHFLOW_WORKER__MEMORY__TARGET"]
    '0.5'
    """
    out = {}
    with _lock:
        current = dict(_settings)
    for name, value in current.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out["GRAPHFLOW_" + name.replace(".", "__").upper()] = "none" if value is None else str(value)
    return out


def refresh(environ=None) -> None:
    """Forget all settings and re-read ``GRAPHFLOW_*`` environment variables."""
    environ = os.environ if environ is None else environ
    with _lock:
        _settings.clear()
    for var, text in environ.items():
        if var.startswith("GRAPHFLOW_") and var != "GRAPHFLOW_TOKEN":
            name = _canonical(var[len("GRAPHFLOW_"):])
            value = _parse(text)
            try:
                _check(name, value)
            except ConfigError as exc:
                raise ConfigError(f"environment variable {var}: {exc}") from None
            with _lock:
                _settings[name] = value


refresh()
