import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest

from graphflow.errors import (
    CycleError,
    MissingDependencyError,
    RemoteTraceback,
    SerializationError,
    WorkerProcessDiedError,
)
from graphflow.local import executors as local
from graphflow.local import get_processes, get_sync, get_threads
from graphflow.optimize import optimize_graph
from graphflow.spec import DataNode, Ref, Task, TaskGraph
from graphflow.testing.wait import wait_for

from ..optimize.graphs import chains_into_tree, diamond, inc, tree_reduction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXECUTORS = {"sync": get_sync, "threads": get_threads, "processes": get_processes}
ALL = pytest.mark.parametrize("name", list(EXECUTORS))


def run(name, graph, keys, **kw):
    return EXECUTORS[name](graph, keys, **kw)


@ALL
def test_results_of_common_shapes(name):
    assert run(name, diamond(), ["d", "a"]) == [4, 1]
    g, root = tree_reduction(1000, 8)
    assert run(name, g, [root]) == [sum(range(1000))]
    g, root = chains_into_tree(50, 10)
    assert run(name, optimize_graph(g, [root]), [root]) == [sum(c + 10 for c in range(50))]


@ALL
def test_duplicate_and_empty_requests(name):
    assert run(name, diamond(), ["b", "b"]) == [2, 2]
    assert run(name, TaskGraph([]), []) == []


@pytest.fixture
def marker(tmp_path):
    """A file that a task touches, to tell whether it ran (in any process)."""
    path = tmp_path / "ran"

    def touch():
        path.write_text("x")
        return 1

    touch.path = path
    return touch


@ALL
def test_only_needed_tasks_run(name, marker):
    g = TaskGraph([DataNode("a", 1), Task("unused", marker), Task("b", inc, Ref("a"))])
    assert run(name, g, ["b"]) == [2]
    assert not marker.path.exists()


# ------------------------------------------------------------------ freeing


class Tracked:
    live = 0
    peak = 0
    lock = threading.Lock()

    def __init__(self, v):
        self.v = v
        with Tracked.lock:
            Tracked.live += 1
            Tracked.peak = max(Tracked.peak, Tracked.live)

    def __del__(self):
        with Tracked.lock:
            Tracked.live -= 1


def make(i):
    return Tracked(i)


def merge(xs):
    return Tracked(sum(x.v for x in xs))


@pytest.mark.parametrize("name", ["sync", "threads"])
def test_intermediates_are_freed_when_their_last_reader_is_done(name):
    r"""512 tracked leaves summed by a tree of fan-in 8: few are ever alive at once."""
    nodes = [Task(("leaf", i), make, i) for i in range(512)]
    layer, level = [("leaf", i) for i in range(512)], 0
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer), 8):
            nodes.append(Task.from_call(("agg", level, j), merge, ([Ref(k) for k in layer[j:j + 8]],)))
            nxt.append(("agg", level, j))
        layer, level = nxt, level + 1
    g = optimize_graph(TaskGraph(nodes), layer)
    gc.collect()
    Tracked.live = Tracked.peak = 0
    (result,) = run(name, g, layer, **({"num_workers": 2} if name == "threads" else {}))
    assert result.v == sum(range(512))
    # depth 3, fan-in 8: about 8 per level, plus what two threads hold in flight
    # (tiny tasks are taken a few at a time per thread: see local._MAX_BATCH)
    in_flight = 2 * local._MAX_BATCH if name == "threads" else 1
    assert Tracked.peak <= 8 * 3 + in_flight + 2
    del result
    gc.collect()
    assert Tracked.live == 0


def make_block(i, j):
    time.sleep(0.002)  # a block's generation: slow next to the transpose view that follows it
    return Tracked(i * 100 + j)


def transpose_view(block):
    return (block,)  # a view: keeps its block alive, costs microseconds


def add_blocks(a, view):
    return Tracked(a.v + view[0].v)


def block_mean(block):
    return float(block.v)  # small


def column_sum(*means):
    return sum(means)


def test_threads_follow_what_just_finished():
    r"""(x + x.T).mean(0) over 8x8 tracked blocks: two threads hold about as many as the sync order.

        x[i,j]   x[j,i]            each block is read by add(i,j) and, through a
          |        |               transpose view, by add(j,i); a column's means
          |     T(j,i)^T           are summed per column
           \     /
          add(i,j) -> mean(i,j) -> col(j)

    Transpose views take microseconds, generating a block milliseconds: a thread
    must not take a view as a sign that tiny tasks are coming and grab a batch of
    new blocks, and it runs the consumers of the block it just made before
    starting another block (depth-first near the frontier).
    """
    n = 8
    nodes = []
    for i in range(n):
        for j in range(n):
            nodes.append(Task(("x", i, j), make_block, i, j))
            nodes.append(Task(("xT", i, j), transpose_view, Ref(("x", j, i))))
            nodes.append(Task(("add", i, j), add_blocks, Ref(("x", i, j)), Ref(("xT", i, j))))
            nodes.append(Task(("mean", i, j), block_mean, Ref(("add", i, j))))
    for j in range(n):
        nodes.append(Task(("col", j), column_sum, *[Ref(("mean", i, j)) for i in range(n)]))
    keys = [("col", j) for j in range(n)]
    g = optimize_graph(TaskGraph(nodes), keys, stages=("cull", "order"))
    peaks = {}
    for name in ("sync", "threads"):
        gc.collect()
        Tracked.live = Tracked.peak = 0
        out = run(name, g, keys, **({"num_workers": 2} if name == "threads" else {}))
        assert out == [sum(100 * i + j + 100 * j + i for i in range(n)) for j in range(n)]
        peaks[name] = Tracked.peak
    # two threads may each hold a block being made and one being consumed beyond the sync order's set
    assert peaks["threads"] <= peaks["sync"] + 4, peaks


def slow_block(i):
    time.sleep(0.001)  # slow enough that a thread takes roots one at a time
    return Tracked(i)


def block_value(block):
    return block.v


@pytest.mark.parametrize("workers", [1, 2])
def test_threads_run_what_a_finished_task_made_ready_first(workers):
    r"""A breadth-first static order (every root ranked before any reader): threads still go depth-first.

        r0   r1  ...  r15      ranks 0..15, all ready at the start; each makes a tracked block
        |    |         |
        s0   s1  ...  s15      ranks 16..31: s_i reads r_i's block and returns an int
          \   |       /
            total

    Running by rank alone makes all 16 blocks before reading one.  A thread
    that just made r_i runs s_i next (it was made ready by what just
    finished), so r_i's block is freed before the thread starts another.
    """
    n = 16
    nodes = [Task(("r", i), slow_block, i) for i in range(n)]
    nodes += [Task(("s", i), block_value, Ref(("r", i))) for i in range(n)]
    nodes.append(Task("total", column_sum, *[Ref(("s", i)) for i in range(n)]))
    g = TaskGraph(nodes)
    index = g.index.index
    prio = [0] * len(g)
    for i in range(n):
        prio[index[("r", i)]] = i
        prio[index[("s", i)]] = n + i
    prio[index["total"]] = 2 * n
    gc.collect()
    Tracked.live = Tracked.peak = 0
    assert get_threads(g.with_order(prio), ["total"], num_workers=workers) == [sum(range(n))]
    # each thread holds the block it is making and, for a moment, the one its reader still holds
    assert Tracked.peak <= 2 * workers, Tracked.peak


@pytest.mark.parametrize("name", ["sync", "threads"])
def test_chain_input_is_gone_before_the_next_step(name):
    refs = {}

    def first():
        obj = Tracked(0)
        refs["first"] = weakref.ref(obj)
        return obj

    def step(x):
        return Tracked(x.v + 1)

    def check(x):
        assert refs["first"]() is None, "the first result should have been freed"
        return x.v

    g = TaskGraph([Task("a", first), Task("b", step, Ref("a")), Task("c", step, Ref("b")),
                   Task("d", check, Ref("c"))])
    assert run(name, g, ["d"]) == [2]


# ------------------------------------------------------------------ errors


def fail(x):
    raise ZeroDivisionError(f"cannot handle {x}")


@ALL
def test_task_error_keeps_type_message_and_names_key(name):
    g = TaskGraph([DataNode("a", 1), Task("bad", fail, Ref("a")), Task("c", inc, Ref("bad"))])
    with pytest.raises(ZeroDivisionError, match="cannot handle 1") as info:
        run(name, g, ["c"])
    exc = info.value
    assert exc.__graphflow_key__ == "bad"
    assert any("'bad'" in note for note in exc.__notes__)
    if name == "processes":
        assert isinstance(exc.__cause__, RemoteTraceback)
        assert "in fail" in exc.__cause__.text and "ZeroDivisionError" in exc.__cause__.text
    else:
        import traceback

        frames = [f.name for f in traceback.extract_tb(exc.__traceback__)]
        assert "fail" in frames


@ALL
def test_error_inside_fused_chain_names_inner_key(name):
    g = TaskGraph([Task("a", inc, 1), Task("b", fail, Ref("a")), Task("c", inc, Ref("b"))])
    g = optimize_graph(g, ["c"])
    assert list(g) == ["c"]
    with pytest.raises(ZeroDivisionError) as info:
        run(name, g, ["c"])
    assert info.value.__graphflow_key__ == "b"


@ALL
def test_invalid_graphs_fail_before_anything_runs(name, marker):
    cyclic = TaskGraph([Task("t", marker), Task("a", lambda *x: 1, Ref("t"), Ref("b")), Task("b", inc, Ref("a"))])
    with pytest.raises(CycleError):
        run(name, cyclic, ["b"])
    missing = TaskGraph([Task("t", marker), Task("a", lambda *x: 1, Ref("t"), Ref("nope"))])
    with pytest.raises(MissingDependencyError):
        run(name, missing, ["a"])
    assert not marker.path.exists()


@ALL
def test_unknown_options_are_refused(name):
    with pytest.raises(TypeError, match="unexpected option"):
        run(name, diamond(), ["d"], no_such_option=1)


def test_sync_accepts_num_workers_for_uniform_calls():
    assert get_sync(diamond(), ["d"], num_workers=4) == [4]


def test_bad_num_workers():
    with pytest.raises(ValueError, match="num_workers"):
        get_threads(diamond(), ["d"], num_workers=0)


# ------------------------------------------------------------------ threads


def test_threads_run_tasks_concurrently():
    barrier = threading.Barrier(2, timeout=10)

    def meet(i):
        barrier.wait()  # only returns if both tasks run at the same time
        return i

    g = TaskGraph([Task("a", meet, 1), Task("b", meet, 2)])
    assert get_threads(g, ["a", "b"], num_workers=2) == [1, 2]


@pytest.mark.parametrize("outer", ["threads", "sync", "processes"])
def test_task_calling_compute_does_not_deadlock(outer):
    g = TaskGraph([Task(("outer", i), nested_compute, i) for i in range(4)])
    kw = {"num_workers": 1} if outer == "threads" else {}
    assert run(outer, g, [("outer", i) for i in range(4)], **kw) == [i + 2 for i in range(4)]


def nested_compute(i):
    from graphflow import delayed

    return (delayed(inc)(delayed(inc)(i))).compute(scheduler="threads")


def test_no_threads_left_behind():
    before = threading.active_count()
    get_threads(tree_reduction(200)[0], [("sum", 2, 0)], num_workers=4)
    with pytest.raises(ZeroDivisionError):
        get_threads(TaskGraph([Task("x", fail, 1)] + [Task(("ok", i), inc, i) for i in range(100)]),
                    ["x"] + [("ok", i) for i in range(100)], num_workers=4)
    wait_for(lambda: threading.active_count() == before, timeout=10,
             what=lambda: f"the pool's threads ending ({threading.active_count()} alive, {before} before)")


# ------------------------------------------------------------------ processes


def test_processes_ship_lambdas_closures_and_numpy():
    k = 10
    arr = np.arange(1000.0)
    g = TaskGraph([DataNode("arr", arr), Task("s", lambda a: float(a.sum()) + k, Ref("arr")),
                   Task("pid", os.getpid)])
    total, pid = get_processes(g, ["s", "pid"])
    assert total == arr.sum() + 10
    assert pid != os.getpid()


def test_unpicklable_function_names_key_and_object():
    lock = threading.Lock()

    def guarded(x):
        with lock:
            return x

    g = TaskGraph([Task("guarded-task", guarded, 1)])
    with pytest.raises(SerializationError) as info:
        get_processes(g, ["guarded-task"])
    msg = str(info.value)
    assert "'guarded-task'" in msg and "lock" in msg and "scheduler='threads'" in msg
    assert info.value.key == "guarded-task"
    # the pool is still usable afterwards
    assert get_processes(diamond(), ["d"]) == [4]


def test_unpicklable_result_names_key():
    g = TaskGraph([Task("makes-lock", threading.Lock)])
    with pytest.raises(SerializationError, match="'makes-lock'.*result cannot be pickled"):
        get_processes(g, ["makes-lock"])
    assert get_processes(diamond(), ["d"]) == [4]


def crash(x):
    os._exit(7)


def test_dead_worker_process_is_reported_and_replaced():
    g = TaskGraph([Task("crasher", crash, 1)])
    with pytest.raises(WorkerProcessDiedError, match="exit code 7.*'crasher'"):
        get_processes(g, ["crasher"])
    assert get_processes(diamond(), ["d"]) == [4]


def test_concurrent_process_runs_do_not_mix():
    out = {}

    def go(n):
        g, root = tree_reduction(n, 4)
        out[n] = get_processes(g, [root])[0]

    threads = [threading.Thread(target=go, args=(n,)) for n in (100, 200, 300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == {n: sum(range(n)) for n in (100, 200, 300)}


# ------------------------------------------------------------------ Ctrl-C

INTERRUPT_SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading, time
    # as a program started from a terminal: Ctrl-C raises KeyboardInterrupt, whatever the test process
    # that started this one had blocked or ignored (both are inherited across exec)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from graphflow.local import get_processes, get_threads
    from graphflow.spec import Task, TaskGraph
    from graphflow.testing.wait import wait_for
    import graphflow.local.pool as procpool

    def nap(i, started=None):
        if started:
            open(started, "a").close()  # the test presses Ctrl-C once naps run
        time.sleep(0.5)
        return i

    scheduler, started = sys.argv[1:]
    get = get_threads if scheduler == "threads" else get_processes
    g = TaskGraph([Task(("nap", i), nap, i, started) for i in range(400)])
    if scheduler == "processes":
        get(TaskGraph([Task("warm", nap, 0)]), ["warm"], num_workers=2)
        print("pids", *procpool._shared.pids(), flush=True)
    print("start", flush=True)
    t0 = time.time()
    try:
        get(g, [("nap", i) for i in range(400)], num_workers=2)
    except KeyboardInterrupt:
        print("interrupted-after", time.time() - t0, flush=True)
        try:
            wait_for(lambda: threading.active_count() == 1, timeout=10)
        except AssertionError:
            pass  # the test says how many are left
        print("threads", threading.active_count(), flush=True)
        sys.exit(0)
    print("finished", flush=True)
""")


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_ctrl_c_stops_promptly_and_leaves_nothing_behind(scheduler, tmp_path):
    script = tmp_path / "interrupt.py"
    script.write_text(INTERRUPT_SCRIPT)
    started = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, str(script), scheduler, str(started)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    pids = []
    for line in proc.stdout:
        if line.startswith("pids"):
            pids = [int(p) for p in line.split()[1:]]
        if line.startswith("start"):
            break
    wait_for(started.exists, timeout=30, what="the naps running")
    # Like a terminal's Ctrl-C: SIGINT to the whole process group.
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)  # the promptness is asserted below, from the child's clock
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"no exit within 60 s of SIGINT; stdout: {out!r}; stderr: {err[-3000:]!r}")
    assert proc.returncode == 0, err
    lines = dict(line.split(maxsplit=1) for line in out.strip().splitlines())
    assert float(lines["interrupted-after"]) < 6.0  # 400 naps on 2 workers would take 100 s
    assert lines["threads"].strip() == "1"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def slow_then(i):
    time.sleep(30) if i else fail(i)
    return i


def test_process_error_does_not_wait_for_slow_tasks_elsewhere():
    g = TaskGraph([Task(("t", i), slow_then, i) for i in range(2)])
    t0 = time.monotonic()
    with pytest.raises(ZeroDivisionError):
        get_processes(g, [("t", 0), ("t", 1)], num_workers=2)
    assert time.monotonic() - t0 < 10
    assert get_processes(diamond(), ["d"]) == [4]  # a fresh pool replaces the killed one


def logged_leaf(path, i):
    with open(path, "a") as f:
        f.write(f"leaf {i}\n")
    time.sleep(0.01)  # not a tiny task: the pool must not batch these
    return i


def logged_add(path, *xs):
    with open(path, "a") as f:
        f.write("add\n")
    return sum(xs)


def test_processes_follow_the_order_for_slow_tasks(tmp_path):
    r"""32 slow leaves summed by a tree of fan-in 4 on 2 processes.

    The first sums must run long before the last leaves: shipping every ready
    leaf at once would hold all 32 results in the parent (real arrays: GBs).
    """
    log = str(tmp_path / "log")
    nodes = [Task(("leaf", i), logged_leaf, log, i) for i in range(32)]
    layer, level = [("leaf", i) for i in range(32)], 0
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer), 4):
            nodes.append(Task(("add", level, j), logged_add, log, *[Ref(k) for k in layer[j:j + 4]]))
            nxt.append(("add", level, j))
        layer, level = nxt, level + 1
    g = optimize_graph(TaskGraph(nodes), layer)
    assert get_processes(g, layer, num_workers=2) == [sum(range(32))]
    events = open(log).read().split("\n")
    first_add = events.index("add")
    assert first_add < 12, events
