"""kill -9 of random workers during the array, dataframe, actor and elastic workloads: right answer or a named error.

Each test is one run of `benchmarks.fault_inject.run_once`: a fresh LocalCluster (3 workers x 1 thread;
2 under ``adapt(2, 4)`` for elastic), the workload of `benchmarks.fault_workloads` in a thread, and a
killer thread that SIGKILLs 1-3 workers at times drawn from the seed; the cluster's supervisor
restarts them.  Every answer is checked against numpy / pandas / plain Python inside the workload,
and every wait is bounded: a run that does not end within `BOUND` fails with the scheduler's state.
``python -m benchmarks faults`` runs the same workloads at 20 seeds each.

    seed -> kill plan ----> killer:   kill -9 ......... kill -9 ....
                            workload: submit --------------------------> check vs reference
"""

import pytest

from benchmarks.fault_inject import run_once
from benchmarks.fault_workloads import WORKLOADS

SEEDS = (0, 1, 2)  # python -m benchmarks faults runs 20 seeds from 0 (and --first-seed for more)
BOUND = 60.0  # seconds a run may take (a fault-free one takes 1-5 s) before it counts as hung


def ended_well(run, named=()):
    """The run gave the right answer, or ended with one of the ``named`` errors; else fail, saying everything."""
    if run.outcome == "right":
        return
    assert run.outcome == "named" and run.error.split(":")[0] in named, run.describe()


@pytest.mark.parametrize("seed", SEEDS)
def test_array_survives_kill_9(seed):
    run = run_once(WORKLOADS["array"], seed, bound=BOUND)
    # Three strikes make KilledWorkerError: a task running on each of three killed workers in turn.
    ended_well(run, named=("KilledWorkerError",) if len(run.kills) >= 3 else ())


@pytest.mark.parametrize("seed", SEEDS)
def test_dataframe_survives_kill_9(seed):
    run = run_once(WORKLOADS["dataframe"], seed, bound=BOUND)
    ended_well(run, named=("KilledWorkerError",) if len(run.kills) >= 3 else ())


@pytest.mark.parametrize("seed", SEEDS)
def test_actors_recover_or_die_as_documented(seed):
    """The first kill takes the host of both actors while calls go on.  The restartable one
    (max_restarts=10, checkpoint_every=40) answers every call as if nothing happened; the plain one
    raises ActorDiedError naming it from then on (the workload checks both, and re-raises that error)."""
    run = run_once(WORKLOADS["actor"], seed, bound=BOUND)
    assert run.kills, run.describe()  # the first kill is planned within 1 s; the calls take longer
    assert run.outcome == "named" and run.error.startswith("ActorDiedError: actor 'Tally"), run.describe()
    assert any("Hash recreated" in note and "recreated 0 times" not in note for note in run.notes), run.describe()


@pytest.mark.parametrize("seed", SEEDS)
def test_elastic_cluster_survives_kill_9(seed):
    """adapt(2, 4) grows the cluster for a queue of squares and retires workers (moving their results) as it
    drains, while workers are killed; the sum of the squares plus one is right."""
    run = run_once(WORKLOADS["elastic"], seed, bound=BOUND)
    ended_well(run, named=("KilledWorkerError",) if len(run.kills) >= 3 else ())
