"""Spilling and large objects: a working set larger than the cluster's memory, on graphflow's
``Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB")``, beside dask.distributed
(``LocalCluster(..., memory_limit="1GiB")``) and ray (``ray.init(num_cpus=2,
object_store_memory=1 GiB)``).

Three workloads (shapes and answers in `benchmarks.spill_cases`; the anchors'
cases in `benchmarks.anchors.distributed` and `benchmarks.anchors.ray`):

``spill-tree`` (``spill_tree``)
    16 chunks of 200 MB (3.2 GB: 1.6x the two workers' limits together) made
    by tasks, added pairwise in a tree (8 + 4 + 2 + 1 elementwise adds) and
    summed to a scalar: one graph, ``compute(root, scheduler=client)`` on
    graphflow and dask (``delayed`` calls with ``pure=False``, so every sample
    has new keys), remote calls taking the ObjectRefs of earlier calls on ray.
``spill-sums`` (``spill_sums``)
    the same chunks, each summed on its own, then the sum of the sums: a
    working set that fits when chunks are summed as they are made, and
    spills when an engine makes chunks faster than it sums them.
``spill-transfer`` (``spill_transfer``)
    ``dist-transfer`` under the same limits: a 400 MB array made by a task on
    worker A and consumed by a task on worker B (ray: through its object
    store, as in ``dist-transfer``), with the numpy floor as a phase.

Beside each time the table prints the peak RSS of each worker process
(``VmHWM``, reset through ``/proc/PID/clear_refs`` before the sample) and the
bytes spilled during it.  A failed sample (a worker killed for memory, a
wrong answer) is counted and the engine goes on (``keep_going``): "finishes
every run" is a target, so a failure is a miss, and an anchor that dies once
in four still gets its time.  Each engine's cluster starts once, on the
untimed warm-up, and serves all three workloads (session ``spill``).
"""

from __future__ import annotations

import time

import graphflow as gf

from .. import futures_cases, sessions, shapes, spill_cases
from ..model import Beside, Workload
from ..targets import all_of, finishes, ratio_at_most, value_below, with_note, worst_count_at_most
from .cluster import _target_note

__all__ = ["WORKLOADS", "CASES", "CLUSTER", "LEGEND"]

NAME = "graphflow"
SESSION = "spill"
ANCHORS = ("distributed", "ray")
GiB = spill_cases.GiB
LIMIT = GiB
# The same for every engine; each reads what it needs (ray: the object store, not a per-worker limit).
CLUSTER = {"workers": 2, "threads_per_worker": 1, "memory_limit": LIMIT, "object_store_memory": LIMIT}


def _start(params):
    return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                     memory_limit=params["memory_limit"])


def _client(params):
    key = (NAME, params["workers"], params["threads_per_worker"], params["memory_limit"])
    return sessions.shared(key, lambda: _start(params), lambda client: client.close())


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def _pids(client):
    def pids():
        return [w["pid"] for w in client.scheduler_info()["workers"].values() if w.get("pid")]

    return pids


def _on_disk(client) -> int:
    return sum(m.get("spilled") or 0 for m in client.memory().values())


def _settle(client, timeout: float = 3.0) -> None:
    """Before a sample, untimed: every worker is back (one restarted for memory in the previous sample
    may still be starting; a sample on fewer workers would not compare), and no worker reports spilled
    bytes (heartbeats lag by up to 0.5 s: the previous sample's figure must not count as this one's peak).
    """
    client.cluster.wait_for_workers(CLUSTER["workers"], timeout=60)
    deadline = time.monotonic() + timeout
    while _on_disk(client) and time.monotonic() < deadline:
        time.sleep(0.1)


def _memory(client) -> spill_cases.SampleMemory:
    # The store reports the bytes on its disk now, not a running total: the peak seen while the sample ran.
    _settle(client)
    return spill_cases.SampleMemory(_pids(client), spill_cases.PolledPeak(lambda: _on_disk(client)), "on_disk_peak")


# ------------------------------------------------------------------ cases


def spill_tree(params) -> dict:
    """The pairwise tree of 16 chunks, one ``gf.compute`` on the client."""
    client = _client(params)
    c, n = params["chunks"], params["elements"]

    def run():
        make = gf.delayed(spill_cases.make_chunk, pure=False)
        add = gf.delayed(spill_cases.add_pair, pure=False)
        total = gf.delayed(spill_cases.chunk_total, pure=False)
        (value,) = gf.compute(spill_cases.tree(c, n, make, add, total), scheduler=client)
        return value

    return spill_cases.measure(NAME, run, spill_cases.expected(c, n), _memory(client), lambda: _ran(client))


def spill_sums(params) -> dict:
    """Each chunk summed on its own, then the sum of the sums, one ``gf.compute`` on the client."""
    client = _client(params)
    c, n = params["chunks"], params["elements"]

    def run():
        make = gf.delayed(spill_cases.make_chunk, pure=False)
        total = gf.delayed(spill_cases.chunk_total, pure=False)
        add_all = gf.delayed(shapes.add, pure=False)
        (value,) = gf.compute(spill_cases.sums(c, n, make, total, add_all), scheduler=client)
        return value

    return spill_cases.measure(NAME, run, spill_cases.expected(c, n), _memory(client), lambda: _ran(client))


def spill_transfer(params) -> dict:
    """``dist-transfer`` on the memory-limited cluster: make on worker A, consume on worker B."""
    client = _client(params)
    memory = _memory(client)
    with memory:
        phases = futures_cases.transfer(client, params, _ran, NAME)
    return spill_cases.with_memory(phases, memory)


CASES = {"spill_tree": spill_tree, "spill_sums": spill_sums, "spill_transfer": spill_transfer}


# ------------------------------------------------------------------ the rows

LEGEND = ("[rss a/b GiB, spilled s GiB] after a value: peak RSS (VmHWM) of the two largest worker processes and "
          "the bytes they wrote to disk during the sample (/proc/PID/io write_bytes), medians over the samples.\n"
          "The engines' own spill figures are among the phases: graphflow on_disk_peak (the most on its workers' "
          "disks at once, polled every 0.1 s), distributed disk_write (its spill buffers' counter), ray "
          "store_spilled (needs ray[default]).\n"
          "ray's processes are its task and I/O workers (ray::*); their RSS counts the pages of the shared-memory "
          "object store they touched, while the store itself (1 GiB in /dev/shm) and the raylet are outside them.")

BESIDE = Beside(spill_cases.beside_text, LEGEND)


def _worst_rss(result) -> str | None:
    peaks = result.counts_of(NAME, "rss_1")
    if not peaks:
        return None
    return f"graphflow's largest worker peak RSS over {len(peaks)} runs: {max(peaks) / LIMIT:.2f}x the limit"


_RSS = with_note(worst_count_at_most("rss_1", 1.15 * LIMIT, "peak RSS <= 1.15x limit"), _worst_rss)
_FINISHES = finishes()
_TRANSFER = all_of(_FINISHES, value_below(0.1, "s"))
SPILL = {**CLUSTER, "chunks": 16, "elements": 25_000_000}  # 16 x 200 MB
SPILL_QUICK = {**CLUSTER, "chunks": 16, "elements": 200_000}  # 16 x 1.6 MB: no spilling, the code path only

WORKLOADS = [
    Workload(
        name="spill-tree",
        summary="16 chunks of 200 MB added pairwise in a tree, then summed; 2 workers x 1 GiB",
        kind="spill_tree",
        params=SPILL,
        quick_params=SPILL_QUICK,
        tasks=spill_cases.tree_tasks,
        repeat=10,  # "finishes every time": 10 of 10
        anchor_repeat=3,  # ~11 s a run on distributed and ray
        warmup="small",
        target=all_of(_FINISHES, ratio_at_most(0.5, "distributed"), _RSS),
        anchors=ANCHORS,
        session=SESSION,
        beside=BESIDE,
        keep_going=True,
    ),
    Workload(
        name="spill-sums",
        summary="the same 16 chunks, each summed on its own, then the sum of sums; 2 workers x 1 GiB",
        kind="spill_sums",
        params=SPILL,
        quick_params=SPILL_QUICK,
        tasks=spill_cases.sums_tasks,
        repeat=5,
        anchor_repeat=3,
        warmup="small",
        target=all_of(_FINISHES, _RSS),
        anchors=ANCHORS,
        session=SESSION,
        beside=BESIDE,
        keep_going=True,
    ),
    Workload(
        name="spill-transfer",
        summary="400 MB array made on worker A, consumed on worker B, under 1 GiB limits",
        kind="spill_transfer",
        params={**CLUSTER, "elements": 50_000_000},
        quick_params={**CLUSTER, "elements": 500_000},
        repeat=9,  # ray's times spread widely here (see dist-transfer)
        target=with_note(_TRANSFER, _target_note(_TRANSFER)),  # with the numpy floor, as in dist-transfer
        anchors=ANCHORS,
        session=SESSION,
        beside=BESIDE,
        keep_going=True,
    ),
]
