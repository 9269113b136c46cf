"""Graceful retirement on real processes: results move (never recomputed), queued work moves, actors move.

Every task appends its key to a file in ``tmp_path`` when it runs, so "ran once" is counted by the
workers themselves, across processes.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import graphflow as gf
from graphflow.errors import RetireError
from graphflow.testing.wait import wait_for

MiB = 2**20


def logged_array(path, i, n):
    with open(path, "a") as f:
        f.write(f"array-{i}\n")
    return np.full(n, float(i))


def logged_sleep(path, i, seconds):
    with open(path, "a") as f:
        f.write(f"sleep-{i}\n")
    time.sleep(seconds)
    return i


def runs(path) -> list:
    try:
        with open(path) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


@gf.actor
class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n


def workers_of(client) -> list:
    return sorted(client.scheduler_info()["workers"])


def test_retiring_worker_hands_its_500mb_of_results_to_the_others(tmp_path):
    log = str(tmp_path / "runs")
    with gf.LocalCluster(n_workers=3, threads_per_worker=1, memory_limit="2GiB", dashboard_address=None) as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        a, b, c = workers_of(client)
        n = 125 * MiB // 8
        futs = [client.submit(logged_array, log, i, n, workers=[a], pure=False) for i in range(4)]
        gf.wait(futs)
        assert all(holders == [a] for holders in client.who_has(futs).values())
        assert client.retire_workers([a]) == [a]
        holders = client.who_has(futs)
        assert all(where and a not in where and set(where) <= {b, c} for where in holders.values()), holders
        assert workers_of(client) == [b, c]
        values = client.gather(futs)
        for i, v in enumerate(values):
            assert v.shape == (n,) and v[0] == v[-1] == float(i)
        assert sorted(runs(log)) == [f"array-{i}" for i in range(4)], "each ran once: nothing recomputed"
        assert client.retire_workers(["tcp://127.0.0.1:1"]) == [], "unknown workers are skipped"


def test_queued_tasks_move_and_none_runs_twice(tmp_path):
    log = str(tmp_path / "runs")
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=None, dashboard_address=None) as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        a, b = workers_of(client)
        futs = [client.submit(logged_sleep, log, i, 0.2, pure=False) for i in range(12)]
        wait_for(lambda: len(runs(log)) >= 2, timeout=30, what="both workers busy")  # so a has a task running
        assert client.retire_workers([a]) == [a]
        assert client.gather(futs) == list(range(12))
        ran = runs(log)
        assert sorted(ran) == sorted(f"sleep-{i}" for i in range(12)), f"a task ran twice or never: {ran}"
        assert set(client.who_has(futs)[futs[-1].key]) == {b}


def test_an_actor_on_a_retiring_worker_keeps_its_state():
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=None, dashboard_address=None) as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        a, b = workers_of(client)
        counter = client.actor(Counter, 10, workers=[a])
        assert [f.result() for f in [counter.add(1) for _ in range(5)]][-1] == 15
        pending = [counter.add(1) for _ in range(50)]  # in flight while it moves
        assert client.retire_workers([a]) == [a]
        later = [counter.add(1) for _ in range(5)]
        assert [f.result(timeout=30) for f in pending + later] == list(range(16, 71)), "no call lost or run twice"
        assert client.who_has()[counter.key] == [b], "the actor's key now lives on b"
        assert counter.add(0).result(timeout=30) == 70


def test_impossible_retirement_raises_retire_error_without_hanging(tmp_path):
    log = str(tmp_path / "runs")
    with gf.LocalCluster(n_workers=1, threads_per_worker=1, memory_limit=None, dashboard_address=None) as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        [a] = workers_of(client)
        fut = client.submit(logged_array, log, 7, 1000, pure=False)
        fut.result()
        start = time.monotonic()
        with pytest.raises(RetireError, match="only worker") as info:
            client.retire_workers([a])
        assert time.monotonic() - start < 10
        assert info.value.workers == [a] and info.value.left[a]["keys"] == [fut.key]
        assert workers_of(client) == [a], "it keeps running"
        assert fut.result()[0] == 7.0 and runs(log) == ["array-7"]
        more = client.submit(logged_array, log, 8, 10, pure=False)
        assert more.result()[0] == 8.0, "it takes new work again"
