"""The Client against a real LocalCluster: a scheduler and two worker processes over zmq on loopback."""

import gc
import os
import threading
import time

import numpy as np
import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.errors import FutureCancelledError
from graphflow.testing.wait import wait_for


def inc(x):
    return x + 1


def add(*xs):
    return sum(xs)


def slow_inc(x, delay=0.05):
    time.sleep(delay)
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
        yield c


def test_submit_and_result(client):
    fut = client.submit(inc, 1)
    assert fut.result(timeout=10) == 2
    assert fut.done() and fut.status == "finished"
    assert "finished" in repr(fut)


def test_pure_keys_are_shared_and_impure_are_not(client):
    a, b = client.submit(inc, 10), client.submit(inc, 10)
    c = client.submit(inc, 10, pure=False)
    assert a.key == b.key != c.key
    assert client.gather([a, b, c]) == [11, 11, 11]


def test_map_gather_and_kwargs(client):
    futs = client.map(slow_inc, range(20), delay=0.001)
    assert client.gather(futs) == list(range(1, 21))
    assert client.gather({"a": futs[0], "b": [futs[1], (futs[2],)]}) == {"a": 1, "b": [2, (3,)]}


def test_gather_keeps_every_container_shape_sets_included(client):
    """A set of futures gathers to the set of their values (it used to come back as the futures themselves)."""
    a, b = client.submit(inc, 1), client.submit(inc, 2)
    assert client.gather({a, b}) == {2, 3}
    assert client.gather(frozenset([a])) == frozenset([2])
    assert client.gather([{a}, ({"k": b},)]) == [{2}, ({"k": 3},)]
    assert client.who_has({a})[a.key]  # the walk that finds futures for who_has reads sets too


def test_futures_as_arguments_build_dependencies(client):
    x = client.submit(inc, 1)
    y = client.submit(inc, x)
    z = client.submit(add, x, y, [x][0])
    assert z.result(timeout=10) == 2 + 3 + 2


def test_task_error_keeps_type_message_key_and_remote_traceback(client):
    fut = client.submit(fail, 7)
    with pytest.raises(ValueError, match="bad value 7") as info:
        fut.result(timeout=10)
    notes = getattr(info.value, "__notes__", [])
    assert any(fut.key in note for note in notes)
    assert "in fail" in str(info.value.__cause__)
    assert isinstance(fut.exception(), ValueError)
    # A dependent of a failed task fails with the same error.
    with pytest.raises(ValueError, match="bad value 7"):
        client.submit(inc, fut).result(timeout=10)


def test_collections_compute_on_the_cluster_while_the_client_is_open(client):
    pid = delayed(os.getpid, pure=False)()
    assert pid.compute() != os.getpid()
    total = delayed(add)(*[delayed(inc)(i) for i in range(100)])
    assert total.compute() == sum(range(1, 101))
    a, b = gf.compute(total, delayed(inc)(1))
    assert (a, b) == (5050, 2)


def test_a_key_wanted_again_before_its_release_left_keeps_its_result(client):
    """The last future of a key going away queues the key's release for the next batch (every 50 ms); the
    same key wanted again before that batch leaves must call the release off.  Otherwise the scheduler frees
    the result after the new submission, the new future is told "memory" but finds nothing: it waited forever.
    """
    total = delayed(add)(*[delayed(inc)(i) for i in range(20)])
    for _ in range(5):
        futures = client.compute([total])
        assert client.gather(futures) == [210]
        del futures  # the key's release is queued ...
        futures = client.compute([total])  # ... and the key wanted again before the batch leaves
        assert client.gather(futures) == [210]
        wait_for(lambda: client.refs.queued() == 0, timeout=10, what="the release batch leaving")
        client.scheduler_info()  # a round trip behind that batch: the scheduler has read it
        assert client.who_has(futures)[futures[0].key], "the scheduler freed a key a live future holds"
        del futures


def test_sync_scheduler_still_runs_locally_when_asked(client):
    assert delayed(os.getpid, pure=False)().compute(scheduler="sync") == os.getpid()


def test_client_compute_returns_futures_and_persist_keeps_results(client):
    x = delayed(add)(*[delayed(inc)(i) for i in range(10)])
    fut = client.compute(x)
    assert isinstance(fut, gf.Future)
    assert fut.result(timeout=10) == 55
    p = client.persist(x)
    assert p.compute() == 55
    (q,) = gf.persist(x)
    assert q.compute() == 55
    assert client.compute([x, 3], sync=True) == [55, 3]


def test_futures_of_finds_the_futures_behind_persisted_collections_and_containers(client):
    x = client.persist(delayed(add)(delayed(inc)(1), 2))
    (held,) = gf.futures_of(x)
    assert isinstance(held, gf.Future) and held.key == x.key and held.result(timeout=10) == 4
    a = client.submit(inc, 10)
    assert [f.key for f in gf.futures_of([a, {"x": x, "again": a}, 3])] == [a.key, x.key]
    assert gf.futures_of(delayed(inc)(1)) == []  # not persisted: no futures behind it


def test_scatter_numpy_and_use_it(client):
    data = np.arange(1_000_000, dtype="float64")
    fut = client.scatter(data)
    assert fut.result(timeout=10).sum() == data.sum()
    assert client.submit(np.sum, fut).result(timeout=10) == data.sum()
    futs = client.scatter([1, 2, 3])
    assert client.gather(futs) == [1, 2, 3]
    named = client.scatter({"x": 5})
    assert client.submit(inc, named["x"]).result(timeout=10) == 6


def test_large_results_come_straight_from_the_worker(client):
    fut = client.submit(np.ones, 5_000_000)
    value = fut.result(timeout=20)
    assert value.shape == (5_000_000,) and value.sum() == 5_000_000
    total = client.submit(np.sum, fut)
    assert total.result(timeout=10) == 5_000_000


def test_wait_and_as_completed(client):
    futs = [client.submit(slow_inc, i, 0.2 - i * 0.05, pure=False) for i in range(4)]
    done, not_done = gf.wait(futs, timeout=20)
    assert len(done) == 4 and not not_done
    futs = [client.submit(slow_inc, i, d, pure=False) for i, d in enumerate([0.6, 0.01])]
    order = [f.result() for f in gf.as_completed(futs)]
    assert sorted(order) == [1, 2]
    pairs = list(gf.as_completed(client.map(inc, range(5)), with_results=True))
    assert sorted(v for _, v in pairs) == [1, 2, 3, 4, 5]
    slow = client.submit(slow_inc, 0, 1, pure=False)
    with pytest.raises(TimeoutError):
        gf.wait([slow], timeout=0.1)
    slow.cancel()


def test_result_timeout_and_cancel(client):
    fut = client.submit(slow_inc, 1, 1, pure=False)
    with pytest.raises(TimeoutError):
        fut.result(timeout=0.1)
    fut.cancel()
    assert fut.cancelled()
    with pytest.raises(FutureCancelledError):
        fut.result(timeout=5)


def test_workers_restriction_and_who_has(client):
    workers = client.cluster.workers
    assert len(workers) == 2
    info = client.scheduler_info()["workers"]
    for address in workers:
        fut = client.submit(os.getpid, pure=False, workers=[address])
        assert fut.result(timeout=10) == info[address]["pid"]
        assert client.who_has([fut]) == {fut.key: [address]}
        placed = client.scatter(f"data for {address}", workers=[address])
        assert client.who_has([placed]) == {placed.key: [address]}
    with pytest.raises(gf.errors.GraphflowError, match="unknown workers"):
        client.scatter(1, workers=["tcp://127.0.0.1:1"])


def test_retries_rerun_a_failing_task(client, tmp_path):
    marker = tmp_path / "attempts"

    def flaky():
        n = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(n + 1))
        if n < 2:
            raise RuntimeError("not yet")
        return n

    assert client.submit(flaky, pure=False, retries=2).result(timeout=10) == 2
    marker.unlink()
    with pytest.raises(RuntimeError, match="not yet"):
        client.submit(flaky, pure=False, retries=1).result(timeout=10)


def test_dropping_futures_frees_the_results_on_the_cluster(client):
    futs = client.map(inc, range(1000, 1050))
    client.gather(futs)
    assert all(client.who_has(futs).values())
    held = client.scheduler_info()["tasks"]
    del futs
    gc.collect()
    wait_for(lambda: client.scheduler_info()["tasks"] <= held - 50)


def test_unpicklable_result_raises_a_clear_error(client):
    fut = client.submit(threading.Lock, pure=False)
    with pytest.raises(gf.errors.GraphflowError, match="cannot be sent|pickle"):
        fut.result(timeout=10)


def test_many_threads_submitting_at_once(client):
    results = []

    def work(i):
        results.append(client.submit(inc, i, pure=False).result(timeout=20))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 9))


def test_large_values_move_between_workers_and_over_the_socket_too(client):
    a, b = client.cluster.workers
    x = client.submit(np.arange, 6_000_000, dtype="float64", workers=[a], pure=False)
    total = client.submit(np.sum, x, workers=[b], pure=False)  # copied from a's memory into b
    assert total.result(timeout=30) == np.arange(6_000_000, dtype="float64").sum()
    client.transfer.no_vmcopy.add(a)  # as if a's memory could not be read: the socket path
    try:
        value = x.result(timeout=30)
    finally:
        client.transfer.no_vmcopy.discard(a)
    assert value.flags.writeable and value[-1] == 5_999_999


def test_round_trips_never_wait_for_a_timer(client):
    """A lost wake-up shows as round trips that wait for the next heartbeat (~0.25-0.5 s each).

    300 sequential round trips take well under a second when every message wakes
    its receiver; the bound is 40x that, so only a real stall fails it.
    """
    started = time.monotonic()
    x = 0
    for _ in range(300):
        x = client.submit(inc, x, pure=False).result(timeout=10)
    assert x == 300
    assert time.monotonic() - started < 40


def test_an_unpicklable_task_fails_at_submit_with_a_named_error(client):
    lock = threading.Lock()
    with pytest.raises(gf.errors.SerializationError, match="lock"):
        client.submit(lambda: lock, pure=False)
    assert client.submit(inc, 1).result(timeout=10) == 2  # the client still works
