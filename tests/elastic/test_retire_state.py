"""Pure tests of graceful retirement (`graphflow.scheduler.retire`): events in, commands out, no processes."""

from __future__ import annotations

from graphflow.errors import RetireError
from graphflow.scheduler.events import AssignTasks, KeyReport, RequestSteal, RetireWorker
from graphflow.scheduler.retire import (
    FreezeActors, ReplicateKeys, RetireDone, RetireWorkers, WorkerAsksToRetire, choose_receiver,
)
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, heartbeat, joined, left, steal_response, stim, tick


def retire(*workers, request="r1", now=0.0, timeout=60.0, close_anyway=False):
    return RetireWorkers(stim("retire"), list(workers), request, now, timeout, close_anyway)


def of(cmds, kind):
    return [c for c in cmds if type(c) is kind]


def two_results_on_a():
    """``x`` and ``y`` made on A (wanted by the client); B and C idle."""
    s = SchedulerState(validate=True)
    s.handle(joined("A"), joined("B"), joined("C"))
    s.handle(graph({"x": (), "y": ()}, restrictions={"x": ["A"], "y": ["A"]}))
    s.handle(finished("A", "x", nbytes=100), finished("A", "y", nbytes=100))
    return s


def test_results_only_on_the_leaving_worker_are_copied_then_it_stops():
    s = two_results_on_a()
    cmds = s.handle(retire("A"))
    copies = of(cmds, ReplicateKeys)
    assert sorted(k for c in copies for k in c.who_has) == ["x", "y"]
    assert all(c.worker in ("B", "C") and set(map(tuple, c.who_has.values())) == {("A",)} for c in copies)
    assert len({c.worker for c in copies}) == 2, "copies spread over both receivers"
    assert not of(cmds, RetireWorker) and "A" in s.workers
    receiver = {k: c.worker for c in copies for k in c.who_has}
    cmds = s.handle(finished(receiver["x"], "x", nbytes=100))
    assert not of(cmds, RetireWorker)
    cmds = s.handle(finished(receiver["y"], "y", nbytes=100))
    assert [c.worker for c in of(cmds, RetireWorker)] == ["A"]
    [done] = of(cmds, RetireDone)
    assert done.request == "r1" and done.retired == ["A"] and done.error is None
    assert "A" not in s.workers
    assert s.who_has(["x", "y"]) == {"x": [receiver["x"]], "y": [receiver["y"]]}
    reports = {c.key: (c.state, c.who_has) for c in of(cmds, KeyReport)}
    assert reports == {k: ("memory", [receiver[k]]) for k in "xy"}, "nothing lost; the client learns the new holders"
    assert s.tasks["x"].state == "memory"


def test_results_with_another_copy_need_no_move():
    s = two_results_on_a()
    s.handle(graph({"z": ("x",)}, restrictions={"z": ["B"]}))  # B fetches x to run z
    s.handle(finished("B", "z"))  # x is released once z is done: the client wants only z and y... and x
    s.tasks["x"].who_has.append(s.workers["B"])  # (a replica B kept, as the scheduler would learn it)
    s.workers["B"].has_what.add(s.tasks["x"])
    s.workers["B"].nbytes += 100
    cmds = s.handle(retire("A"))
    assert [list(c.who_has) for c in of(cmds, ReplicateKeys)] == [["y"]]


def test_queued_tasks_are_asked_back_and_moved_an_executing_one_finishes_there():
    s = SchedulerState(validate=True, work_stealing=False)
    s.handle(joined("A"))
    s.handle(graph({"a": (), "b": (), "c": ()}))
    on_a = s.processing("A")
    assert len(on_a) >= 2
    s.handle(joined("B"))
    cmds = s.handle(retire("A"))
    asked = sorted(c.key for c in of(cmds, RequestSteal))
    assert asked == sorted(on_a)
    first, *rest = on_a
    cmds = s.handle(steal_response("A", first, False), *[steal_response("A", k, True) for k in rest])
    moved = [spec.key for c in of(cmds, AssignTasks) if c.worker == "B" for spec in c.tasks]
    assert sorted(moved) == sorted(rest)
    assert s.processing("A") == [first] and "A" in s.workers
    cmds = s.handle(finished("A", first, nbytes=10))
    [copy] = of(cmds, ReplicateKeys)
    assert copy.worker == "B" and list(copy.who_has) == [first]
    cmds = s.handle(finished("B", first, nbytes=10))
    assert [c.worker for c in of(cmds, RetireWorker)] == ["A"]


def test_a_closing_worker_gets_no_new_work_even_after_heartbeats():
    s = SchedulerState(validate=True)
    s.handle(joined("A"), joined("B"))
    s.handle(graph({"x": ()}, restrictions={"x": ["A"]}))
    s.handle(retire("A"))  # x running there: the steal is refused below
    s.handle(steal_response("A", "x", False))
    s.handle(heartbeat("A", 1.0))  # says "not paused": it must stay closed to new work
    cmds = s.handle(graph({f"r{i}": () for i in range(10)}))
    placed = {c.worker for c in of(cmds, AssignTasks)}
    assert placed == {"B"}


def test_only_worker_with_data_cannot_retire_and_says_so():
    s = SchedulerState(validate=True)
    s.handle(joined("A"))
    s.handle(graph({"x": ()}))
    s.handle(finished("A", "x", nbytes=2**20))
    cmds = s.handle(retire("A"))
    [done] = of(cmds, RetireDone)
    assert done.retired == [] and isinstance(done.error, RetireError)
    assert "A" in str(done.error) and "only worker" in str(done.error) and "x" in str(done.error)
    assert done.error.left["A"]["keys"] == ["x"]
    assert "A" in s.workers and not s.workers["A"].paused, "running again"
    assert not of(cmds, RetireWorker)


def test_every_worker_retiring_is_refused_unless_close_anyway():
    s = two_results_on_a()
    cmds = s.handle(retire("A", "B", "C"))
    [done] = of(cmds, RetireDone)
    assert "every worker is retiring" in str(done.error)
    assert sorted(done.retired) == ["B", "C"], "those holding nothing may go"
    cmds = s.handle(retire("A", close_anyway=True, request="r2"))
    [done] = of(cmds, RetireDone)
    assert done.retired == ["A"] and done.error is None and not s.workers
    assert s.tasks["x"].state == "no-worker", "lost: recomputed once a worker comes"


def test_an_idle_worker_retires_at_once():
    s = SchedulerState(validate=True)
    s.handle(joined("A"), joined("B"))
    cmds = s.handle(retire("B"))
    assert [c.worker for c in of(cmds, RetireWorker)] == ["B"]
    assert of(cmds, RetireDone)[0].retired == ["B"]


def test_timeout_calls_it_off_with_a_named_error():
    s = two_results_on_a()
    s.handle(retire("A", now=0.5, timeout=1.0))
    cmds = s.handle(tick(1.0))
    assert not of(cmds, RetireDone)
    cmds = s.handle(tick(2.0))
    [done] = of(cmds, RetireDone)
    assert isinstance(done.error, RetireError) and "timed out" in str(done.error)
    assert "2 results held nowhere else" in str(done.error) and done.error.workers == ["A"]
    assert "A" in s.workers


def test_receiver_dying_sends_the_copy_elsewhere_and_the_only_receiver_dying_fails():
    s = two_results_on_a()
    cmds = s.handle(retire("A"))
    cmds = s.handle(left("B"))
    again = of(cmds, ReplicateKeys)
    assert again and all(c.worker == "C" for c in again)
    cmds = s.handle(left("C"))
    [done] = of(cmds, RetireDone)
    assert "no running worker" in str(done.error)


def test_lifetime_request_refusal_names_the_worker():
    s = SchedulerState(validate=True)
    s.handle(joined("A"))
    s.handle(graph({"x": ()}))
    s.handle(finished("A", "x"))
    cmds = s.handle(WorkerAsksToRetire(stim("lifetime"), "A", 0.0))
    [done] = of(cmds, RetireDone)
    assert done.request is None and list(done.failed) == ["A"]


def test_choose_receiver_prefers_room_and_spreads():
    class W:
        def __init__(self, address, memory, limit, paused=False):
            self.address, self.memory, self.memory_limit, self.paused = address, memory, limit, paused

    a, b, c = W("a", 0, 1000), W("b", 0, 1000), W("c", 0, None)
    assert choose_receiver(100, [a, b], {}).address == "a"
    assert choose_receiver(100, [a, b], {a: 100}).address == "b"
    assert choose_receiver(100, [a, c], {}).address == "c", "no limit: the most room"
    full1, full2 = W("f1", 900, 1000), W("f2", 500, 1000)
    assert choose_receiver(400, [full1, full2], {}).address == "f2", "nobody fits: the least full spills"


def test_a_lifetime_worker_that_is_the_last_one_with_data_is_refused_at_once():
    s = two_results_on_a()
    cmds = s.handle(WorkerAsksToRetire(stim("lifetime"), "B", 0.0), WorkerAsksToRetire(stim("lifetime"), "C", 0.0))
    assert sorted(c.worker for c in of(cmds, RetireWorker)) == ["B", "C"], "idle: they may go"
    cmds = s.handle(WorkerAsksToRetire(stim("lifetime"), "A", 0.0))
    [done] = of(cmds, RetireDone)
    assert list(done.failed) == ["A"] and "last running worker" in done.failed["A"]
    assert "A" in s.workers and not s.retiring.closing


def test_an_actor_is_frozen_then_recreated_elsewhere_from_its_checkpoint():
    import pickle

    from graphflow.actor import ActorCreate, as_actor_class
    from graphflow.scheduler.actors import ActorCheckpointed, ActorHosted

    class Counter:
        def __init__(self, n=0):
            self.n = n

    spec = ActorCreate("act", as_actor_class(Counter), (), {})
    s = SchedulerState(validate=True)
    s.handle(joined("A"), joined("B"))
    s.handle(graph({"act": ()}, specs={"act": spec}, restrictions={"act": ["A"]}))
    s.handle(ActorHosted(stim("hosted"), "A", "act"), finished("A", "act"))
    cmds = s.handle(retire("A"))
    assert [(c.worker, c.keys) for c in of(cmds, FreezeActors)] == [("A", ["act"])]
    assert not of(cmds, RetireWorker), "not before the checkpoint is in"
    state = pickle.dumps({"n": 5})
    cmds = s.handle(ActorCheckpointed(stim("ckpt"), "A", "act", 0, state, {"caller": 3}))
    assert [c.state for c in of(cmds, KeyReport)] == ["lost"], "callers hold their calls until it is back"
    restored = s.tasks["act"].spec
    assert restored.state == state and restored.hw == {"caller": 3} and restored.incarnation == 1
    [assign] = [c for c in of(cmds, AssignTasks)]
    assert assign.worker == "B" and [t.key for t in assign.tasks] == ["act"]
    assert [c.worker for c in of(cmds, RetireWorker)] == ["A"], "nothing else kept A"
