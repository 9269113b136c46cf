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
stderr, so they cannot corrupt the answers.  End of stdin ends the worker,
after it closed whatever the cases kept open (`benchmarks.sessions`).

A request may name another workload, ``{"workload": "dist-tree", "params":
{...}}``: the workloads of one session (``Workload.session``) share a worker,
and the cluster their cases keep in it.

Each worker leads a process group of its own, which the processes an engine
starts (cluster schedulers and workers, ray's raylet and agents) join.  A
sample that does not answer within ``timeout`` seconds (a hung engine) kills
that whole group and fails, and so does leaving the runner with an exception
(Ctrl-C); a worker whose runner is gone (killed by a test's timeout, say)
kills its group too, rather than keep a cluster running with nobody to talk
to.  (Killing only the worker would orphan ray's agents.)
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

from .probe import ROOT, child_env

__all__ = ["EngineWorker", "WorkerError", "main"]


class WorkerError(RuntimeError):
    """A sample failed in the worker (the message names the exception)."""


class EngineWorker:
    """The runner's handle on one worker process; ``sample(params)`` runs one sample."""

    def __init__(self, engine: str, workload: str, timeout: float | None = None):
        self.engine = engine
        self.workload = workload
        self.timeout = timeout  # seconds one sample may take; None: no limit
        # stderr is inherited: an engine's warnings and a crash's traceback show as they happen.
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", engine, workload],
            cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=_GROUPS,
        )

    def sample(self, params, workload: str | None = None) -> dict:
        """Run one sample with ``params`` (of ``workload``, by default the one this worker
        was started for); returns its phases or raises `WorkerError`.
        """
        proc = self._proc
        request = {"params": dict(params)}
        if workload is not None:
            request["workload"] = workload
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died; readline below says how
        if self.timeout is not None and not select.select([proc.stdout], [], [], self.timeout)[0]:
            self.kill()  # a hung engine: its cluster's processes go with it
            raise WorkerError(f"the {self.engine} sample of {workload or self.workload} did not finish "
                              f"within {self.timeout:g} s; its worker was killed")
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            raise WorkerError(f"the {self.engine} worker for {workload or self.workload} exited with status {code}")
        answer = json.loads(line)
        if "error" in answer:
            print(answer.get("traceback", ""), file=sys.stderr, end="")
            raise WorkerError(answer["error"])
        return answer["phases"]

    def alive(self) -> bool:
        """Whether the worker process still runs (a failed sample may have left it alive)."""
        return self._proc.poll() is None

    def close(self) -> None:
        """End the worker (it exits when its stdin closes)."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                proc.wait(timeout=60)  # closing a cluster takes a few seconds (ray: ~1.5 s)
            except subprocess.TimeoutExpired:
                self.kill()
        if proc.stdout:
            proc.stdout.close()

    def kill(self) -> None:
        """Kill the worker and every process of its group (an engine's cluster) at once."""
        proc = self._proc
        if _GROUPS:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            proc.kill()
        proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and self._proc.poll() is None:
            self.kill()  # e.g. Ctrl-C: do not wait for the sample (and cluster) to finish
        self.close()


_GROUPS = hasattr(os, "killpg") and hasattr(os, "setsid")  # POSIX: a process group per worker


def _serve(engine_name: str, workload_name: str, requests, answers) -> None:
    from . import sessions
    from .catalog import WORKLOADS
    from .engines import load_engine

    engine = load_engine(engine_name)
    cases: dict = {}
    try:
        for line in requests:
            request = json.loads(line)
            name = request.get("workload", workload_name)
            gc.collect()  # the previous sample's garbage is not this sample's cost
            try:
                if name not in cases:
                    cases[name] = WORKLOADS[name].case(engine)
                answer = {"phases": cases[name](request["params"])}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                          "traceback": traceback.format_exc()}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
    finally:
        sessions.close_all()


def _exit_with_parent(interval: float = 1.0) -> None:
    """Exit at once, with the engine's processes, when the runner that started this worker is gone."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        if _GROUPS and os.getpgid(0) == os.getpid():  # the group is ours (see EngineWorker)
            os.killpg(0, signal.SIGKILL)
        os._exit(3)

    threading.Thread(target=watch, name="benchmarks-parent-watch", daemon=True).start()


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
    _exit_with_parent()
    _serve(argv[0], argv[1], sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
