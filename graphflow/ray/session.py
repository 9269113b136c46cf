"""``ray.init`` / ``ray.shutdown``: the one graphflow client a Ray program talks through.

Model.  Ray starts (or joins) a cluster of *nodes*, each offering CPUs, GPUs
and custom resources.  ``ray.init(num_cpus=4, num_gpus=1, resources={"A": 2})``
here starts a `graphflow.deploy.LocalCluster` of one worker process -- one
node -- with ``num_cpus`` task threads that offers ``{"CPU": 4, "GPU": 1,
"A": 2}``; ``ray.init(address="tcp://host:8786")`` joins a running graphflow
scheduler instead.  The process keeps one `graphflow.client.Client` for the
session (`client`).  In a task running on a worker (nested remote calls,
``ray.get`` inside a task, an unpickled actor handle) there is no session:
`client` returns that worker process's own client to its scheduler.

Resources map onto graphflow's (`graphflow.scheduler.resources`): a task
asks for ``{"CPU": n}`` only when ``num_cpus`` was given explicitly; tasks
with Ray's default of one CPU take one task thread and ask for nothing, so
the common path costs nothing extra and a task blocked in ``ray.get`` (which
gives its thread back) holds no CPU, as in Ray.  A task that did ask for
resources keeps them while it blocks (Ray lends them out meanwhile).  On a joined cluster whose
workers offer no ``CPU`` resource, ``num_cpus`` requests are dropped (task
threads are the CPUs there).

    >>> import graphflow.ray as ray
    >>> ctx = ray.init(num_cpus=2)                  # doctest: +SKIP
    >>> ray.cluster_resources()["CPU"]              # doctest: +SKIP
    2.0
    >>> ray.shutdown()                              # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading

from ..client import Client
from ..client.current import process_client
from ..errors import GraphflowError

__all__ = ["init", "shutdown", "is_initialized", "client", "driver_client", "RayContext", "cluster_resources",
           "available_resources", "nodes", "wants_cpu_resource", "namespace"]

_lock = threading.Lock()
_session: dict = {}  # "client", "cluster", "namespace", "cpu_offered" while initialized in this process

# Ray's ray.init keywords that mean nothing for a graphflow cluster (logging, dashboard, runtime env ...):
# accepted so Ray programs run unchanged, and ignored.
_IGNORED = frozenset({
    "labels", "object_store_memory", "local_mode", "include_dashboard", "dashboard_host", "dashboard_port",
    "job_config", "configure_logging", "logging_level", "logging_format", "logging_config", "log_to_driver",
    "runtime_env", "storage", "_system_config", "_temp_dir", "_metrics_export_port", "_enable_object_reconstruction",
    "_plasma_directory", "_node_ip_address", "_driver_object_store_memory", "_memory", "_redis_password",
    "_node_name", "_tracing_startup_hook", "_skip_env_hook",
})


class RayContext:
    """What ``ray.init`` returns: ``address_info``, ``dashboard_url``; as a context manager it shuts down on exit."""

    def __init__(self, address: str, dashboard_url):
        self.address_info = {"address": address, "gcs_address": address, "node_ip_address": "127.0.0.1"}
        self.dashboard_url = dashboard_url

    def __getitem__(self, name):
        return self.address_info[name]

    def disconnect(self) -> None:
        shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        shutdown()


def init(address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None,
         resources: dict | None = None, ignore_reinit_error: bool = False, namespace: str | None = None,
         **kwargs) -> RayContext:
    """Start a one-node local cluster (or join the graphflow scheduler at ``address``) for this process.

    ``num_cpus`` (default: the machine's cores) task threads and ``CPU``
    resource, ``num_gpus`` ``GPU`` resource, ``resources`` custom ones.
    ``address``: None or ``"local"`` starts a cluster; ``"auto"`` joins the
    scheduler in ``GRAPHFLOW_SCHEDULER_ADDRESS`` (or ``RAY_ADDRESS``); any other
    string is a graphflow scheduler's address.  Ray's logging, dashboard and
    runtime-environment keywords are accepted and ignored.
    """
    unknown = sorted(k for k in kwargs if k not in _IGNORED)
    if unknown:
        raise TypeError(f"ray.init() got unexpected keyword arguments {unknown}")
    with _lock:
        if _session:
            if ignore_reinit_error:
                return _context()
            raise RuntimeError("ray.init() was already called in this process; pass ignore_reinit_error=True, "
                               "or call ray.shutdown() first")
        if address == "auto":
            address = os.environ.get("GRAPHFLOW_SCHEDULER_ADDRESS") or os.environ.get("RAY_ADDRESS")
            if not address:
                raise ConnectionError("ray.init(address='auto') found no running cluster: set "
                                      "GRAPHFLOW_SCHEDULER_ADDRESS to a graphflow scheduler's address")
        if address in (None, "local"):
            cluster = _local_cluster(num_cpus, num_gpus, resources)
            try:
                session_client = Client(cluster, set_as_default=False)
            except BaseException:
                cluster.close()
                raise
            _session.update(client=session_client, cluster=cluster, cpu_offered=True)
        else:
            if num_cpus is not None or num_gpus is not None or resources:
                raise ValueError("ray.init(address=...) joins a running cluster: num_cpus, num_gpus and resources "
                                 "describe a new one (start the workers with graphflow worker --resources)")
            session_client = Client(address, set_as_default=False)
            offered = [w.get("resources") or {} for w in session_client.scheduler_info()["workers"].values()]
            _session.update(client=session_client, cluster=None, cpu_offered=any("CPU" in r for r in offered))
        _session["namespace"] = namespace or "default"
        return _context()


def _local_cluster(num_cpus, num_gpus, resources):
    from ..deploy import LocalCluster

    cpus = (os.cpu_count() or 1) if num_cpus is None else num_cpus
    if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or cpus < 1:
        raise ValueError(f"ray.init needs num_cpus >= 1 for a local cluster, not {num_cpus!r}")
    offered = {"CPU": float(cpus)}
    if num_gpus:
        offered["GPU"] = float(num_gpus)
    for name, amount in (resources or {}).items():
        if name in ("CPU", "GPU"):
            raise ValueError(f"ray.init: use num_cpus/num_gpus, not resources={{{name!r}: ...}}")
        offered[name] = float(amount)
    return LocalCluster(n_workers=1, threads_per_worker=int(cpus), resources=offered, dashboard_address=None)


def _context() -> RayContext:
    c = _session["client"]
    return RayContext(c.scheduler_address, c.dashboard_link)


def shutdown() -> None:
    """End the session: close the client and the cluster ``init`` started (detached actors go with it)."""
    with _lock:
        if not _session:
            return
        session_client, cluster = _session["client"], _session["cluster"]
        _session.clear()
    try:
        session_client.close()
    finally:
        if cluster is not None:
            cluster.close()


def is_initialized() -> bool:
    """True after ``ray.init`` in this process, and in tasks running on a worker."""
    if _session:
        return True
    try:
        process_client()
    except GraphflowError:
        return False
    return True


def client():
    """This process's client: the session's, or (in a task on a worker) the worker process's own."""
    session_client = _session.get("client")
    if session_client is not None:
        return session_client
    try:
        return process_client()
    except GraphflowError:
        raise GraphflowError("graphflow.ray is not initialized: call ray.init() first") from None


def driver_client():
    """The session's client if ``ray.init`` ran in this process, else None (never opens one)."""
    return _session.get("client")


def namespace() -> str:
    """The session's namespace for named actors ("default" in tasks)."""
    return _session.get("namespace", "default")


def wants_cpu_resource() -> bool:
    """Whether ``num_cpus`` requests become ``{"CPU": n}`` resource requests (the workers offer CPU)."""
    return _session.get("cpu_offered", True)


def _workers() -> list:
    return list(client().scheduler_info()["workers"].values())


def _offered(w: dict) -> dict:
    out = {k: float(v) for k, v in (w.get("resources") or {}).items()}
    out.setdefault("CPU", float(w["nthreads"]))
    if w.get("memory_limit"):
        out["memory"] = float(w["memory_limit"])
    return out


def cluster_resources() -> dict:
    """``{"CPU": total, "GPU": ..., custom: ...}`` summed over the workers (a worker offering no CPU counts its
    threads)."""
    total: dict = {}
    for w in _workers():
        for name, amount in _offered(w).items():
            total[name] = total.get(name, 0.0) + amount
    return total


def available_resources() -> dict:
    """What is free now: each worker's offer less what its running tasks hold (a busy thread holds at least one
    CPU)."""
    free: dict = {}
    for w in _workers():
        used = dict(w.get("resources_used") or {})
        offered = _offered(w)
        # Tasks with Ray's default of one CPU ask for nothing (see above): each busy thread holds one.
        used["CPU"] = max(float(used.get("CPU", 0.0)), float(min(w["processing"], w["nthreads"])))
        for name, amount in offered.items():
            left = amount - float(used.get(name, 0.0))
            if left > 0:
                free[name] = free.get(name, 0.0) + left
    return free


def nodes() -> list:
    """One entry per worker process, in Ray's shape: ``NodeID``, ``Alive``, ``NodeManagerAddress``, ``Resources``."""
    return [{"NodeID": w.get("name") or address, "Alive": w.get("status") == "running",
             "NodeManagerAddress": w.get("host"), "NodeName": w.get("host"), "Resources": _offered(w)}
            for address, w in client().scheduler_info()["workers"].items()]
