"""Fault injection: run a workload on a fresh LocalCluster while a seeded killer sends its workers SIGKILL.

One *run* is one workload at one seed (`run_once`)::

    seed 7 -> Random(7) -> kill plan [(0.62 s, 0.31), (1.48 s, 0.90)]   (time after start, which worker)
              fresh LocalCluster(3 workers) + Client
              workload thread: build, submit, check every answer against numpy/pandas/plain python
              killer thread:   at 0.62 s kill -9 a live worker (sorted by name, index 0.31 of them), ...
              the supervisor restarts each killed worker; the scheduler recomputes what it held

and ends in exactly one `Run.outcome`:

``right``   every answer matched the reference;
``named``   the workload ended with an error that names the fault (`NAMED`: a task's worker died too
            often, an actor that was not asked to survive died) -- checked to be the documented one;
``wrong``   an answer differed from the reference (`WrongAnswer`);
``error``   any other exception: an un-named or unexpected error is a bug too;
``hang``    no end within ``bound`` seconds.  Every wait inside a workload is bounded by the run's
            deadline (`Context.result`), and the workload runs in a thread joined with the same bound,
            so even a wait we did not bound cannot hang the run: a hang is reported with the scheduler's
            view (workers, task counts, the story of each key still waited for) and this process's
            thread stacks, then the cluster is closed.

The plan comes from the seed alone (`kill_plan`); where a kill lands in the work still depends on the
machine's speed, so a failing seed is re-run to see whether it fails again, and `Run.kills` records
what was killed when.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

__all__ = ["Run", "Context", "WrongAnswer", "NAMED", "OUTCOMES", "kill_plan", "run_once"]

OUTCOMES = ("right", "named", "wrong", "error", "hang")


class WrongAnswer(AssertionError):
    """A workload's answer differed from its numpy / pandas / plain-python reference."""


def _named_errors() -> tuple:
    from graphflow.errors import ActorDiedError, KilledWorkerError, RetireError

    return (KilledWorkerError, ActorDiedError, RetireError)


NAMED = ("KilledWorkerError", "ActorDiedError", "RetireError")  # the errors that name a worker's death


@dataclass
class Run:
    """The end of one run: its outcome (one of `OUTCOMES`), time, kills, and what went wrong."""

    workload: str
    seed: int
    outcome: str = "hang"
    seconds: float = 0.0
    kills: list = field(default_factory=list)  # [(seconds after start, worker name, pid)]
    error: str = ""  # the exception's type and message, or the wrong answer
    detail: str = ""  # traceback, or the scheduler's state for a hang
    notes: list = field(default_factory=list)  # what the workload saw (e.g. "the plain actor died")

    def describe(self) -> str:
        """Everything needed to chase a failure: seed, outcome, kills, error, detail."""
        kills = ", ".join(f"{name} (pid {pid}) at {t:.2f} s" for t, name, pid in self.kills) or "none"
        lines = [f"{self.workload} seed {self.seed}: {self.outcome} after {self.seconds:.2f} s; kills: {kills}"]
        lines += [f"  note: {n}" for n in self.notes]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.detail:
            lines.append(self.detail)
        return "\n".join(lines)


class Context:
    """What a workload gets: the client, the cluster, a seeded RNG for its data, and the run's deadline."""

    def __init__(self, client, cluster, seed: int, bound: float, run: Run):
        self.client = client
        self.cluster = cluster
        self.seed = seed
        self.rng = random.Random(f"data-{seed}")
        self.started = time.monotonic()  # reset by run_once when the workload and the killer start
        self.deadline = self.started + bound
        self.run = run
        self.waiting: list = []  # futures a hang report should explain
        self.victims = None  # optional: a function () -> preferred pid for the next kill (the actor's host)
        self.armed = threading.Event()  # the kill plan's clock starts when this is set (`arm`)

    def arm(self) -> None:
        """Start the kill plan's clock now: for a workload whose set-up must not be hit (``arms_killer``)."""
        self.armed.set()

    def remaining(self) -> float:
        """Seconds left before the run counts as hung (at least a little, so a late check still waits)."""
        return max(0.05, self.deadline - time.monotonic())

    def result(self, future):
        """``future.result()`` within the run's deadline; the future is named in a hang report."""
        self.waiting.append(future)
        return future.result(timeout=self.remaining())

    def results(self, futures) -> list:
        """`result` of each, in order."""
        self.waiting.extend(futures)
        return [f.result(timeout=self.remaining()) for f in futures]

    def elapsed(self) -> float:
        """Seconds since the start (the clock of `Run.kills`)."""
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        self.run.notes.append(text)


def kill_plan(seed: int, kills: tuple, window: tuple) -> list:
    """``[(seconds after start, pick in [0, 1))]``: how many kills (``kills`` = (least, most)) and when
    (uniform in ``window``), from the seed alone."""
    rng = random.Random(f"kills-{seed}")
    n = rng.randint(*kills)
    return sorted((rng.uniform(*window), rng.random()) for _ in range(n))


class Killer(threading.Thread):
    """Sends SIGKILL to worker processes of ``cluster`` at the planned times, until `stop`."""

    def __init__(self, cluster, plan: list, started: float, ctx: Context):
        super().__init__(name="fault-killer", daemon=True)
        self.cluster, self.plan, self.started, self.ctx = cluster, plan, started, ctx
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.ctx.armed.wait(0.05):  # the plan's times count from when the workload arms the killer
            if self.stopped.is_set():
                return
        armed = time.monotonic()
        for at, pick in self.plan:
            if self.stopped.wait(max(0.0, armed + at - time.monotonic())):
                return
            killed = {pid for _, _, pid in self.ctx.run.kills}  # dead, if not yet reaped by the supervisor
            workers = sorted((c.name, c.pid) for c in self.cluster.supervisor.running()
                             if c.name.startswith("worker-") and c.pid not in killed)
            if not workers:
                continue
            preferred = self.ctx.victims() if self.ctx.victims is not None else None
            chosen = [w for w in workers if w[1] == preferred] or [workers[int(pick * len(workers))]]
            name, pid = chosen[0]
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.ctx.run.kills.append((time.monotonic() - self.started, name, pid))

    def stop(self) -> None:
        self.stopped.set()


def run_once(workload, seed: int, *, bound: float = 60.0, kills=None, window=None, n_workers=None,
             heartbeat_timeout: float = 5.0) -> Run:
    """Run ``workload(ctx)`` at ``seed`` on a fresh cluster under a `Killer`; return its `Run`.

    ``workload`` is a function of a `Context` that raises `WrongAnswer` on a wrong answer and
    returns normally on a right one (see `benchmarks.fault_workloads`).  ``kills`` (least, most),
    ``window`` (seconds after the start) and ``n_workers`` default to the workload's attributes of
    those names, else 1-3 kills within 0.2-2 s on 3 workers.  A workload with ``arms_killer = True``
    calls ``ctx.arm()`` when its set-up is done, and the window counts from then.  Never raises for
    what the workload does.
    """
    import graphflow as gf

    name = getattr(workload, "name", workload.__name__)
    kills = kills or getattr(workload, "kills", (1, 3))
    window = window or getattr(workload, "window", (0.2, 2.0))
    n_workers = n_workers or getattr(workload, "n_workers", 3)
    run = Run(name, seed)
    cluster = gf.LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None,
                              heartbeat_timeout=heartbeat_timeout, memory_limit=None)
    client = None
    try:
        client = gf.Client(cluster, set_as_default=False)
        _run(workload, Context(client, cluster, seed, bound, run), kill_plan(seed, kills, window), bound)
    finally:
        children = list(cluster.supervisor.children.values())
        _close(client, cluster)
    # On close a process exits 0 (its SIGTERM handler), EXIT_SCHEDULER_GONE (a worker that saw the scheduler go
    # first), -15 (SIGTERM before its handler was installed) or -9 (not gone within 3 s); anything else, as an
    # abort (-6) or a segfault (-11), is worth a look, though not a failure of the run.
    from graphflow.worker.server import EXIT_SCHEDULER_GONE

    for child in children:
        code = child.popen.returncode if child.popen is not None else None
        if code not in (0, None, EXIT_SCHEDULER_GONE, -signal.SIGTERM, -signal.SIGKILL):
            run.notes.append(f"{child.name} (pid {child.pid}) exited with {code} when the cluster closed")
    return run


def _run(workload, ctx: Context, plan: list, bound: float) -> None:
    """The workload in a thread and the killer beside it; fills in ``ctx.run``."""
    run = ctx.run
    box: list = []
    thread = threading.Thread(target=_guarded, args=(workload, ctx, box), name=f"fault-{run.workload}",
                              daemon=True)
    started = ctx.started = time.monotonic()
    ctx.deadline = started + bound
    killer = Killer(ctx.cluster, plan, started, ctx)
    if not getattr(workload, "arms_killer", False):
        ctx.arm()
    try:
        thread.start()
        killer.start()
        thread.join(bound)
        run.seconds = time.monotonic() - started
    finally:
        killer.stop()
    killer.join(5)
    if thread.is_alive() or (box and isinstance(box[0], TimeoutError)):  # TimeoutError: a wait hit the deadline
        run.outcome = "hang"
        run.error = f"no end within {bound:.0f} s" + (f" ({box[0]})" if box else "")
        run.detail = hang_report(ctx)
    elif not box:
        run.outcome = "right"
    else:
        _classify(run, box[0])


def _guarded(workload, ctx: Context, box: list) -> None:
    try:
        workload(ctx)
    except BaseException as exc:  # noqa: BLE001 - every ending is classified by the caller
        box.append(exc)


def _classify(run: Run, exc: BaseException) -> None:
    run.error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, WrongAnswer):
        run.outcome = "wrong"
    elif isinstance(exc, _named_errors()):
        run.outcome = "named"
    else:
        run.outcome = "error"
        run.detail = "".join(traceback.format_exception(exc))


def _close(client, cluster) -> None:
    """Close the client and cluster; a client stuck on a hung scheduler does not keep us here."""
    if client is not None:
        closer = threading.Thread(target=client.close, daemon=True)
        closer.start()
        closer.join(15)
    cluster.close()


def hang_report(ctx: Context) -> str:
    """The scheduler's view of a run that did not end, and this process's threads, as text."""
    from graphflow.comm import messages as wire

    client = ctx.client
    out = []
    pending = [f for f in dict.fromkeys(ctx.waiting) if not f.done()]
    out.append(f"futures waited for and not done: {len(pending)} of {len(set(ctx.waiting))}")
    for f in pending[:10]:
        out.append(f"  {f!r}")
    try:
        info = client.ask(wire.SchedulerInfoRequest(), timeout=10)
        out.append(f"scheduler: {info['tasks']} tasks, {info['tasks_executed']} executed; workers:")
        for address, w in sorted(info["workers"].items()):
            out.append(f"  {address} {w['name']} pid {w['pid']} {w['status']} processing {w['processing']} "
                       f"nbytes {w['nbytes']}")
        keys = [f.key for f in pending[:5] if not isinstance(f.key, tuple) or len(f.key) != 2]
        for key in keys:
            story = client.ask(wire.StoryRequest([key]), timeout=10)
            out.append(f"story of {key!r} (last 15):")
            out += [f"  {record}" for record in story[-15:]]
    except Exception as exc:  # noqa: BLE001 - the report must not hide the hang
        out.append(f"(the scheduler did not answer: {type(exc).__name__}: {exc})")
    out.append("threads of this process:")
    for ident, frame in sys._current_frames().items():
        names = [t.name for t in threading.enumerate() if t.ident == ident]
        out.append(f"  thread {names[0] if names else ident}:")
        out += ["    " + line for line in "".join(traceback.format_stack(frame)[-6:]).rstrip().splitlines()]
    return "\n".join(out)
