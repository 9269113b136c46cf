"""Tasks that launch tasks (gf.get_client, worker_client, secede/rejoin, get_worker), on real worker processes.

The deadlock these guard against: two one-thread workers, every thread held
by a parent waiting on children that have no thread left to run on::

    parent-0 ... parent-7          (8 parents; 2 threads in all)
      |  \\   \\   \\
    c0  c1  c2  c3                 (4 children each, submitted from inside the parent)

Every wait inside a task gives its thread slot back, so it finishes.  Each
test bounds its wait: a deadlock fails in seconds, it does not hang the suite.
"""

import threading

import pytest

import graphflow as gf
from graphflow.client.in_task import get_client as in_task_get_client


def inc(x):
    return x + 1


def parent(i, n_children=4):
    client = gf.get_client()
    futures = [client.submit(inc, 100 * i + j, pure=False) for j in range(n_children)]
    return sum(f.result(timeout=30) for f in futures)


def parent_gathers(i):
    client = gf.get_client()
    return sum(client.gather(client.map(inc, range(10 * i, 10 * i + 4), pure=False)))


def parent_waits(i):
    client = gf.get_client()
    futures = client.map(inc, [i] * 3, pure=False)
    done, not_done = gf.wait(futures, timeout=60)
    assert not not_done
    return sorted(f.result() for f in gf.as_completed(futures))


def fib(n):
    if n < 2:
        return n
    client = gf.get_client()
    a, b = client.submit(fib, n - 1), client.submit(fib, n - 2)
    return a.result(timeout=120) + b.result(timeout=120)


def with_worker_client(i):
    with gf.worker_client() as client:
        futures = client.map(inc, range(i, i + 5), pure=False)
        return sum(client.gather(futures))


def who_runs_me():
    w = gf.get_worker()
    return w.address, w.name, w.nthreads, w.scheduler_address


def client_identity(_):
    return id(gf.get_client()), threading.get_ident() != 0


def explicit_secede_rejoin(i):
    gf.secede()
    gf.secede()  # a second call is a no-op
    client = gf.get_client()
    value = client.submit(inc, i, pure=False).result(timeout=60)
    gf.rejoin()
    gf.rejoin()
    return value


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None) as c:
        yield c


def test_eight_parents_each_waiting_on_four_children_on_two_single_thread_workers(client):
    parents = client.map(parent, range(8), pure=False)
    expected = [sum(100 * i + j + 1 for j in range(4)) for i in range(8)]
    done, not_done = gf.wait(parents, timeout=60)  # bounded: a deadlock fails here, it does not hang
    assert not not_done
    assert [p.result() for p in parents] == expected


def test_recursive_fib_15_by_nested_submits(client):
    assert client.submit(fib, 15).result(timeout=240) == 610


def test_gather_wait_and_as_completed_inside_tasks_give_the_thread_back(client):
    gathered = client.map(parent_gathers, range(6), pure=False)
    waited = client.map(parent_waits, range(6), pure=False)
    assert [f.result(timeout=60) for f in gathered] == [sum(range(10 * i + 1, 10 * i + 5)) for i in range(6)]
    assert [f.result(timeout=60) for f in waited] == [[i + 1] * 3 for i in range(6)]


def test_worker_client_secedes_for_the_block(client):
    futures = client.map(with_worker_client, range(8), pure=False)
    assert [f.result(timeout=60) for f in futures] == [sum(range(i + 1, i + 6)) for i in range(8)]


def test_explicit_secede_and_rejoin_are_idempotent(client):
    futures = client.map(explicit_secede_rejoin, range(6), pure=False)
    assert [f.result(timeout=60) for f in futures] == [i + 1 for i in range(6)]


def test_get_worker_names_the_worker_running_the_task(client):
    workers = client.scheduler_info()["workers"]
    address, name, nthreads, scheduler = client.submit(who_runs_me, pure=False).result(timeout=30)
    assert address in workers
    assert name.startswith("worker-")
    assert nthreads == 1
    assert scheduler == client.scheduler_address


def test_one_client_per_worker_process_is_reused(client):
    address = client.scheduler_info()["workers"]
    first = client.submit(who_runs_me, pure=False).result(timeout=30)[0]
    ids = client.gather(client.map(client_identity, range(6), pure=False, workers=[first]))
    assert len({i for i, _ in ids}) == 1, ids
    assert first in address


def test_outside_a_task_get_worker_secede_and_worker_client_raise_value_error(client):
    with pytest.raises(ValueError, match="inside a task"):
        gf.get_worker()
    with pytest.raises(ValueError, match="inside a task"):
        gf.secede()
    with pytest.raises(ValueError, match="inside a task"):
        gf.rejoin()
    with pytest.raises(ValueError, match="inside a task"):
        with gf.worker_client():
            pass
    assert in_task_get_client() is client  # outside a task: the default client


def test_plain_work_runs_at_full_width_after_nested_runs(client):
    """Threads started for seceded tasks end when those tasks do: each worker is back to one thread."""
    assert client.submit(parent, 99, pure=False).result(timeout=60) == sum(9900 + j + 1 for j in range(4))
    assert client.gather(client.map(inc, range(50), pure=False)) == list(range(1, 51))

    def task_threads():
        return sorted(t.name for t in threading.enumerate() if t.name.startswith("graphflow-task"))

    from graphflow.testing.wait import wait_for

    counts = {}

    def settled():
        for w in client.scheduler_info()["workers"]:
            counts[w] = client.submit(count_task_threads, pure=False, workers=[w]).result(timeout=30)
        return all(n == 1 for n in counts.values())

    wait_for(settled, timeout=30, what="each worker back to one task thread")
    assert task_threads() == []  # none in the test process


def count_task_threads():
    return sum(t.name.startswith("graphflow-task") for t in threading.enumerate())


def test_task_clients_connect_the_way_their_worker_does_on_an_encrypted_cluster():
    """The cluster's token and CURVE key reach the workers only through their environment; the task client
    must use both, or the scheduler would refuse it (and the parent would fail, not hang)."""
    with gf.LocalCluster(n_workers=1, threads_per_worker=1, encrypt=True, memory_limit=None,
                         dashboard_address=None) as cluster:
        with gf.Client(cluster, set_as_default=False) as c:
            assert c.submit(parent, 3, pure=False).result(timeout=60) == sum(300 + j + 1 for j in range(4))
