"""graphflow.ray's API beyond the programs: errors, wait's partial return, options, named/detached actors,
kill, cancel, resources, joining a running cluster.  One local session (2 CPUs, one ``accel``) per module."""

import gc
import time

import pytest

import graphflow as gf
import graphflow.ray as ray
from graphflow.errors import NoWorkerError
from graphflow.testing.wait import wait_for


@pytest.fixture(scope="module", autouse=True)
def session():
    ray.init(num_cpus=2, resources={"accel": 1})
    yield
    ray.shutdown()


@ray.remote
def inc(x):
    return x + 1


@ray.remote
class Gate:
    """Holds tasks (`held`) until opened; cancelling a running task does not stop its thread, a gate does."""

    def __init__(self):
        self.opened = False

    def open(self):
        self.opened = True

    def is_open(self):
        return self.opened


@ray.remote
def held(gate, value=None):
    while not ray.get(gate.is_open.remote()):
        time.sleep(0.02)
    return value


@pytest.fixture
def gate():
    g = Gate.remote()
    yield g
    ray.get(g.open.remote())


@ray.remote
def fail(message):
    raise ValueError(message)


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n


def test_init_twice_is_refused_unless_asked_and_the_session_is_visible():
    assert ray.is_initialized()
    with pytest.raises(RuntimeError, match="already called"):
        ray.init()
    assert ray.init(ignore_reinit_error=True).address_info["address"].startswith("tcp://")
    with pytest.raises(TypeError, match="no_such_option"):
        ray.init(no_such_option=1)


def test_get_timeout_raises_rays_error_and_a_timeout_error(gate):
    ref = held.remote(gate, 1)
    with pytest.raises(ray.exceptions.GetTimeoutError) as info:
        ray.get(ref, timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    ray.get(gate.open.remote())
    assert ray.get(ref, timeout=30) == 1


def test_a_task_error_is_rays_task_error_and_its_own_class_and_passes_to_dependents():
    bad = fail.remote("no good")
    with pytest.raises(ValueError, match="no good") as info:
        ray.get(bad)
    assert isinstance(info.value, ray.RayTaskError) and type(info.value).__name__ == "RayTaskError(ValueError)"
    with pytest.raises(ray.RayTaskError):
        ray.get(inc.remote(bad))  # a dependent of a failed task fails with it
    with pytest.raises(TypeError, match="inc.remote"):
        inc(1)
    with pytest.raises(TypeError, match="ObjectRef"):
        ray.get([1, 2])


def test_wait_returns_what_is_ready_at_the_timeout_in_input_order(gate):
    slow, fast1, fast2 = held.remote(gate), inc.remote(1), inc.remote(2)
    ready, not_ready = ray.wait([slow, fast1, fast2], num_returns=3, timeout=1)
    assert ready == [fast1, fast2] and not_ready == [slow]
    ready, not_ready = ray.wait([slow, fast2, fast1], num_returns=1)
    assert ready == [fast2] and not_ready == [slow, fast1]
    ready, not_ready = ray.wait([slow], timeout=0)
    assert (ready, not_ready) == ([], [slow])
    with pytest.raises(ValueError, match="num_returns"):
        ray.wait([fast1], num_returns=2)
    with pytest.raises(TypeError, match="list"):
        ray.wait(fast1)
    with pytest.raises(ValueError, match="more than once"):
        ray.wait([fast1, fast1])
    ray.cancel(slow)
    with pytest.raises(ray.TaskCancelledError):
        ray.get(slow, timeout=30)
    with pytest.raises(TypeError, match="ObjectRef"):
        ray.cancel(slow.hex())


def test_num_returns_splits_a_result_and_a_wrong_count_names_the_declaration():
    @ray.remote(num_returns=2)
    def divide(a, b):
        return a // b, a % b

    q, r = divide.remote(17, 5)
    assert ray.get([q, r]) == [3, 2]
    a, b, c = divide.options(num_returns=3).remote(17, 5)
    with pytest.raises(ValueError, match="num_returns=3"):
        ray.get(c)
    with pytest.raises(ValueError, match="num_returns"):
        ray.remote(num_returns=0)(lambda: 1)
    with pytest.raises(TypeError, match="bogus"):
        inc.options(bogus=1)


def test_top_level_refs_are_values_and_nested_ones_stay_refs():
    @ray.remote
    def kinds(top, nested):
        return type(top).__name__, [type(x).__name__ for x in nested], ray.get(nested)

    big = ray.put(list(range(5)))
    assert ray.get(kinds.remote(big, [inc.remote(1), big])) == ("list", ["ObjectRef", "ObjectRef"],
                                                                [2, [0, 1, 2, 3, 4]])


def test_a_task_may_return_the_refs_of_tasks_it_launched():
    @ray.remote
    def launch(x):
        return inc.remote(x), [inc.remote(x + 1)]

    one, (two,) = ray.get(launch.remote(1))
    gc.collect()
    assert ray.get([one, two], timeout=30) == [2, 3]


def test_actor_results_feed_tasks_and_other_actors_without_blocking_the_caller():
    c = Counter.remote(10)
    other = Counter.remote(0)

    @ray.remote
    class Slow:
        def value(self, seconds):
            time.sleep(seconds)
            return 5

    s = Slow.remote()
    started = time.monotonic()
    chained = other.add.remote(c.add.remote(s.value.remote(1.0)))
    after = other.add.remote(1)  # made after a waiting call on the same handle: runs after it
    assert time.monotonic() - started < 0.5  # .remote() returned at once
    assert ray.get([chained, after]) == [15, 16]
    assert ray.get(inc.remote(c.add.remote())) == 17


def test_named_actors_are_found_by_name_from_the_driver_and_from_tasks_and_names_are_unique():
    keeper = Counter.options(name="keeper").remote(100)
    assert ray.get(ray.get_actor("keeper").add.remote(1)) == 101

    @ray.remote
    def bump(name):
        return ray.get(ray.get_actor(name).add.remote(10))

    assert ray.get(bump.remote("keeper")) == 111
    with pytest.raises(ValueError, match="already exists"):
        Counter.options(name="keeper").remote()
    assert ray.get(Counter.options(name="keeper", get_if_exists=True).remote().add.remote(0)) == 111
    with pytest.raises(ValueError, match="no live actor named 'nobody'"):
        ray.get_actor("nobody")
    ray.kill(keeper)
    with pytest.raises(ray.RayActorError):
        ray.get(keeper.add.remote(1), timeout=30)
    wait_for(lambda: _name_free("keeper"), timeout=30)
    assert ray.get(Counter.options(name="keeper").remote(1).add.remote(1)) == 2


def _name_free(name):
    try:
        ray.get_actor(name)
    except ValueError:
        return True
    return False


def test_a_detached_actor_outlives_its_handles():
    """(That it outlives the session too is tested on a joined cluster below.)"""
    Counter.options(name="lasting", lifetime="detached").remote(7)
    gc.collect()
    assert ray.get(ray.get_actor("lasting").add.remote(1)) == 8
    with pytest.raises(ValueError, match="needs a name"):
        Counter.options(lifetime="detached").remote()
    ray.kill(ray.get_actor("lasting"))


def test_resources_report_what_is_offered_and_what_running_tasks_hold():
    assert ray.cluster_resources()["CPU"] == 2.0 and ray.cluster_resources()["accel"] == 1.0
    (node,) = ray.nodes()
    assert node["Alive"] and node["Resources"]["accel"] == 1.0
    g = Gate.remote()
    holding = held.options(resources={"accel": 1}).remote(g, "done")
    wait_for(lambda: ray.available_resources().get("accel", 0) == 0, timeout=30)
    assert ray.available_resources()["CPU"] <= 1.0  # the running task holds a CPU (Ray's default of one)
    ray.get(g.open.remote())
    assert ray.get(holding) == "done"
    wait_for(lambda: ray.available_resources().get("accel") == 1.0, timeout=30)


def test_a_request_no_node_offers_fails_at_once_naming_it():
    with pytest.raises(NoWorkerError, match="GPU"):
        ray.get(inc.options(num_gpus=1).remote(1), timeout=30)


def test_joining_a_running_graphflow_cluster_by_address():
    """A second driver (a graphflow Client here) shares the cluster: a detached actor made through ray.init(address=)
    is still there after that session ends."""
    with gf.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        ray.shutdown()
        try:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("GRAPHFLOW_TOKEN", cluster.token.decode() if isinstance(cluster.token, bytes)
                          else cluster.token)
                ray.init(address=cluster.scheduler_address)
                assert ray.get(inc.remote(1)) == 2
                assert ray.cluster_resources()["CPU"] == 2.0  # the worker's threads
                assert ray.get(inc.options(num_cpus=2).remote(1)) == 2  # no CPU resource offered: threads count
                Counter.options(name="shared", lifetime="detached").remote(3)
                ray.shutdown()  # the session's client closes: everything it wanted is released
                mp.setenv("GRAPHFLOW_SCHEDULER_ADDRESS", cluster.scheduler_address)
                ray.init(address="auto")
                assert ray.get(ray.get_actor("shared").add.remote(1)) == 4
                ray.shutdown()
                with pytest.raises(ValueError, match="joins a running cluster"):
                    ray.init(address=cluster.scheduler_address, num_cpus=4)
        finally:
            ray.shutdown()
            ray.init(num_cpus=2, resources={"accel": 1})


def test_retry_exceptions_reruns_a_failing_task_up_to_max_retries(tmp_path):
    @ray.remote(max_retries=2, retry_exceptions=True)
    def flaky(path, fail_times):
        with open(path, "a") as f:
            f.write("x")
        with open(path) as f:
            if len(f.read()) <= fail_times:
                raise OSError("not yet")
        return "ok"

    assert ray.get(flaky.remote(str(tmp_path / "a"), 2), timeout=60) == "ok"
    assert (tmp_path / "a").read_text() == "xxx"
    with pytest.raises(OSError, match="not yet"):
        ray.get(flaky.remote(str(tmp_path / "b"), 3), timeout=60)
    with pytest.raises(OSError):  # without retry_exceptions an application error is not retried (as Ray)
        ray.get(flaky.options(retry_exceptions=False).remote(str(tmp_path / "c"), 1), timeout=60)
    assert (tmp_path / "c").read_text() == "x"


def test_tasks_waiting_in_ray_wait_give_their_thread_back():
    """Four parents on two task threads, each waiting (ray.wait) on children that need a thread too."""
    @ray.remote
    def parent(i):
        pending = [inc.remote(i * 10 + k) for k in range(3)]
        total = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            total += ray.get(ready[0])
        return total

    expected = [sum(i * 10 + k + 1 for k in range(3)) for i in range(4)]
    assert ray.get([parent.remote(i) for i in range(4)], timeout=60) == expected
