"""Measurements that need a fresh Python process: peak memory and import time.

A process's peak RSS only goes up, and ``import`` is cached after the first
time, so both are measured in a child process started for one sample.

Peak memory: the child imports the engine (and the benchmark's case for it),
records its resident set size as the baseline, builds + culls + orders the
graph with the engine's ``graph_phases`` case, and prints ``{"total": peak -
baseline, "baseline": baseline}`` in bytes as JSON (`peak_growth`).  The
child's entry point is `benchmarks.probe_child` (it finds the engine, so it
sits above the workloads that use this module).  Run by hand:

    python -m benchmarks.probe_child peak-rss dask '{"leaves": 2000, "fan_in": 8}'

The peak is Linux's ``VmHWM`` (``/proc/self/status``), reset after the imports
through ``/proc/self/clear_refs``, not ``getrusage().ru_maxrss``: Linux carries
``ru_maxrss`` across ``exec``, so a child started by a runner that had just
held a 1 GiB graph would report the *runner's* peak (a 500 MiB parent gives a
fresh ``python -c`` child an ``ru_maxrss`` of 511 MiB and a ``VmHWM`` of 11 MiB).
Elsewhere ``ru_maxrss`` is the fallback.

Import time: the child is ``python -c`` timing one import statement with
`time.perf_counter`, so interpreter start-up is not counted.

Peak memory of *other* processes over a region of time (the cluster workers
of the spill workloads): `PeakRSS` resets each process's ``VmHWM`` by writing
``5`` to ``/proc/PID/clear_refs`` when the region starts and reads it when it
ends, so a peak lasting microseconds still counts; where a reset is refused
it polls ``VmRSS`` every 20 ms instead (and may miss a short peak).
`ray_worker_pids` finds ray's task workers (their command line is
``ray::<task name>``).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["ROOT", "child_env", "peak_rss", "peak_growth", "import_seconds", "rss_of", "hwm_of", "reset_hwm",
           "PeakRSS", "written_of", "ray_worker_pids"]

ROOT = Path(__file__).resolve().parent.parent  # the directory holding the benchmarks package


def child_env() -> dict:
    """The environment for a child process: this one's, with the benchmarks package importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _run_child(args: list) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=child_env(), capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child process {args[:3]} failed:\n{done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]  # the last line: engines may print before it


def peak_rss(engine: str, params) -> dict:
    """Peak RSS growth of a fresh process running the ``graph_phases`` case of ``engine``."""
    return json.loads(_run_child(["-m", "benchmarks.probe_child", "peak-rss", engine, json.dumps(dict(params))]))


_IMPORT_TIMER = "import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)\n"


def import_seconds(statement: str) -> dict:
    """Seconds a fresh interpreter spends running ``statement`` (an import)."""
    return {"total": float(_run_child(["-c", _IMPORT_TIMER.format(statement=statement)]))}


_STATUS = "/proc/self/status"


def _status_bytes(field: str, path: str = _STATUS) -> int | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        pass
    return None


def rss_of(pid: int) -> int | None:
    """Resident set size of process ``pid`` in bytes (Linux ``VmRSS``), None where unreadable.
    Read from ``/proc``, so it needs no psutil and works on any process of this user.
    """
    return _status_bytes("VmRSS", f"/proc/{pid}/status")


def hwm_of(pid: int) -> int | None:
    """Peak resident set size of process ``pid`` in bytes (``VmHWM``), None where unreadable."""
    return _status_bytes("VmHWM", f"/proc/{pid}/status")


def reset_hwm(pid) -> bool:
    """Reset the ``VmHWM`` of process ``pid`` (or ``"self"``) to its current RSS; False if refused
    (not Linux >= 4.0, another user's process, or the process is gone).
    """
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """The peak RSS of each of some processes over a region: ``start()`` ... ``stop() -> {pid: bytes}``.

    ``pids()`` names the processes; it is called at ``start`` and at ``stop``
    (a process that appeared in between reports its whole life's peak, which
    lies inside the region).  A process that exits before ``stop`` is lost,
    unless the polling fallback saw it.

    >>> import os
    >>> watch = PeakRSS(lambda: [os.getpid()]).start()
    >>> buffer = bytearray(50 * 2**20); del buffer
    >>> watch.stop()[os.getpid()] >= 50 * 2**20
    True
    """

    def __init__(self, pids, interval: float = 0.02):
        self._pids = pids
        self._interval = interval
        self._polled: dict = {}
        self._stop = threading.Event()
        self._thread = None
        self.polling = False  # True when some process refused the reset: peaks come from polling

    def start(self) -> "PeakRSS":
        """Reset the peaks of the processes ``pids()`` names now."""
        pids = list(self._pids())
        self.polling = not all([reset_hwm(pid) for pid in pids])
        if self.polling:
            self._thread = threading.Thread(target=self._poll, name="benchmarks-rss-poll", daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        for pid in self._pids():
            rss = rss_of(pid)
            if rss is not None and rss > self._polled.get(pid, 0):
                self._polled[pid] = rss

    def stop(self) -> dict:
        """``{pid: peak bytes}`` since `start` for every process seen."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._sample()
        peaks = dict(self._polled)
        if not self.polling:
            for pid in self._pids():
                hwm = hwm_of(pid)
                if hwm is not None:
                    peaks[pid] = hwm
        return peaks


def written_of(pid: int) -> int | None:
    """Bytes process ``pid`` has caused to be written to storage since it started (``write_bytes`` of
    ``/proc/PID/io``: files, not sockets), None where unreadable.
    """
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ray_worker_pids() -> list:
    """Pids of this user's processes whose command line starts with ``ray::`` (ray's task and
    I/O workers, named after what they run: ``ray::IDLE``, ``ray::make_chunk``, ...).
    """
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                head = f.read(5)
        except OSError:
            continue  # gone, or not ours
        if head == b"ray::":
            pids.append(int(entry))
    return pids


def _reset_peak() -> None:
    # "5" resets VmHWM to the current RSS (Linux >= 4.0); harmless if refused.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _rss_and_peak() -> tuple:
    """(current RSS, peak RSS) in bytes; current is None where it cannot be read."""
    rss, peak = _status_bytes("VmRSS"), _status_bytes("VmHWM")
    if peak is None:
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return rss, peak


def peak_growth(case, params) -> dict:
    """Run ``case(params)`` once in this (fresh) process: ``{"total": peak RSS - baseline, "baseline": ...}``
    in bytes, the baseline being the RSS right before it (after the imports and a collection).
    """
    gc.collect()
    _reset_peak()
    rss, peak = _rss_and_peak()
    baseline = rss if rss is not None else peak
    case(params)
    return {"total": _rss_and_peak()[1] - baseline, "baseline": baseline}
