"""The scheduler gives back what a computation used once its keys are released: run after run, nothing grows.

Three rounds of many tasks through ``client.map`` on a LocalCluster.  After each, every per-key structure
of the scheduler is empty again (``scheduler_info()["held"]``), and its resident memory (``VmRSS`` of the
scheduler process) stops growing once the bounded rings are full: the event log (100,000 records, full
after the first round) and the task stream (here 10,000 runs, full after the first round too).
"""

import gc

import pytest

import graphflow as gf
from graphflow import config
from graphflow.testing.wait import wait_for

N_TASKS = 30_000
MiB = 2**20


def inc(x):
    return x + 1


def rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes, from /proc (psutil is not a dependency)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


PER_KEY = ("tasks", "wanted", "queue", "no_worker", "steals", "recommendations", "progress_trackers",
           "pending_answers")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_rounds_of_many_tasks_leave_nothing_behind_on_the_scheduler():
    with config.set({"scheduler.task_stream_size": 10_000}):  # reaches the scheduler process's environment
        client = gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None)
    with client:
        pid = client.scheduler_info()["pid"]
        sizes, held = [], []
        for _ in range(3):
            futures = client.map(inc, range(N_TASKS), pure=False)
            assert client.gather(futures)[-1] == N_TASKS
            del futures
            gc.collect()  # the futures' releases go out now
            info = wait_for(lambda: (lambda i: i if i["tasks"] == 0 else None)(client.scheduler_info()),
                            timeout=60, what="the scheduler releasing every key")
            held.append(info["held"])
            sizes.append(rss(pid))
        for h in held:
            assert {k: h[k] for k in PER_KEY} == dict.fromkeys(PER_KEY, 0), h
            assert h["task_stream"] == 10_000 and h["log"] == 100_000
        growth = sizes[2] - sizes[1]
        assert growth < 20 * MiB, f"scheduler RSS {[s // MiB for s in sizes]} MiB: grew {growth // MiB} MiB"
