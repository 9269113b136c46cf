"""One engine, one workload, in a process of its own: the runner's samples run here.

Why a process per engine: engines leave state behind that slows whatever
runs next in the same interpreter.  Measured: a 100k-link graphflow chain
builds in ~0.55 s in a fresh process, and in 0.7-1.1 s (worse with every
repeat) once a dask ``sum100k`` has run in that process -- even with the
collector frozen and dask's thread pool shut down; a graphflow ``sum100k``
before it leaves no trace.  (Allocator state, most likely: dask's run grows
the heap to ~600 MiB.)  So each engine gets a fresh worker per workload, and
the runner still alternates between them sample by sample, so machine noise
hits both alike; only one engine runs at a time.

Protocol: the runner starts ``python -m benchmarks.worker ENGINE WORKLOAD``,
then writes one JSON line ``{"params": {...}}`` per sample to its stdin; the
worker answers each with one line, ``{"phases": {...}}`` or ``{"error":
"Type: message", "traceback": "..."}``.  The engine's own prints go to
stderr, so they cannot corrupt the answers.  End of stdin ends the worker.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import traceback

from .probe import ROOT, child_env

__all__ = ["EngineWorker", "WorkerError", "main"]


class WorkerError(RuntimeError):
    """A sample failed in the worker (the message names the exception)."""


class EngineWorker:
    """The runner's handle on one worker process; ``sample(params)`` runs one sample."""

    def __init__(self, engine: str, workload: str):
        self.engine = engine
        self.workload = workload
        # stderr is inherited: an engine's warnings and a crash's traceback show as they happen.
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", engine, workload],
            cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def sample(self, params) -> dict:
        """Run one sample with ``params``; returns its phases or raises `WorkerError`."""
        proc = self._proc
        try:
            proc.stdin.write(json.dumps({"params": dict(params)}) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died; readline below says how
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            raise WorkerError(f"the {self.engine} worker for {self.workload} exited with status {code}")
        answer = json.loads(line)
        if "error" in answer:
            print(answer.get("traceback", ""), file=sys.stderr, end="")
            raise WorkerError(answer["error"])
        return answer["phases"]

    def close(self) -> None:
        """End the worker (it exits when its stdin closes)."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve(engine_name: str, workload_name: str, requests, answers) -> None:
    from .engines import load_engine
    from .workloads import WORKLOADS

    case = WORKLOADS[workload_name].case(load_engine(engine_name))
    for line in requests:
        params = json.loads(line)["params"]
        gc.collect()  # the previous sample's garbage is not this sample's cost
        try:
            answer = {"phases": case(params)}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                      "traceback": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main(argv=None) -> int:
    """Worker entry point: ``ENGINE WORKLOAD``, requests on stdin, answers on stdout."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m benchmarks.worker ENGINE WORKLOAD", file=sys.stderr)
        return 2
    # Keep the real stdout for answers; anything else printed to it goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(argv[0], argv[1], sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
