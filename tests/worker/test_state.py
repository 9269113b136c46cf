"""WorkerState, driven by events with no network: each test feeds events and checks the commands.

Every state is built with ``validate=True``, so `validate_state` runs after each `handle`.
``ME`` is the worker under test; ``P`` and ``Q`` are peers.
"""

from operator import add

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphflow.errors import InvalidTransition
from graphflow.comm.messages import DepMissing, StealAnswer, TaskDone, TaskFailed, TaskSpec
from graphflow.spec import Ref, Task
from graphflow.worker.events import (
    ComputeTasks,
    Execute,
    ExecuteFailure,
    ExecuteSuccess,
    FreeKeys,
    GatherDep,
    GatherDepFailure,
    GatherDepSuccess,
    PauseChanged,
    SendToScheduler,
    StealRequest,
    UpdateData,
)
from graphflow.worker.state import WorkerState
from graphflow.store.spill import WorkerStore

ME, P, Q, R = "tcp://me:1", "tcp://p:1", "tcp://q:1", "tcp://r:1"


def total(*xs):
    return sum(xs)


def es(key, deps=(), who_has=None, nbytes=None, priority=(0,), inline=False):
    """A TaskSpec for ``key = total(*deps)``; every dependency is on ``ME`` unless ``who_has`` says."""
    who_has = {d: [ME] for d in deps} | (who_has or {})
    nbytes = {d: 8 for d in deps} | (nbytes or {})
    return TaskSpec(key, Task(key, total, *[Ref(d) for d in deps]), who_has, nbytes, priority, inline)


def compute(*specs, stim="compute"):
    return ComputeTasks(stim, list(specs))


def ok(key, value=1, nbytes=8, stim="done"):
    return ExecuteSuccess(stim, key, value, nbytes, type(value).__name__, 1.0, 2.0)


def new(nthreads=1, **kwargs):
    return WorkerState(ME, nthreads, validate=True, **kwargs)


def executes(cmds):
    return [c.key for c in cmds if isinstance(c, Execute)]


def gathers(cmds):
    return [(c.peer, sorted(c.keys)) for c in cmds if isinstance(c, GatherDep)]


def messages(cmds):
    sends = [c for c in cmds if isinstance(c, SendToScheduler)]
    assert len(sends) <= 1, "messages of one handle() call travel together"
    return sends[0].messages if sends else []


def states(ws):
    return {key: ts.state for key, ts in ws.tasks.items()}


# ------------------------------------------------------------------ running tasks


def test_chain_on_one_worker():
    """a -> b, both on this worker."""
    ws = new()
    assert executes(ws.handle(compute(es("a")))) == ["a"]
    assert ws.execution_inputs("a")[1] == {}
    cmds = ws.handle(ok("a", value=10))
    [msg] = messages(cmds)
    assert msg == TaskDone("done", key="a", nbytes=8, type_name="int", start=1.0, stop=2.0)
    assert executes(cmds) == []

    assert executes(ws.handle(compute(es("b", ["a"])))) == ["b"]
    spec, inputs = ws.execution_inputs("b")
    assert inputs == {"a": 10} and spec(inputs) == 10
    [msg] = messages(ws.handle(ok("b", value=10)))
    assert msg.key == "b"
    assert states(ws) == {"a": "memory", "b": "memory"}  # results computed here stay until FreeKeys
    assert ws.nbytes_total == 16

    assert ws.handle(FreeKeys("free", ["a", "b"])) == []
    assert ws.tasks == {} and len(ws.data) == 0 and ws.nbytes_total == 0


def test_priorities_order_execution_and_nthreads_bounds_it():
    ws = new(nthreads=2)
    cmds = ws.handle(compute(*[es(f"t{p}", priority=(p,)) for p in (4, 1, 3, 0, 2)]))
    assert executes(cmds) == ["t0", "t1"]
    assert ws.executing_count == 2 and ws.ready_count == 3
    assert executes(ws.handle(ok("t1"))) == ["t2"]
    assert executes(ws.handle(ok("t0"), ok("t2"))) == ["t3", "t4"]
    assert ws.ready_count == 0


def test_results_of_one_call_share_one_send():
    ws = new(nthreads=3)
    ws.handle(compute(es("a"), es("b"), es("c")))
    cmds = ws.handle(ok("a"), ok("b"), ok("c"))
    assert isinstance(cmds[0], SendToScheduler)
    assert [m.key for m in messages(cmds)] == ["a", "b", "c"]


def test_failure_is_reported_and_forgotten_and_frees_the_thread():
    ws = new()
    ws.handle(compute(es("a", priority=(0,)), es("b", priority=(1,))))
    exc = ZeroDivisionError("boom")
    cmds = ws.handle(ExecuteFailure("fail", "a", exc, "Traceback...", 1.0, 2.0))
    assert messages(cmds) == [TaskFailed("fail", key="a", exception=exc, traceback="Traceback...",
                                         start=1.0, stop=2.0)]
    assert executes(cmds) == ["b"]
    assert "a" not in ws.tasks
    steps = [entry[1:3] for entry in ws.story("a")]
    assert steps[-3:] == [("executing", "error"), ("error", "released"), ("released", "forgotten")]


@pytest.mark.parametrize("size, inlined", [(100, True), (2**20, True), (2**20 + 1, False)])
def test_inline_results_up_to_the_limit(size, inlined):
    ws = new()
    ws.handle(compute(es("a", inline=True)))
    value = b"x" * size
    [msg] = messages(ws.handle(ok("a", value=value, nbytes=size)))
    assert (msg.inline is value) is inlined
    assert msg.inline is None or inlined


def test_no_inline_unless_asked_and_custom_limit():
    ws = new(inline_limit=10)
    ws.handle(compute(es("a"), es("b", inline=True)))
    assert messages(ws.handle(ok("a", value=5)))[0].inline is None
    assert messages(ws.handle(ok("b", value=5, nbytes=10)))[0].inline == 5


def test_known_key_in_memory_is_reported_again():
    ws = new()
    ws.handle(compute(es("a")))
    ws.handle(ok("a", value=3))
    [msg] = messages(ws.handle(compute(es("a", inline=True), stim="again")))
    assert (msg.key, msg.nbytes, msg.inline, msg.stimulus_id) == ("a", 8, 3, "again")
    # resent while queued or running: nothing new happens
    ws.handle(compute(es("b"), es("c")))
    assert ws.handle(compute(es("b"), es("c"))) == []
    assert states(ws) == {"a": "memory", "b": "executing", "c": "ready"}


def test_unknown_event_and_stale_results():
    ws = new()
    with pytest.raises(TypeError, match="cannot handle"):
        ws.handle(object())
    assert ws.handle(ok("never-sent")) == []
    assert ws.handle(ExecuteFailure("s", "never-sent", ValueError(), "", 0.0, 0.0)) == []
    assert ws.handle(GatherDepSuccess("s", P, {"x": 1}, {"x": 8})) == []
    assert ws.story("never-sent")[0][1] == "ignored-result"
    assert ws.story(P)[0][1] == "unexpected-reply"


def test_bad_transition_raises_invalid_transition():
    ws = new()
    ws.handle(compute(es("a"), es("b")))
    with pytest.raises(InvalidTransition) as info:
        ws.transition(ws.tasks["b"], "flight", P)
    assert (info.value.key, info.value.start, info.value.finish) == ("b", "ready", "flight")


def test_story_follows_a_key():
    ws = new()
    ws.handle(compute(es("a"), stim="s1"))
    ws.handle(ok("a", stim="s2"))
    # a task with no inputs has nothing to wait for: it goes straight to ready
    assert ws.story("a") == [("a", "compute-task", "s1"), ("a", "released", "ready", "s1"),
                             ("a", "ready", "executing", "s1"), ("a", "executing", "memory", "s2")]
    assert ws.story("zzz") == []


def test_story_of_a_task_with_inputs_passes_through_waiting():
    ws = new()
    ws.handle(compute(es("a"), es("b", deps=["a"]), stim="s1"))
    ws.handle(ok("a", stim="s2"))
    assert ws.story("b") == [("b", "compute-task", "s1"), ("b", "released", "waiting", "s1"),
                             ("b", "waiting", "ready", "s2"), ("b", "ready", "executing", "s2")]


def test_log_is_bounded():
    ws = WorkerState(ME, 1, log_length=10)
    for i in range(20):
        ws.handle(compute(es(f"t{i}")))
        ws.handle(ok(f"t{i}"))
    assert len(ws.log) == 10


def test_store_given_in_full_counts_as_present():
    data = WorkerStore()
    data.set("a", 5, 28)
    ws = WorkerState(ME, 1, data, validate=True)
    assert executes(ws.handle(compute(es("b", ["a"])))) == ["b"]
    assert ws.execution_inputs("b")[1] == {"a": 5}
    assert states(ws) == {"a": "memory", "b": "executing"}
    with pytest.raises(KeyError):
        ws.execution_inputs("a")


# ------------------------------------------------------------------ fetching from peers


def test_module_docstring_example():
    """c = add(a, b); a is here, b on P."""
    ws = WorkerState(ME, 1, validate=True)
    ws.handle(UpdateData("scatter", {"a": 1}, {"a": 28}))
    assert gathers(ws.handle(compute(es("c", ["a", "b"], who_has={"b": [P]})))) == [(P, ["b"])]
    assert executes(ws.handle(GatherDepSuccess("g", P, {"b": 2}, {"b": 28}))) == ["c"]
    [msg] = messages(ws.handle(ok("c", value=3)))
    assert msg.key == "c" and states(ws) == {"a": "memory", "c": "memory"}
    assert [e[1:3] for e in ws.story("b")] == [("released", "fetch"), ("fetch", "flight"), ("gather-dep", P),
                                               ("flight", "memory"), ("memory", "released"),
                                               ("released", "forgotten")]


def test_fetches_group_per_peer():
    """x1, x2 on P and y on Q feed c: one GatherDep per peer; c runs once all arrive."""
    ws = new()
    cmds = ws.handle(compute(es("c", ["x1", "x2", "y"], who_has={"x1": [P], "x2": [P], "y": [Q]})))
    assert sorted(gathers(cmds)) == [(P, ["x1", "x2"]), (Q, ["y"])]
    assert states(ws) == {"c": "waiting", "x1": "flight", "x2": "flight", "y": "flight"}
    assert ws.handle(GatherDepSuccess("g1", P, {"x1": 1, "x2": 2}, {"x1": 8, "x2": 8})) == []
    assert executes(ws.handle(GatherDepSuccess("g2", Q, {"y": 3}, {"y": 9}))) == ["c"]
    spec, inputs = ws.execution_inputs("c")
    assert spec(inputs) == 6
    assert ws.nbytes_total == 25


def test_fetch_requests_bounded_by_bytes_and_per_peer():
    ws = new(max_fetch_bytes=100)
    deps = ["x1", "x2", "x3", "x4"]
    spec = es("c", deps, who_has={d: [P] for d in deps}, nbytes={d: 60 for d in deps})
    cmds = ws.handle(compute(spec))
    assert gathers(cmds) == [(P, ["x1"]), (P, ["x2"])]  # 2 x 60 > 100; at most 2 requests to one peer
    cmds = ws.handle(GatherDepSuccess("g", P, {"x1": 1}, {"x1": 60}))
    assert gathers(cmds) == [(P, ["x3"])]


def test_small_keys_share_a_request_and_a_big_one_goes_alone():
    ws = new(max_fetch_bytes=100)
    sizes = {"a": 30, "b": 30, "c": 500, "d": 30}
    deps = list(sizes)
    cmds = ws.handle(compute(es("t", deps, who_has={d: [P] for d in deps}, nbytes=sizes)))
    assert gathers(cmds) == [(P, ["a", "b"]), (P, ["c"])]


def test_total_concurrent_fetches_bounded():
    ws = new(max_concurrent_fetches=2)
    cmds = ws.handle(compute(es("c", ["x", "y", "z"], who_has={"x": [P], "y": [Q], "z": [R]})))
    assert len(gathers(cmds)) == 2
    [(peer, [key])] = [g for g in gathers(cmds)][:1]
    assert len(gathers(ws.handle(GatherDepSuccess("g", peer, {key: 1}, {key: 8})))) == 1


def test_no_duplicate_fetch_and_prefer_a_peer_already_in_use():
    ws = new(nthreads=2)
    assert gathers(ws.handle(compute(es("c1", ["x"], who_has={"x": [P]})))) == [(P, ["x"])]
    cmds = ws.handle(compute(es("c2", ["x", "y"], who_has={"x": [P, Q], "y": [Q, P]})))
    assert gathers(cmds) == [(P, ["y"])]  # x is not fetched twice; y from P, which we already talk to
    cmds = ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 8}))
    assert executes(cmds) == ["c1"]
    assert executes(ws.handle(GatherDepSuccess("g", P, {"y": 2}, {"y": 8}))) == ["c2"]
    assert ws.execution_inputs("c2")[1] == {"x": 1, "y": 2}


def test_fetched_replicas_dropped_after_last_local_reader():
    ws = new(nthreads=1)
    ws.handle(compute(es("c1", ["x"], who_has={"x": [P]}, priority=(0,)),
                      es("c2", ["x"], who_has={"x": [P]}, priority=(1,))))
    ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 100}))
    assert ws.nbytes_total == 100
    ws.handle(ok("c1"))
    assert "x" in ws.data  # c2 still reads it
    ws.handle(ok("c2"))
    assert "x" not in ws.tasks and "x" not in ws.data
    assert ws.nbytes_total == 16


def test_missing_key_tries_another_holder():
    ws = new()
    assert gathers(ws.handle(compute(es("c", ["x"], who_has={"x": [P, Q]})))) == [(P, ["x"])]
    cmds = ws.handle(GatherDepSuccess("g", P, {}, {}, missing=["x"]))
    assert gathers(cmds) == [(Q, ["x"])] and messages(cmds) == []
    assert executes(ws.handle(GatherDepSuccess("g", Q, {"x": 1}, {"x": 8}))) == ["c"]


@pytest.mark.parametrize("failure", ["missing", "unreachable"])
def test_missing_key_without_another_holder_drops_the_reader(failure):
    ws = new()
    ws.handle(compute(es("c", ["x", "y"], who_has={"x": [P], "y": [Q]})))
    if failure == "missing":
        cmds = ws.handle(GatherDepSuccess("g", P, {}, {}, missing=["x"]))
    else:
        cmds = ws.handle(GatherDepFailure("g", P, ["x"], reason="connection refused"))
    assert messages(cmds) == [DepMissing("g", key="c", missing="x", holder=P)]
    assert states(ws) == {"y": "cancelled"}  # still in flight from Q; dropped when it lands
    assert ws.handle(GatherDepSuccess("g", Q, {"y": 1}, {"y": 8})) == []
    assert ws.tasks == {} and ws.nbytes_total == 0


def test_unlisted_keys_of_a_reply_count_as_missing():
    ws = new()
    ws.handle(compute(es("c", ["x", "y"], who_has={"x": [P], "y": [P]})))
    cmds = ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 8}))
    assert [m.missing for m in messages(cmds)] == ["y"]
    assert ws.tasks == {}


def test_input_listed_only_on_this_worker_but_absent():
    ws = new()
    cmds = ws.handle(compute(es("c", ["x"])))  # who_has says ME, but ME never had x
    assert messages(cmds) == [DepMissing("compute", key="c", missing="x", holder=ME)]
    assert ws.tasks == {}


def test_compute_a_key_that_is_being_fetched():
    """The scheduler sends x to run here while x is a queued or in-flight input of c."""
    ws = new(nthreads=2, max_concurrent_fetches=1)
    ws.handle(compute(es("c", ["w", "x"], who_has={"w": [P], "x": [Q]})))
    queued = [k for k, s in states(ws).items() if s == "fetch"]
    assert len(queued) == 1
    [key] = queued
    assert executes(ws.handle(compute(es(key)))) == [key]  # queued: computed here instead
    other = "w" if key == "x" else "x"
    peer = P if other == "w" else Q
    ws.handle(compute(es(other)))  # in flight: the fetch will deliver it, and it is reported
    [msg] = messages(ws.handle(GatherDepSuccess("g", peer, {other: 2}, {other: 8})))
    assert msg.key == other


def test_assigned_key_in_flight_is_computed_when_the_fetch_fails():
    ws = new()
    ws.handle(compute(es("c", ["x"], who_has={"x": [P]})))
    ws.handle(compute(es("x")))
    cmds = ws.handle(GatherDepFailure("g", P, ["x"]))
    assert executes(cmds) == ["x"] and messages(cmds) == []  # no DepMissing: c waits for x to run here
    cmds = ws.handle(ok("x", value=4))
    assert [m.key for m in messages(cmds)] == ["x"] and executes(cmds) == ["c"]


def test_two_requests_to_one_peer_answered_out_of_order():
    ws = new(max_fetch_bytes=10)
    cmds = ws.handle(compute(es("c", ["x", "y"], who_has={"x": [P], "y": [P]})))
    assert gathers(cmds) == [(P, ["x"]), (P, ["y"])]
    ws.handle(GatherDepFailure("g", P, ["y"]))
    assert states(ws) == {"x": "cancelled"}  # c was dropped with y; x is still on its way
    assert ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 8})) == []
    assert ws.tasks == {}


# ------------------------------------------------------------------ freeing


def test_free_while_executing_discards_the_result():
    ws = new()
    ws.handle(compute(es("a", priority=(0,)), es("b", priority=(1,))))
    assert ws.handle(FreeKeys("free", ["a"])) == []
    assert states(ws) == {"a": "cancelled", "b": "ready"}
    assert ws.executing_count == 1  # the thread is still busy
    cmds = ws.handle(ok("a"))
    assert messages(cmds) == [] and executes(cmds) == ["b"]
    assert "a" not in ws.tasks and "a" not in ws.data


def test_freed_while_executing_then_sent_again_resumes():
    ws = new()
    ws.handle(compute(es("a")))
    ws.handle(FreeKeys("free", ["a"]))
    assert ws.handle(compute(es("a"))) == []  # the running thread will deliver it
    [msg] = messages(ws.handle(ok("a")))
    assert msg.key == "a" and ws.tasks["a"].state == "memory"


def test_free_while_in_flight_discards_on_arrival():
    ws = new()
    ws.handle(compute(es("c", ["x"], who_has={"x": [P]})))
    ws.handle(FreeKeys("free", ["c"]))
    assert states(ws) == {"x": "cancelled"}
    assert ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 8})) == []
    assert ws.tasks == {} and ws.nbytes_total == 0


def test_cancelled_fetch_needed_again_resumes():
    ws = new()
    ws.handle(compute(es("c", ["x"], who_has={"x": [P]})))
    ws.handle(FreeKeys("free", ["c"]))
    assert gathers(ws.handle(compute(es("d", ["x"], who_has={"x": [P]})))) == []  # still in flight
    assert executes(ws.handle(GatherDepSuccess("g", P, {"x": 1}, {"x": 8}))) == ["d"]


def test_freed_key_stays_while_a_local_task_reads_it():
    ws = new(nthreads=1)
    ws.handle(compute(es("a")))
    ws.handle(ok("a"))
    ws.handle(compute(es("b", ["a"])))
    ws.handle(FreeKeys("free", ["a"]))
    assert states(ws) == {"a": "memory", "b": "executing"}
    assert ws.execution_inputs("b")[1] == {"a": 1}
    ws.handle(ok("b"))
    assert states(ws) == {"b": "memory"}


def test_free_queued_and_unknown_keys():
    ws = new()
    ws.handle(compute(es("a"), es("b"), es("c", ["x"], who_has={"x": [P]})))
    assert ws.handle(FreeKeys("free", ["b", "nope"])) == []
    assert states(ws) == {"a": "executing", "c": "waiting", "x": "flight"}
    ws.handle(FreeKeys("free", ["c"]))
    assert states(ws) == {"a": "executing", "x": "cancelled"}


# ------------------------------------------------------------------ stealing


def steal(ws, key):
    [msg] = messages(ws.handle(StealRequest("steal", key)))
    assert isinstance(msg, StealAnswer) and msg.key == key
    return msg.released


def test_steal_in_each_state():
    ws = new(nthreads=1)
    ws.handle(compute(es("run", priority=(0,)), es("queued", priority=(1,)),
                      es("waits", ["x"], who_has={"x": [P]})))
    assert states(ws) == {"run": "executing", "queued": "ready", "waits": "waiting", "x": "flight"}
    assert steal(ws, "queued") is True and "queued" not in ws.tasks
    assert steal(ws, "waits") is True and states(ws)["x"] == "cancelled"
    assert steal(ws, "run") is False and ws.tasks["run"].state == "executing"
    ws.handle(ok("run"))
    assert steal(ws, "run") is False  # done and reported
    assert steal(ws, "never-heard-of") is False
    ws.handle(ExecuteFailure("f", "x", None, "", 0, 0))  # a stale event is ignored, x stays in flight
    assert states(ws) == {"run": "memory", "x": "cancelled"}


def test_stolen_task_sent_back_runs_again():
    ws = new(nthreads=1)
    ws.handle(compute(es("a", priority=(0,)), es("b", priority=(1,))))
    assert steal(ws, "b") is True
    assert ws.handle(compute(es("b"))) == []
    assert executes(ws.handle(ok("a"))) == ["b"]


# ------------------------------------------------------------------ scatter


def test_update_data_stores_without_report_and_wakes_readers():
    ws = new()
    ws.handle(compute(es("c", ["x"], who_has={"x": [P]})))
    cmds = ws.handle(UpdateData("scatter", {"x": 5, "y": b"abc"}, {"x": 28}))
    assert messages(cmds) == [] and executes(cmds) == ["c"]
    assert ws.data.nbytes("y") == ws.data.sizer(b"abc") and ws.data.nbytes("x") == 28
    assert ws.handle(GatherDepSuccess("g", P, {"x": 6}, {"x": 28})) == []  # late reply ignored
    ws.handle(ok("c"))
    assert states(ws) == {"x": "memory", "y": "memory", "c": "memory"}  # scattered data is kept
    ws.handle(UpdateData("again", {"y": b"abcdef"}, {}))
    assert ws.nbytes_total == 28 + ws.data.sizer(b"abcdef") + 8


def test_update_data_for_a_queued_task_or_a_queued_fetch():
    ws = new(nthreads=1, max_concurrent_fetches=1)
    ws.handle(compute(es("a", priority=(0,)), es("b", priority=(1,)),
                      es("c", ["x", "y"], who_has={"x": [P], "y": [Q]})))
    fetch = [k for k, s in states(ws).items() if s == "fetch"]
    assert states(ws)["b"] == "ready" and len(fetch) == 1
    ws.handle(UpdateData("scatter", {"b": 7, fetch[0]: 8}, {}))
    assert states(ws)["b"] == "memory" and states(ws)[fetch[0]] == "memory"
    assert ws.ready_count == 0
    assert steal(ws, "b") is False  # scattered here: the scheduler counts on it


def test_steal_of_a_key_that_is_only_an_input_here():
    ws = new()
    ws.handle(compute(es("c", ["x"], who_has={"x": [P]})))
    assert steal(ws, "x") is True  # nothing will be reported for x, and c still gets it
    assert states(ws) == {"c": "waiting", "x": "flight"}


# ------------------------------------------------------------------ random event orders


KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]
HOLDERS = st.lists(st.sampled_from([ME, P, Q]), max_size=3, unique=True)


@st.composite
def compute_event(draw):
    specs = []
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(KEYS) - 1))
        deps = draw(st.lists(st.sampled_from(KEYS[:i]), unique=True, max_size=3)) if i else []
        who_has = {d: draw(HOLDERS) for d in deps}
        nbytes = {d: draw(st.sampled_from([8, 60])) for d in deps}
        specs.append(es(KEYS[i], deps, who_has=who_has, nbytes=nbytes, priority=(draw(st.integers(0, 3)),),
                        inline=draw(st.booleans())))
    return compute(*specs, stim="compute")


class Shell:
    """Plays the worker shell: remembers the Execute and GatherDep commands it owes a reply to."""

    def __init__(self, ws):
        self.ws = ws
        self.running = []
        self.fetching = []

    def handle(self, *events):
        cmds = self.ws.handle(*events)
        for cmd in cmds:
            if isinstance(cmd, Execute):
                assert cmd.key not in self.running, "a key runs twice at once"
                self.ws.execution_inputs(cmd.key)  # what the real shell does at once
                self.running.append(cmd.key)
            elif isinstance(cmd, GatherDep):
                assert cmd.peer != ME and cmd.keys
                self.fetching.append(cmd)
        assert len(self.running) == self.ws.executing_count <= self.ws.nthreads
        return cmds


def random_event(data, shell):
    kind = data.draw(st.sampled_from(["compute", "compute", "result", "result", "fetch", "fetch", "free",
                                      "steal", "scatter", "stale"]))
    if kind == "compute":
        return data.draw(compute_event())
    if kind == "result" and shell.running:
        key = shell.running.pop(data.draw(st.integers(0, len(shell.running) - 1)))
        if data.draw(st.booleans()):
            return ok(key, stim="result")
        return ExecuteFailure("failure", key, ValueError(key), "", 0.0, 0.0)
    if kind == "fetch" and shell.fetching:
        cmd = shell.fetching.pop(data.draw(st.integers(0, len(shell.fetching) - 1)))
        if data.draw(st.integers(0, 3)) == 0:
            return GatherDepFailure("gather-failed", cmd.peer, cmd.keys)
        missing = data.draw(st.lists(st.sampled_from(cmd.keys), unique=True))
        got = {k: 1 for k in cmd.keys if k not in missing}
        return GatherDepSuccess("gathered", cmd.peer, got, {k: 8 for k in got}, missing)
    if kind == "free":
        return FreeKeys("free", data.draw(st.lists(st.sampled_from(KEYS), max_size=3)))
    if kind == "steal":
        return StealRequest("steal", data.draw(st.sampled_from(KEYS)))
    if kind == "scatter":
        key = data.draw(st.sampled_from(KEYS))
        return UpdateData("scatter", {key: 2}, {key: 16})
    idle = [k for k in KEYS if k not in shell.running]
    return ok(data.draw(st.sampled_from(idle)), stim="stale")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 3), st.sampled_from([1, 2]))
def test_random_event_orders_keep_every_invariant(data, nthreads, per_peer):
    """Any order of plausible events keeps `validate_state` happy, and freeing everything then
    answering every outstanding command leaves nothing behind."""
    ws = WorkerState(ME, nthreads, validate=True, max_fetch_bytes=100, max_requests_per_peer=per_peer,
                     max_concurrent_fetches=2)
    shell = Shell(ws)
    for _ in range(data.draw(st.integers(1, 25))):
        events = [random_event(data, shell) for _ in range(data.draw(st.integers(1, 2)))]
        shell.handle(*events)
    shell.handle(FreeKeys("free-all", list(KEYS)))
    while shell.running or shell.fetching:
        if shell.running:
            shell.handle(ok(shell.running.pop(), stim="drain"))
        else:
            cmd = shell.fetching.pop()
            shell.handle(GatherDepSuccess("drain", cmd.peer, {k: 1 for k in cmd.keys}, {}))
    assert ws.tasks == {} and len(ws.data) == 0 and ws.nbytes_total == 0


def test_add_is_a_real_task_spec():
    """The specs in these tests are real graph nodes: the shell calls ``spec(inputs)``."""
    ws = new()
    spec = TaskSpec("s", Task("s", add, Ref("a"), 1), {"a": [P]}, {"a": 8}, (0,))
    ws.handle(compute(spec))
    ws.handle(GatherDepSuccess("g", P, {"a": 41}, {"a": 28}))
    node, inputs = ws.execution_inputs("s")
    assert node(inputs) == 42


def test_paused_worker_starts_nothing_until_resumed():
    ws = new(nthreads=2)
    ws.handle(PauseChanged("mem", True))
    assert executes(ws.handle(compute(es("a"), es("b"), es("c")))) == []
    assert ws.ready_count == 3 and ws.executing_count == 0
    assert executes(ws.handle(PauseChanged("mem", False))) == ["a", "b"]
    ws.handle(PauseChanged("mem", True))
    assert executes(ws.handle(ok("a"))) == []  # a finished thread takes no new task while paused
    assert ws.executing_count == 1
