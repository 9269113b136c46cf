"""Errors on a real cluster: every way of asking names the task that failed, and a cycle never hangs.

A LocalCluster (a scheduler and two worker processes over zmq on loopback).
The failing task is never the one the caller holds a future for: ``compute``
wraps it in a ``finalize-...`` task, a collection's output reads it, a
future's task reads it.  Each error must still name it::

    fail-<token>  ->  inc-<token>  ->  finalize-<token>      (the caller's future)
         ^ raised here, and named in the error the caller gets
"""

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga
import graphflow.dataframe as gd
from graphflow import delayed
from graphflow.comm import messages as wire
from graphflow.errors import CycleError
from graphflow.spec import Ref, Task
from graphflow.spec.keys import key_split


def inc(x):
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


def fail_block(block):
    raise ValueError("bad block")


def fail_partition(table):
    raise ValueError("bad partition")


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
        yield c


def blamed(exc) -> str:
    """The prefix of the task an error is blamed on, checked against the note the user sees."""
    key = exc.__graphflow_key__
    notes = getattr(exc, "__notes__", [])
    assert notes == [f"graphflow: raised by task {key!r}"], notes
    return key_split(key)


def raised(call) -> BaseException:
    with pytest.raises(ValueError, match="bad") as info:
        call()
    return info.value


def test_compute_and_gather_name_the_failing_task_not_finalize(client):
    x = delayed(fail)(1)
    assert blamed(raised(lambda: client.compute(x).result(timeout=30))) == "fail"
    assert blamed(raised(lambda: client.gather(client.compute(x)))) == "fail"
    assert blamed(raised(lambda: client.compute(x, sync=True))) == "fail"
    y = delayed(inc)(delayed(fail)(2))
    assert blamed(raised(lambda: client.compute(y, optimize_graph=False).result(timeout=30))) == "fail"


def test_persist_then_result_names_the_failing_task(client):
    y = client.persist(delayed(inc)(delayed(fail)(3)), optimize_graph=False)
    assert blamed(raised(y.compute)) == "fail"
    (future,) = gf.futures_of(y)
    assert blamed(raised(lambda: future.result(timeout=30))) == "fail"


def test_get_names_the_failing_input_of_the_wanted_key(client):
    graph = {"bad-input": Task("bad-input", fail, 4), "wanted": Task("wanted", inc, Ref("bad-input"))}
    assert blamed(raised(lambda: client.get(graph, ["wanted"]))) == "bad-input"


def test_futures_name_the_failing_task_they_read(client):
    bad = client.submit(fail, 5)
    reader = client.submit(inc, bad)
    assert blamed(raised(lambda: reader.result(timeout=30))) == "fail"
    assert blamed(raised(lambda: client.gather([reader]))) == "fail"
    assert blamed(reader.exception(timeout=30)) == "fail"


def test_collections_compute_on_the_cluster_names_the_failing_task(client):
    x = delayed(inc)(delayed(fail)(6))
    assert blamed(raised(x.compute)) == "fail"
    arr = ga.from_array(np.arange(8), chunks=4).map_blocks(fail_block) + 1
    assert blamed(raised(arr.compute)) == "fail_block"
    assert blamed(raised(lambda: gf.compute(arr.sum()))) == "fail_block"
    frame = gd.from_dict({"a": list(range(10))}, npartitions=2)
    df = frame.map_partitions(fail_partition, meta=frame.schema)
    # the dataframe planner names tasks by operation; a map_partitions feeding a sum runs inside its chunk task
    assert blamed(raised(df.compute)) == "map-partitions"
    assert blamed(raised(lambda: df.a.sum().compute())) == "sum-chunk"


def test_a_cycle_is_refused_by_the_client_before_anything_is_sent(client):
    graph = {"a": Task("a", inc, Ref("c")), "b": Task("b", inc, Ref("a")), "c": Task("c", inc, Ref("b"))}
    with pytest.raises(CycleError) as info:
        client.get(graph, ["c"])
    assert set(info.value.cycle) == {"a", "b", "c"}
    with pytest.raises(CycleError, match="'a' -> 'b' -> 'c' -> 'a'"):
        client.submit_graph(graph, ["c"])
    with pytest.raises(CycleError, match="'self' -> 'self'"):
        client.submit_graph({"self": Task("self", inc, Ref("self"))}, ["self"])
    assert client.submit(inc, 1).result(timeout=30) == 2  # nothing of it reached the scheduler


def test_a_cycle_that_reaches_the_scheduler_errs_its_futures_at_once(client):
    """A client without the check (an older one, another language) sends a cycle: the scheduler refuses it."""
    graph = {"p": Task("p", inc, Ref("q")), "q": Task("q", inc, Ref("p")), "r": Task("r", inc, 1)}
    futures = [gf.Future(k, client) for k in ("q", "r")]
    client.session.send_threadsafe(wire.SubmitGraph("update-graph-raw", graph, {"p": ("q",), "q": ("p",)},
                                                    {}, ["q", "r"]))
    for future in futures:
        with pytest.raises(CycleError, match="'p' -> 'q' -> 'p'") as info:
            future.result(timeout=30)
        assert info.value.cycle == ("p", "q", "p")
    assert "p" not in client.who_has()  # none of it was kept
    assert client.submit(inc, 2).result(timeout=30) == 3
