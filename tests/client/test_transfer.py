"""Fetching results from workers when a holder no longer has them: recomputed or another replica, never a spin.

The state is made with real components: a worker really drops a result (its own state machine frees it,
as when its scheduler told it to) while the scheduler still lists it as the holder, so the client is told
"in memory there" and the worker answers "I do not hold it".
"""

import threading

import numpy as np
import pytest

import graphflow as gf


def make_big(n, salt=0):
    return np.arange(n, dtype="float64") + salt  # over the 1 MiB inline limit: fetched from its holder


def drop_here(key):
    """Run on a worker: make that worker forget ``key`` behind its scheduler's back (on the worker's loop)."""
    import gc
    import threading as th

    from graphflow.worker.events import FreeKeys
    from graphflow.worker.server import Worker

    (worker,) = [o for o in gc.get_objects() if isinstance(o, Worker) and not getattr(o, "_closed", True)]
    done = th.Event()

    def drop():
        worker.state.handle(FreeKeys("test-drop", [key]))
        done.set()

    worker.loop.add_callback(drop)
    assert done.wait(10)
    return key not in worker.state.data


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None) as c:
        yield c


def holder_drops(client, fut) -> str:
    gf.wait([fut], timeout=30)
    holder = client.who_has([fut])[fut.key][0]
    assert client.submit(drop_here, fut.key, pure=False, workers=[holder]).result(timeout=30)
    return holder


def test_a_result_its_holder_dropped_is_recomputed_by_result(client):
    fut = client.submit(make_big, 500_000, 1)
    holder_drops(client, fut)
    value = fut.result(timeout=60)  # before: fetch said "lost on the way" and result() asked again, forever
    assert value.shape == (500_000,) and value[-1] == 500_000
    assert client.who_has([fut])[fut.key], "the scheduler lists a holder again"


def test_gather_of_a_result_its_holder_dropped_returns_instead_of_spinning(client):
    futs = [client.submit(make_big, 300_000, s) for s in range(3)]
    holder_drops(client, futs[1])
    box = []
    t = threading.Thread(target=lambda: box.append(client.gather(futs)), daemon=True)
    t.start()
    t.join(60)  # gather has no timeout of its own: before, this thread spun in _gather_flat for good
    assert box, "gather did not return within 60 s"
    assert [v[-1] for v in box[0]] == [299_999, 300_000, 300_001]


def test_a_dropped_replica_with_another_copy_left_is_fetched_from_that_copy(client):
    """The same data scattered to workers A and B (two replicas of a key with no lineage); A drops it.  The
    client asks A, hears "missing", and gets it from B: a recomputation would be an error here."""
    a, b = sorted(client.scheduler_info()["workers"])
    data = make_big(400_000, 7)
    x = client.scatter(data, workers=[a])
    same = client.scatter(data, workers=[b])
    assert same.key == x.key and sorted(client.who_has([x])[x.key]) == [a, b]
    x.key_state.who_has = [a, b]  # ask A first: the holder that drops it
    assert client.submit(drop_here, x.key, pure=False, workers=[a]).result(timeout=30)
    assert x.result(timeout=60)[-1] == 400_006
    assert client.who_has([x])[x.key] == [b]


def test_a_scattered_value_is_stored_before_the_scatter_returns(client):
    """The worker answered a scatter before storing it, so a fetch in the same burst found nothing (and the
    client, told "missing", would now drop the only copy of data it cannot recompute)."""
    for i in range(40):
        fut = client.scatter(make_big(200_000, i))
        assert fut.result(timeout=30)[-1] == 199_999 + i
        del fut
