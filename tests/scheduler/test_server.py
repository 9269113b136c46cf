"""The scheduler and worker shells over the in-process transport (no processes, no TCP)."""

import gc
import time

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.testing.cluster import InProcessCluster
from graphflow.testing.wait import wait_for


def inc(x):
    return x + 1


def add(*xs):
    return sum(xs)


def slow_inc(x, delay=0.02):
    time.sleep(delay)
    return x + 1


@pytest.fixture
def cluster():
    with InProcessCluster(n_workers=2, nthreads=1) as c:
        yield c


@pytest.fixture
def client(cluster):
    with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as c:
        yield c


def test_a_graph_runs_and_every_state_stays_valid(cluster, client):
    total = delayed(add)(*[delayed(inc)(i) for i in range(200)])
    assert gf.compute(total, scheduler=client)[0] == sum(range(1, 201))
    cluster.call(cluster.scheduler.state.validate_state)
    for w in cluster.workers:
        cluster.call(w.state.validate_state)
    assert cluster.scheduler.tasks_executed >= 201


def test_results_are_forgotten_everywhere_once_released(cluster, client):
    futs = client.map(inc, range(50))
    assert client.gather(futs) == list(range(1, 51))
    assert cluster.call(lambda: len(cluster.scheduler.state.tasks)) == 50
    del futs
    gc.collect()
    wait_for(lambda: not cluster.call(lambda: len(cluster.scheduler.state.tasks)) and not any(
        cluster.call(lambda w=w: len(w.state.data)) for w in cluster.workers), timeout=10, what="keys released")


def test_work_spreads_over_both_workers(cluster, client):
    futs = client.map(slow_inc, range(40))
    client.gather(futs)
    holders = {w for ws in client.who_has(futs).values() for w in ws}
    assert holders == {w.address for w in cluster.workers}


def test_a_worker_that_leaves_cleanly_loses_nothing(cluster, client):
    x = delayed(0)
    for _ in range(30):
        x = delayed(slow_inc)(x)
    fut = client.compute(x)  # one task once fused: 30 links, 0.6 s
    # the worker running it leaves mid-run; the task runs again on the other one
    worker = wait_for(lambda: cluster.call(lambda: next((w for w in cluster.workers if w.state.executing), None)),
                      timeout=10, what="the chain running on a worker")
    cluster.call(worker.close, "retired in a test")
    assert not fut.done(), "the chain finished before the worker left: nothing was tested"
    assert fut.result(timeout=30) == 30
    cluster.call(cluster.scheduler.state.validate_state)


def test_story_explains_a_key(client):
    fut = client.submit(inc, 41)
    assert fut.result(timeout=10) == 42
    story = client.story(fut.key)
    text = " ".join(" ".join(record) for record in story)
    assert "processing" in text and "memory" in text
