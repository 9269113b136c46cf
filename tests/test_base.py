import os
import threading

import networkx as nx
import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.errors import UnknownSchedulerError
from graphflow.spec import DataNode, Ref, Task, TaskGraph


@delayed
def inc(x):
    return x + 1


def where():
    return (os.getpid(), threading.get_ident())


HERE = (os.getpid(), threading.get_ident())


def test_compute_returns_a_tuple_and_passes_non_collections_through():
    a, b = inc(1), inc(2)
    assert gf.compute(a, b) == (2, 3)
    assert gf.compute(a, 5, "x") == (2, 5, "x")
    assert gf.compute() == ()
    assert gf.compute(1, [2]) == (1, [2])


def test_compute_traverses_python_containers():
    a, b = inc(1), inc(2)
    assert gf.compute([a, b], {"k": a}, (b, 1)) == ([2, 3], {"k": 2}, (3, 1))
    assert gf.compute([a], traverse=False)[0][0] is a


def test_shared_intermediates_run_once(tmp_path):
    log = tmp_path / "log"

    def side(x):
        with open(log, "a") as f:
            f.write("x")
        return x

    shared = delayed(side)(1)
    assert gf.compute(inc(shared), inc(inc(shared))) == (2, 3)
    assert log.read_text() == "x"


def test_threads_is_the_default():
    pid, thread = delayed(where)().compute()
    assert pid == os.getpid() and thread != threading.get_ident()


@pytest.mark.parametrize("name", ["sync", "synchronous", "single-threaded"])
def test_sync_runs_in_the_calling_thread(name):
    assert delayed(where)().compute(scheduler=name) == HERE


def test_processes_run_elsewhere():
    pid, _ = delayed(where)().compute(scheduler="processes")
    assert pid != os.getpid()


def test_config_set_chooses_the_scheduler():
    with gf.config.set(scheduler="sync"):
        assert delayed(where)().compute() == HERE
        # the argument wins over the config
        assert delayed(where)().compute(scheduler="threads") != HERE
    assert delayed(where)().compute() != HERE


def test_config_set_globally_and_restore():
    s = gf.config.set(scheduler="sync")
    try:
        assert gf.compute(delayed(where)())[0] == HERE
    finally:
        s.restore()
    assert gf.config.get("scheduler") is None


def test_callable_scheduler_and_get_scheduler():
    calls = []

    def my_get(graph, keys, **kw):
        calls.append((len(graph), list(keys)))
        return gf.get_scheduler("sync")(graph, keys)

    d = inc(1)
    assert d.compute(scheduler=my_get) == 2
    assert calls == [(1, [d.key])]


def test_unknown_scheduler_lists_choices():
    with pytest.raises(UnknownSchedulerError, match="'sync'.*'threads'"):
        inc(1).compute(scheduler="nope")
    with pytest.raises(UnknownSchedulerError):
        inc(1).compute(scheduler=42)


def test_num_workers_option_passes_to_the_scheduler():
    barrier = threading.Barrier(3, timeout=10)

    def meet():
        barrier.wait()
        return 1

    assert sum(gf.compute(*[delayed(meet)() for _ in range(3)], num_workers=3)) == 3


def test_persist_keeps_keys_and_values():
    calls = []

    def once(x):
        calls.append(x)
        return x * 2

    d = inc(delayed(once)(5))
    p = d.persist()
    assert p.key == d.key and calls == [5]
    graph = p.__graphflow_graph__()
    assert list(graph) == [d.key] and isinstance(graph[d.key], DataNode)
    assert p.compute() == 11 and inc(p).compute() == 12 and calls == [5]


def test_persist_many_returns_tuple():
    a, b = inc(1), inc(2)
    pa, pb, plain = gf.persist(a, b, 3)
    assert (pa.compute(), pb.compute(), plain) == (2, 3, 3)


def test_optimize_returns_equivalent_collections_sharing_one_graph():
    x = inc(inc(inc(1)))
    y = inc(x)
    x2, y2 = gf.optimize(x, y)
    assert (x2.key, y2.key) == (x.key, y.key)
    g = x2.__graphflow_graph__()
    assert g is y2.__graphflow_graph__() or list(g) == list(y2.__graphflow_graph__())
    assert len(g) < len(y.__graphflow_graph__())
    assert gf.compute(x2, y2) == (4, 5)
    (only,) = gf.optimize(x, until="cull")
    assert len(only.__graphflow_graph__()) == 3


def test_to_networkx_nodes_and_edges():
    a = inc(1)
    b = delayed(sum)([a, inc(2)])
    g = b.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 2
    assert g.nodes[b.key]["func"] == "sum" and g.nodes[a.key]["func"] == "inc"
    assert g.nodes[a.key]["key"] == a.key and g.nodes[a.key]["kind"] == "task"
    assert g.nodes[b.key]["function"] == g.nodes[b.key]["label"] == "sum"
    assert g.has_edge(a.key, b.key)
    assert nx.is_directed_acyclic_graph(g)
    assert gf.to_networkx(a, b).number_of_nodes() == 3


class Pair:
    """A minimal user-defined collection: two keys, finalized into a tuple."""

    def __init__(self, graph, k1, k2):
        self.graph, self.k1, self.k2 = graph, k1, k2

    def __graphflow_graph__(self):
        return self.graph

    def __graphflow_keys__(self):
        return [self.k1, [self.k2]]

    def __graphflow_finalize__(self):
        return finish_pair, ("tag",)

    def __graphflow_rebuild__(self, graph):
        return Pair(graph, self.k1, self.k2)


def finish_pair(results, tag):
    return (tag, results[0], results[1][0])


def make_pair():
    return Pair(TaskGraph([DataNode("p1", 1), Task("p2", lambda x: x * 10, Ref("p1"))]), "p1", "p2")


def test_custom_collection_protocol():
    p = make_pair()
    assert gf.is_collection(p) and not gf.is_collection(Pair) and not gf.is_collection(1)
    assert gf.compute(p, inc(1)) == (("tag", 1, 10), 2)
    (pp,) = gf.persist(p)
    assert gf.compute(pp) == (("tag", 1, 10),)
    (po,) = gf.optimize(p)
    assert gf.compute(po, scheduler="processes") == (("tag", 1, 10),)


def test_custom_collection_inside_delayed_call():
    p = make_pair()
    d = delayed(lambda pair: pair[1] + pair[2])(p)
    assert d.compute() == 11
    assert delayed(p).compute() == ("tag", 1, 10)


def test_compute_keeps_no_reference_to_its_results():
    """Results are freed when the caller drops them, without waiting for the cyclic GC."""
    import gc
    import weakref

    class Big:
        pass

    gc.disable()
    try:
        value = gf.compute(gf.delayed(Big)())[0]
        ref = weakref.ref(value)
        del value
        assert ref() is None, "something inside compute() still holds the result"
    finally:
        gc.enable()


def test_arrays_and_bags_share_one_lineage_walk():
    """An Array and a Bag computed together: one collector (LineageCollection's) walks both lineages once,
    and a chain of 3,000 steps is walked without recursion."""
    import graphflow.array as ga
    import graphflow.bag as db
    from graphflow.base import LineageCollection, collections_to_graph

    a = ga.ones(6, chunks=2) * 2
    b = db.from_sequence(range(5), npartitions=2).map(str)
    assert isinstance(a, LineageCollection) and isinstance(b, LineageCollection)
    assert type(a).__graphflow_collect__ is type(b).__graphflow_collect__
    graph = collections_to_graph([a, b.count()])
    assert set(a.graph_nodes) | set(b.graph_nodes) <= set(graph) and a.parents and b.parents
    total, n, back = gf.compute(a.sum(), b.count(), b, scheduler="sync")
    assert (total, n, back) == (12, 5, ["0", "1", "2", "3", "4"])
    chain = db.from_sequence([1], npartitions=1)
    for _ in range(3000):
        chain = chain.map(abs)
    assert len(chain.__graphflow_graph__()) == 3001
    assert a.persist(scheduler="sync").compute(scheduler="sync").tolist() == [2.0] * 6
