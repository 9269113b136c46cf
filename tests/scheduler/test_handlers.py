"""The scheduler's event table (`graphflow.scheduler.handlers.HANDLERS`) is whole as soon as the state is imported.

What `SchedulerState` does must not depend on which other modules happen to
be imported: actors' and retirement's events are listed in the one table
like every other, and no module adds to it on import.  The first two tests
run in a fresh interpreter that imports ``graphflow.scheduler.state`` and
nothing else, then retires a worker holding the only copy of ``a``::

    W: a (only copy)      V: -
    RetireWorkers([W])  -> ReplicateKeys(V, {a: [W]})
    TaskFinished(V, a)  -> RetireWorker(W), RetireDone(req, [W])
"""

import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import graphflow.scheduler
import graphflow.worker
from graphflow.scheduler.events import SchedulerEvent
from graphflow.scheduler.handlers import HANDLERS
from graphflow.worker.state import WorkerState

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter; return its stdout (fail with its stderr)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_fresh_scheduler_state_handles_retirement_and_actor_events():
    out = run_fresh("""
        import graphflow.scheduler.state

        sched = graphflow.scheduler  # the submodules the state module loaded itself, nothing imported here
        ev, actors, retire = sched.events, sched.actors, sched.retire
        s = sched.state.SchedulerState(validate=True)
        s.handle(ev.WorkerJoined("j1", "W", 1, None, 0.0), ev.WorkerJoined("j2", "V", 1, None, 0.0))
        s.handle(ev.UpdateGraph("g", "C", {"a": ("spec", "a")}, {}, {"a": 0}, ["a"], {}, {"a": ["W"]}))
        s.handle(ev.TaskFinished("f1", "W", "a", 8))
        assert s.handle(actors.ActorHosted("h", "W", "a")) == []  # handled: "a" is no actor, so nothing to do
        assert s.handle(actors.ActorLog("l", "C", "a", "c1", 0, b"")) == []
        assert s.handle(actors.ActorCheckpointed("c", "W", "a", 0, b"", {})) == []
        print(*[type(c).__name__ for c in s.handle(retire.RetireWorkers("r", ["W"], "req"))])
        print(*[type(c).__name__ for c in s.handle(ev.TaskFinished("f2", "V", "a", 8))])
        print(*s.workers)
        refused = s.handle(retire.WorkerAsksToRetire("w", "V"))  # the last worker, holding the only copy
        print(*[(type(c).__name__, list(c.failed)) for c in refused])
    """)
    replicate, retired, workers, refused = out.splitlines()
    assert "ReplicateKeys" in replicate.split()
    assert retired.split()[-2:] == ["RetireWorker", "RetireDone"]
    assert workers == "V"
    assert refused == "('RetireDone', ['V'])"


def test_importing_other_modules_adds_nothing_to_the_tables():
    """Each table, read right after its own module is imported, is what it stays once everything is imported."""
    out = run_fresh("""
        import importlib, pkgutil
        import graphflow.scheduler.handlers
        import graphflow.worker.state

        tables = {"scheduler": graphflow.scheduler.handlers.HANDLERS,
                  "worker": graphflow.worker.state.WorkerState._HANDLERS}
        before = {name: dict(table) for name, table in tables.items()}
        for package in (graphflow.scheduler, graphflow.worker):
            for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        for name, table in tables.items():
            added = [cls.__name__ for cls in set(table) ^ set(before[name])]
            assert table == before[name], f"importing modules changed the {name}'s table: {added}"
        print(len(before["scheduler"]), len(before["worker"]))
    """)
    assert out.split() == [str(len(HANDLERS)), str(len(WorkerState._HANDLERS))]


def _subclasses(cls) -> list:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_scheduler_event_has_a_handler():
    for package in (graphflow.scheduler, graphflow.worker):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
    events = [cls for cls in _subclasses(SchedulerEvent) if cls.__module__.startswith("graphflow.scheduler.")]
    assert len(events) >= 19
    missing = [cls.__qualname__ for cls in events if cls not in HANDLERS]
    assert not missing, f"scheduler events without a handler in graphflow.scheduler.handlers.HANDLERS: {missing}"


# ---------------------------------------------------------------------- issue 19's events: retry, cancel(force=),
# a user's priority; state validated after every event (SchedulerState(validate=True))


def _kinds(cmds, kind):
    return [c for c in cmds if type(c).__name__ == kind]


def test_retry_reruns_an_erred_task_and_its_erred_dependent():
    """a -> b: a raises, so b errs too; retrying b reruns a, then b, under the same keys."""
    from graphflow.scheduler.events import RetryKeys
    from graphflow.scheduler.state import SchedulerState
    from graphflow.testing.events import erred, finished, graph, joined

    s = SchedulerState(validate=True)
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}))
    cmds = s.handle(erred("W", "a", ValueError("boom")))
    assert [(c.key, c.state) for c in _kinds(cmds, "KeyReport")] == [("b", "erred")]
    assert s.task_state("a") == s.task_state("b") == "erred"
    cmds = s.handle(RetryKeys("retry-1", "C", ["b"]))
    assert [[t.key for t in c.tasks] for c in _kinds(cmds, "AssignTasks")] == [["a"]]
    assert s.task_state("b") == "waiting" and s.tasks["b"].wanted_by == {"C"}
    cmds = s.handle(finished("W", "a"))
    assert [[t.key for t in c.tasks] for c in _kinds(cmds, "AssignTasks")] == [["b"]]
    cmds = s.handle(finished("W", "b"))
    assert [(c.client, c.key, c.state) for c in _kinds(cmds, "KeyReport")] == [("C", "b", "memory")]
    assert s.handle(RetryKeys("retry-2", "C", ["b"])) == []  # nothing erred: nothing to do


def test_cancel_without_force_spares_other_clients():
    from graphflow.scheduler.events import ClientCancelsKeys
    from graphflow.scheduler.state import SchedulerState
    from graphflow.testing.events import graph, joined

    s = SchedulerState(validate=True)
    s.handle(joined("W"))
    s.handle(graph({"x": ()}, client="C"), graph({"x": ()}, client="D"))
    cmds = s.handle(ClientCancelsKeys("c1", "C", ["x"], False))
    assert [(c.client, c.state) for c in _kinds(cmds, "KeyReport")] == [("C", "cancelled")]
    assert s.task_state("x") == "processing" and s.tasks["x"].wanted_by == {"D"}
    cmds = s.handle(ClientCancelsKeys("c2", "C", ["x"], True))
    assert [(c.client, c.state) for c in _kinds(cmds, "KeyReport")] == [("D", "cancelled")]
    assert "x" not in s.tasks or s.task_state("x") in ("released", "forgotten")


def test_a_users_priority_outranks_submission_order():
    from graphflow.scheduler.events import UpdateGraph
    from graphflow.scheduler.state import SchedulerState
    from graphflow.testing.events import graph, joined

    s = SchedulerState(validate=True)
    s.handle(graph({"early": ()}))
    s.handle(UpdateGraph("g", "C", {"late": ("spec", "late")}, {}, {"late": 0}, ["late"], {}, {},
                         user_priority={"late": 1}))
    cmds = s.handle(joined("W", 1))
    assert [t.key for c in _kinds(cmds, "AssignTasks") for t in c.tasks] == ["late", "early"]  # in run order
    assert s.tasks["late"].priority < s.tasks["early"].priority
