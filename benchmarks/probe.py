"""Measurements that need a fresh Python process: peak memory and import time.

A process's peak RSS only goes up, and ``import`` is cached after the first
time, so both are measured in a child process started for one sample.

Peak memory: the child imports the engine (and the benchmark's case for it),
records its resident set size as the baseline, builds + culls + orders the
graph with the engine's ``graph_phases`` case, and prints ``{"total": peak -
baseline, "baseline": baseline}`` in bytes as JSON.  Run by hand:

    python -m benchmarks.probe peak-rss dask '{"leaves": 2000, "fan_in": 8}'

The peak is Linux's ``VmHWM`` (``/proc/self/status``), reset after the imports
through ``/proc/self/clear_refs``, not ``getrusage().ru_maxrss``: Linux carries
``ru_maxrss`` across ``exec``, so a child started by a runner that had just
held a 1 GiB graph would report the *runner's* peak (a 500 MiB parent gives a
fresh ``python -c`` child an ``ru_maxrss`` of 511 MiB and a ``VmHWM`` of 11 MiB).
Elsewhere ``ru_maxrss`` is the fallback.

Import time: the child is ``python -c`` timing one import statement with
`time.perf_counter`, so interpreter start-up is not counted.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "child_env", "peak_rss", "import_seconds", "rss_of", "main"]

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
    return json.loads(_run_child(["-m", "benchmarks.probe", "peak-rss", engine, json.dumps(dict(params))]))


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


def _peak_rss_child(engine_name: str, params: dict) -> dict:
    from .engines import load_engine

    case = load_engine(engine_name).cases["graph_phases"]
    gc.collect()
    _reset_peak()
    rss, peak = _rss_and_peak()
    baseline = rss if rss is not None else peak
    case(params)
    return {"total": _rss_and_peak()[1] - baseline, "baseline": baseline}


def main(argv=None) -> int:
    """Child entry point: ``peak-rss ENGINE PARAMS_JSON``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] != "peak-rss":
        print("usage: python -m benchmarks.probe peak-rss ENGINE PARAMS_JSON", file=sys.stderr)
        return 2
    print(json.dumps(_peak_rss_child(argv[1], json.loads(argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
