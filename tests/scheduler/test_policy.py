"""Placement, root queuing and stealing rules, on hand-made task and worker records."""

import pytest

from graphflow.scheduler import policy
from graphflow.scheduler.model import SchedPrefix, SchedTask, SchedWorker, add_dependent

PREFIX = SchedPrefix("t")


def worker(address, nthreads=1, memory_limit=None):
    return SchedWorker(address, nthreads, memory_limit, 0.0)


def task(key, deps=(), priority=0, prefix=PREFIX, restrictions=None):
    ts = SchedTask(key, None, prefix, (1, priority))
    ts.dependencies = tuple(deps)
    for dep in deps:
        add_dependent(dep, ts)
    if restrictions is not None:
        ts.restrictions = frozenset(restrictions)
    return ts


def in_memory(key, nbytes, *holders):
    ts = task(key)
    ts.state = "memory"
    ts.nbytes = nbytes
    ts.who_has = list(holders)
    return ts


def run_on(ws, ts, cost):
    ts.state = "processing"
    ts.processing_on = ws
    ws.processing[ts] = cost
    ws.occupancy += cost
    return ts


# ---------------------------------------------------------------- durations


def test_expected_duration_defaults_until_measured():
    p = SchedPrefix("inc")
    assert policy.expected_duration(p) == policy.DEFAULT_DURATION == 0.0005
    p.record(2.0)
    p.record(4.0)
    assert policy.expected_duration(p) == 3.0  # a true mean of the first samples


def test_prefix_average_follows_drift_after_a_few_samples():
    p = SchedPrefix("inc")
    for _ in range(10):
        p.record(1.0)
    p.record(11.0)
    assert p.duration == pytest.approx(3.0)  # weight 0.2 on the newest sample


def test_transfer_cost_counts_missing_bytes_only():
    w1, w2 = worker("W1"), worker("W2")
    a, b = in_memory("a", 2 * 10**9, w1), in_memory("b", 10**9, w2)
    ts = task("c", [a, b])
    assert policy.transfer_cost(ts, w1) == pytest.approx(1.0)
    assert policy.transfer_cost(ts, w2) == pytest.approx(2.0)
    assert policy.transfer_cost(task("r"), w1) == 0.0


# -------------------------------------------------------------------- slots


@pytest.mark.parametrize("nthreads, duration, slots", [
    (1, None, 2),  # unknown: may be heavy
    (4, None, 6),
    (1, 1.0, 2),  # heavy: the base only
    (1, 0.001, 5),  # 5 ms of 1 ms tasks
    (1, 1e-5, 500),
    (2, 1e-5, 1000),
    (1, 1e-7, 1000),  # capped
    (1, 0.0, 1000),
])
def test_task_slots(nthreads, duration, slots):
    assert policy.task_slots(nthreads, duration) == slots


def test_task_slots_options():
    assert policy.task_slots(2, None, saturation=2.0) == 4
    assert policy.task_slots(1, 1e-3, budget=0.05, cap=20) == 20


# ----------------------------------------------------------------- root-ish


def test_rootish():
    assert policy.is_rootish(task("r"), 4)
    assert not policy.is_rootish(task("r", restrictions={"W1"}), 4)
    shared = task("shared")
    many = [task(("f", i), [shared]) for i in range(8)]
    assert not policy.is_rootish(many[0], 4)  # 8 readers: not more than 2 x 4 threads
    task(("f", 8), [shared])
    assert policy.is_rootish(many[0], 4)  # 9 readers
    own = task("own")
    mixed = task("mixed", [shared, own])
    assert not policy.is_rootish(mixed, 4)  # one input is its own: place it by bytes
    wide = task("wide", [task(f"in{i}") for i in range(5)])
    assert not policy.is_rootish(wide, 0)


# ---------------------------------------------------------------- placement


def test_decide_worker_prefers_bytes_held():
    w1, w2, w3 = worker("W1"), worker("W2"), worker("W3")
    workers = {w.address: w for w in (w1, w2, w3)}
    a, b, c = in_memory("a", 100, w1), in_memory("b", 60, w2), in_memory("c", 60, w2)
    run_on(w2, task("busy"), 100.0)
    assert policy.decide_worker(task("x", [a, b, c]), workers) is w2  # 120 bytes beat 100, busy or not
    assert policy.decide_worker(task("y", [a, b]), workers) is w1


def test_decide_worker_breaks_ties_by_occupancy_per_thread_then_count():
    w1, w2 = worker("W1", nthreads=1), worker("W2", nthreads=4)
    workers = {"W1": w1, "W2": w2}
    a = in_memory("a", 10, w1, w2)
    run_on(w1, task("p1"), 1.0)
    run_on(w2, task("p2"), 2.0)  # more seconds, but over 4 threads
    assert policy.decide_worker(task("x", [a]), workers) is w2
    # equal occupancy: fewer tasks wins
    w3, w4 = worker("W3"), worker("W4")
    b = in_memory("b", 10, w3, w4)
    run_on(w3, task("q1"), 0.0)
    assert policy.decide_worker(task("y", [b]), {"W3": w3, "W4": w4}) is w4


def test_decide_worker_without_inputs_picks_the_least_occupied():
    w1, w2 = worker("W1"), worker("W2")
    run_on(w1, task("p"), 0.5)
    assert policy.decide_worker(task("r"), {"W1": w1, "W2": w2}) is w2
    assert policy.decide_worker(task("r"), {}) is None


def test_decide_worker_respects_restrictions():
    w1, w2, w3 = worker("W1"), worker("W2"), worker("W3")
    workers = {w.address: w for w in (w1, w2, w3)}
    a = in_memory("a", 1000, w1)
    b = in_memory("b", 10, w2)
    assert policy.decide_worker(task("x", [a, b], restrictions={"W2", "W3"}), workers) is w2
    # no allowed worker holds an input: the least occupied allowed one
    run_on(w2, task("p"), 1.0)
    assert policy.decide_worker(task("y", [a], restrictions={"W2", "W3"}), workers) is w3
    assert policy.decide_worker(task("z", [a], restrictions={"W9"}), workers) is None
    assert list(policy.valid_workers(task("v", restrictions={"W1", "W9"}), workers)) == [w1]


# ----------------------------------------------------------------- stealing


LONG = SchedPrefix("long")
LONG.duration = 1.0


def busy_victim(n=4, nthreads=1, input_bytes=10):
    victim, thief = worker("V", nthreads), worker("T")
    x = in_memory("x", input_bytes, victim)
    tasks = [run_on(victim, task(("y", i), [x], priority=i, prefix=LONG), 1.0) for i in range(n)]
    return victim, thief, tasks


def test_steal_takes_the_latest_tasks_while_it_helps():
    victim, thief, tasks = busy_victim(4)
    plan = policy.steal_plan(thief, [victim, thief], {})
    # V: 4 s on 1 thread; taking y3 (T ~1 s, V 3 s) and y2 (T ~2 s, V 2 s) both help
    assert plan == [(tasks[3], victim), (tasks[2], victim)]


def test_steal_never_takes_the_first_nthreads_tasks():
    victim, thief, tasks = busy_victim(3, nthreads=2)
    plan = policy.steal_plan(thief, [victim, thief], {})
    assert [ts.key for ts, _ in plan] == [("y", 2)]
    victim, thief, tasks = busy_victim(2, nthreads=2)
    assert policy.steal_plan(thief, [victim, thief], {}) == []


def test_steal_skips_tasks_in_flight_and_counts_them_against_the_budget():
    victim, thief, tasks = busy_victim(6)
    plan = policy.steal_plan(thief, [victim, thief], {tasks[5]: (victim, thief)})
    assert [ts.key for ts, _ in plan] == [("y", 4)]  # budget 2, one already in flight


def test_steal_skips_expensive_transfers_and_restricted_tasks():
    victim, thief, tasks = busy_victim(4, input_bytes=5 * 10**9)  # 5 s to move for a 1 s task
    assert policy.steal_plan(thief, [victim, thief], {}) == []
    victim, thief, tasks = busy_victim(4)
    tasks[3].restrictions = frozenset({"V"})
    assert [ts.key for ts, _ in policy.steal_plan(thief, [victim, thief], {})] == [("y", 2), ("y", 1)]


def test_steal_prefers_cheap_transfers():
    victim, thief = worker("V"), worker("T")
    near = in_memory("near", 10, victim, thief)
    far = in_memory("far", 10, victim)
    run_on(victim, task("first", [far], priority=0, prefix=LONG), 1.0)
    cheap = run_on(victim, task("cheap", [near], priority=1, prefix=LONG), 1.0)
    run_on(victim, task("costly", [far], priority=2, prefix=LONG), 1.0)
    plan = policy.steal_plan(thief, [victim, thief], {})
    assert plan[0] == (cheap, victim)


def test_no_steal_from_a_lighter_or_idle_worker():
    victim, thief, tasks = busy_victim(4)
    for i in range(4):
        run_on(thief, task(("z", i), prefix=LONG), 2.0)
    assert policy.steal_plan(thief, [victim, thief], {}) == []


# -------------------------------------------------------------- scattering


def test_choose_worker_for_data():
    w1, w2, w3 = worker("W1", memory_limit=1000), worker("W2", memory_limit=100), worker("W3")
    w1.nbytes, w2.nbytes, w3.nbytes = 500, 0, 800
    assert policy.choose_worker_for_data([w1, w2, w3], 50) is w2
    assert policy.choose_worker_for_data([w1, w2, w3], 400) is w1  # does not fit W2
    w1.nbytes = 900
    assert policy.choose_worker_for_data([w1, w2, w3], 400) is w3  # no limit
    assert policy.choose_worker_for_data([], 1) is None


def test_decide_worker_avoids_paused_workers():
    w1, w2 = worker("W1"), worker("W2")
    workers = {"W1": w1, "W2": w2}
    a = in_memory("a", 100, w1)
    w1.paused = True
    # the only holder is paused: a running worker fetches the input instead
    assert policy.decide_worker(task("x", [a]), workers) is w2
    run_on(w2, task("busy"), 100.0)
    assert policy.decide_worker(task("r"), workers) is w2  # busy beats paused
    w2.paused = True  # everyone paused: the holder, where the task starts first once memory frees
    assert policy.decide_worker(task("y", [a]), workers) is w1


# ---------------------------------------------------------------- short of room


def test_workers_short_of_room_take_root_tasks_only_when_none_can_spill():
    w1, w2, w3 = worker("W1"), worker("W2"), worker("W3")
    for ws in (w1, w2, w3):
        ws.paused = ws.over_target = True
    w1.spill_error = w2.spill_error = "disk full"
    workers = {ws.address: ws for ws in (w1, w2, w3)}
    assert policy.short_of_room_only(workers) == []  # W3 can spill its way back: wait for it
    assert policy.short_of_room_only(workers, closing={"W3": None}) == [w1, w2]  # W3 is leaving
    w3.spill_error = "max_spill reached"
    assert policy.short_of_room_only(workers, closing={"W1": None}) == [w2, w3]
