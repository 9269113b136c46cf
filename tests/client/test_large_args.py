"""Large arguments sent once, the large-graph warning, scatter(broadcast=True), replicate and rebalance.

Real scheduler and worker processes (a LocalCluster of 2 workers x 1 thread).
"""

import gc
import warnings

import numpy as np
import pytest

import graphflow as gf
from graphflow.client.large_args import THRESHOLD
from graphflow.testing.wait import wait_for

MB = 1 << 20


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, dashboard_address=None, set_as_default=False,
                   timeout=30) as c:
        yield c


def scattered(client) -> dict:
    from graphflow.comm import messages as wire

    everything = client.ask(wire.WhoHasRequest(None))
    return {k: v for k, v in everything.items() if str(k).startswith("ndarray-")}


def total(x, y=0):
    return float(x.sum()) + y


def nbytes_on_worker(x):
    return x.nbytes


def test_one_large_argument_given_to_many_submits_is_sent_once(client):
    big = np.arange(4 * MB // 8, dtype="f8")  # 4 MiB
    futures = [client.submit(total, big, i) for i in range(8)]
    expected = float(big.sum())
    assert client.gather(futures) == [expected + i for i in range(8)]
    keys = scattered(client)
    assert len(keys) == 1  # one copy went to the cluster, not 8 tasks each carrying it
    [holders] = keys.values()
    assert 1 <= len(holders) <= 2  # at most one copy per worker
    # the same object again: no new copy
    assert client.submit(total, big, 100).result() == expected + 100
    assert len(scattered(client)) == 1


def test_map_and_keyword_arguments_share_large_values_too(client):
    big = np.ones(2 * MB // 8)
    futures = client.map(total, [big] * 4, [1, 2, 3, 4])
    assert client.gather(futures) == [big.sum() + i for i in (1, 2, 3, 4)]
    kw = client.submit(total, np.zeros(1), y=0)  # small: travels in the task
    assert kw.result() == 0.0
    big_kw = client.submit(lambda x=None: x.nbytes, x=big)
    assert big_kw.result() == big.nbytes


def test_small_arguments_still_travel_in_the_task(client):
    before = set(scattered(client))
    small = np.ones(THRESHOLD // 8 - 16)
    assert client.submit(total, small).result() == small.sum()
    assert set(scattered(client)) <= before  # nothing new was scattered (earlier copies may be freed meanwhile)


def test_the_shared_copy_is_freed_once_the_object_and_its_tasks_are_gone(client):
    big = np.full(2 * MB // 8, 3.0)
    future = client.submit(total, big)
    assert future.result() == big.sum()
    key = [k for k in scattered(client)]
    assert key
    del big, future
    gc.collect()
    wait_for(lambda: not scattered(client), timeout=30)


def test_a_graph_embedding_a_large_value_warns_once_naming_key_and_size(client):
    big = np.ones(3 * MB // 8)
    value = gf.delayed(total)(big)
    with pytest.warns(UserWarning, match=r"Large object of size 3\.00 MiB detected in task graph") as record:
        assert value.compute(scheduler=client) == big.sum()
    assert len([w for w in record if "Large object" in str(w.message)]) == 1
    assert "total" in str(record[0].message)  # the key of the task that embeds it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gf.delayed(total)(np.ones(10)).compute(scheduler=client) == 10.0


def test_scatter_broadcast_puts_a_copy_on_every_worker(client):
    workers = list(client.scheduler_info()["workers"])
    [x] = client.scatter([np.ones(MB // 8)], broadcast=True)
    assert sorted(client.who_has([x])[x.key]) == sorted(workers)
    futures = [client.submit(nbytes_on_worker, x, workers=w, pure=False) for w in workers]
    assert client.gather(futures) == [MB, MB]


def test_replicate_and_rebalance(client):
    workers = sorted(client.scheduler_info()["workers"])
    a = client.scatter(np.ones(MB // 8), workers=[workers[0]], hash=False)
    assert client.who_has([a])[a.key] == [workers[0]]
    client.replicate([a])
    assert sorted(client.who_has([a])[a.key]) == workers
    with pytest.raises(ValueError, match="n >= 1"):
        client.replicate([a], n=0)
    # four results on one worker: rebalance moves some to the other, and keeps every key held somewhere
    parts = client.scatter([np.full(MB // 8, float(i)) for i in range(4)], workers=[workers[0]], hash=False)
    assert all(v == [workers[0]] for v in client.who_has(parts).values())
    moves = client.rebalance(parts)
    assert moves >= 1
    wait_for(lambda: sorted({w for v in client.who_has(parts).values() for w in v}) == workers
             and all(len(v) == 1 for v in client.who_has(parts).values()), timeout=30)
    assert [float(p.result()[0]) for p in parts] == [0.0, 1.0, 2.0, 3.0]
