"""`ActorMailbox`: per-caller order, holding gaps, answering repeats once."""

from graphflow.worker.actors import ActorMailbox


def e(seq):
    return (seq, "add", "call", (1,), None)


def seqs(run):
    return [entry[0] for _, entry, _ in run]


def test_calls_run_in_sequence_and_gaps_wait():
    m = ActorMailbox()
    assert seqs(m.accept("c", [e(1)], "peer")[0]) == [1]
    assert seqs(m.accept("c", [e(3)], "peer")[0]) == []
    assert seqs(m.accept("c", [e(2)], "peer")[0]) == [2, 3]
    assert seqs(m.accept("d", [e(1), e(2)], "peer2")[0]) == [1, 2]  # callers are independent


def test_repeats_are_answered_from_the_cache_once_or_when_they_run():
    m = ActorMailbox(hw={"c": 2}, cache={("c", 2): (True, 20, "")})
    run, answers = m.accept("c", [e(1), e(2), e(3)], "peer")
    assert seqs(run) == [3] and answers == [(2, True, 20, "")]
    assert m.accept("c", [e(2)], "peer")[1] == []  # delivered once
    run, _ = m.accept("c", [e(4)], None)  # forwarded by the scheduler: nobody to answer yet
    assert m.accept("c", [e(4)], "peer") == ([], [])  # the caller's resend waits for it...
    assert m.settle("c", 4, (True, 40, ""), None) == "peer"  # ...and gets it when it ran
    assert m.settle("c", 5, (True, 50, ""), None) is None and ("c", 5) in m.cache


class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


def _host(sent: list):
    from graphflow.worker.actors import ActorHost

    return ActorHost("tcp://w:1", post=lambda fn, *args: fn(*args), send_peer=lambda peer, msgs: None,
                     send_scheduler=sent.extend, make_handle=lambda *args: "handle")


def test_checkpoints_pickle_each_result_once_however_many_wait_for_their_acknowledgement():
    """10k calls in one burst, none acknowledged, checkpoint_every=100: every checkpoint carries all the
    unacknowledged results, but each result is pickled once -- earlier spans travel as the very blobs made
    before (what made checkpointing cost +18% of a burst of pipelined calls was re-pickling them all)."""
    import pickle

    from graphflow.comm import messages as wire
    from graphflow.spec.actors import ActorClass, ActorCreate, ActorOptions, ActorRestore

    sent: list = []
    host = _host(sent)
    node = ActorCreate("counter", ActorClass(Counter, ActorOptions(max_restarts=1, checkpoint_every=100)), ())
    assert host.create(node, Counter()) == "handle"
    actor = host.actors["counter"]
    for start in range(1, 10_001, 500):  # bursts of 500, nothing acknowledged
        calls = [(seq, "add", "call", (1,), None) for seq in range(start, start + 500)]
        actor.run([("c", call, "peer") for call in calls], {})
    checkpoints = [m for m in sent if type(m) is wire.ActorCheckpoint]
    assert len(checkpoints) == 100
    for before, after in zip(checkpoints, checkpoints[1:]):
        assert after.results[:-1] == before.results and all(a is b for a, b in zip(after.results, before.results))
        assert len(pickle.loads(after.results[-1])) == 100  # only its own span is new
    last = checkpoints[-1]
    assert last.hw == {"c": 10_000} and pickle.loads(last.state)["n"] == 10_000
    restored = ActorRestore(node, state=last.state, hw=last.hw, results=last.results, incarnation=1)
    assert len(restored.results) == 10_000 and restored.results[("c", 10_000)] == (True, 10_000, "")
    # the caller acknowledges up to 9,950: every span but the last goes from the next checkpoint
    host.submit(wire.ActorCalls("counter", "c", 0, [], acked=9_950), "peer")
    actor.checkpoint()
    results = sent[-1].results
    assert len(results) == 1 and sorted(pickle.loads(results[0])) == [("c", s) for s in range(9_901, 10_001)]
    host.close()
