"""Dashboard snapshots: the pure builder against a fed `SchedulerState`, then the scheduler shell's `Diagnostics`.

The shell tests run an in-process cluster (real scheduler and worker shells
on one loop thread), so they can count builds and read
``scheduler.diagnostics`` directly, as the dashboard's HTTP thread does.
"""

import threading

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.scheduler import snapshot as snapshot_module
from graphflow.scheduler.snapshot import build_snapshot, empty_snapshot
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.cluster import InProcessCluster
from graphflow.testing.events import erred, finished, graph, heartbeat, joined
from graphflow.testing.wait import wait_for

PROGRESS_KEYS = {"prefix", "total", "waiting", "processing", "memory", "erred", "released", "done"}


def inc(x):
    return x + 1


def add(*xs):
    return sum(xs)


def check_progress_adds_up(snap):
    for row in snap["progress"]:
        assert set(row) == PROGRESS_KEYS
        assert row["total"] == row["waiting"] + row["processing"] + row["memory"] + row["erred"] + row["released"]
        assert row["memory"] <= row["done"] <= row["memory"] + row["released"]
    assert sum(r["total"] for r in snap["progress"]) == snap["counts"]["tasks"]


def test_builder_progress_graph_and_workers():
    """
    a -> b1, b2 -> c ;  x (fails) -> y
    """
    s = SchedulerState(validate=True)
    s.handle(joined("W", nthreads=2, memory_limit=1000), heartbeat("W", 0.0, memory=100, rss=400))
    a, b1, b2, c, x, y = ("a", 0), ("b", 1), ("b", 2), ("c", 0), ("x", 0), ("y", 0)
    s.handle(graph({a: (), b1: (a,), b2: (a,), c: (b1, b2), x: (), y: (x,)}))
    s.handle(finished("W", a), finished("W", b1), finished("W", b2), erred("W", x))
    snap = build_snapshot(s, address="tcp://s:1", cpu={"W": 55.0}, names={"W": "w0"}, pids={"W": 42})
    check_progress_adds_up(snap)
    rows = {r["prefix"]: r for r in snap["progress"]}
    assert rows["a"] == dict(prefix="a", total=1, waiting=0, processing=0, memory=0, erred=0, released=1, done=1)
    assert rows["b"]["memory"] == 2 and rows["b"]["done"] == 2
    assert rows["c"]["processing"] == 1 and rows["c"]["done"] == 0
    assert rows["x"]["erred"] == 1 and rows["y"]["erred"] == 1
    nodes = snap["graph"]["nodes"]
    index = {n["key"]: i for i, n in enumerate(nodes)}
    edges = {(nodes[i]["key"], nodes[j]["key"]) for i, j in snap["graph"]["edges"]}
    assert edges == {tuple(map(str, e)) for e in [(a, b1), (a, b2), (b1, c), (b2, c), (x, y)]}
    assert nodes[index[str(c)]]["state"] == "processing" and not snap["graph"]["truncated"]
    [w] = snap["workers"]
    assert w["name"] == "w0" and w["pid"] == 42 and w["cpu"] == 55.0 and w["nthreads"] == 2
    assert w["processing"] == 1 and w["paused"] is False
    assert w["memory"] == {"managed": 100, "spilled": 0, "shared": 0, "unmanaged": 300, "rss": 400, "limit": 1000}
    assert snap["counts"] == {"tasks": 6, "workers": 1, "clients": 1}
    assert snap["scheduler"] == "tcp://s:1"


def test_builder_truncates_to_the_newest_tasks():
    """A 10k-task tree: the graph keeps the newest ``graph_limit`` tasks, and edges only between kept ones."""
    s = SchedulerState()
    s.handle(joined("W", nthreads=4))
    deps = {f"leaf-{i}": () for i in range(8000)}
    deps.update({f"sum-{i}": tuple(f"leaf-{j}" for j in range(4 * i, 4 * i + 4)) for i in range(2000)})
    s.handle(graph(deps))
    snap = build_snapshot(s, graph_limit=5000)
    assert snap["graph"]["truncated"] and len(snap["graph"]["nodes"]) == 5000
    assert snap["graph"]["nodes"][-1]["key"] == "sum-1999"  # the newest
    n = len(snap["graph"]["nodes"])
    assert all(0 <= i < n and 0 <= j < n for i, j in snap["graph"]["edges"])
    # kept: leaf-5000..leaf-7999 and the 2000 sums; sum-1250.. read only kept leaves
    assert len(snap["graph"]["edges"]) == 4 * 750
    check_progress_adds_up(snap)
    assert snap["counts"]["tasks"] == 10_000


def test_empty_snapshot_has_the_contract_keys():
    assert set(empty_snapshot("x")) == {"time", "scheduler", "workers", "progress", "graph", "counts"}
    assert build_snapshot(SchedulerState())["graph"] == {"nodes": [], "edges": [], "truncated": False}


@pytest.fixture()
def cluster():
    with gf.config.set({"scheduler.dashboard_graph_limit": 12, "scheduler.dashboard_interval": 0.1}):
        with InProcessCluster(n_workers=2, nthreads=2, validate=False) as c:
            yield c


def test_snapshot_of_a_delayed_graph_on_a_cluster(cluster):
    """
    a -> b0, b1, b2 -> c     (persisted unoptimized: five tasks, six edges)
    """
    diag = cluster.scheduler.diagnostics
    with gf.Client(cluster.address, token=cluster.token, set_as_default=False) as client:
        a = delayed(inc, pure=True)(1)
        c = delayed(add, pure=True)(*[delayed(inc, key=f"b-{i}")(a) for i in range(3)])
        c_p = client.persist(c, optimize_graph=False)
        assert c_p.compute(scheduler=client) == 9
        snap = diag.snapshot()  # from this (non-loop) thread
        assert len(snap["workers"]) == 2
        for w in snap["workers"]:
            assert {"address", "name", "nthreads", "pid", "processing", "executing", "cpu", "paused",
                    "memory"} <= set(w)
            assert set(w["memory"]) == {"managed", "spilled", "shared", "unmanaged", "rss", "limit"}
            assert w["nthreads"] == 2
        check_progress_adds_up(snap)
        assert snap["counts"]["tasks"] == 5 and not snap["graph"]["truncated"]
        nodes = snap["graph"]["nodes"]
        assert sorted(n["prefix"] for n in nodes) == ["add", "b-0", "b-1", "b-2", "inc"]
        assert len(snap["graph"]["edges"]) == 6
        assert sum(r["done"] for r in snap["progress"]) == 5

        more = client.map(inc, range(100, 120))  # 25 tasks, graph limit 12
        client.gather(more)

        def with_the_new_tasks():  # published by the next tick (0.1 s) after the scheduler took them
            snap = diag.snapshot()
            return snap if snap["counts"]["tasks"] == 25 else None

        snap = wait_for(with_the_new_tasks, timeout=10, what="a snapshot with the 20 new tasks")
        assert snap["graph"]["truncated"] and len(snap["graph"]["nodes"]) == 12
        assert snap["counts"]["tasks"] == 25


def test_counts_say_when_the_stream_and_the_graph_changed(cluster):
    """counts.stream: task runs recorded so far; counts.graph: changes exactly when the graph part is rebuilt."""
    diag = cluster.scheduler.diagnostics
    with gf.Client(cluster.address, token=cluster.token, set_as_default=False) as client:
        first = client.persist(delayed(add, pure=True)(*[delayed(inc, pure=True)(i) for i in range(3)]),
                               optimize_graph=False)
        assert first.compute(scheduler=client) == 6
        snap = wait_for(lambda: (s := diag.snapshot())["counts"]["stream"] == 4 and s, timeout=10,
                        what="a snapshot counting the 4 runs")
        later = wait_for(lambda: (s := diag.snapshot()) is not snap and s, timeout=10, what="the next build")
        assert (later["graph"] is snap["graph"]) == (later["counts"]["graph"] == snap["counts"]["graph"])
        version = snap["counts"]["graph"]
        more = client.persist(delayed(inc, pure=True)(100))
        assert more.compute(scheduler=client) == 101
        snap = wait_for(lambda: (s := diag.snapshot())["counts"]["tasks"] == 5 and s, timeout=10,
                        what="a snapshot with the new task")
        assert snap["counts"]["graph"] > version and snap["counts"]["stream"] == 5
        assert any(n["key"] == more.key for n in snap["graph"]["nodes"])


def test_snapshots_are_built_only_while_someone_reads(cluster, monkeypatch):
    """A tick builds only when someone read since the last build.

    Counted in ticks of the diagnostics timer (each appends one memory sample per worker), not in seconds.
    """
    diag = cluster.scheduler.diagnostics
    diag.idle_after = 1.0  # ten intervals: room for two builds after a read even on a loaded machine
    built_on = set()
    real_build = snapshot_module.build_snapshot

    def spy(*args, **kwargs):
        built_on.add(threading.current_thread())
        return real_build(*args, **kwargs)

    def ticks() -> int:
        return min((len(samples) for samples in diag.memory_history().values()), default=0)

    def wait_ticks(n):
        start = ticks()
        wait_for(lambda: ticks() >= start + n, timeout=20, what=f"{n} ticks of the diagnostics timer")

    monkeypatch.setattr(snapshot_module, "build_snapshot", spy)
    wait_ticks(5)  # nobody reading
    assert diag.builds == 0
    seen = []
    reader = threading.Thread(target=lambda: seen.append(diag.snapshot()))
    reader.start()
    reader.join(5)
    assert seen and seen[0]["counts"]["workers"] == 2 and diag.builds >= 1  # built on the loop, waited for
    wait_ticks(2)  # a build a tick may have started with the first read is published
    settled = diag.builds
    wait_ticks(3)  # watched (read within idle_after) but nobody asked again: nothing is rebuilt
    assert diag.watched and diag.builds == settled
    diag.task_stream(count=1)  # a read asks: the next tick builds
    wait_for(lambda: diag.builds > settled, timeout=10, what="a build by the timer after a read")
    wait_for(lambda: not diag.watched, timeout=10, what="the reader going away")
    wait_ticks(2)
    settled = diag.builds
    wait_ticks(5)
    assert diag.builds == settled
    diag.watchers += 1  # the dashboard has a client
    wait_for(lambda: diag.builds > settled, timeout=10, what="a build for the dashboard's client")
    diag.watchers -= 1
    assert built_on == {cluster._thread.thread}  # always on the scheduler's loop, never on a reader's thread
    assert diag.task_stream() == []  # no task ran
