"""The cluster API of issue 19: what resources and large arguments cost, graphflow against itself.

Two workloads, each timing the feature (``total``) and the same work without it
(a second phase) in every sample, on one cluster of 2 worker processes x 1
thread, in alternating order so drift cancels:

``resources`` (``resources_overhead``)
    dist10k's graph (10k ``delayed`` ``inc(i)`` and a fan-in-8 tree sum,
    11,431 tasks) computed with ``resources={"MEM": 1}`` on every task, on
    workers offering ``MEM=1e9`` (a request that never binds: what is measured
    is the bookkeeping), against the same graph without (``plain``).
    Target: under 10% more.
``large-arg`` (``large_arg``)
    8 ``submit(consume, arr)`` calls given the same 200 MB array by value
    (``total``), against ``client.scatter(arr)`` once and 8 submits of its
    future (``scatter``); a fresh array per run, so nothing is reused between
    runs.  ``consume`` touches one element per 4 KiB page.  Counts: the most
    any worker's RSS grew during each run, in MB (``by_value_mb``,
    ``scatter_mb``): one copy per worker is ~200.  Target: at most 1.2x.
"""

from __future__ import annotations

import itertools
import threading
import time

from .. import futures_cases, sessions, shapes
from ..model import Workload
from ..overhead_rows import CLUSTER, overhead_row
from ..probe import rss_of
from ..targets import all_of, overhead_below

__all__ = ["WORKLOADS", "CASES"]

NAME = "graphflow"
SESSION = "cluster-api"
_samples = itertools.count()


def _client(params):
    import graphflow as gf

    def start():
        return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                         dashboard_address=None, resources={"MEM": 1e9})

    return sessions.shared((SESSION, params["workers"], params["threads_per_worker"]), start, lambda c: c.close())


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def _alternate(run_with, run_without, phase: str) -> dict:
    order = (True, False) if next(_samples) % 2 else (False, True)
    out = {}
    for on in order:
        out[on] = run_with() if on else run_without()
    counts = {**out[False].get("counts", {}), **out[True].get("counts", {})}
    return {"total": out[True]["total"], phase: out[False]["total"], "counts": counts}


def resources_overhead(params) -> dict:
    """dist10k's graph with ``resources={"MEM": 1}`` on every task (``total``) and without (``plain``)."""
    import graphflow as gf

    client = _client(params)

    def compute(resources):
        def run(root, scheduler):
            return (scheduler.compute(root, resources=resources).result(),)
        return lambda: futures_cases.delayed_sum(client, params, _ran, NAME, gf.delayed, run)

    return _alternate(compute({"MEM": 1}), compute(None), "plain")


class _PeakRss:
    """The most each of ``pids`` grew above its RSS at start, sampled every 5 ms on a thread."""

    def __init__(self, pids):
        self.base = {p: rss_of(p) or 0 for p in pids}
        self.peak = dict(self.base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for p in self.peak:
                self.peak[p] = max(self.peak[p], rss_of(p) or 0)
            self._stop.wait(0.005)

    def growth_mb(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak[p] - self.base[p] for p in self.peak) // 10**6


def large_arg(params) -> dict:
    """8 submits of one 200 MB array by value (``total``) vs scattering it once (``scatter``)."""
    client = _client(params)
    pids = [w["pid"] for w in client.scheduler_info()["workers"].values()]
    n, calls = params["elements"], params["calls"]

    def run(scatter: bool):
        arr = shapes.make_array(n)
        expected = shapes.expected_consume(n)
        watch_start = time.perf_counter()
        peak = _PeakRss(pids)
        arg = client.scatter(arr, hash=False) if scatter else arr
        futures = [client.submit(shapes.consume, arg, pure=False) for _ in range(calls)]
        values = client.gather(futures)
        total = time.perf_counter() - watch_start
        grown = peak.growth_mb()
        for v in values:
            shapes.check(NAME, v, expected)
        del futures, arg, arr
        return {"total": total, "counts": {("scatter_mb" if scatter else "by_value_mb"): grown}}

    return _alternate(lambda: run(False), lambda: run(True), "scatter")


CASES = {"resources_overhead": resources_overhead, "large_arg": large_arg}

WORKLOADS = [
    overhead_row(
        "resources",
        "dist10k's graph with resources={'MEM': 1} on every task vs without (same cluster)",
        "resources_overhead", SESSION, 0.10, ("resources=", "no resources"), repeat=3,
    ),
    Workload(
        name="large-arg",
        summary="8 submits given the same 200 MB array by value vs scattering it once (same cluster)",
        kind="large_arg",
        params={**CLUSTER, "elements": 25_000_000, "calls": 8},
        quick_params={**CLUSTER, "elements": 250_000, "calls": 8},
        repeat=3,
        warmup="small",
        target=all_of(overhead_below(0.20, "scatter", "by value", "scatter once")),
        anchors=(),
        session=SESSION,
    ),
]
