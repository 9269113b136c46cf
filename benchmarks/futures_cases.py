"""Cases written once for every engine with a Dask-style futures API.

graphflow's `Client` and dask.distributed's `Client` share ``submit``,
``result`` and ``scheduler_info()["workers"]``, so the transfer and latency
workloads are the same code for both; each engine passes how it counts the
tasks its cluster ran (``ran(client) -> int``).
"""

from __future__ import annotations

import time

from . import shapes
from .clock import Stopwatch, latency_summary


def transfer(client, params, ran, name: str, steps=None) -> dict:
    """make on worker A, consume on worker B (pinned with ``workers=``); submit to result.

    ``steps(client, since, made, used) -> dict``, where an engine can say when its tasks ran
    (``since``: ``time.time()`` at the submit), adds the phases it returns to the sample's.
    """
    n = params["elements"]
    a, b = _two_workers(client)
    before = ran(client)
    since = time.time()
    watch = Stopwatch()
    made = client.submit(shapes.make_array, n, workers=[a], pure=False)
    used = client.submit(shapes.consume, made, workers=[b], pure=False)
    value = used.result()
    watch.lap("transfer")
    shapes.check(name, value, shapes.expected_consume(n))
    phases = watch.phases()
    if steps is not None:
        phases.update(steps(client, since, made, used))
    del made, used
    phases["counts"] = {"ran": ran(client) - before}
    phases["floor"] = shapes.transfer_floor(n)
    return phases


def _two_workers(client, timeout: float = 30.0) -> list:
    """Two worker addresses, once both are connected (a cluster may still be (re)starting one)."""
    deadline = time.monotonic() + timeout
    while True:
        workers = sorted(client.scheduler_info()["workers"])
        if len(workers) >= 2:
            return workers[:2]
        if time.monotonic() > deadline:
            raise TimeoutError(f"the cluster has {len(workers)} workers after {timeout:.0f} s; the transfer needs 2")
        time.sleep(0.05)


def latency(client, params, ran, name: str) -> dict:
    """``calls`` round trips of one tiny ``client.submit(inc, i, pure=False).result()``."""
    for i in range(params["warmup_calls"]):
        client.submit(shapes.inc, i, pure=False).result()
    before = ran(client)
    times = []
    for i in range(params["calls"]):
        t = time.perf_counter()
        value = client.submit(shapes.inc, i, pure=False).result()
        times.append(time.perf_counter() - t)
        shapes.check(name, value, i + 1)
    phases = latency_summary(times)
    phases["counts"] = {"ran": ran(client) - before}
    return phases


def delayed_sum(client, params, ran, name: str, delayed, compute) -> dict:
    """``delayed`` inc(i) leaves and a fan-in tree of adds, one ``compute(root, scheduler=client)``.

    ``delayed`` and ``compute`` are the engine's own (``gf.delayed``/``gf.compute``,
    ``dask.delayed``/``dask.compute``): the same user code on both.
    """
    n, fan_in = params["leaves"], params["fan_in"]
    before = ran(client)
    watch = Stopwatch()
    inc, add = delayed(shapes.inc), delayed(shapes.add)
    leaves = [inc(i) for i in range(n)]
    root = shapes.reduce_tree(leaves, fan_in, lambda level, j, chunk: add(*chunk))
    watch.lap("build")
    (value,) = compute(root, scheduler=client)
    watch.lap("compute")
    shapes.check(name, value, shapes.expected_tree_sum(n))
    phases = watch.phases()
    phases["counts"] = {"ran": ran(client) - before}
    return phases
