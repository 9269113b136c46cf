"""Actors on the local executors: graph nodes, call order, errors, and the instance's home."""

import os
import threading

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.actor import ActorCall, ActorCreate, pinned_count


@gf.actor
class Counter:
    def __init__(self, start=0):
        self.n = start
        self.pid = os.getpid()

    def add(self, k=1):
        self.n += k
        return self.n

    def where(self):
        return self.pid

    def fail(self):
        self.n = -1
        raise ValueError(f"failed at {self.n}")


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_calls_run_in_call_order(scheduler):
    c = Counter(10)
    assert gf.compute(c.add(1), c.add(2), scheduler=scheduler) == (11, 13)


def test_graph_has_create_and_ordered_calls():
    """create -> add(1) -> add(2): each call depends on the create node and on the call before it."""
    c = Counter(0)
    a, b = c.add(1), c.add(2)
    graph = b.__graphflow_graph__()
    create = graph[c.key]
    assert isinstance(create, ActorCreate) and isinstance(graph[b.key], ActorCall)
    assert graph[b.key].dependencies == (c.key, a.key)
    assert graph[b.key].after == a.key


def test_calls_mix_with_tasks_and_lazy_arguments():
    c = Counter(0)
    total = delayed(sum)([c.add(i) for i in range(5)])
    assert total.compute(scheduler="threads") == 0 + 1 + 3 + 6 + 10
    d = Counter(delayed(lambda: 100)())
    assert d.add(delayed(lambda: 5)()).compute(scheduler="sync") == 105


def test_field_reads_are_calls():
    c = Counter(3)
    add = c.add(4)
    assert gf.compute(add, c.n, scheduler="sync") == (7, 7)


def test_four_threads_building_calls_keep_each_callers_order():
    c = Counter(0)
    calls = {i: [] for i in range(4)}

    def build(i):
        for _ in range(250):
            calls[i].append(c.add(1))

    threads = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [x for i in range(4) for x in calls[i]]
    values = gf.compute(*flat, scheduler="threads", num_workers=4)
    assert sorted(values) == list(range(1, 1001))  # one at a time: every count seen once
    for i in range(4):
        mine = list(values[i * 250:(i + 1) * 250])
        assert mine == sorted(mine)  # each caller's calls in its order


def test_exception_keeps_type_and_actor_keeps_state():
    c = Counter(5)
    with pytest.raises(ValueError, match="failed at -1"):
        c.fail().compute(scheduler="sync")


def test_processes_pin_each_actor_to_one_child_and_release_it():
    actors = [Counter(i) for i in range(3)]
    calls = [(a.add(1), a.where()) for a in actors for _ in range(5)]
    out = gf.compute(*[w for _, w in calls], scheduler="processes", num_workers=3)
    for k in range(3):
        assert len(set(out[k * 5:(k + 1) * 5])) == 1
    leftover = gf.compute(*[delayed(pinned_count, pure=False)() for _ in range(6)], scheduler="processes",
                          num_workers=3)
    assert set(leftover) == {0}


def test_wrong_use_says_what_to_do():
    c = Counter(0)
    with pytest.raises(AttributeError, match="private"):
        c._secret
    import pickle

    with pytest.raises(TypeError, match="client.actor"):
        pickle.dumps(c)
    with pytest.raises(ValueError, match="checkpoint_every"):
        gf.actor(checkpoint_every=0)


def test_max_concurrency_drops_ordering_edges():
    @gf.actor(max_concurrency=4)
    class Free:
        def get(self, x):
            return x

    f = Free()
    a, b = f.get(1), f.get(2)
    assert b.__graphflow_graph__()[b.key].after is None
    assert gf.compute(a, b, scheduler="threads") == (1, 2)


def test_async_methods_run_to_completion():
    @gf.actor
    class Slow:
        def __init__(self):
            self.seen = []

        async def put(self, x):
            import asyncio

            await asyncio.sleep(0)
            self.seen.append(x)
            return list(self.seen)

    s = Slow()
    assert gf.compute(s.put(1), s.put(2), scheduler="sync") == ([1], [1, 2])
