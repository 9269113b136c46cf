"""The adaptive policy (graphflow.scheduler.adaptive): observations in, worker counts and retirees out."""

import pytest

from graphflow.scheduler.adaptive import (
    Observation, PrefixLoad, ScaleDecider, WorkerLoad, observe, recommend, retire_order,
)
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, heartbeat, joined


def workers(n, **kw):
    return tuple(WorkerLoad(f"tcp://w{i}", **kw) for i in range(n))


def sleeps(n, duration=0.2):
    return (PrefixLoad("sleep", n, duration),)


# ---------------------------------------------------------------- compute


def test_a_queue_asks_for_workers_at_once():
    obs = Observation(workers(1), sleeps(100))  # 20 s of work, 5 s target -> 4 threads
    rec = recommend(obs, minimum=1, maximum=8, target_duration=5.0)
    assert rec.target == 4 and rec.retire == ()
    assert ScaleDecider(wait_count=3).decide(current=1, target=rec.target) == 4  # first check suffices


def test_unmeasured_prefixes_count_half_a_second_each():
    obs = Observation(workers(1), (PrefixLoad("new", 40, None),))
    assert recommend(obs, 0, None, target_duration=5.0).target == 4  # 40 * 0.5 s / 5 s


def test_never_more_threads_than_ready_tasks():
    obs = Observation(workers(1), sleeps(2, duration=100.0))
    assert recommend(obs, 0, 10).target == 2


def test_multithreaded_workers_count_their_threads():
    obs = Observation(workers(1, nthreads=4), sleeps(100))
    assert recommend(obs, 0, 10).target == 1
    obs = Observation(workers(1, nthreads=2), sleeps(100))
    assert recommend(obs, 0, 10).target == 2


def test_idle_goes_to_minimum_and_no_workers_is_fine():
    assert recommend(Observation(workers(3), ()), minimum=1, maximum=4).target == 1
    assert recommend(Observation((), ()), minimum=0, maximum=4).target == 0
    assert recommend(Observation((), sleeps(10)), minimum=0, maximum=4).target == 1


def test_minimum_and_maximum_bound_the_target():
    assert recommend(Observation(workers(1), sleeps(10_000)), 1, 3).target == 3
    assert recommend(Observation(workers(1), sleeps(10_000)), 1, None).target == 400  # 2000 s / 5 s
    assert recommend(Observation(workers(5), ()), 2, 6).target == 2
    assert recommend(Observation(workers(1), ()), 3, 3).target == 3


# ---------------------------------------------------------------- memory


def test_paused_worker_with_pending_work_adds_one():
    gib = 2**30
    ws = (WorkerLoad("tcp://a", limit=gib, managed=gib // 10, paused=True), WorkerLoad("tcp://b", limit=gib))
    rec = recommend(Observation(ws, sleeps(1, duration=0.001)), 1, 8)
    assert rec.target == 3 and rec.reasons["memory"] == 3


def test_most_workers_over_target_adds_one_but_not_when_idle():
    gib = 2**30
    ws = tuple(WorkerLoad(f"tcp://{i}", limit=gib, managed=gib // 10, over_target=i < 2) for i in range(3))
    assert recommend(Observation(ws, sleeps(1, duration=0.001)), 1, 8).target == 4
    assert recommend(Observation(ws, ()), 1, 8).target == 1  # nothing to run: a new worker would sit idle
    one_over = tuple(WorkerLoad(f"tcp://{i}", limit=gib, over_target=i == 0) for i in range(3))
    assert recommend(Observation(one_over, sleeps(1, duration=0.001)), 1, 8).target == 1


def test_held_results_keep_enough_workers_when_idle():
    gib = 2**30
    ws = tuple(WorkerLoad(f"tcp://{i}", limit=gib, managed=int(0.5 * gib)) for i in range(4))
    rec = recommend(Observation(ws, ()), 1, 8)
    assert rec.target == 4  # 2 GiB under 0.6 GiB per worker: 4 workers
    assert len(rec.retire) == 0
    light = tuple(WorkerLoad(f"tcp://{i}", limit=gib, managed=gib // 10) for i in range(4))
    assert recommend(Observation(light, ()), 1, 8).target == 1


# ---------------------------------------------------------------- hysteresis


def test_scale_down_only_after_wait_count_quiet_checks():
    d = ScaleDecider(wait_count=3)
    assert [d.decide(4, 1), d.decide(4, 1), d.decide(4, 1)] == [None, None, 1]
    assert [d.decide(4, 1), d.decide(4, 4), d.decide(4, 1), d.decide(4, 1)] == [None, None, None, None]
    assert d.decide(4, 1) == 1  # the streak was broken by the check that wanted 4
    assert [d.decide(4, 2), d.decide(4, 1), d.decide(4, 1)] == [None, None, 2]  # the largest of the streak
    assert [d.decide(4, 1), d.decide(4, 6)] == [None, 6]  # up at once, and the down streak restarts
    assert [d.decide(6, 1), d.decide(6, 1), d.decide(6, 1)] == [None, None, 1]


def test_wait_count_one_scales_down_at_once():
    assert ScaleDecider(wait_count=1).decide(4, 2) == 2


# ---------------------------------------------------------------- who leaves


def test_least_data_leaves_first():
    ws = (WorkerLoad("tcp://big", nbytes=10**9), WorkerLoad("tcp://small", nbytes=10),
          WorkerLoad("tcp://mid", nbytes=10**6))
    rec = recommend(Observation(ws, ()), 1, 4)
    assert rec.target == 1
    assert rec.retire == ("tcp://small", "tcp://mid")
    assert rec.order == ("tcp://small", "tcp://mid", "tcp://big")


def test_never_the_only_copy_of_a_pending_input_when_another_worker_can_go():
    ws = (WorkerLoad("tcp://holder", nbytes=100, pending_only=100),
          WorkerLoad("tcp://heavy", nbytes=10**9),  # more bytes, but all of them copies or unneeded
          WorkerLoad("tcp://light", nbytes=5))
    assert recommend(Observation(ws, ()), 2, 4).retire == ("tcp://light",)
    assert recommend(Observation(ws, ()), 1, 4).retire == ("tcp://light", "tcp://heavy")
    assert retire_order(ws)[-1] == "tcp://holder"


def test_when_every_worker_holds_pending_data_the_least_goes():
    ws = (WorkerLoad("tcp://a", nbytes=100, pending_only=100), WorkerLoad("tcp://b", nbytes=900, pending_only=50))
    assert recommend(Observation(ws, ()), 1, 4).retire == ("tcp://b",)


def test_actor_hosts_leave_after_workers_without_actors():
    ws = (WorkerLoad("tcp://actor", actors=1), WorkerLoad("tcp://data", nbytes=1000))
    assert retire_order(ws) == ["tcp://data", "tcp://actor"]


# ---------------------------------------------------------------- observing a SchedulerState


def test_observe_reads_ready_work_and_only_copies():
    """a-1 finished on A; b-1 and b-2 read it and are ready (processing on A); B is idle.

        a-1 (on A, 100 bytes)
        /  \\
      b-1  b-2
    """
    s = SchedulerState(validate=True)
    s.handle(joined("A"), graph({"a-1": ()}, wanted=["a-1"]))
    assert s.task_state("a-1") == "processing"
    s.handle(finished("A", "a-1", nbytes=100, duration=0.5), joined("B"))
    s.handle(graph({("b", 1): ("a-1",), ("b", 2): ("a-1",)}))
    obs = observe(s)
    loads = {w.address: w for w in obs.workers}
    assert loads["A"].nbytes == 100 and loads["A"].pending_only == 100
    assert loads["B"].nbytes == 0 and loads["B"].pending_only == 0
    assert {p.name: p.ready for p in obs.prefixes} == {"b": 2}
    rec = recommend(obs, 1, 4)
    assert rec.order == ("B", "A") and rec.retire == ("B",)


def test_observe_counts_queued_root_tasks_and_memory_reports():
    s = SchedulerState(validate=True)
    roots = {("sleep", i): () for i in range(50)}
    s.handle(joined("A", memory_limit=1000), graph(roots))
    s.handle(heartbeat("A", 1.0, memory=700, rss=900, paused=True))
    obs = observe(s)
    assert s.queued_count > 0
    assert {p.name: p.ready for p in obs.prefixes} == {"sleep": 50}
    (load,) = obs.workers
    assert load.paused and load.managed == 700 and load.limit == 1000
    assert recommend(obs, 1, 4).target == 4  # 50 unmeasured tasks: 25 s of work


@pytest.mark.parametrize("minimum,maximum", [(0, 0), (2, 2)])
def test_fixed_size_means_fixed_size(minimum, maximum):
    for obs in (Observation(workers(1), sleeps(1000)), Observation(workers(4), ())):
        assert recommend(obs, minimum, maximum).target == minimum


def test_observe_leaves_out_workers_already_retiring():
    from graphflow.scheduler.retire import RetireWorkers
    from graphflow.testing.events import stim

    s = SchedulerState(validate=True)
    s.handle(joined("A"), joined("B"), graph({"a-1": ()}, wanted=["a-1"]))
    holder = s.processing("A") and "A" or "B"
    s.handle(finished(holder, "a-1", nbytes=100))
    s.handle(RetireWorkers(stim("retire"), [holder], 1, 0.0, 60.0, False))  # waits for the copy to land
    assert holder in s.retiring.closing
    assert [w.address for w in observe(s).workers] == [{"A": "B", "B": "A"}[holder]]
