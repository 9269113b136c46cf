"""Lock, Semaphore, Event, Queue and Variable kept by the scheduler: from clients, from tasks, and across deaths.

The death tests kill -9 a worker process whose task holds a lease; the task is pinned to that worker (its
address does not come back: the supervisor's fresh worker has a new port), so it never reruns and takes
the lease again.  The next acquirer must proceed within a bounded time.
"""

import os
import signal
import time

import pytest

import graphflow as gf
from graphflow.comm.messages import PrimitiveRequest
from graphflow.errors import LeaseError
from graphflow.scheduler.coordination import Coordination
from graphflow.testing.wait import wait_for


def hold(primitive, name_of_pid):
    """Acquire ``primitive``, say which process holds it, then wait for a release that never comes."""
    primitive.acquire()
    gf.Variable(name_of_pid).set(os.getpid())
    gf.Event("never").wait(600)
    return "released"


def count_inside(lock, i):
    """Inside the lock, check nobody else is: a Variable counts who is in."""
    with lock:
        inside = gf.Variable("inside")
        now = inside.get(timeout=0) if _has(inside) else 0
        inside.set(now + 1)
        time.sleep(0.02)
        assert inside.get() == now + 1, "another task entered the lock"
        inside.set(now)
    return i


def _has(variable):
    try:
        variable.get(timeout=0)
        return True
    except TimeoutError:
        return False


def produce(queue, n):
    for i in range(n):
        queue.put(i)
    return n


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=2, memory_limit="1GiB") as c:
        yield c


# ---------------------------------------------------------------------- the state machine alone


def test_coordination_state_grants_in_order_and_frees_a_departed_clients_leases():
    c, got = Coordination(), []

    def reply(tag):
        return lambda value, error=None: got.append((tag, value if error is None else type(error).__name__))

    c.handle("a", PrimitiveRequest("semaphore", "S", "create", 2), reply("create"))
    for holder in ("a1", "a2"):
        c.handle("a", PrimitiveRequest("semaphore", "S", "acquire", holder=holder), reply(holder))
    waiter = c.handle("b", PrimitiveRequest("semaphore", "S", "acquire", holder="b1"), reply("b1"))
    late = c.handle("b", PrimitiveRequest("semaphore", "S", "acquire", timeout=1, holder="b2"), reply("b2"))
    assert waiter is not None and got[-1] == ("a2", True)
    c.expire(late)
    assert got[-1] == ("b2", False)
    c.client_left("a")  # both of a's leases go: b1 gets one
    assert got[-1] == ("b1", True)
    c.handle("c", PrimitiveRequest("semaphore", "S", "release", holder="x"), reply("bad"))
    assert got[-1] == ("bad", "LeaseError")


# ---------------------------------------------------------------------- from the client


@pytest.mark.api("distributed.Lock")
def test_lock_from_clients(client):
    a, b = gf.Lock("L1"), gf.Lock("L1")
    assert a.acquire() and a.locked()
    assert b.acquire(timeout=0.2) is False and b.acquire(blocking=False) is False
    with pytest.raises(LeaseError, match="does not hold it"):
        b.release()
    a.release()
    assert b.acquire(timeout=5) and b.locked()
    b.release()
    assert not a.locked()


@pytest.mark.api("distributed.Lock")
def test_lock_serializes_tasks(client):
    lock = gf.Lock("L-tasks")
    assert sorted(client.gather(client.map(count_inside, [lock] * 8, range(8), pure=False))) == list(range(8))


@pytest.mark.api("distributed.Lock")
def test_a_lock_held_by_a_closed_client_is_released(client):
    other = gf.Client(client.scheduler_address, token=client.token, set_as_default=False)
    assert gf.Lock("L-closed", client=other).acquire()
    assert gf.Lock("L-closed").acquire(timeout=0) is False
    other.close()
    t0 = time.monotonic()
    assert gf.Lock("L-closed").acquire(timeout=30)
    assert time.monotonic() - t0 < 30


@pytest.mark.api("distributed.Semaphore")
def test_semaphore_limits_holders(client):
    sem = gf.Semaphore(max_leases=2, name="S1")
    other = gf.Semaphore(max_leases=2, name="S1")
    assert sem.acquire() and other.acquire() and sem.get_value() == 2
    assert gf.Semaphore(2, name="S1").acquire(timeout=0.1) is False
    sem.release()
    assert gf.Semaphore(2, name="S1").acquire(timeout=5)
    with pytest.raises(LeaseError, match="max_leases=2"):
        gf.Semaphore(3, name="S1").acquire()
    with pytest.raises(ValueError, match="max_leases >= 1"):
        gf.Semaphore(0)


@pytest.mark.api("distributed.Event")
def test_event(client):
    ev = gf.Event("E1")
    assert not ev.is_set() and ev.wait(0.1) is False
    fut = client.submit(_wait_event, "E1", pure=False)
    ev.set()
    assert fut.result(timeout=30) is True and ev.is_set()
    ev.clear()
    assert not ev.is_set()


def _wait_event(name):
    return gf.Event(name).wait(60)


@pytest.mark.api("distributed.Queue")
def test_queue_between_tasks_and_client(client):
    q = gf.Queue("Q1")
    assert client.submit(produce, q, 5, pure=False).result(timeout=30) == 5
    assert q.qsize() == 5
    assert [q.get(timeout=5) for _ in range(2)] == [0, 1]
    assert q.get(batch=True) == [2, 3, 4] and q.get(batch=True) == []
    with pytest.raises(TimeoutError, match="nothing to get"):
        q.get(timeout=0.2)
    with pytest.raises(TypeError, match="plain values, not futures"):
        q.put(client.submit(int, 1))


@pytest.mark.api("distributed.Variable")
def test_variable(client):
    v = gf.Variable("V1")
    with pytest.raises(TimeoutError):
        v.get(timeout=0.1)
    getter = client.submit(_get_variable, "V1", pure=False)
    v.set({"x": 1})
    assert getter.result(timeout=30) == {"x": 1} and v.get() == {"x": 1}
    v.delete()
    with pytest.raises(TimeoutError):
        v.get(timeout=0)


def _get_variable(name):
    return gf.Variable(name).get(timeout=60)


# ---------------------------------------------------------------------- holders that die


def _kill_holder(client, primitive, tag):
    """Start a task holding ``primitive`` on one worker, wait until it holds it, kill -9 that worker."""
    worker = sorted(client.nthreads())[0]
    fut = client.submit(hold, primitive, f"pid-{tag}", workers=[worker], pure=False)
    pid = gf.Variable(f"pid-{tag}").get(timeout=60)
    assert pid == client.run(os.getpid, workers=[worker])[worker]
    os.kill(pid, signal.SIGKILL)
    return fut, worker


@pytest.mark.api("distributed.Lock")
def test_a_lock_held_by_a_killed_worker_is_released(client):
    fut, worker = _kill_holder(client, gf.Lock("L-dead"), "lock")
    t0 = time.monotonic()
    assert gf.Lock("L-dead").acquire(timeout=60), "the dead worker's lease was not released"
    assert time.monotonic() - t0 < 60
    client.cancel([fut])
    client.wait_for_workers(2, timeout=60)


@pytest.mark.api("distributed.Semaphore")
def test_a_semaphore_lease_held_by_a_killed_worker_is_released(client):
    sem = gf.Semaphore(2, name="S-dead")
    assert sem.acquire()  # the client holds one lease, the task the other
    fut, worker = _kill_holder(client, gf.Semaphore(2, name="S-dead"), "sem")
    wait_for(lambda: worker not in client.nthreads(), timeout=60)
    t0 = time.monotonic()
    assert gf.Semaphore(2, name="S-dead").acquire(timeout=60)
    assert time.monotonic() - t0 < 60
    assert gf.Semaphore(2, name="S-dead").get_value() == 2  # ours and the new one: the dead one's is gone
    client.cancel([fut])
    client.wait_for_workers(2, timeout=60)
