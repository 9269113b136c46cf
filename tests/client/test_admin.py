"""Cluster-wide client methods on a real cluster: run, upload_file, plugins, restart, versions, datasets, metadata.

Workers that join later (``cluster.scale``) must get uploads and plugins too; restart must give fresh
processes and cancel this client's futures, as dask.distributed does.
"""

import json
import os
import sys
import time

import pytest

import graphflow as gf
from graphflow.errors import FutureCancelledError, GraphflowError, VersionMismatchError
from graphflow.testing.wait import wait_for

SEEN: list = []  # what the plugins below saw, in the worker process they run in


def inc(x):
    return x + 1


def fail(x):
    raise ValueError(f"bad {x}")


def seen():
    return list(SEEN)


class RecordingPlugin(gf.WorkerPlugin):
    name = "recorder"

    def setup(self, worker):
        SEEN.append(("setup", worker.address))

    def teardown(self, worker):
        SEEN.append(("teardown", worker.address))

    def transition(self, key, start, finish, **kwargs):
        SEEN.append((key, start, finish))


class SchedulerRecorder(gf.SchedulerPlugin):
    def __init__(self):
        self.events = []

    def start(self, scheduler):
        self.events.append(("start", scheduler.address))

    def add_worker(self, scheduler, worker):
        self.events.append(("add_worker", worker))

    def remove_worker(self, scheduler, worker):
        self.events.append(("remove_worker", worker))

    def transition(self, key, start, finish):
        self.events.append((key, start, finish))


def scheduler_events(name, dask_scheduler=None):
    return list(dask_scheduler.extensions.plugins[name].events)


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
        yield c


@pytest.mark.api("Client.run", "Client.run_on_scheduler")
def test_run_on_every_worker_and_on_the_scheduler(client):
    pids = client.run(os.getpid)
    assert set(pids) == set(client.nthreads()) and len(set(pids.values())) == 2
    assert os.getpid() not in pids.values()
    one = sorted(pids)[0]
    assert client.run(lambda dask_worker: dask_worker.address, workers=[one]) == {one: one}
    assert client.run(pow, 2, 5) == {w: 32 for w in pids}
    assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.address) == client.scheduler_address
    assert client.run_on_scheduler(os.getpid) not in pids.values()
    with pytest.raises(ValueError, match=r"bad 1 \[raised on worker tcp://"):
        client.run(fail, 1)
    errors = client.run(fail, 2, on_error="return")
    assert all(isinstance(e, ValueError) for e in errors.values())
    assert client.run(os.getpid, wait=False) is None
    with pytest.raises(GraphflowError, match="no worker at"):
        client.run(os.getpid, workers=["tcp://127.0.0.1:1"])


def time_out():
    raise TimeoutError("the scheduler's own wait ran out")


def test_a_timeout_raised_on_the_scheduler_is_not_a_silent_scheduler(client):
    # on 3.11 the client's own wait and the answered error are one class: the answer must win
    with pytest.raises(TimeoutError, match="the scheduler's own wait ran out"):
        client.run_on_scheduler(time_out)


@pytest.mark.api("Client.nthreads", "Client.ncores", "Client.has_what", "Client.processing", "Client.nbytes",
                 "Client.who_has")
def test_what_is_where(client):
    assert client.nthreads() == client.ncores() and set(client.nthreads().values()) == {1}
    futs = client.map(inc, range(4))
    gf.wait(futs, timeout=30)
    held = client.has_what()
    assert set(held) == set(client.nthreads())
    assert {f.key for f in futs} <= {k for keys in held.values() for k in keys}
    assert set(client.processing()) == set(client.nthreads())
    sizes = client.nbytes(summary=False)
    assert all(sizes[f.key] > 0 for f in futs)
    assert client.nbytes()["inc"] >= sum(sizes[f.key] for f in futs)


@pytest.mark.api("Client.upload_file")
def test_upload_file_reaches_every_worker_and_late_joiners(client, tmp_path):
    path = tmp_path / "gf_uploaded_mod.py"
    path.write_text("VALUE = 1\ndef f(x):\n    return x + VALUE\n")
    client.upload_file(str(path))
    assert client.run(_uploaded_value) == {w: 1 for w in client.nthreads()}
    assert client.submit(_call_uploaded, 1).result(timeout=30) == 2
    path.write_text("VALUE = 10\ndef f(x):\n    return x + VALUE\n")
    client.upload_file(str(path))  # a new version is reloaded where the old one was imported
    assert set(client.run(_uploaded_value).values()) == {10}
    with pytest.raises(GraphflowError, match=".py, .zip or .egg"):
        client.upload_file(str(tmp_path / "data.csv"))
    before = set(client.nthreads())
    client.cluster.scale(3)
    client.wait_for_workers(3, timeout=60)
    (new,) = set(client.nthreads()) - before
    assert client.run(_uploaded_value, workers=[new]) == {new: 10}
    client.cluster.scale(2)
    wait_for(lambda: len(client.nthreads()) == 2, timeout=60)


def _uploaded_value():
    import gf_uploaded_mod

    return gf_uploaded_mod.VALUE


def _call_uploaded(x):
    import gf_uploaded_mod

    return gf_uploaded_mod.f(x)


@pytest.mark.api("Client.register_plugin", "Client.unregister_worker_plugin",
                 "distributed.WorkerPlugin")
def test_worker_plugin_setup_transition_teardown_and_late_joiners(client):
    client.register_plugin(RecordingPlugin())
    setups = client.run(seen)
    assert all(("setup", w) in s for w, s in setups.items())
    ok, bad = client.submit(inc, 100, pure=False), client.submit(fail, 100, pure=False)
    gf.wait([ok, bad], timeout=30)
    wait_for(lambda: any((ok.key, "executing", "memory") in s for s in client.run(seen).values()), timeout=30)
    wait_for(lambda: any((bad.key, "executing", "error") in s for s in client.run(seen).values()), timeout=30)
    client.register_worker_plugin(RecordingPlugin(), name="recorder")  # replaces it: teardown, then setup
    assert all(s.count(("setup", w)) == 2 and ("teardown", w) in s for w, s in client.run(seen).items())
    before = set(client.nthreads())
    client.cluster.scale(3)
    client.wait_for_workers(3, timeout=60)
    (new,) = set(client.nthreads()) - before
    assert ("setup", new) in client.run(seen, workers=[new])[new]
    client.unregister_worker_plugin("recorder")
    assert ("teardown", new) in client.run(seen, workers=[new])[new]
    client.cluster.scale(2)
    wait_for(lambda: len(client.nthreads()) == 2, timeout=60)


@pytest.mark.api("Client.register_plugin", "Client.unregister_scheduler_plugin", "distributed.SchedulerPlugin")
def test_scheduler_plugin_hooks(client):
    client.register_plugin(SchedulerRecorder(), name="sched-rec")
    fut = client.submit(inc, 200, pure=False)
    fut.result(timeout=30)
    wait_for(lambda: (fut.key, "processing", "memory") in client.run_on_scheduler(scheduler_events, "sched-rec"),
             timeout=30)
    events = client.run_on_scheduler(scheduler_events, "sched-rec")
    assert events[0] == ("start", client.scheduler_address)
    client.unregister_scheduler_plugin("sched-rec")
    with pytest.raises(KeyError):
        client.run_on_scheduler(scheduler_events, "sched-rec")


@pytest.mark.api("Client.register_worker_callbacks")
def test_register_worker_callbacks(client):
    client.register_worker_callbacks(_mark_worker)
    assert all(("callback", w) in s for w, s in client.run(seen).items())


def _mark_worker(dask_worker):
    SEEN.append(("callback", dask_worker.address))


@pytest.mark.api("Client.get_versions")
def test_get_versions_and_a_mismatch(client):
    versions = client.get_versions(check=True)
    assert versions["client"]["packages"]["graphflow"] == gf.__version__
    assert set(versions["workers"]) == set(client.nthreads())
    client.run(_set_version, "0.0.0-other")
    try:
        with pytest.raises(VersionMismatchError, match=r"graphflow: client=.*tcp://[^=]+=0\.0\.0-other") as info:
            client.get_versions(check=True)
        assert "graphflow" in info.value.mismatches
        assert client.get_versions(check=False)["workers"]  # without check it only reports
    finally:
        client.run(_set_version, gf.__version__)
    client.get_versions(check=True)


def _set_version(v):
    sys.modules["graphflow"].__version__ = v


@pytest.mark.api("Client.publish_dataset", "Client.get_dataset", "Client.list_datasets",
                 "Client.unpublish_dataset")
def test_published_datasets_outlive_their_publisher(client):
    with gf.Client(client.scheduler_address, token=client.token, set_as_default=False) as publisher:
        fut = publisher.submit(inc, 41, pure=False)
        persisted = publisher.persist(gf.delayed(inc)(gf.delayed(inc)(0)))
        publisher.publish_dataset(answer=fut, nested={"xs": [fut]})
        publisher.publish_dataset(persisted, name="lazy")
        with pytest.raises(KeyError, match="published already"):
            publisher.publish_dataset(answer=fut)
    # the publisher is gone: the datasets keep their results
    assert sorted(client.list_datasets()) == ["answer", "lazy", "nested"]
    got = client.get_dataset("answer")
    assert isinstance(got, gf.Future) and got.client is client and got.result(timeout=30) == 42
    assert client.gather(client.get_dataset("nested")) == {"xs": [42]}
    assert client.get_dataset("lazy").compute() == 2
    client.datasets["more"] = got
    assert "more" in client.datasets and len(client.datasets) == 4
    del client.datasets["more"]
    client.unpublish_dataset("nested")
    assert sorted(client.list_datasets()) == ["answer", "lazy"]
    with pytest.raises(KeyError, match="no dataset named 'nested'"):
        client.get_dataset("nested")
    assert client.get_dataset("nested", default=None) is None


@pytest.mark.api("Client.set_metadata", "Client.get_metadata", "Client.log_event", "Client.get_events")
def test_metadata_and_events(client):
    client.set_metadata(["job", "stage"], 3)
    client.set_metadata("flat", "x")
    assert client.get_metadata(["job"]) == {"stage": 3} and client.get_metadata("flat") == "x"
    with pytest.raises(KeyError, match="no metadata at"):
        client.get_metadata(["job", "missing"])
    assert client.get_metadata(["nope"], default=7) == 7
    client.log_event("topic-a", {"n": 1})
    client.log_event(["topic-a", "topic-b"], "two")
    records = client.get_events("topic-a")
    assert [m for _, m in records] == [{"n": 1}, "two"] and all(t <= time.time() for t, _ in records)
    assert set(client.get_events()) >= {"topic-a", "topic-b"}


@pytest.mark.api("Client.get_executor", "Client.write_scheduler_file")
def test_executor_and_scheduler_file(client, tmp_path):
    with client.get_executor() as ex:
        assert list(ex.map(pow, [2, 3], [5, 2])) == [32, 9]
        assert ex.submit(inc, 1).result(timeout=30) == 2
    with pytest.raises(RuntimeError, match="shut down"):
        ex.submit(inc, 1)
    client.write_scheduler_file(str(tmp_path / "s.json"))
    assert json.loads((tmp_path / "s.json").read_text())["address"] == client.scheduler_address


@pytest.mark.api("Client.wait_for_workers")
def test_wait_for_workers(client):
    client.wait_for_workers(2, timeout=30)
    with pytest.raises(TimeoutError, match="only 2 of 5 workers joined within 0.3 s"):
        client.wait_for_workers(5, timeout=0.3)


@pytest.mark.api("Client.restart", "Client.restart_workers")
def test_restart_gives_fresh_workers_and_cancels_futures(client):
    fut = client.submit(inc, 1000, pure=False)
    assert fut.result(timeout=30) == 1001
    before = client.run(os.getpid)
    client.restart(timeout=120)
    after = client.run(os.getpid)
    assert len(after) == len(before) and not set(after.values()) & set(before.values())
    assert fut.cancelled()
    with pytest.raises(FutureCancelledError):
        fut.result(timeout=5)
    assert client.submit(inc, 1, pure=False).result(timeout=30) == 2
    one = sorted(after)[0]
    fresh = client.restart_workers([one], timeout=120)
    assert len(fresh) == 1 and client.run(os.getpid, workers=fresh)[fresh[0]] not in after.values()


@pytest.mark.api("Client.call_stack")
def test_call_stack_shows_where_a_running_task_is(client):
    fut = client.submit(_sleep_in_here, 30, pure=False)
    # first the worker imports the function, then it is in it
    wait_for(lambda: any("_sleep_in_here" in "".join(s.get(fut.key, ())) for s in client.call_stack().values()),
             timeout=30)
    stacks = client.call_stack([fut])
    (where,) = stacks.values()
    assert "time.sleep(seconds)" in "".join(where[fut.key])
    assert client.call_stack(keys=["no-such-key"]) == {}
    fut.cancel()


def _sleep_in_here(seconds):
    time.sleep(seconds)
