"""Rounds of submit + release on a real LocalCluster leave the scheduler as the first round left it.

Each round takes in 12,000 tasks (above the `Trimmer`'s threshold, so the last key's release compacts the
scheduler, `graphflow.scheduler.trim.compact`), by ``client.map`` and by ``client.compute`` of a list of
delayed values, and releases them.  After every round, read in the scheduler process:

* every per-key structure is empty, and every table that grew to hold the tasks (the task dict, each
  worker's processing and has_what, each client's wanted set) is back to an empty table's size: a dict
  or set emptied by deletions keeps its grown table until it is cleared;
* the bounded rings hold no more than their bound (the task stream, 10,000 here, is full from round 1),
  and neither they nor any table of the state holds a task's key as an object (the rings are packed);
* the scheduler's RSS after round 3 is within 5% of round 2's, plus 3 MiB of slack: at this size the
  transition log is not full after round 1 (~70k of its 100k records), so round 1 is not the
  baseline here; at 100k tasks (``python -m benchmarks scale-map-100k``) each round's RSS was 154, 161,
  170 MiB before the compaction and 154, 157, 156 after.
"""

import gc
import sys

import pytest

import graphflow as gf
from graphflow import config
from graphflow.testing.reach import reachable_strings
from graphflow.testing.wait import wait_for

N_TASKS = 12_000
STREAM = 10_000  # task stream records: full after the first round
LOG = 100_000  # the transition log's bound (SchedulerState's log_length)
MiB = 2**20


def inc(x):
    return x + 1


def tables(scheduler=None) -> dict:
    """Run in the scheduler process: entries and table sizes of its per-key structures, RSS, ring lengths."""
    st = scheduler.state
    empty_dict, empty_set = sys.getsizeof({}), sys.getsizeof(set())
    grown = {"tasks": sys.getsizeof(st.tasks) - empty_dict}
    for address, ws in st.workers.items():
        grown[f"processing {address}"] = sys.getsizeof(ws.processing) - empty_dict
        grown[f"has_what {address}"] = sys.getsizeof(ws.has_what) - empty_set
    for client, wanted in st.wants.items():
        grown[f"wants {client}"] = sys.getsizeof(wanted) - empty_set
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * 4096
    keys = reachable_strings([st, scheduler.diagnostics.stream], lambda s: s.startswith("inc-"))
    return {"held": scheduler.held(), "grown": grown, "rss": rss, "keys": keys[:3], "n_keys": len(keys)}


def _submit_map(client, r):
    return client.map(inc, range(r * N_TASKS, (r + 1) * N_TASKS), pure=False)


def _submit_list(client, r):
    d = gf.delayed(inc, pure=False)
    return client.compute([d(i) for i in range(r * N_TASKS, (r + 1) * N_TASKS)])


@pytest.mark.timeout(300)
@pytest.mark.parametrize("submit", [_submit_map, _submit_list], ids=["map", "compute-list"])
def test_three_rounds_of_release_leave_the_scheduler_as_round_one_did(submit):
    with config.set({"scheduler.task_stream_size": STREAM}):  # reaches the scheduler process's environment
        client = gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None)
    with client:
        rounds = []
        for r in range(3):
            futures = submit(client, r)
            total = sum(client.gather(futures))
            assert total == sum(range(r * N_TASKS + 1, (r + 1) * N_TASKS + 1))
            del futures
            gc.collect()  # the futures' releases go out now
            wait_for(lambda: client.scheduler_info()["tasks"] == 0, timeout=60,
                     what="the scheduler releasing every key")
            rounds.append(client.run_on_scheduler(tables))
        for r, got in enumerate(rounds, 1):
            per_key = {k: v for k, v in got["held"].items() if k not in ("log", "task_stream", "clients", "peers")}
            assert not any(per_key.values()), f"round {r}: per-key records left {per_key}"
            assert got["held"]["task_stream"] == STREAM and got["held"]["log"] <= LOG, f"round {r}: {got['held']}"
            assert not any(got["grown"].values()), f"round {r}: tables still sized for the tasks {got['grown']}"
            assert not got["n_keys"], f"round {r}: the scheduler still holds {got['n_keys']} keys, e.g. {got['keys']}"
        sizes = [got["rss"] // MiB for got in rounds]
        assert sizes[2] <= sizes[1] * 1.05 + 3, f"scheduler RSS after each release {sizes} MiB"
