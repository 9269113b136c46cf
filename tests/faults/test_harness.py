"""The fault harness itself: a hang, a wrong answer and an un-named error are each told apart and reported."""

import threading

import pytest

from benchmarks.fault_inject import WrongAnswer, kill_plan, run_once

_gate = threading.Event()


def wait_forever(_):
    _gate.wait(600)


def never_ends(ctx):
    """Waits on a task that never finishes, without a bound of its own: only the run's bound ends it."""
    ctx.waiting.append(future := ctx.client.submit(wait_forever, 1, pure=False))
    future.result()


def wrong(ctx):
    raise WrongAnswer("2 + 2 is 5")


def unnamed(ctx):
    raise KeyError("boom")


def test_a_hang_is_reported_with_the_schedulers_state_within_the_bound():
    run = run_once(never_ends, seed=0, bound=3, kills=(0, 0))
    assert run.outcome == "hang" and 3 <= run.seconds < 30  # slack for a loaded 2-core machine
    assert "not done: 1 of 1" in run.detail and "wait_forever" in run.detail
    assert "processing 1" in run.detail  # the scheduler's view: the worker running it
    assert "thread fault-never_ends" in run.detail  # where this process waits


@pytest.mark.parametrize("workload, outcome, text", [(wrong, "wrong", "2 + 2 is 5"), (unnamed, "error", "KeyError")])
def test_wrong_answers_and_unnamed_errors_are_failures(workload, outcome, text):
    run = run_once(workload, seed=0, bound=30, kills=(0, 0))
    assert run.outcome == outcome and text in run.describe()


def test_the_kill_plan_depends_on_the_seed_alone():
    assert kill_plan(5, (1, 3), (0.2, 2.0)) == kill_plan(5, (1, 3), (0.2, 2.0))
    plans = [kill_plan(seed, (1, 3), (0.2, 2.0)) for seed in range(20)]
    assert len({len(p) for p in plans}) == 3 and len({tuple(p) for p in plans}) == 20
    assert all(0.2 <= at <= 2.0 and 0 <= pick < 1 for p in plans for at, pick in p)
