"""The client of the multi-host tests, run on its own host (network namespace) by `test_multihost`.

    python -m tests.multihost.client_script SCENARIO tcp://10.231.0.2:8786 10.231.0.3 10.231.0.4

connects to the scheduler with the token in ``GRAPHFLOW_TOKEN``, finds the
worker on each of the two worker hosts (``a``, ``b``), plays ``SCENARIO`` and
prints one line ``RESULT {json}`` for the test to check.  The ``kill``
scenario also prints ``KILL <pid>`` (the pid of the worker on host ``a``)
and waits for a line on stdin saying the worker is dead before it asks for
its answer.
"""

import json
import sys
import urllib.error
import urllib.request

import graphflow as gf
from graphflow.comm.vmcopy import host_id
from graphflow.errors import AuthenticationError
from graphflow.testing.wait import wait_for

from . import tasks
from .tasks import MiB

TRANSFER_BYTES = 24 * MiB  # past vmcopy.MIN_BYTES: on one host it would be lent, not sent
SPILL_CHUNK, SPILL_CHUNKS = 16 * MiB, 16  # 256 MiB on a worker limited to 320 MiB: past its target


def workers_by_host(client, hosts, timeout=60.0) -> list:
    """The address of the one worker on each of ``hosts``, once each has one."""

    def found():
        workers = client.scheduler_info()["workers"]
        by_host = {}
        for address in workers:
            by_host.setdefault(address.split("//")[1].rsplit(":", 1)[0], []).append(address)
        if all(len(by_host.get(h, ())) == 1 for h in hosts):
            return [by_host[h][0] for h in hosts]
        return None

    def what():
        return f"one worker on each of {hosts}: {sorted(client.scheduler_info()['workers'])}"

    return wait_for(found, timeout=timeout, what=what)


def transfer(client, a, b) -> dict:
    """A result made on ``a`` and read by a task on ``b``: ``b`` fetches it from ``a``."""
    x = client.submit(tasks.make_chunk, 3, TRANSFER_BYTES, workers=[a])
    y = client.submit(tasks.chunk_sum, x, workers=[b])
    total = y.result(timeout=60)
    return {"sum": total, "expected": tasks.expected_sum(3, TRANSFER_BYTES), "holders": client.who_has([x])[x.key],
            "ran_on": client.who_has([y])[y.key], "client_host_id": host_id()}


def actor(client, a, b) -> dict:
    """An actor on ``b``, called from the client and from a task on ``a``."""
    counter = client.actor(tasks.Counter, 10, workers=[b])
    values = client.gather([counter.add(1) for _ in range(50)])
    from_a = client.submit(tasks.use_counter, counter, 5, workers=[a], pure=False).result(timeout=60)
    return {"values": values, "from_a": from_a, "final": counter.n.result(timeout=30), "address": counter.address}


def spill(client, a, b) -> dict:
    """More than ``a``'s memory target in results: some go to ``a``'s disk, and come back right."""
    chunks = [client.submit(tasks.make_chunk, i, SPILL_CHUNK, workers=[a]) for i in range(SPILL_CHUNKS)]
    gf.wait(chunks, timeout=120)
    spilled = wait_for(lambda: client.memory()[a]["spilled"], timeout=30, what="a heartbeat counting the spill")
    sums = [client.submit(tasks.chunk_sum, c, workers=[a]) for c in chunks]
    total = client.submit(tasks.add, *sums).result(timeout=120)
    expected = sum(tasks.expected_sum(i, SPILL_CHUNK) for i in range(SPILL_CHUNKS))
    return {"spilled": spilled, "limit": client.memory()[a]["limit"], "total": total, "expected": expected}


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def dashboard(client, a, b) -> dict:
    """The scheduler's dashboard, over HTTP from this host: with the token it answers, without it refuses."""
    link = client.dashboard_link
    bare = link.split("?")[0]
    api = bare.rsplit("/", 1)[0] + "/api/v1/workers"
    page_status, page = _get(link)
    api_status, body = _get(api, {"Authorization": f"Bearer {client.token.decode()}"})
    return {"link": link, "page": page_status, "page_is_dashboard": "chart-task-stream" in page,
            "bare": _get(bare)[0], "api_bare": _get(api)[0], "api": api_status,
            "workers": sorted(w["address"] for w in json.loads(body)) if api_status == 200 else body}


def kill(client, a, b) -> dict:
    """Results spread over both hosts, slow tasks running on them; the worker holding most is killed (kill -9)."""
    parts = client.map(tasks.make_chunk, range(8), nbytes=MiB)
    gf.wait(parts, timeout=60)
    sums = client.map(tasks.slow_sum, parts, seconds=1.0, pure=False)
    total = client.submit(tasks.add, *sums)
    wait_for(lambda: any(s.status == "finished" for s in sums), timeout=60, what="the first slow task done")
    held = {w: sum(1 for holders in client.who_has(parts).values() if w in holders) for w in (a, b)}
    victim = max((a, b), key=held.get)
    pid = client.scheduler_info()["workers"][victim]["pid"]
    print(f"KILL {pid}", flush=True)
    sys.stdin.readline()  # the test killed it
    value = total.result(timeout=120)
    expected = sum(tasks.expected_sum(i, MiB) for i in range(8))
    after = client.scheduler_info()["workers"]
    return {"total": value, "expected": expected, "victim": victim, "killed_pid": pid, "held": held[victim],
            "workers_after": {address: w["pid"] for address, w in after.items()}}


SCENARIOS = {f.__name__: f for f in (transfer, actor, spill, dashboard, kill)}


def refused(scheduler: str) -> dict:
    """Connect with the token in GRAPHFLOW_TOKEN, which the test makes wrong: refused, by name."""
    try:
        client = gf.Client(scheduler, timeout=20, set_as_default=False)
    except AuthenticationError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # the wrong error: the test shows it
        return {"error": type(exc).__name__, "message": str(exc)}
    client.close()
    return {"error": None}


def main(argv) -> int:
    scenario, scheduler, *hosts = argv
    if scenario == "refused":
        result = refused(scheduler)
    else:
        with gf.Client(scheduler, timeout=30, set_as_default=False) as client:
            a, b = workers_by_host(client, hosts)
            result = SCENARIOS[scenario](client, a, b)
            result["a"], result["b"] = a, b
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
