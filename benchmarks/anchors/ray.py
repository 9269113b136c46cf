"""The ray anchor: the cluster workloads as ``@ray.remote`` tasks on ``ray.init(num_cpus=2)``.

One case per kind of `benchmarks.workloads.cluster` that makes sense for ray:

* ``dist_delayed_sum`` / ``dist_raw_tree``: ray has no graph to submit; the
  same tree is built by calling remote functions with the ObjectRefs of
  earlier calls as arguments (ray resolves them on the worker), and one
  ``ray.get`` of the root at the end.  Submitting is the building, so the
  first phase is called ``submit``;
* ``dist_transfer``: ``make.remote(n)`` then ``consume.remote(ref)``.  Ray
  cannot pin a task to one of two workers of a single node, so the array
  travels through the node's shared-memory object store, which is how ray
  moves it anyway (``consume`` reads it in place, with no copy);
* ``dist_latency``: ``ray.get(inc.remote(i))``, one at a time.

``sched_memory`` has no ray case: ray has no central scheduler process that
holds the graph (each task's owner, here the driver, holds its specification),
so there is no process whose growth would compare.

Tasks run are the remote calls the case made.  Ray starts once per worker
process (on the untimed warm-up) and serves every sample of the session; the
dashboard is off, as dask's is.
"""

from __future__ import annotations

import logging
import time

import ray

from .. import sessions, shapes
from ..clock import Stopwatch, latency_summary
from ..model import Engine

__all__ = ["engine"]

NAME = "ray"

_inc = ray.remote(shapes.inc)
_add = ray.remote(shapes.add)
_make = ray.remote(shapes.make_array)
_consume = ray.remote(shapes.consume)


def _start(params):
    cpus = params["workers"] * params["threads_per_worker"]
    ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING,
             configure_logging=True, log_to_driver=True)
    return cpus


def _ray(params) -> None:
    sessions.shared((NAME, params["workers"], params["threads_per_worker"]),
                    lambda: _start(params), lambda cpus: ray.shutdown())


def _tree(params) -> dict:
    _ray(params)
    n, fan_in = params["leaves"], params["fan_in"]
    calls = 0

    def combine(level, j, chunk):
        nonlocal calls
        calls += 1
        return _add.remote(*chunk)

    watch = Stopwatch()
    leaves = [_inc.remote(i) for i in range(n)]
    root = shapes.reduce_tree(leaves, fan_in, combine)
    watch.lap("submit")
    value = ray.get(root)
    watch.lap("compute")
    shapes.check(NAME, value, shapes.expected_tree_sum(n))
    phases = watch.phases()
    phases["counts"] = {"ran": n + calls}
    return phases


def dist_transfer(params) -> dict:
    """make then consume as two remote tasks; the array goes through the object store."""
    _ray(params)
    n = params["elements"]
    watch = Stopwatch()
    made = _make.remote(n)
    value = ray.get(_consume.remote(made))
    watch.lap("transfer")
    shapes.check(NAME, value, shapes.expected_consume(n))
    del made
    phases = watch.phases()
    phases["counts"] = {"ran": 2}
    phases["floor"] = shapes.transfer_floor(n)
    return phases


def dist_latency(params) -> dict:
    """``calls`` round trips of ``ray.get(inc.remote(i))``."""
    _ray(params)
    for i in range(params["warmup_calls"]):
        ray.get(_inc.remote(i))
    times = []
    for i in range(params["calls"]):
        t = time.perf_counter()
        value = ray.get(_inc.remote(i))
        times.append(time.perf_counter() - t)
        shapes.check(NAME, value, i + 1)
    phases = latency_summary(times)
    phases["counts"] = {"ran": params["calls"]}
    return phases


def engine() -> Engine:
    """ray as an `Engine`."""
    cases = {
        "dist_delayed_sum": _tree,
        "dist_raw_tree": _tree,
        "dist_transfer": dist_transfer,
        "dist_latency": dist_latency,
    }
    return Engine(NAME, ray.__version__, cases, "import ray")
