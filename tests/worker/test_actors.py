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
