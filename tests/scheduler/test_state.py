"""SchedulerState, driven by events with no network; every test validates the state after every event."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphflow.errors import CycleError, InvalidTransition, KilledWorkerError, MissingDependencyError
from graphflow.scheduler.events import RetireWorker, AssignTasks, ReleaseOnWorker, KeyReport, RequestSteal, UpdateGraph
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import (
    FakeCluster, cancel, client_joined, client_left, erred, finished, graph, heartbeat, joined, left, missing,
    release, scattered, steal_response, tick,
)


@pytest.fixture
def s():
    return SchedulerState(validate=True)


def executes(cmds) -> dict:
    return {c.worker: [t.key for t in c.tasks] for c in cmds if type(c) is AssignTasks}


def frees(cmds) -> dict:
    return {c.worker: set(c.keys) for c in cmds if type(c) is ReleaseOnWorker}


def reports(cmds) -> list:
    return [(c.client, c.key, c.state) for c in cmds if type(c) is KeyReport]


def states(s, *keys) -> list:
    return [s.task_state(k) for k in keys]


# ------------------------------------------------------------------ basics


def test_chain_runs_in_order_and_releases_inputs(s):
    """a -> b -> c, client wants c."""
    assert s.handle(joined("W")) == []
    cmds = s.handle(graph({"a": (), "b": ("a",), "c": ("b",)}))
    assert executes(cmds) == {"W": ["a"]}
    assert states(s, "a", "b", "c") == ["processing", "waiting", "waiting"]
    spec = cmds[0].tasks[0]
    assert spec.spec == ("spec", "a") and spec.who_has == {} and spec.inline_result is False

    cmds = s.handle(finished("W", "a", nbytes=10))
    assert executes(cmds) == {"W": ["b"]}
    assert cmds[0].tasks[0].who_has == {"a": ["W"]} and cmds[0].tasks[0].nbytes == {"a": 10}

    cmds = s.handle(finished("W", "b"))
    assert frees(cmds) == {"W": {"a"}} and executes(cmds) == {"W": ["c"]}
    assert cmds[1].tasks[0].inline_result is True  # wanted by a client

    cmds = s.handle(finished("W", "c", nbytes=28, type_name="int", inline=b"3"))
    assert frees(cmds) == {"W": {"b"}}
    (report,) = [c for c in cmds if type(c) is KeyReport]
    assert (report.client, report.key, report.state, report.nbytes, report.type_name, report.who_has,
            report.inline) == ("C", "c", "memory", 28, "int", ["W"], b"3")
    # a and b stay as lineage of c
    assert states(s, "a", "b", "c") == ["released", "released", "memory"]
    assert s.who_has(["c", "a"]) == {"c": ["W"], "a": []}
    assert s.has_what("W") == ["c"] and s.workers["W"].nbytes == 28

    cmds = s.handle(release(["c"]))
    assert frees(cmds) == {"W": {"c"}}
    assert s.tasks == {} and s.workers["W"].nbytes == 0


def test_diamond_runs_both_branches_where_the_input_is():
    r"""
        d
       / \
      b   c
       \ /
        a
    """
    s = SchedulerState(validate=True)
    s.handle(joined("W1", 2), joined("W2", 2))
    cmds = s.handle(graph({"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}))
    assert executes(cmds) == {"W1": ["a"]}
    cmds = s.handle(finished("W1", "a"))
    assert executes(cmds) == {"W1": ["b", "c"]}  # one message, both tasks, priority order
    cmds = s.handle(finished("W1", "b"))
    assert cmds == [] and s.tasks["a"].state == "memory"  # c still reads a
    cmds = s.handle(finished("W1", "c"))
    assert frees(cmds) == {"W1": {"a"}} and executes(cmds) == {"W1": ["d"]}
    cmds = s.handle(finished("W1", "d"))
    assert frees(cmds) == {"W1": {"b", "c"}} and reports(cmds) == [("C", "d", "memory")]


def test_one_execute_per_worker_per_handle_call():
    """x1 -> y0..y2 on W1 and x2 -> z0..z2 on W2, both inputs finish in one batch."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1", 4), joined("W2", 4))
    deps = {"x1": (), "x2": ()}
    deps.update({("y", i): ("x1",) for i in range(3)})
    deps.update({("z", i): ("x2",) for i in range(3)})
    cmds = s.handle(graph(deps))
    assert executes(cmds) == {"W1": ["x1"], "W2": ["x2"]}
    cmds = s.handle(finished("W1", "x1"), finished("W2", "x2"))
    assert [type(c) for c in cmds] == [AssignTasks, AssignTasks]
    assert executes(cmds) == {"W1": [("y", 0), ("y", 1), ("y", 2)], "W2": [("z", 0), ("z", 1), ("z", 2)]}


def test_priorities_order_graphs_by_generation(s):
    s.handle(graph({"a": ()}, priorities={"a": 5}), graph({"b": ()}, priorities={"b": 0}))
    assert s.tasks["a"].priority == (1, 5) and s.tasks["b"].priority == (2, 0)
    cmds = s.handle(joined("W", 4))
    assert executes(cmds) == {"W": ["a", "b"]}  # earlier graph first
    assert s.processing("W") == ["a", "b"]


def test_unwanted_tasks_are_forgotten_at_once(s):
    s.handle(joined("W"))
    assert s.handle(graph({"a": (), "b": ("a",)}, wanted=[])) == []
    assert s.tasks == {}


# --------------------------------------------------------------- placement


def test_placement_follows_input_bytes():
    """c = f(a, b): b is bigger, so c runs where b is."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    assert s.processing("W1") == ["a"] and s.processing("W2") == ["b"]
    s.handle(finished("W1", "a", nbytes=100))
    cmds = s.handle(finished("W2", "b", nbytes=1000))
    assert executes(cmds) == {"W2": ["c"]}
    assert cmds[0].tasks[0].who_has == {"a": ["W1"], "b": ["W2"]}


@pytest.mark.parametrize("busy, idle", [("W1", "W2"), ("W2", "W1")])
def test_placement_ties_go_to_the_less_occupied_worker(busy, idle):
    """a on W1 and b on W2 hold 8 bytes each; the worker busy with another task loses c = f(a, b)."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": ()}))
    s.handle(finished("W1", "a", nbytes=8), finished("W2", "b", nbytes=8))
    held_by_busy = "a" if busy == "W1" else "b"
    assert executes(s.handle(graph({"long": (held_by_busy,)}))) == {busy: ["long"]}
    assert s.workers[busy].occupancy > s.workers[idle].occupancy == 0
    assert executes(s.handle(graph({"c": ("a", "b")}))) == {idle: ["c"]}


def test_restricted_task_waits_for_an_allowed_worker(s):
    s.handle(joined("W1"))
    cmds = s.handle(graph({"r": ()}, restrictions={"r": {"W2"}}))
    assert cmds == [] and s.task_state("r") == "no-worker"
    cmds = s.handle(joined("W2"))
    assert executes(cmds) == {"W2": ["r"]}


def test_restricted_dependent_runs_on_its_worker_not_where_its_input_is(s):
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": ("a",)}, restrictions={"b": ["W2"]}))
    cmds = s.handle(finished("W1", "a", nbytes=10**6))
    assert executes(cmds) == {"W2": ["b"]}


def test_ready_tasks_wait_without_workers(s):
    s.handle(graph({"a": (), "b": ("a",)}))
    assert s.task_state("a") == "queued" and s.queued_count == 1
    s.handle(joined("W"))
    s.handle(finished("W", "a"))
    s.handle(left("W", expected=True))
    assert states(s, "a", "b") == ["queued", "waiting"]  # a is recomputed: lineage
    s.handle(joined("W2"))
    assert s.processing("W2") == ["a"]


# ------------------------------------------------------------ root queuing


def test_root_tasks_are_not_sent_all_at_once():
    """10,000 roots of unknown duration on 2 workers x 1 thread: 2 tasks each are sent, the rest queue."""
    s = SchedulerState()
    s.handle(joined("W1"), joined("W2"))
    roots = {("load", i): () for i in range(10_000)}
    cmds = s.handle(graph(roots))
    assert {w: len(keys) for w, keys in executes(cmds).items()} == {"W1": 2, "W2": 2}
    assert s.queued_count == 9996
    # heavy tasks keep the queue shallow
    cmds = s.handle(finished("W1", ("load", 0), duration=1.0))
    assert {w: len(keys) for w, keys in executes(cmds).items()} == {"W1": 1}
    assert len(s.processing("W1")) == 2
    s.validate_state()


def test_slots_grow_when_tasks_prove_short():
    s = SchedulerState()
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({("tiny", i): () for i in range(10_000)}))
    first = s.processing("W1")[0]
    cmds = s.handle(finished("W1", first, duration=1e-5))  # 10 us: 5 ms budget / 10 us = 500 slots
    (ex,) = [c for c in cmds if type(c) is AssignTasks]
    assert ex.worker == "W1" and len(s.processing("W1")) == 500 and len(ex.tasks) == 499
    assert [t.priority for t in ex.tasks] == sorted(t.priority for t in ex.tasks)
    s.validate_state()


def test_tasks_reading_a_widely_shared_input_are_queued(s):
    """x -> 20 tasks on a 1-thread worker: root-ish, so they go through the queue, not all at once."""
    s.handle(joined("W"))
    s.handle(graph({"x": (), **{("f", i): ("x",) for i in range(20)}}))
    cmds = s.handle(finished("W", "x"))
    assert len(executes(cmds)["W"]) == 2 and s.queued_count == 18


# --------------------------------------------------------------- stealing


def steal_setup():
    """x on W1 feeds y0..y3, all placed on W1; y takes 1 s; W2 is idle."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"x": (), **{("y", i): ("x",) for i in range(4)}}))
    assert s.processing("W1") == ["x"]
    cmds = s.handle(finished("W1", "x", nbytes=10))
    assert executes(cmds) == {"W1": [("y", i) for i in range(4)]}
    assert reports(s.handle(finished("W1", ("y", 0), duration=1.0))) == [("C", ("y", 0), "memory")]
    cmds = s.handle(tick(0.1))
    return s, cmds


def test_idle_worker_steals_unstarted_tasks():
    s, cmds = steal_setup()
    # y3 is the least likely to have started; moving y2 as well would not finish sooner
    assert [(type(c), c.worker, c.key) for c in cmds] == [(RequestSteal, "W1", ("y", 3))]
    cmds = s.handle(steal_response("W1", ("y", 3), True))
    assert executes(cmds) == {"W2": [("y", 3)]}
    assert cmds[0].tasks[0].who_has == {"x": ["W1"]}
    assert s.processing("W1") == [("y", 1), ("y", 2)] and s.processing("W2") == [("y", 3)]
    story = s.story(("y", 3))
    assert [rec[1:3] for rec in story[-3:]] == [
        ("steal-request", "W1->W2"), ("StealResponse", "W1"), ("stolen", "W1->W2")]
    assert story[-3][3].startswith("tick") and story[-1][3] == cmds[0].stimulus_id


def test_refused_steal_leaves_the_task():
    s, cmds = steal_setup()
    assert s.handle(steal_response("W1", ("y", 3), False)) == []
    assert s.processing("W1") == [("y", 1), ("y", 2), ("y", 3)]
    # asked again at the next tick
    assert [c.key for c in s.handle(tick(0.2)) if type(c) is RequestSteal] == [("y", 3)]


def test_stale_steal_responses_are_ignored():
    s, cmds = steal_setup()
    s.handle(finished("W1", ("y", 3), duration=1.0))  # it had started after all
    assert s.handle(steal_response("W1", ("y", 3), False)) == []
    assert s.task_state(("y", 3)) == "memory"
    assert s.handle(steal_response("W1", ("y", 1), True)) == []  # never asked for
    assert s.processing("W1") == [("y", 1), ("y", 2)]


def test_steal_with_departed_thief_places_the_task_again():
    s, cmds = steal_setup()
    s.handle(left("W2", expected=True))
    cmds = s.handle(steal_response("W1", ("y", 3), True))
    assert executes(cmds) == {"W1": [("y", 3)]}


def test_no_stealing_when_transfer_costs_more_than_the_task():
    """Inputs of 1 GB cost a second to move; the tasks take 1 ms: nothing is stolen."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"x": (), **{("y", i): ("x",) for i in range(4)}}))
    s.handle(finished("W1", "x", nbytes=10**9))
    s.handle(finished("W1", ("y", 0), duration=0.001))
    assert [c for c in s.handle(tick(0.1)) if type(c) is RequestSteal] == []


# ------------------------------------------------------------------ errors


def test_error_propagates_to_dependents_and_is_reported(s):
    """a -> b -> c; a fails; d is independent."""
    s.handle(joined("W", 2))
    s.handle(graph({"a": (), "b": ("a",), "c": ("b",), "d": ()}, wanted=["c", "d", "b"]))
    exc = ZeroDivisionError("boom")
    cmds = s.handle(erred("W", "a", exc, "Traceback..."))
    assert states(s, "a", "b", "c", "d") == ["erred", "erred", "erred", "processing"]
    assert frees(cmds) == {"W": {"a"}}
    errs = [c for c in cmds if type(c) is KeyReport]
    assert sorted(r.key for r in errs) == ["b", "c"]
    assert all(r.state == "erred" and r.exception is exc and r.traceback == "Traceback..." for r in errs)
    assert s.tasks["c"].error[2] == "a"  # blames the original key
    # asking again for an erred key reports the error again
    cmds = s.handle(graph({"c": ("b",)}, client="D"))
    assert reports(cmds) == [("D", "c", "erred")]
    # releasing all of it forgets the chain
    s.handle(release(["c", "b"]), release(["c"], client="D"))
    assert set(s.tasks) == {"d"}


def test_retries_rerun_then_fail(s):
    s.handle(joined("W"))
    s.handle(graph({"a": ()}, retries={"a": 1}))
    cmds = s.handle(erred("W", "a"))
    # the worker drops its failed copy before running it again
    assert [type(c) for c in cmds] == [ReleaseOnWorker, AssignTasks]
    assert s.task_state("a") == "processing" and s.tasks["a"].retries == 0
    cmds = s.handle(erred("W", "a"))
    assert reports(cmds) == [("C", "a", "erred")]


def test_stale_error_is_ignored(s):
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": ()}))
    cmds = s.handle(erred("W2", "a"))
    assert frees(cmds) == {"W2": {"a"}} and s.task_state("a") == "processing"


def test_missing_dependency_errs_with_a_named_error(s):
    s.handle(joined("W"))
    cmds = s.handle(UpdateGraph("ug", "C", {"b": "spec"}, {"b": ("gone",)}, {}, ["b"]))
    (rep,) = [c for c in cmds if type(c) is KeyReport]
    assert rep.state == "erred" and isinstance(rep.exception, MissingDependencyError)
    assert "'gone'" in str(rep.exception) and rep.exception.key == "b"
    cmds = s.handle(UpdateGraph("ug2", "C", {}, {}, {}, ["nope"]))
    assert reports(cmds) == [("C", "nope", "erred")]
    cmds = s.handle(UpdateGraph("ug3", "C", {"c": "spec", "d": "spec"}, {"c": ("x", "y"), "d": ("c",)}, {}, ["d"]))
    assert reports(cmds) == [("C", "d", "erred")] and s.tasks["d"].error[2] == "c"


def test_error_names_the_task_that_raised_it_on_every_dependent(s):
    """a -> b -> finalize: the client's future is for finalize, its error must still name a."""
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",), "finalize-1": ("b",)}))
    cmds = s.handle(erred("W", "a", ValueError("boom")))
    (rep,) = [c for c in cmds if type(c) is KeyReport]
    assert rep.key == "finalize-1" and rep.exception.__graphflow_key__ == "a"


def test_scheduler_made_errors_name_their_task_too(s):
    """W dies running a three times; b's (and the client's) error is a's KilledWorkerError, blamed on a."""
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}))
    for i in range(3):
        cmds = s.handle(left("W"), joined("W"))
    (rep,) = [c for c in cmds if type(c) is KeyReport]
    assert rep.key == "b" and isinstance(rep.exception, KilledWorkerError)
    assert rep.exception.__graphflow_key__ == "a"


def test_a_cyclic_submission_is_refused_at_once(s):
    """a -> b -> c -> a, d reads the cycle, e stands alone; x was submitted before and is wanted again.

    Nothing of the new part is taken (a cycle never runs), every wanted new key errs with a CycleError
    naming the cycle, and x is unaffected.
    """
    s.handle(joined("W"))
    s.handle(graph({"x": ()}))
    s.handle(finished("W", "x"))
    cmds = s.handle(graph({"a": ("c", "x"), "b": ("a",), "c": ("b",), "d": ("c",), "e": ()},
                          wanted=["d", "e", "x"]))
    errs = {c.key: c.exception for c in cmds if type(c) is KeyReport and c.state == "erred"}
    assert set(errs) == {"d", "e"} and not executes(cmds)
    err = errs["d"]
    assert isinstance(err, CycleError) and isinstance(err, ValueError)
    assert err.cycle == ("a", "b", "c", "a") and "'a' -> 'b' -> 'c' -> 'a'" in str(err)
    assert reports(cmds)[-1] == ("C", "x", "memory")
    assert set(s.tasks) == {"x"} and not s.tasks["x"].dependents
    assert any(rec[1] == "cycle-refused" for rec in s.story("a"))
    # the same keys, acyclic this time, run as usual
    cmds = s.handle(graph({"a": ("x",), "b": ("a",)}))
    assert executes(cmds) == {"W": ["a"]}


def test_a_task_reading_itself_is_a_cycle(s):
    s.handle(joined("W"))
    cmds = s.handle(graph({"a": ("a",)}, wanted=["a"]))
    (rep,) = [c for c in cmds if type(c) is KeyReport]
    assert rep.exception.cycle == ("a", "a") and not s.tasks


def test_submission_order_does_not_matter_to_the_cycle_check(s):
    """Dependents listed before their inputs (the in-order proof fails): a full check finds no cycle."""
    s.handle(joined("W"))
    cmds = s.handle(graph({"c": ("b",), "b": ("a",), "a": ()}, wanted=["c"]))
    assert executes(cmds) == {"W": ["a"]} and not reports(cmds)


# ---------------------------------------------------------- worker failure


def test_lost_result_is_recomputed_from_lineage():
    """a -> b, b wanted; W1 held both and dies: both run again on W2."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"))
    s.handle(graph({"a": (), "b": ("a",)}))
    s.handle(finished("W1", "a"))
    s.handle(finished("W1", "b"))
    assert states(s, "a", "b") == ["released", "memory"]
    s.handle(joined("W2"))
    cmds = s.handle(left("W1"))
    assert reports(cmds) == [("C", "b", "lost")]
    assert executes(cmds) == {"W2": ["a"]} and states(s, "a", "b") == ["processing", "waiting"]
    s.handle(finished("W2", "a"))
    cmds = s.handle(finished("W2", "b"))
    assert reports(cmds) == [("C", "b", "memory")]
    assert s.tasks["b"].suspicious == 0  # b was not running when W1 died


def test_lost_input_of_a_task_running_elsewhere():
    """c = f(a, b) runs on W2 (b is bigger); a lived only on W1, which dies: c is cancelled and waits."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    s.handle(finished("W1", "a", nbytes=10))
    cmds = s.handle(finished("W2", "b", nbytes=1000))
    assert executes(cmds) == {"W2": ["c"]}
    cmds = s.handle(left("W1"))
    assert frees(cmds) == {"W2": {"c"}} and executes(cmds) == {"W2": ["a"]}
    assert [type(c) for c in cmds] == [ReleaseOnWorker, AssignTasks]
    assert states(s, "a", "b", "c") == ["processing", "memory", "waiting"]
    assert s.tasks["c"].suspicious == 0
    cmds = s.handle(finished("W2", "a", nbytes=10))
    assert executes(cmds) == {"W2": ["c"]} and cmds[0].tasks[0].who_has == {"a": ["W2"], "b": ["W2"]}


def test_lost_input_of_a_waiting_task():
    """c = f(a, b): a is done on W1, b still runs on W2 when W1 dies; a is recomputed, c keeps waiting."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    s.handle(finished("W1", "a"))
    assert s.tasks["c"].n_waiting_on == 1
    cmds = s.handle(left("W1"))
    assert executes(cmds) == {"W2": ["a"]}
    assert s.tasks["c"].n_waiting_on == 2 and s.task_state("c") == "waiting"
    s.handle(finished("W2", "b"))
    cmds = s.handle(finished("W2", "a"))
    assert executes(cmds) == {"W2": ["c"]}


def test_killed_worker_after_three_deaths():
    s = SchedulerState(validate=True, allowed_failures=3)
    s.handle(*(joined(f"W{i}") for i in range(4)))
    s.handle(graph({"bad": (), "after": ("bad",)}))
    for strike in (1, 2, 3):
        (worker,) = [w for w in s.workers if "bad" in s.processing(w)]
        cmds = s.handle(left(worker))
        assert s.tasks["bad"].suspicious == strike
    assert states(s, "bad", "after") == ["erred", "erred"]
    (rep,) = [c for c in cmds if type(c) is KeyReport]
    assert rep.key == "after" and isinstance(rep.exception, KilledWorkerError)
    assert rep.exception.key == "bad" and rep.exception.last_worker == worker
    assert "'bad'" in str(rep.exception) and worker in str(rep.exception)


def test_a_clean_exit_is_no_strike(s):
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": ()}))
    s.handle(left("W1", expected=True))
    assert s.tasks["a"].suspicious == 0 and s.processing("W2") == ["a"]


def test_heartbeat_timeout_removes_the_worker(s):
    s.handle(joined("W1", now=0.0), joined("W2", now=0.0))
    s.handle(graph({"a": (), "b": ()}))
    s.handle(heartbeat("W1", 3.0, memory=100), heartbeat("W2", 6.0))
    assert s.workers["W1"].last_seen == 3.0 and s.workers["W1"].memory == 100
    s.handle(tick(7.0))
    assert set(s.workers) == {"W1", "W2"}
    cmds = s.handle(tick(8.5))
    assert set(s.workers) == {"W2"} and executes(cmds) == {"W2": ["a"]}
    assert s.tasks["a"].suspicious == 1
    # the silent worker speaks again: it is told to close
    assert [(type(c), c.worker) for c in s.handle(heartbeat("W1", 9.0))] == [(RetireWorker, "W1")]


def test_rejoin_at_the_same_address_replaces_the_old_worker(s):
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}))
    s.handle(finished("W", "a"))
    cmds = s.handle(joined("W", 2))
    assert s.workers["W"].nthreads == 2 and executes(cmds) == {"W": ["a"]}
    assert s.task_state("b") == "waiting" and s.tasks["b"].suspicious == 0


def test_missing_data_recomputes_and_reschedules(s):
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    s.handle(finished("W1", "a", nbytes=10))
    s.handle(finished("W2", "b", nbytes=1000))
    cmds = s.handle(missing("W2", "c", "a", "W1"))
    assert frees(cmds) == {"W2": {"c"}} and list(executes(cmds).values()) == [["a"]]
    assert states(s, "a", "c") == ["processing", "waiting"]


def test_missing_data_with_another_holder_resends_at_once(s):
    s.handle(joined("W1"), joined("W2"), joined("W3"))
    s.handle(graph({"a": (), "b": ("a",)}))
    (holder,) = [w for w in s.workers if s.processing(w)]
    s.handle(finished(holder, "a"))
    other = next(w for w in s.workers if w != holder)
    s.handle(finished(other, "a"))  # a replica
    runner = next(w for w in s.workers if s.processing(w))
    cmds = s.handle(missing(runner, "b", "a", holder))
    assert s.who_has(["a"]) == {"a": [other]}
    (ex,) = [c for c in cmds if type(c) is AssignTasks]
    assert ex.tasks[0].who_has == {"a": [other]}


# ------------------------------------------------------------ stale results


def test_result_from_another_worker_is_accepted_and_the_running_copy_cancelled(s):
    s.handle(joined("W1"), joined("W2"))
    s.handle(graph({"a": ()}))
    cmds = s.handle(finished("W2", "a"))
    assert frees(cmds) == {"W1": {"a"}} and s.who_has(["a"]) == {"a": ["W2"]}
    assert reports(cmds) == [("C", "a", "memory")]
    # a duplicate from W1 becomes a second copy; a repeat from W2 changes nothing
    assert s.handle(finished("W1", "a")) == [] and s.handle(finished("W2", "a")) == []
    assert s.who_has(["a"]) == {"a": ["W2", "W1"]}


def test_result_nobody_needs_is_freed_on_its_worker(s):
    s.handle(joined("W"))
    assert frees(s.handle(finished("W", "never-submitted"))) == {"W": {"never-submitted"}}
    assert s.handle(finished("unknown-worker", "x")) == []


# -------------------------------------------------------------- clients


def test_release_cancels_running_inputs_and_forgets(s):
    s.handle(joined("W", 2))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    s.handle(finished("W", "a"))
    cmds = s.handle(release(["c"]))
    assert frees(cmds) == {"W": {"a", "b"}}  # a's result and b's running task
    assert s.tasks == {} and s.has_what("W") == []


def test_release_keeps_keys_other_clients_want(s):
    s.handle(joined("W"))
    s.handle(graph({"a": ()}), graph({"a": ()}, client="D"))
    s.handle(finished("W", "a"))
    assert s.handle(release(["a"])) == []
    assert s.tasks["a"].wanted_by == {"D"}
    assert frees(s.handle(client_left("D"))) == {"W": {"a"}}
    assert s.clients == {"C"} and s.tasks == {}


def test_cancel_takes_dependents_for_every_client(s):
    """a -> b -> c: C wants b and c, D wants c; C cancels b."""
    s.handle(joined("W"), client_joined("D"))
    s.handle(graph({"a": (), "b": ("a",), "c": ("b",)}, wanted=["b", "c"]))
    s.handle(graph({"c": ("b",)}, client="D"))
    cmds = s.handle(cancel(["b"]))
    assert sorted(reports(cmds)) == [("C", "b", "cancelled"), ("C", "c", "cancelled"), ("D", "c", "cancelled")]
    assert frees(cmds) == {"W": {"a"}}  # a was running for them only
    assert s.tasks == {}


def test_key_resubmitted_while_in_memory_is_not_recomputed(s):
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}))
    s.handle(finished("W", "a"), finished("W", "b", nbytes=5))
    cmds = s.handle(graph({"a": (), "b": ("a",)}, client="D"))
    (rep,) = cmds
    assert (rep.client, rep.key, rep.state, rep.who_has, rep.nbytes, rep.inline) == ("D", "b", "memory", ["W"], 5, None)
    # a new task reading b runs at once
    cmds = s.handle(graph({"c": ("b",)}, client="D"))
    assert executes(cmds) == {"W": ["c"]}


def test_scattered_data_is_used_and_cannot_be_recomputed(s):
    s.handle(joined("W1"), joined("W2"))
    assert s.choose_worker_for_data(100) == "W1"
    cmds = s.handle(scattered("W1", {"x": 100}))
    assert reports(cmds) == [("C", "x", "memory")]
    assert s.choose_worker_for_data(100) == "W2"  # W1 holds more now
    cmds = s.handle(graph({"y": ("x",)}, specs={"y": "spec"}))
    assert executes(cmds) == {"W1": ["y"]}
    cmds = s.handle(left("W1"))
    assert sorted(reports(cmds)) == [("C", "x", "erred"), ("C", "x", "lost"), ("C", "y", "erred")]
    assert isinstance(s.tasks["x"].error[0], KilledWorkerError)


# ------------------------------------------------------- log and safety


def test_story_tells_what_happened_to_a_key(s):
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}, stimulus_id="ug-1"))
    s.handle(finished("W", "a", stimulus_id="fin-a"))
    s.handle(finished("W", "b", stimulus_id="fin-b"))
    assert s.story("a") == [
        ("C", "UpdateGraph", ["a", "b"], "ug-1"),
        ("a", "released", "waiting", "ug-1"),
        ("a", "waiting", "queued", "ug-1"),
        ("a", "queued", "processing", "ug-1"),
        ("a", "TaskFinished", "W", "fin-a"),
        ("a", "processing", "memory", "fin-a"),
        ("a", "memory", "released", "fin-b"),
    ]
    s.handle(left("W", stimulus_id="bye"))
    assert s.story("W")[0][:2] == ("W", "WorkerJoined")
    assert s.story("W")[-2:] == [("W", "WorkerLeft", "died", "bye"), ("W", "worker-removed", "died", "bye")]


def test_log_holds_no_payloads(s):
    s.handle(joined("W"), graph({"a": ()}))
    s.handle(finished("W", "a", inline=b"x" * 1000), erred("W", "zzz", ValueError("big")))
    s.handle(heartbeat("W", 1.0), tick(1.0))
    for rec in s.log:
        assert type(rec) is tuple and len(rec) == 4
        assert not any(isinstance(part, (bytes, BaseException, dict)) for part in rec)
    assert [rec[1] for rec in s.log].count("Heartbeat") == 0


def test_log_is_bounded_and_can_be_off():
    s = SchedulerState(log_length=5)
    s.handle(joined("W"), graph({("t", i): () for i in range(10)}))
    assert len(s.log) == 5
    s = SchedulerState(log_length=0)
    s.handle(joined("W"), graph({"a": ()}))
    assert len(s.log) == 0 and s.story("a") == []


def test_invalid_transition_raises(s):
    s.handle(joined("W"))
    s.handle(graph({"a": ()}))
    s.handle(finished("W", "a"))
    with pytest.raises(InvalidTransition, match="'a'.*'memory'.*'processing'") as info:
        s.transition(s.tasks["a"], "processing", "bad-stimulus")
    assert (info.value.key, info.value.start, info.value.finish, info.value.stimulus_id) == (
        "a", "memory", "processing", "bad-stimulus")


def test_validate_state_catches_corruption(s):
    s.handle(joined("W"))
    s.handle(graph({"a": (), "b": ("a",)}))
    s.tasks["a"].n_waiters += 1
    with pytest.raises(AssertionError, match="'a'.*n_waiters"):
        s.validate_state()


def test_unknown_event_is_a_type_error(s):
    with pytest.raises(TypeError, match="not a graphflow.scheduler.events event"):
        s.handle("hello")


# ---------------------------------------------------------- random graphs


@st.composite
def random_graphs(draw):
    n = draw(st.integers(1, 25))
    deps = {}
    for i in range(n):
        earlier = list(deps)
        k = draw(st.integers(0, min(3, len(earlier))))
        deps[f"t{i}"] = tuple(draw(st.permutations(earlier))[:k]) if k else ()
    wanted = draw(st.lists(st.sampled_from(list(deps)), min_size=1, unique=True))
    return deps, wanted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_random_graphs_finish_despite_deaths(graph_and_wanted, n_workers, seed):
    """A fake cluster answers every command in random order, with random deaths, joins and ticks."""
    deps, wanted = graph_and_wanted
    rng = random.Random(seed)
    s = SchedulerState(validate=True, allowed_failures=1000)
    fc = FakeCluster(s, rng)
    for i in range(n_workers):
        fc.join(f"W{i}", rng.randint(1, 2))
    fc.handle(graph(deps, wanted=wanted))
    joins = n_workers
    for _ in range(300):
        r = rng.random()
        if r < 0.04 and fc.running:
            fc.kill(rng.choice(list(fc.running)))
        elif r < 0.08 or not fc.running:
            fc.join(f"W{joins}", rng.randint(1, 2))
            joins += 1
        elif r < 0.12:
            fc.handle(tick(0.0))
        elif r < 0.3:
            fc.answer_steal()
        elif not fc.finish() and not fc.answer_steal():
            break
    fc.run_until_idle()
    for key in wanted:
        assert s.task_state(key) == "memory", s.story(key)
        assert fc.reports[("C", key)] == "memory"
    fc.handle(release(wanted))
    assert s.tasks == {} and not any(fc.store.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.integers(0, 2**32 - 1))
def test_random_graphs_with_errors_releases_and_stale_events(graph_and_wanted, seed):
    """Errors, retries, cancels, duplicate results and lost data: every wanted key ends in memory or erred."""
    deps, wanted = graph_and_wanted
    rng = random.Random(seed)
    s = SchedulerState(validate=True, allowed_failures=2)
    fc = FakeCluster(s, rng)
    for i in range(3):
        fc.join(f"W{i}")
    fc.handle(graph(deps, wanted=wanted, retries={k: 1 for k in deps if rng.random() < 0.3}))
    dropped = set()
    for step in range(300):
        r = rng.random()
        busy = [(w, k) for w, keys in fc.running.items() for k in keys]
        if r < 0.05 and busy:
            w, k = rng.choice(busy)
            del fc.running[w][k]
            fc.handle(erred(w, k))
        elif r < 0.08 and fc.running:
            w, k = rng.choice(list(fc.running)), rng.choice(list(deps))
            fc.store[w].add(k)
            fc.handle(finished(w, k))
        elif r < 0.11 and busy:
            w, k = rng.choice(busy)
            ts = s.tasks.get(k)
            holders = [(d.key, h.address) for d in (ts.dependencies if ts else ()) for h in d.who_has]
            if holders:
                dep, holder = rng.choice(holders)
                fc.store[holder].discard(dep)
                fc.handle(missing(w, k, dep, holder))
        elif r < 0.13:
            key = rng.choice(wanted)
            dropped.add(key)
            fc.handle(rng.choice([release, cancel])([key]))
        elif r < 0.15 and len(fc.running) > 1:
            fc.kill(rng.choice(list(fc.running)))
            fc.join(f"X{step}")
        elif not fc.finish() and not fc.answer_steal():
            break
    fc.run_until_idle()
    for key in wanted:
        if key in dropped or fc.reports.get(("C", key)) == "cancelled":
            continue
        assert s.task_state(key) in ("memory", "erred"), s.story(key)
        assert fc.reports[("C", key)] == s.task_state(key)
    fc.handle(release(list(s.tasks)))
    assert s.tasks == {} and not any(fc.store.values())


# ------------------------------------------------------------- performance


def tree_sum(n_leaves, fan_in=8):
    """n_leaves independent tasks summed by a tree of fan-in 8 (10,000 leaves: 11,431 tasks)."""
    deps = {("leaf", i): () for i in range(n_leaves)}
    level = list(deps)
    depth = 0
    while len(level) > 1:
        parents = []
        for j in range(0, len(level), fan_in):
            deps[("sum", depth, j // fan_in)] = tuple(level[j:j + fan_in])
            parents.append(("sum", depth, j // fan_in))
        level, depth = parents, depth + 1
    return deps, level[0]


def run_to_completion(s, deps, root, workers=("W1", "W2")):
    """Answer every AssignTasks with TaskFinished, a batch per worker per call, as a real cluster batches."""
    s.handle(*(joined(w) for w in workers))
    cmds = s.handle(graph(deps, wanted=[root]))
    pending = {w: [] for w in workers}
    while True:
        for c in cmds:
            if type(c) is AssignTasks:
                pending[c.worker].extend(t.key for t in c.tasks)
        events = [finished(w, k, duration=1e-5) for w, keys in pending.items() for k in keys[:50]]
        events += [steal_response(c.worker, c.key, False) for c in cmds if type(c) is RequestSteal]
        for w in pending:
            del pending[w][:50]
        if not events:
            return
        cmds = s.handle(*events)


def test_ten_thousand_tasks_run_to_completion():
    # Speed is measured side by side in benchmarks/ (dist10k), not timed here:
    # a timed unit test fails on a loaded CI machine.
    deps, root = tree_sum(10_000)
    assert len(deps) == 11_431
    s = SchedulerState()
    run_to_completion(s, deps, root)
    assert s.task_state(root) == "memory"


def test_memory_per_task_stays_small():
    import tracemalloc

    deps, root = tree_sum(20_000)
    s = SchedulerState()
    s.handle(joined("W1"), joined("W2"))
    ev = graph(deps, wanted=[root])
    tracemalloc.start()
    try:
        s.handle(ev)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held / len(deps) < 2048  # Dask's scheduler needs more than 1 KB per task for TaskState alone


# ------------------------------------------------------------ memory admission


def test_paused_and_over_target_workers_get_no_root_tasks():
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(heartbeat("W1", 1.0, paused=True), heartbeat("W2", 1.0, over_target=True))
    cmds = s.handle(graph({("load", i): () for i in range(10)}))
    assert executes(cmds) == {} and s.queued_count == 10
    # W2 spilled below its target: it takes root tasks again, W1 stays paused
    cmds = s.handle(heartbeat("W2", 1.5, memory=10, spilled=500, rss=200))
    assert set(executes(cmds)) == {"W2"} and len(s.processing("W2")) == 2
    cmds = s.handle(heartbeat("W1", 2.0))
    assert set(executes(cmds)) == {"W1"}
    ws = s.workers["W2"]
    assert (ws.memory, ws.spilled, ws.rss) == (10, 500, 200)


def test_workers_short_of_room_take_root_tasks_only_when_no_worker_can():
    """W1 cannot spill (disk full): paused and over target, yet it runs what fits, so root tasks go to it
    once no worker takes them normally -- else they would wait forever; while W2 can, they wait for W2."""
    s = SchedulerState(validate=True)
    s.handle(joined("W1"), joined("W2"))
    s.handle(heartbeat("W1", 1.0, paused=True, over_target=True, spill_error="disk full"),
             heartbeat("W2", 1.0, over_target=True))
    cmds = s.handle(graph({("load", i): () for i in range(10)}))
    assert executes(cmds) == {} and s.queued_count == 10  # W2 may get back under target by spilling
    cmds = s.handle(heartbeat("W2", 1.5, paused=True, over_target=True))
    assert executes(cmds) == {}  # only paused for memory: W2 spills, so still nobody
    cmds = s.handle(heartbeat("W2", 2.0, paused=True, over_target=True, spill_error="disk full"))
    assert set(executes(cmds)) == {"W1", "W2"} and s.queued_count == 6  # both short of room: both get slots
    s.handle(heartbeat("W1", 2.5))  # W1 got room back, W2 not: W2 gets nothing new while W1 can take it
    assert s.workers["W1"].spill_error == "" and s.workers["W2"].spill_error == "disk full"
    load_on_w2 = len(s.processing("W2"))
    for key in list(s.processing("W2")):
        s.handle(finished("W2", key))
    assert len(s.processing("W2")) == 0 < load_on_w2 and len(s.processing("W1")) == 2


def test_task_whose_inputs_exceed_every_memory_limit_errs_with_memory_limit_error():
    from graphflow.errors import MemoryLimitError

    s = SchedulerState(validate=True)
    s.handle(joined("W1", memory_limit=1000), joined("W2", memory_limit=1500))
    s.handle(graph({"a": (), "b": (), "c": ("a", "b")}))
    s.handle(finished("W1", "a", nbytes=900))
    cmds = s.handle(finished("W2", "b", nbytes=700))
    [(client, key, state)] = reports(cmds)
    assert (key, state) == ("c", "erred")
    exc = s.tasks["c"].error[0]
    assert isinstance(exc, MemoryLimitError) and exc.key == "c" and exc.nbytes == 1600 and exc.limit == 1500
    assert "'c'" in str(exc) and "1.56 KiB" in str(exc) and "1.46 KiB" in str(exc)
    # a worker without a limit can hold anything: no error
    s2 = SchedulerState(validate=True)
    s2.handle(joined("W1", memory_limit=1000), joined("W2"))
    s2.handle(graph({"a": (), "c": ("a",)}))
    cmds = s2.handle(finished("W1", "a", nbytes=5000))
    assert executes(cmds) and not reports(cmds)


def test_a_task_that_keeps_killing_workers_by_memory_errs_with_memory_limit_error():
    from graphflow.errors import MemoryLimitError

    s = SchedulerState(validate=True, allowed_failures=2)
    s.handle(*(joined(f"W{i}", memory_limit=100) for i in range(3)))
    s.handle(graph({"big": ()}))
    (worker,) = [w for w in s.workers if "big" in s.processing(w)]
    s.handle(left(worker, memory=(96, 100)))
    (worker,) = [w for w in s.workers if "big" in s.processing(w)]
    cmds = s.handle(left(worker, memory=(97, 100)))
    [(_, key, state)] = reports(cmds)
    exc = s.tasks["big"].error[0]
    assert (key, state) == ("big", "erred") and isinstance(exc, MemoryLimitError)
    assert exc.key == "big" and exc.limit == 100 and worker in str(exc) and "memory_limit=" in str(exc)
    assert not s._memory_deaths


def test_queued_roots_go_out_in_priority_order_however_many_arrive_at_once():
    """Roots enter the queue unordered (a graph's roots arrive last first) and are put in heap order when
    slots are filled: all at once for a big arrival, one by one for a few.  Either way the one-thread
    worker gets them in priority order, the first graph's before the second's::

        r0 r1 ... r39      (graph 1: 40 roots, wanted)
        s0 s1              (graph 2, submitted after 5 finished: 2 roots)
    """
    s = SchedulerState(validate=True)
    s.handle(joined("W"))
    order = []

    def sent(commands):
        for c in commands:
            if isinstance(c, AssignTasks):
                order.extend(t.key for t in c.tasks)

    sent(s.handle(graph({f"r{i}": () for i in range(40)}, wanted=[f"r{i}" for i in range(40)])))
    done = 0
    while done < len(order):
        if done == 5:
            sent(s.handle(graph({"s0": (), "s1": ()}, wanted=["s0", "s1"])))
        sent(s.handle(finished("W", order[done])))
        done += 1
    assert order == [f"r{i}" for i in range(40)] + ["s0", "s1"]
