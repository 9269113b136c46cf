"""A full spill disk on a real LocalCluster: what fits is kept, what needs room fails with a SpillError that
names the directory and the sizes, nothing hangs or restarts, and the cluster keeps serving.

The disk is a 50 MiB tmpfs the test mounts (as root, which CI is), else a plain directory with the same
``max_spill``.  Two workers with 128 MiB each (an idle worker holds ~40-70 MiB of it) are asked for 300 MiB.
"""

import os
import time

import numpy as np
import pytest

import graphflow as gf
from graphflow.errors import SpillError
from graphflow.testing.disks import small_disk
from graphflow.testing.wait import wait_for
from graphflow.worker.server import MEMORY_MONITOR_INTERVAL

MiB = 2 ** 20
DISK = 50 * MiB
LIMIT = 128 * MiB


def make_chunk(i, nbytes):
    return np.full(nbytes // 8, float(i))


def add(*xs):
    return sum(xs)


def worker_pids(client) -> dict:
    return {a: w["pid"] for a, w in client.scheduler_info()["workers"].items()}


@pytest.fixture
def full_disk_client(request):
    """A cluster spilling to a 50 MiB tmpfs, or (param "max_spill", and without root) capped by max_spill."""
    with small_disk(DISK) as (path, mounted):
        extra = {} if mounted and request.param == "disk" else {"max_spill": DISK}
        with gf.Client(n_workers=2, threads_per_worker=1, memory_limit=LIMIT, local_directory=path,
                       **extra) as client:
            yield client, path


@pytest.mark.parametrize("full_disk_client, chunk", [("disk", 10 * MiB), ("disk", MiB // 2), ("max_spill", 10 * MiB)],
                         ids=["10MiB-chunks", "512KiB-chunks", "10MiB-chunks-max-spill"], indirect=["full_disk_client"])
def test_a_full_disk_fails_what_needs_room_and_keeps_serving_the_rest(full_disk_client, capfd, chunk):
    client, path = full_disk_client
    pids = worker_pids(client)
    futures = client.map(make_chunk, range(300 * MiB // chunk), nbytes=chunk)
    short = []  # the scheduler's view of workers short of room, while it lasts (it ends once memory is fine)
    tiny = []  # a small task submitted while they are

    def all_done(watched=futures):
        now_short = [w for w in client.memory().values() if w["spill_error"]]
        if now_short and not tiny:
            tiny.append(client.submit(add, 1, 2, len(now_short), pure=False))
        short.extend(now_short)
        return all(f.done() for f in watched)

    wait_for(all_done, timeout=120, interval=0.02, what="every future ending")  # none is left pending
    done = [f for f in futures if f.status == "finished"]
    failed = [f for f in futures if f.status == "error"]
    assert done and failed and len(done) + len(failed) == len(futures)
    assert all(f.result().nbytes == chunk and f.result()[0] == f.result()[-1] for f in done[:20])  # intact
    errors = [f.exception() for f in failed]
    assert all(isinstance(e, SpillError) for e in errors), {type(e).__name__ for e in errors}
    e = errors[0]
    assert e.directory.startswith(path) and e.directory in str(e) and e.key in str(e)
    assert e.needed > 0 and e.free is not None and e.free < e.needed + MiB
    assert "needs room" in str(e) and "are free" in str(e)

    assert short and all(w["paused"] and path in w["spill_error"] for w in short), short[:2]
    assert tiny[0].result(timeout=30) in (4, 5)  # what fits still runs on workers short of room
    assert client.submit(add, 1, 2).result(timeout=30) == 3
    # Not a wait but a window: ten memory checks, in which a crash loop or a log line per check would show.
    time.sleep(10 * MEMORY_MONITOR_INTERVAL)
    assert worker_pids(client) == pids  # no worker restarted
    err = capfd.readouterr().err
    assert "restarting" not in err and "MemoryLimitError" not in err
    assert err.count("short of room") <= 2, err  # one line per worker per episode
    assert err.count("SpillError") <= 2, err

    del futures, done, failed, errors, e, all_done  # (all_done holds the futures too)
    wait_for(lambda: not any(w["paused"] or w["spill_error"] for w in client.memory().values()), timeout=30,
             what=lambda: f"both workers running again after the release: {client.memory()}")
    assert client.submit(make_chunk, 3, 10 * MiB).result(timeout=30)[0] == 3.0  # room again for big results
    assert worker_pids(client) == pids


def test_without_a_full_disk_nothing_changes(tmp_path):
    """The same 300 MiB with room on disk: all of it is kept, spilled, nothing fails.  The workers' spill
    folders are private (0700, blocks 0600), and a folder someone made in advance under the same prefix
    (open to all; another user's when we are root) is neither used nor removed."""
    squat = tmp_path / "graphflow-spill-1-squat"  # pid 1 never dies: not stale either
    squat.mkdir()
    squat.chmod(0o777)
    if os.geteuid() == 0:
        os.chown(squat, 65534, 65534)
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit=LIMIT, local_directory=str(tmp_path)) as client:
        futures = client.map(make_chunk, range(30), nbytes=10 * MiB)
        gf.wait(futures, timeout=120)
        assert all(f.status == "finished" for f in futures)
        wait_for(lambda: sum(w["spilled"] for w in client.memory().values()) > 100 * MiB, timeout=30,
                 what=lambda: f"a heartbeat counting the spilled chunks: {client.memory()}")
        assert not any(w["spill_error"] for w in client.memory().values())
        assert sum(f.result()[0] for f in futures) == sum(range(30))
        folders = [tmp_path / p for p in os.listdir(tmp_path) if p.startswith("graphflow-spill-") and p != squat.name]
        assert len(folders) == 2
        for folder in folders:
            st = os.lstat(folder)
            assert st.st_uid == os.geteuid() and st.st_mode & 0o777 == 0o700
            assert all(os.lstat(folder / b).st_mode & 0o777 == 0o600 for b in os.listdir(folder))
    assert os.listdir(tmp_path) == [squat.name] and os.listdir(squat) == []
