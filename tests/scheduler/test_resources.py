"""Resources: the pure state machine (events in, commands out), then real scheduler and worker processes."""

import os
import subprocess
import sys
import time

import pytest

import graphflow as gf
from graphflow.errors import NoWorkerError
from graphflow.scheduler.events import AssignTasks
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, joined, left, tick
from graphflow.testing.wait import wait_for
from graphflow.utils.resources import parse_resources

GPU1 = {"GPU": 1.0}


def assigned(commands) -> dict:
    """``{worker: [keys]}`` of the AssignTasks among ``commands``."""
    return {c.worker: [t.key for t in c.tasks] for c in commands if isinstance(c, AssignTasks)}


def state_with(*workers) -> SchedulerState:
    s = SchedulerState(validate=True)
    for w in workers:
        s.handle(w)
    return s


# ------------------------------------------------------------------ parsing


def test_resources_parse_from_strings_and_dicts_and_reject_nonsense():
    assert parse_resources("GPU=2, MEM=8e9") == {"GPU": 2.0, "MEM": 8e9}
    assert parse_resources({"GPU": 1}) == {"GPU": 1.0}
    assert parse_resources(None) is None and parse_resources("") is None
    with pytest.raises(ValueError, match="NAME=AMOUNT"):
        parse_resources("GPU")
    with pytest.raises(ValueError, match="'GPU' must be a number"):
        parse_resources({"GPU": "lots"})
    with pytest.raises(ValueError, match=">= 0"):
        parse_resources("GPU=-1")


# ------------------------------------------------------------------ state machine


def test_tasks_wait_for_their_resources_and_run_as_they_free():
    """a, b, c each ask for GPU=1; W offers GPU=1 (and 4 threads), V offers nothing::

        a  b  c      -> a runs on W; b, c wait in no-worker (V never gets them)
    """
    s = state_with(joined("W", 4, resources={"GPU": 1}), joined("V", 4))
    out = s.handle(graph({"a": (), "b": (), "c": ()}, resources={k: GPU1 for k in "abc"}))
    assert assigned(out) == {"W": ["a"]}
    assert s.tasks["b"].state == s.tasks["c"].state == "no-worker"
    assert s.workers["W"].used == {"GPU": 1.0}
    out = s.handle(finished("W", "a"))
    assert assigned(out) == {"W": ["b"]}
    out = s.handle(finished("W", "b"))
    assert assigned(out) == {"W": ["c"]}
    s.handle(finished("W", "c"))
    assert s.workers["W"].used == {"GPU": 0.0}


def test_amounts_add_up_per_worker_and_tasks_without_resources_are_untouched():
    """W offers GPU=2: two GPU=1 tasks run at once, the GPU=2 task waits for both; x (no resources) runs anyway."""
    s = state_with(joined("W", 4, resources={"GPU": 2}))
    out = s.handle(graph({"a": (), "b": (), "big": (), "x": ()},
                         resources={"a": GPU1, "b": GPU1, "big": {"GPU": 2.0}}))
    assert sorted(assigned(out)["W"]) == ["a", "b", "x"]
    assert s.tasks["big"].state == "no-worker"
    assert assigned(s.handle(finished("W", "a"))) == {}
    assert assigned(s.handle(finished("W", "b"))) == {"W": ["big"]}


def test_a_request_no_worker_offers_errs_at_once_naming_request_and_offers():
    s = state_with(joined("W", 1, resources={"GPU": 1}, name="gpu-box"))
    out = s.handle(graph({"a": ()}, resources={"a": {"GPU": 4.0}}))
    assert s.tasks["a"].state == "erred"
    report = [c for c in out if getattr(c, "key", None) == "a"][0]
    exc = report.exception
    assert isinstance(exc, NoWorkerError)
    assert exc.request == {"GPU": 4.0} and exc.workers == {"gpu-box": {"GPU": 1.0}}
    assert "GPU" in str(exc) and "gpu-box" in str(exc)


def test_an_adaptive_cluster_holds_an_unsatisfiable_request_until_a_worker_offers_it():
    s = state_with(joined("W", 1))
    s.pool.adaptive = True
    s.handle(graph({"a": ()}, resources={"a": GPU1}))
    assert s.tasks["a"].state == "no-worker"
    out = s.handle(joined("G", 1, resources={"GPU": 1}))
    assert assigned(out) == {"G": ["a"]}


def test_resources_are_released_when_their_worker_dies_and_the_task_waits_for_another():
    s = state_with(joined("G", 1, resources={"GPU": 1}), joined("V", 1))
    s.handle(graph({"a": ()}, resources={"a": GPU1}))
    assert s.tasks["a"].processing_on.address == "G"
    s.handle(left("G"))  # died while running a: held (a replacement may come), not erred
    assert s.tasks["a"].state == "no-worker"
    out = s.handle(joined("H", 1, resources={"GPU": 1}))
    assert assigned(out) == {"H": ["a"]}
    assert s.workers["H"].used == {"GPU": 1.0}


def test_held_tasks_run_in_priority_order_and_are_never_stolen():
    s = state_with(joined("W", 1, resources={"GPU": 1}), joined("V", 1, resources={"GPU": 1}))
    keys = [f"t{i}" for i in range(6)]
    out = s.handle(graph({k: () for k in keys}, resources={k: GPU1 for k in keys}))
    first = sorted(k for ks in assigned(out).values() for k in ks)
    assert first == ["t0", "t1"]
    out = s.handle(finished("W", "t0"), tick(1.0))
    assert assigned(out) == {"W": ["t2"]}
    assert not s.steals


def test_a_task_asking_for_resources_restricted_to_one_worker_waits_for_that_one():
    s = state_with(joined("W", 1, resources={"GPU": 1}), joined("V", 1, resources={"GPU": 1}))
    s.handle(graph({"a": (), "b": ()}, resources={"a": GPU1, "b": GPU1}, restrictions={"a": {"V"}, "b": {"V"}}))
    assert s.tasks["a"].processing_on.address == "V"
    assert s.tasks["b"].state == "no-worker"
    assert assigned(s.handle(finished("V", "a"))) == {"V": ["b"]}


# ------------------------------------------------------------------ real processes


def slow_identity(x, delay=0.3):
    time.sleep(delay)
    return x


def running_together(intervals) -> int:
    """Most intervals ``(start, stop)`` overlapping at one instant."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, d in events:
        now += d
        most = max(most, now)
    return most


def timed(x, delay=0.3):
    start = time.time()
    time.sleep(delay)
    return (start, time.time())


@pytest.fixture(scope="module")
def gpu_client():
    """2 workers x 2 threads, each offering GPU=1."""
    with gf.Client(n_workers=2, threads_per_worker=2, resources={"GPU": 1}, dashboard_address=None,
                   set_as_default=False, timeout=30) as c:
        # warm up: each worker imports this module before the timings below (a cold import under load
        # takes longer than a task and would serialize them)
        c.gather([c.submit(timed, w, 0.0, workers=w, pure=False) for w in c.scheduler_info()["workers"]])
        yield c


def test_submit_with_resources_runs_one_task_per_gpu_at_a_time(gpu_client):
    futures = [gpu_client.submit(timed, i, pure=False, resources={"GPU": 1}) for i in range(6)]
    intervals = gpu_client.gather(futures)
    # 4 threads, 2 GPUs: never more than 2 at once, and resources= never reached the function
    assert running_together(intervals) <= 2
    holders = {w for v in gpu_client.who_has(futures).values() for w in v}
    assert len(holders) == 2  # both GPUs were used


def test_map_and_compute_and_persist_take_resources(gpu_client):
    futures = gpu_client.map(timed, range(4), resources="GPU=1")
    assert running_together(gpu_client.gather(futures)) <= 2
    parts = [gf.delayed(timed)(i) for i in range(10, 14)]
    assert running_together(gpu_client.compute(parts, sync=True, resources={"GPU": 1})) <= 2
    persisted = gpu_client.persist([gf.delayed(timed)(i) for i in range(20, 24)], resources={"GPU": 1})
    assert running_together(gf.compute(*persisted, scheduler=gpu_client)) <= 2


def test_annotate_sets_resources_for_what_is_submitted_inside(gpu_client):
    with gf.annotate(resources={"GPU": 1}):
        futures = gpu_client.map(timed, range(4), pure=False)
    assert running_together(gpu_client.gather(futures)) <= 2
    from graphflow.client.placement import task_options

    with gf.annotate(priority=3, retries=1):  # priority= is an annotation too (higher runs first)
        options = task_options(["a", "b"])
    assert options["user_priority"] == {"a": 3, "b": 3} and options["retries"] == {"a": 1, "b": 1}
    with pytest.raises(TypeError, match="colour"):
        with gf.annotate(colour="red"):
            pass


def test_an_impossible_request_fails_at_once_with_no_worker_error(gpu_client):
    start = time.monotonic()
    future = gpu_client.submit(slow_identity, 1, resources={"GPU": 2})
    with pytest.raises(NoWorkerError, match="GPU") as info:
        future.result(timeout=30)
    assert time.monotonic() - start < 10
    assert sorted(info.value.workers.values(), key=str) == [{"GPU": 1.0}, {"GPU": 1.0}]


def _start_worker_cli(address, token_file, *extra):
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-m", "graphflow", "worker", address, "--token-file", token_file,
                             *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_graphflow_worker_resources_flag_reaches_the_scheduler(tmp_path):
    """A scheduler and two `graphflow worker` commands; only the second offers GPU=2."""
    token_file = tmp_path / "token"
    token_file.write_text("resources-test-token")
    addr_file = tmp_path / "address"
    sched = subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0", "--no-dashboard",
                              "--token-file", str(token_file), "--address-file", str(addr_file),
                              "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs = [sched]
    try:
        wait_for(addr_file.exists, timeout=30)
        address = addr_file.read_text().strip()
        procs.append(_start_worker_cli(address, str(token_file)))
        procs.append(_start_worker_cli(address, str(token_file), "--resources", "GPU=2"))
        with gf.Client(address, token=token_file.read_text(), set_as_default=False, timeout=30) as client:
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, timeout=60)
            info = client.scheduler_info()["workers"]
            offers = sorted(str(w.get("resources")) for w in info.values())
            assert offers == ["None", "{'GPU': 2.0}"]
            # both commands asked for "worker-0": the second to register is suffixed
            assert sorted(w["name"] for w in info.values()) == ["worker-0", "worker-0-2"]
            gpu_worker = [a for a, w in info.items() if w.get("resources")][0]
            futures = client.map(slow_identity, range(4), [0.05] * 4, resources={"GPU": 1})
            assert client.gather(futures) == [0, 1, 2, 3]
            assert all(v == [gpu_worker] for v in client.who_has(futures).values())
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_bad_resources_fail_before_anything_starts():
    with pytest.raises(ValueError, match="NAME=AMOUNT"):
        gf.LocalCluster(n_workers=1, resources="GPU")
    out = subprocess.run([sys.executable, "-m", "graphflow", "worker", "tcp://127.0.0.1:1", "--resources", "GPU"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "NAME=AMOUNT" in out.stderr


def test_resources_cost_nothing_when_unused_in_the_state_machine():
    """The same 2,000 root tasks place identically with and without a resourced worker present."""
    keys = {f"t{i}": () for i in range(2000)}
    plain = state_with(joined("W", 2), joined("V", 2))
    offered = state_with(joined("W", 2, resources={"GPU": 1}), joined("V", 2))
    a = assigned(plain.handle(graph(keys)))
    b = assigned(offered.handle(graph(keys)))
    assert a == b
    assert not offered.pool.heaps  # (the real-process cost is the "resources" benchmark row)
