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
* ``spill_tree`` / ``spill_sums`` / ``spill_transfer`` (`benchmarks.workloads.spill`): the
  same remote-call style with ``object_store_memory`` = 1 GiB; peak RSS of
  the ``ray::`` worker processes (task and I/O workers) and the bytes they
  wrote to disk beside each time; with ``ray[default]`` (gRPC) also the
  object store's own ``spilled_bytes_total``.

``sched_memory`` has no ray case: ray has no central scheduler process that
holds the graph (each task's owner, here the driver, holds its specification),
so there is no process whose growth would compare.

Tasks run are the remote calls the case made.  Ray starts once per worker
process (on the untimed warm-up) and serves every sample of the session; the
dashboard is off, as dask's is.
"""

from __future__ import annotations

import importlib.util
import logging
import time

import ray

from .. import sessions, shapes, spill_cases
from ..clock import Stopwatch, latency_summary
from ..model import Engine
from ..probe import ray_worker_pids

__all__ = ["engine"]

NAME = "ray"

_inc = ray.remote(shapes.inc)
_add = ray.remote(shapes.add)
_make = ray.remote(shapes.make_array)
_consume = ray.remote(shapes.consume)


def _start(params):
    cpus = params["workers"] * params["threads_per_worker"]
    store = params.get("object_store_memory")  # set by the spill workloads; ray's default otherwise
    ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING,
             configure_logging=True, log_to_driver=True, **({"object_store_memory": store} if store else {}))
    return cpus


def _ray(params) -> None:
    sessions.shared((NAME, params["workers"], params["threads_per_worker"], params.get("object_store_memory")),
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


# ------------------------------------------------------------------ spilling (benchmarks.workloads.spill)

_make_chunk = ray.remote(spill_cases.make_chunk)
_add_pair = ray.remote(spill_cases.add_pair)
_chunk_total = ray.remote(spill_cases.chunk_total)


def _spilled_total() -> int:
    """Bytes the object store has spilled to disk since ray started, over every node (asks the raylet
    over gRPC, which only ``ray[default]`` installs).
    """
    from ray._private import internal_api

    reply = internal_api.get_memory_info_reply(internal_api.get_state_from_address(None))
    return int(reply.store_stats.spilled_bytes_total)


def _spill_memory() -> spill_cases.SampleMemory:
    native = spill_cases.Cumulative(_spilled_total) if importlib.util.find_spec("grpc") else None
    return spill_cases.SampleMemory(ray_worker_pids, native, "store_spilled")


def spill_tree(params) -> dict:
    """The pairwise tree as remote calls taking the ObjectRefs of earlier calls; one ``ray.get``."""
    _ray(params)
    c, n = params["chunks"], params["elements"]

    def run():
        return ray.get(spill_cases.tree(c, n, _make_chunk.remote, _add_pair.remote, _chunk_total.remote))

    phases = spill_cases.measure(NAME, run, spill_cases.expected(c, n), _spill_memory())
    phases["counts"]["ran"] = spill_cases.tree_tasks(params)
    return phases


def spill_sums(params) -> dict:
    """Each chunk summed by a remote call of its own, then the sum of sums; one ``ray.get``."""
    _ray(params)
    c, n = params["chunks"], params["elements"]

    def run():
        return ray.get(spill_cases.sums(c, n, _make_chunk.remote, _chunk_total.remote, _add.remote))

    phases = spill_cases.measure(NAME, run, spill_cases.expected(c, n), _spill_memory())
    phases["counts"]["ran"] = spill_cases.sums_tasks(params)
    return phases


def spill_transfer(params) -> dict:
    """``dist_transfer`` with a 1 GiB object store."""
    memory = _spill_memory()
    with memory:
        phases = dist_transfer(params)
    return spill_cases.with_memory(phases, memory)


@ray.remote
class _Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


def _actor(params):
    _ray(params)
    a = _Counter.remote()
    ray.get(a.add.remote(0))
    return a


def actor_pipelined(params) -> dict:
    """``calls`` ``a.add.remote(1)`` made at once, one ``ray.get`` of them all."""
    a, calls = _actor(params), params["calls"]
    start = time.perf_counter()
    values = ray.get([a.add.remote(1) for _ in range(calls)])
    elapsed = time.perf_counter() - start
    shapes.check(NAME, values[-1], calls)
    return {"total": elapsed, "counts": {"ran": calls}}


def actor_blocking(params) -> dict:
    """``calls`` ``ray.get(a.add.remote(1))``, one at a time."""
    a, calls = _actor(params), params["calls"]
    start = time.perf_counter()
    for _ in range(calls):
        value = ray.get(a.add.remote(1))
    elapsed = time.perf_counter() - start
    shapes.check(NAME, value, calls)
    return {"total": elapsed, "counts": {"ran": calls}}


# ------------------------------------------------------------------ nested tasks (benchmarks.workloads.nested)


@ray.remote
def _nested_parent(i: int, children: int) -> int:
    """A parent task: ``inc.remote`` for each child, then ``ray.get`` (which gives the CPU back while it waits)."""
    return sum(ray.get([_inc.remote(x) for x in range(i * children, (i + 1) * children)]))


def nested_children(params) -> dict:
    """``parents`` remote tasks, each launching ``children`` remote tasks and getting them."""
    from ..workloads.nested import expected

    _ray(params)
    parents, children = params["parents"], params["children"]
    watch = Stopwatch()
    sums = ray.get([_nested_parent.remote(i, children) for i in range(parents)])
    watch.lap("compute")
    shapes.check(NAME, sums, expected(parents, children))
    phases = watch.phases()
    phases["counts"] = {"ran": parents * (children + 1)}
    return phases


def engine() -> Engine:
    """ray as an `Engine`."""
    cases = {
        "actor_pipelined": actor_pipelined,
        "actor_blocking": actor_blocking,
        "dist_delayed_sum": _tree,
        "dist_raw_tree": _tree,
        "dist_transfer": dist_transfer,
        "dist_latency": dist_latency,
        "nested_children": nested_children,
        "spill_tree": spill_tree,
        "spill_sums": spill_sums,
        "spill_transfer": spill_transfer,
    }
    return Engine(NAME, ray.__version__, cases, "import ray")
