"""The scheduler's actor bookkeeping, driven by events: log, checkpoint, restore or tombstone on a death."""

import graphflow as gf
from graphflow.actor import ActorCreate, ActorRestore
from graphflow.comm.serialize import Serialized
from graphflow.errors import ActorDiedError
from graphflow.scheduler.actors import ActorCheckpointed, ActorHosted, ActorLog, ForwardActorCalls
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, joined, left, stim


class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


def _calls(first, last):
    return Serialized.from_object([(s, "add", "call", (1,), None) for s in range(first, last + 1)])


def _hosted_actor(options):
    """An actor ``a`` on W (V idle), wanted by client C."""
    s = SchedulerState(validate=True)
    s.handle(joined("W"), joined("V"))
    spec = ActorCreate("a", gf.actor(**options)(Counter))
    s.handle(graph({"a": ()}, wanted=["a"], specs={"a": spec}, restrictions={"a": {"W"}}))
    s.handle(ActorHosted(stim(), "W", "a", 0), finished("W", "a"))
    return s


def test_log_is_cut_at_a_checkpoint_and_replayed_after_a_death():
    s = _hosted_actor({"max_restarts": 1, "checkpoint_every": 2})
    s.handle(ActorLog(stim(), "C", "a", "c1", 0, _calls(1, 2), 1, 2),
             ActorLog(stim(), "C", "a", "c1", 0, _calls(3, 3), 3, 3))
    assert [(e[1], e[2]) for e in s.actors.records["a"].log] == [(1, 2), (3, 3)]
    s.handle(ActorCheckpointed(stim(), "W", "a", 0, b"state", {"c1": 2}))
    assert [(e[1], e[2]) for e in s.actors.records["a"].log] == [(3, 3)]
    cmds = s.handle(left("W"))
    ts = s.tasks["a"]
    assert isinstance(ts.spec, ActorRestore) and ts.spec.state == b"state" and ts.spec.hw == {"c1": 2}
    assert [(e[1], e[2]) for e in ts.spec.replay] == [(3, 3)]
    assert ts.state == "processing" and ts.processing_on.address == "V"
    assert any(getattr(c, "state", None) == "lost" for c in cmds)
    # a call sent to the dead incarnation reaches the scheduler late: it goes on to the new host
    cmds = s.handle(ActorLog(stim(), "C", "a", "c1", 0, _calls(4, 4), 4, 4))
    assert [type(c) for c in cmds] == [ForwardActorCalls] and cmds[0].worker == "V"


def test_no_restarts_means_actor_died_error():
    s = _hosted_actor({})
    cmds = s.handle(left("W"))
    reports = [c for c in cmds if getattr(c, "state", None) == "erred"]
    assert len(reports) == 1 and isinstance(reports[0].exception, ActorDiedError)
    assert "W" in str(reports[0].exception) and reports[0].exception.actor == "a"


def test_choose_worker_prefers_fewest_actors():
    s = _hosted_actor({})
    assert s.actors.choose_worker(s.workers.values()) == "V"


def test_records_go_with_the_task():
    s = _hosted_actor({"max_restarts": 1})
    s.handle(ActorLog(stim(), "C", "a", "c1", 0, _calls(1, 1), 1, 1))
    from graphflow.testing.events import release

    s.handle(release(["a"]))
    assert "a" not in s.tasks and "a" not in s.actors.records
