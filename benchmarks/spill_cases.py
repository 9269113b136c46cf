"""The spill workloads' pieces that every engine shares: the chunk tasks, the two graph shapes,
the answer, and the memory figures taken around a sample.

A *chunk* is ``n`` float64s made by a task from its index alone
(``arange(i, i + n)``: every page written, nothing to ship but two ints), so
16 chunks of 25M elements are 3.2 GB that exist only on the workers.

``tree``: the chunks added pairwise, level by level (8 + 4 + 2 + 1
elementwise adds), and the last array summed to a scalar::

    c0  c1  c2  c3  ...  c14 c15        16 x make_chunk
     \\  /    \\  /          \\  /
      a0      a1    ...     a7          8 x add_pair  (each a new 200 MB array)
        \\    /                ...       4 + 2 + 1 more
          ...
           chunk_total(a)               one float

``sums``: each chunk summed on its own, then the sum of the 16 sums.

Both come to the same closed form (`expected`), exactly: every element and
every partial sum is an integer below 2**53, so float64 arithmetic is exact
in any order.

    >>> expected(4, 10) == sum(float(chunk_total(make_chunk(i, 10))) for i in range(4))
    True
    >>> tree(4, 10, make_chunk, add_pair, chunk_total) == expected(4, 10)
    True

Memory figures (`SampleMemory`), taken from ``/proc`` the same way for every
engine: the peak RSS of each worker process over the sample
(`benchmarks.probe.PeakRSS`), and the bytes those processes wrote to storage
during it (``write_bytes`` of ``/proc/PID/io``: spill files, not sockets).
Beside them, the engine's own figure where it has one (a running total read
before and after, `Cumulative`, or the bytes on disk polled during the
sample, `PolledPeak`).  They go into the sample's ``counts``: ``rss_1``,
``rss_2``, ... (largest first), ``procs``, ``spilled`` and the engine's own.
"""

from __future__ import annotations

import threading

from . import shapes
from .clock import Stopwatch
from .probe import PeakRSS, written_of

__all__ = ["make_chunk", "add_pair", "chunk_total", "expected", "tree", "sums", "tree_tasks", "sums_tasks",
           "Cumulative", "PolledPeak", "SampleMemory", "measure", "with_memory", "beside_text", "GiB"]

GiB = 2 ** 30


def make_chunk(i: int, n: int):
    """Chunk ``i``: the float64s ``i, i + 1, ..., i + n - 1`` (8n bytes, every page written)."""
    import numpy as np

    return np.arange(i, i + n, dtype=np.float64)


def add_pair(a, b):
    """One node of the tree: the elementwise sum, a new array as large as each input."""
    return a + b


def chunk_total(x) -> float:
    """The sum of an array's elements, as a Python float."""
    return float(x.sum())


def expected(chunks: int, n: int) -> float:
    """The answer of both shapes: the sum of every element of every chunk, in closed form."""
    return float(chunks * (n * (n - 1) // 2) + n * (chunks * (chunks - 1) // 2))


def tree(chunks: int, n: int, make, add, total):
    """Build (or run, for plain functions) the pairwise tree; returns ``total(root)``.

    ``make``, ``add`` and ``total`` are the engine's wrappers of `make_chunk`,
    `add_pair` and `chunk_total` (``delayed(...)``, ``f.remote``), so every
    engine builds the same graph.
    """
    leaves = [make(i, n) for i in range(chunks)]
    root = shapes.reduce_tree(leaves, 2, lambda level, j, pair: add(*pair) if len(pair) == 2 else pair[0])
    return total(root)


def sums(chunks: int, n: int, make, total, add_all):
    """Build the per-chunk sums and their sum; returns ``add_all(*sums)``."""
    return add_all(*[total(make(i, n)) for i in range(chunks)])


def tree_tasks(params) -> int:
    """Tasks in the tree: the chunks, the pairwise adds, the final sum."""
    c = params["chunks"]
    return shapes.tree_task_count(c, 2) + 1


def sums_tasks(params) -> int:
    """Tasks in the sums: the chunks, one sum each, the sum of sums."""
    return 2 * params["chunks"] + 1


# ------------------------------------------------------------------ memory around a sample


class Cumulative:
    """Bytes spilled during a sample from a counter that only grows: ``read()`` after minus before."""

    def __init__(self, read):
        self._read = read
        self._start = 0

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> int:
        return max(0, self._read() - self._start)


class PolledPeak:
    """For an engine that only reports the bytes on its disk *now*: the most seen while the sample
    ran, ``read()`` every ``interval`` seconds in a thread (a spill shorter than that may be missed).
    """

    def __init__(self, read, interval: float = 0.1):
        self._read = read
        self._interval = interval
        self._peak = 0
        self._done = threading.Event()
        self._thread = None

    def _poll(self) -> None:
        while True:
            try:
                self._peak = max(self._peak, self._read())
            except Exception:  # the cluster is busy or restarting a worker: the next poll will tell
                pass
            if self._done.wait(self._interval):
                return

    def start(self) -> None:
        self._peak = 0
        self._done.clear()
        self._thread = threading.Thread(target=self._poll, name="benchmarks-spill-poll", daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._done.set()
        self._thread.join(timeout=10)
        return self._peak


class SampleMemory:
    """Over one sample: the peak RSS of each process ``pids()`` names, the bytes they wrote to
    storage (``/proc/PID/io`` ``write_bytes``: the same yardstick for every engine), and the
    engine's own figure of what it spilled, ``native`` (a `Cumulative` or `PolledPeak`), if any.
    """

    def __init__(self, pids, native=None, native_name: str = "spilled_native"):
        self._pids = pids
        self._rss = PeakRSS(pids)
        self._native = native
        self._native_name = native_name
        self._written: dict = {}
        self.native = None

    def _written_now(self) -> dict:
        return {pid: w for pid in self._pids() if (w := written_of(pid)) is not None}

    def __enter__(self) -> "SampleMemory":
        if self._native is not None:
            self._native.start()
        self._written = self._written_now()
        self._rss.start()
        return self

    def __exit__(self, *exc) -> None:
        self.peaks = sorted(self._rss.stop().values(), reverse=True)
        # a process that started during the sample wrote all of its bytes during it
        self.spilled = sum(max(0, w - self._written.get(pid, 0)) for pid, w in self._written_now().items())
        if self._native is not None:
            self.native = self._native.stop()

    def counts(self) -> dict:
        """``rss_1`` (the largest peak), ``rss_2``, ..., ``procs``, ``spilled`` (bytes written to
        storage) and the engine's own figure under its name, all in bytes.
        """
        out = {f"rss_{i}": peak for i, peak in enumerate(self.peaks, 1)}
        out["procs"] = len(self.peaks)
        out["spilled"] = self.spilled
        if self.native is not None:
            out[self._native_name] = self.native
        if self._rss.polling:
            out["rss_polled"] = 1
        return out


def measure(name: str, run, answer, memory: SampleMemory, ran=None) -> dict:
    """Time ``run()`` inside ``memory`` (its value must equal ``answer``); the phases, with the
    memory figures and ``ran()`` (tasks run during the sample, if given) as counts.
    """
    before = ran() if ran is not None else None
    with memory:
        watch = Stopwatch()
        value = run()
        watch.lap("compute")
    shapes.check(name, value, answer)
    phases = watch.phases()
    phases["counts"] = {"ran": ran() - before} if ran is not None else {}
    return with_memory(phases, memory)


def with_memory(phases: dict, memory: SampleMemory) -> dict:
    """``phases`` of a sample run inside ``memory``, with its figures added to the counts."""
    phases["counts"] = {**(phases.get("counts") or {}), **memory.counts()}
    return phases


def beside_text(result, engine: str, shown: int = 2) -> str | None:
    """The table's bracket for one engine: peak RSS of its ``shown`` largest worker processes
    (medians over the samples, rank by rank) and the bytes spilled, e.g. ``rss 1.04/0.98 GiB, spilled 1.9 GiB``.
    """
    peaks = []
    while result.count(engine, f"rss_{len(peaks) + 1}") is not None:
        peaks.append(result.count(engine, f"rss_{len(peaks) + 1}"))
    if not peaks:
        return None
    text = "rss " + "/".join(f"{p / GiB:.2f}" for p in peaks[:shown]) + " GiB"
    procs = result.count(engine, "procs") or len(peaks)
    if procs > shown:
        text += f" (top {shown} of {procs} procs)"
    spilled = result.count(engine, "spilled")
    if spilled is not None:
        text += f", spilled {spilled / GiB:.2f} GiB"
    return text
