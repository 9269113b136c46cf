"""Placement: workers= by address, name or host, allow_other_workers, the no-worker timeout, unique names.

First the pure state machine (events in, commands out), then real scheduler and worker processes.
"""

import os
import subprocess
import sys
import time

import pytest

import graphflow as gf
from graphflow.errors import NoWorkerError
from graphflow.scheduler.events import AssignTasks, KeyReport
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import graph, joined, left, tick
from graphflow.testing.wait import wait_for

A, B = "tcp://10.0.0.1:4000", "tcp://10.0.0.2:4000"


def assigned(commands) -> dict:
    return {c.worker: [t.key for t in c.tasks] for c in commands if isinstance(c, AssignTasks)}


def two_workers(timeout=30.0) -> SchedulerState:
    s = SchedulerState(validate=True, no_worker_timeout=timeout, heartbeat_timeout=1e9)  # ticks here never drop them
    s.handle(joined(A, name="alpha"), joined(B, name="beta"))
    return s


# ------------------------------------------------------------------ state machine


@pytest.mark.parametrize("spec, where", [(B, B), ("beta", B), ("10.0.0.2", B), ("10.0.0.1:4000", A), ("alpha", A)])
def test_workers_may_be_named_by_address_name_or_host(spec, where):
    s = two_workers()
    out = s.handle(graph({"x": ()}, restrictions={"x": {spec}}))
    assert assigned(out) == {where: ["x"]}


def test_a_name_no_connected_worker_has_waits_for_it_to_join():
    s = two_workers()
    s.handle(graph({"x": ()}, restrictions={"x": {"gamma"}}))
    assert s.tasks["x"].state == "no-worker"
    out = s.handle(joined("tcp://10.0.0.3:4000", name="gamma"))
    assert assigned(out) == {"tcp://10.0.0.3:4000": ["x"]}


def test_an_unknown_restriction_errs_after_the_no_worker_timeout_not_before():
    s = two_workers(timeout=5.0)
    s.handle(graph({"x": ()}, restrictions={"x": {"nobody"}}))
    s.handle(tick(100.0))  # first seen unplaceable
    assert s.tasks["x"].state == "no-worker"
    s.handle(tick(104.0))
    assert s.tasks["x"].state == "no-worker"
    out = s.handle(tick(105.5))
    assert s.tasks["x"].state == "erred"
    exc = [c for c in out if isinstance(c, KeyReport)][0].exception
    assert isinstance(exc, NoWorkerError) and "nobody" in str(exc) and "alpha" in str(exc)
    assert exc.request == {"workers": ["nobody"]}


def test_a_departed_worker_is_a_restriction_nobody_meets():
    s = two_workers(timeout=5.0)
    s.handle(graph({"x": ()}, restrictions={"x": {"beta"}}))
    assert s.tasks["x"].processing_on.address == B
    s.handle(left(B, expected=True))
    assert s.tasks["x"].state == "no-worker"
    s.handle(tick(0.0), tick(6.0))
    assert s.tasks["x"].state == "erred"


def test_allow_other_workers_runs_elsewhere_when_none_of_its_workers_is_here():
    s = two_workers()
    out = s.handle(graph({"x": (), "y": ()}, restrictions={"x": {"gamma"}, "y": {"beta"}}, loose={"x", "y"}))
    placed = {k: w for w, ks in assigned(out).items() for k in ks}
    assert placed["y"] == B  # preferred worker present: used
    assert placed["x"] in (A, B)  # gamma is not here: anywhere


def test_tasks_waiting_for_any_worker_are_not_timed_out():
    s = SchedulerState(validate=True, no_worker_timeout=1.0)
    s.handle(graph({"x": ()}))
    s.handle(tick(0.0), tick(100.0))
    assert s.tasks["x"].state in ("queued", "no-worker")  # a cluster still starting: it waits


def test_the_clock_stops_while_no_worker_is_connected_and_never_runs_for_busy_resources():
    s = SchedulerState(validate=True, no_worker_timeout=1.0, heartbeat_timeout=1e9)
    s.handle(graph({"x": ()}, restrictions={"x": {"gamma"}}))
    s.handle(tick(0.0), tick(100.0))
    assert s.tasks["x"].state == "no-worker"  # no worker at all: the cluster may still be starting
    s.handle(joined(A, name="alpha", resources={"GPU": 1}))
    s.handle(graph({"g1": (), "g2": ()}, resources={"g1": {"GPU": 1.0}, "g2": {"GPU": 1.0}}))
    s.handle(tick(200.0), tick(300.0))
    assert s.tasks["g2"].state == "no-worker"  # its GPU is busy, not missing
    assert s.tasks["x"].state == "erred"  # a worker is connected now, and none is gamma


# ------------------------------------------------------------------ real processes


def pid_of(_):
    return os.getpid()


@pytest.fixture(scope="module")
def client():
    with gf.config.set({"scheduler.no_worker_timeout": 2.0}):
        with gf.Client(n_workers=2, threads_per_worker=1, dashboard_address=None, set_as_default=False,
                       timeout=30) as c:
            yield c


def test_submit_by_name_and_host_on_a_real_cluster(client):
    info = client.scheduler_info()["workers"]
    pid_by_name = {w["name"]: w["pid"] for w in info.values()}
    for name, pid in pid_by_name.items():
        assert client.submit(pid_of, name, workers=name, pure=False).result(timeout=30) == pid
    host = next(iter(info.values()))["host"]
    pids = client.gather(client.map(pid_of, range(10), workers=host, pure=False))
    assert set(pids) <= set(pid_by_name.values())
    address_of = {w["name"]: a for a, w in info.items()}
    for name in pid_by_name:  # scatter takes names too
        x = client.scatter(f"data for {name}", workers=name, hash=False)
        assert client.who_has([x])[x.key] == [address_of[name]]
    with pytest.raises(gf.errors.GraphflowError, match="unknown workers.*no connected worker matches"):
        client.scatter(1, workers="no-such-worker")


def test_an_unknown_worker_name_errs_after_the_timeout_instead_of_hanging(client):
    start = time.monotonic()
    future = client.submit(pid_of, 0, workers="no-such-worker", pure=False)
    with pytest.raises(NoWorkerError, match="no-such-worker"):
        future.result(timeout=60)
    assert 1.5 < time.monotonic() - start < 30


def test_allow_other_workers_on_a_real_cluster(client):
    future = client.submit(pid_of, 0, workers="no-such-worker", allow_other_workers=True, pure=False)
    assert future.result(timeout=30) in {w["pid"] for w in client.scheduler_info()["workers"].values()}
    with pytest.raises(ValueError, match="needs workers="):
        client.submit(pid_of, 0, allow_other_workers=True)


def test_two_worker_commands_get_unique_names(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("placement-test-token")
    addr_file = tmp_path / "address"
    procs = [subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0", "--no-dashboard",
                               "--token-file", str(token_file), "--address-file", str(addr_file),
                               "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for(addr_file.exists, timeout=30)
        address = addr_file.read_text().strip()
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "graphflow", "worker", address, "--token-file",
                                           str(token_file), "--name", "gpu"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with gf.Client(address, token=token_file.read_text(), set_as_default=False, timeout=30) as c:
            wait_for(lambda: len(c.scheduler_info()["workers"]) == 2, timeout=60)
            info = c.scheduler_info()["workers"]
            names = sorted(w["name"] for w in info.values())
            assert names == ["gpu-0", "gpu-0-2"]
            pid = {w["name"]: w["pid"] for w in info.values()}
            for name in names:  # each name reaches its own process
                assert c.submit(pid_of, name, workers=name, pure=False).result(timeout=30) == pid[name]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
