"""`graphflow.comm.batching`: runs of per-key reports fold into one message and unfold back, in order."""

from __future__ import annotations

import pickle

from graphflow.comm import messages as wire
from graphflow.comm.batching import fold_key_status, fold_task_done, unfold_key_status, unfold_task_done


def _fields(msg: wire.KeyStatus) -> tuple:
    return (msg.key, msg.state, msg.nbytes, msg.type_name, list(msg.who_has), msg.inline,
            repr(msg.exception), msg.traceback)


def test_key_statuses_fold_and_unfold_back_to_the_same_reports_in_order():
    """One key twice in a run (lost, then in memory again), an error, a value sent along and one not."""
    run = [wire.KeyStatus("a", "memory", 8, "int", ["w1"], 4),
           wire.KeyStatus(("x", 1), "erred", exception=ValueError("bad x"), traceback="tb x"),
           wire.KeyStatus("a", "lost"),
           wire.KeyStatus("a", "memory", 16, "float", ["w2", "w1"], 2.5),
           wire.KeyStatus("big", "memory", 2**20, "bytes", ["w1"]),
           wire.KeyStatus("c", "cancelled")]
    (batch,) = fold_key_status(run)
    assert type(batch) is wire.KeyStatuses
    (loaded,) = pickle.loads(pickle.dumps([batch], protocol=5))
    assert [_fields(m) for m in unfold_key_status(loaded)] == [_fields(m) for m in run]


def test_only_consecutive_key_statuses_fold_so_other_messages_keep_their_place():
    reply = wire.RpcReply(1, "answer")
    one, two, three = (wire.KeyStatus(k, "memory", 8, "int", ["w"]) for k in "abc")
    out = fold_key_status([one, two, reply, three])
    assert [type(m) for m in out] == [wire.KeyStatuses, wire.RpcReply, wire.KeyStatus]
    assert out[0].keys == ["a", "b"] and out[2] is three
    assert fold_key_status([reply, one]) == [reply, one]  # nothing to fold: the same list back


def test_task_done_still_folds_as_before():
    msgs = [wire.TaskDone("s1", "a", 8, "int", 1.0, 2.0, 3), wire.TaskDone("s2", "b", 8, "int", 2.0, 3.0)]
    (batch,) = fold_task_done(msgs)
    assert [row[0] for row in unfold_task_done(batch)] == ["a", "b"] and batch.inline == {"a": 3}
