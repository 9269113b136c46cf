"""Actors on a cluster: eager handles, pipelined calls, handles in tasks, release, and surviving kill -9."""

import gc
import os
import signal
import threading

import pytest

import graphflow as gf
from graphflow.errors import ActorDiedError
from graphflow.testing.cluster import InProcessCluster
from graphflow.testing.wait import wait_for


@gf.actor
class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n

    def fail(self):
        self.n = -1
        raise KeyError("broken on purpose")


@gf.actor(max_restarts=3, checkpoint_every=100)
class Hash:
    """Order-sensitive state: any lost, repeated or reordered call changes every later value."""

    def __init__(self):
        self.h = 0
        self.calls = 0

    def push(self, k):
        self.h = (self.h * 31 + k) % 1_000_003
        self.calls += 1
        return self.h


def fault_free(n):
    h, out = 0, []
    for k in range(n):
        h = (h * 31 + k) % 1_000_003
        out.append(h)
    return out


def use_counter(handle, k):
    return handle.add(k).result(timeout=30)


@pytest.fixture(scope="module")
def client():
    with InProcessCluster(n_workers=2) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False) as c:
            c.test_cluster = cluster
            yield c


def test_eager_handle_pipelines_calls(client):
    h = client.actor(Counter, 10)
    futs = [h.add(1) for _ in range(2000)]
    assert isinstance(futs[0], gf.Future)
    assert client.gather(futs) == list(range(11, 2011))
    assert h.n.result(timeout=10) == 2010
    assert h.address in [w.address for w in client.test_cluster.workers]


def test_exception_reaches_caller_and_state_survives(client):
    h = client.actor(Counter, 1)
    with pytest.raises(KeyError, match="broken on purpose") as info:
        h.fail().result(timeout=10)
    assert "in fail" in str(info.value.__cause__)  # the remote traceback
    assert h.add(5).result(timeout=10) == 4  # the actor kept running, with the state fail() left


def test_four_threads_each_keep_their_order(client):
    h = client.actor(Counter, 0)
    results = {}

    def caller(i):
        results[i] = [f.result(timeout=30) for f in [h.add(1) for _ in range(250)]]

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = sorted(v for vs in results.values() for v in vs)
    assert every == list(range(1, 1001))  # one at a time: no update lost
    for vs in results.values():
        assert vs == sorted(vs)


def test_handle_passed_into_tasks(client):
    h = client.actor(Counter, 0)
    futs = client.map(use_counter, [h] * 5, [1, 2, 3, 4, 5], pure=False)
    client.gather(futs)
    assert h.n.result(timeout=10) == 15


def test_lazy_actor_computed_on_a_client(client):
    c = Counter(10)
    total = gf.delayed(sum)([c.add(i) for i in range(3)])
    last = c.add(100)  # made after the three calls inside total
    assert gf.compute(last, total, scheduler=client) == (113, 10 + 11 + 13)


def test_actor_placed_where_asked_and_spread_by_load(client):
    workers = client.test_cluster.workers
    target = workers[1].address
    pinned = [client.actor(Counter, workers=[target]) for _ in range(3)]
    assert {h.address for h in pinned} == {target}
    counts = {w.address: len(w.actors.actors) for w in workers}
    fewest = min(counts, key=counts.get)
    assert counts[fewest] < counts[target]
    assert client.actor(Counter).address == fewest


def test_no_actor_left_after_handles_are_dropped(client):
    workers = client.test_cluster.workers

    def make():
        h = client.actor(Counter, 0)
        client.gather([h.add(1) for _ in range(10)])
        assert any(h.key in w.actors.actors for w in workers)
        return h.key

    key = make()

    def gone():
        gc.collect()  # a handle caught in a reference cycle is released only when collected
        return not any(key in w.actors.actors for w in workers)

    wait_for(gone, timeout=10, what="the actor leaving its worker")


def test_scheduler_forgets_released_actors(client):
    def make():
        h = client.actor(Hash)
        h.push(1).result(timeout=10)
        return h.key

    key = make()
    state = client.test_cluster.scheduler.state

    def forgotten():
        gc.collect()  # as above
        return key not in state.actors.records

    wait_for(forgotten, timeout=10, what="the scheduler forgetting the actor")


def _pid_of(client, address):
    return client.scheduler_info()["workers"][address]["pid"]


@pytest.mark.slow
def test_kill_9_mid_calls_replays_to_the_fault_free_state_and_exhausted_restarts_raise():
    with gf.Client(n_workers=2, threads_per_worker=1, set_as_default=False) as client:
        h = client.actor(Hash)
        pid = _pid_of(client, h.address)
        futs = []
        for k in range(2000):
            futs.append(h.push(k))
            if k == 1000:
                os.kill(pid, signal.SIGKILL)
        assert client.gather(futs) == fault_free(2000)  # each result once, from the right state
        assert h.calls.result(timeout=30) == 2000  # no call lost or run twice
        assert h.incarnation == 1

        plain = client.actor(Counter, 0)  # no restarts asked for
        assert plain.add(1).result(timeout=30) == 1
        os.kill(_pid_of(client, plain.address), signal.SIGKILL)

        def died():  # calls succeed until the client learns that the worker is gone
            try:
                plain.add(1).result(timeout=30)
            except ActorDiedError as exc:
                return exc

        error = wait_for(died, timeout=30, what="the actor's death reaching its handle")
        assert "not asked to survive" in str(error) and error.actor == plain.key
