"""The Client and Future basics, named by the dask.distributed API they cover (``@pytest.mark.api``).

``python -m benchmarks.api_coverage distributed`` counts a name only when a test marked with it passed.
Most of these behaviours have deeper tests in test_client.py; here each name gets one check of what
dask.distributed documents for it, on a real cluster (a scheduler and two worker processes).
"""

import time

import pytest

import graphflow as gf
from graphflow.spec import Ref, Task
from graphflow.testing.wait import wait_for


def inc(x):
    return x + 1


def shout(x):
    print(f"shouting {x}")
    return x


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
        yield c


@pytest.mark.api("Client.submit", "Client.map", "Client.gather", "Future.result", "Future.done", "Future.status",
                 "Future.key", "Future.client", "Future.executor", "distributed.Future")
def test_submit_map_gather(client):
    fut = client.submit(inc, 1)
    assert fut.result(timeout=30) == 2 and fut.done() and fut.status == "finished"
    assert isinstance(fut.key, str) and fut.client is client and fut.executor is client
    assert client.gather(client.map(inc, range(3))) == [1, 2, 3]
    assert client.gather({"a": fut, "b": [fut]}) == {"a": 2, "b": [2]}


@pytest.mark.api("Future.add_done_callback", "Future.cancelled")
def test_done_callback_and_cancelled(client):
    got = []
    fut = client.submit(inc, 5, pure=False)
    fut.add_done_callback(lambda f: got.append(f.result()))
    wait_for(lambda: got == [6], timeout=30)
    slow = client.submit(time.sleep, 30, pure=False)
    slow.cancel()
    assert slow.cancelled()


@pytest.mark.api("Client.scatter", "Client.get", "Client.who_has")
def test_scatter_and_get(client):
    [data] = client.scatter([list(range(10))])
    assert client.submit(sum, data).result(timeout=30) == 45
    assert client.who_has([data])[data.key]
    graph = {"x": Task("x", inc, 1), "y": Task("y", inc, Ref("x"))}  # graphflow's nodes, not dask's tuples
    assert client.get(graph, ["y"]) == [3]


@pytest.mark.api("Client.scheduler_info", "Client.dashboard_link", "Client.story", "Client.get_task_stream")
def test_introspection(client):
    info = client.scheduler_info()
    assert len(info["workers"]) == 2
    assert client.dashboard_link is None or client.dashboard_link.startswith("http")
    fut = client.submit(inc, 77)
    fut.result(timeout=30)
    assert client.story(fut.key)
    wait_for(lambda: any(r["key"] == fut.key for r in client.get_task_stream()), timeout=30)


@pytest.mark.api("Client.get_worker_logs", "Client.get_scheduler_logs")
def test_worker_and_scheduler_logs(client):
    fut = client.submit(shout, "hey", pure=False)
    fut.result(timeout=30)
    wait_for(lambda: any("shouting hey" in m for logs in client.get_worker_logs().values() for _, _, m in logs),
             timeout=30)
    with gf.Client(client.scheduler_address, token=client.token, set_as_default=False):
        pass  # a client leaving is logged by the scheduler (INFO: kept when the level lets it through)
    logs = client.get_scheduler_logs()
    assert isinstance(logs, list) and all(len(r) == 3 for r in logs)
    assert len(client.get_scheduler_logs(n=1)) == min(1, len(logs)) and client.get_scheduler_logs(n=0) == []


@pytest.mark.api("Client.normalize_collection")
def test_normalize_collection_reuses_held_results(client):
    x = gf.delayed(inc)(10)
    fut = client.compute(x)  # computes the finalize key; persist holds x's own key
    persisted = client.persist(x)
    gf.wait(persisted, timeout=30)
    normal = client.normalize_collection(x)
    assert gf.futures_of(normal) and normal.compute() == 11 and fut.result(timeout=30) == 11
    assert client.normalize_collection(5) == 5


@pytest.mark.api("Client.retire_workers", "Client.close", "Client.shutdown", "distributed.LocalCluster")
def test_retire_close_and_shutdown():
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as cluster, gf.Client(cluster) as c:
        assert c.cluster is cluster
        a = sorted(c.nthreads())[0]
        assert c.retire_workers([a]) == [a]
        assert a not in c.nthreads()
        other = gf.Client(c.scheduler_address, token=c.token, set_as_default=False)
        other.close()
        assert other.status == "closed"
        c.shutdown()
        assert c.status == "closed"
