"""Per-task reports folded into one message per batch: `TaskDone` s into a `TasksDone`, `KeyStatus` es into
a `KeyStatuses`.

A worker running tiny tasks finishes dozens in one pass of its loop; sent
as one `TaskDone` each, every one is a message object to build, pickle,
unpickle and dispatch on both sides (several microseconds a task, which at
100k tasks is the scheduler's largest cost after its transitions).  The
worker's shell folds each run of consecutive reports into one `TasksDone`
(parallel lists of keys, sizes, type names, times and threads; inline
values keyed by task) and the scheduler's shell unfolds it into one event
per task.  Only *consecutive* reports are folded, so the scheduler sees
every report in the order the worker sent it.

    >>> from graphflow.comm.messages import StealAnswer, TaskDone
    >>> msgs = [TaskDone("s1", "a", 8, "int", 1.0, 2.0, 3), TaskDone("s2", "b", 8, "int", 2.0, 3.0),
    ...         StealAnswer("s3", "c", True), TaskDone("s4", "d", 8, "int")]
    >>> [type(m).__name__ for m in fold_task_done(msgs)]
    ['TasksDone', 'StealAnswer', 'TaskDone']
    >>> folded = fold_task_done(msgs)[0]
    >>> folded.keys, folded.inline
    (['a', 'b'], {'a': 3})
    >>> [(key, inline) for key, _, _, _, _, _, inline in unfold_task_done(folded)]
    [('a', 3), ('b', None)]

The scheduler's shell does the same with what it tells a client: at 100k tasks, one `KeyStatus`
a finished key was ~5 us of the client's CPU a task (building and unpickling 100k message objects)
and as much of the scheduler's.  A `KeyStatuses` carries its values and errors by position:

    >>> from graphflow.comm.messages import KeyStatus
    >>> msgs = [KeyStatus("a", "memory", 8, "int", ["w1"], 4), KeyStatus("b", "erred", exception=ValueError("x")),
    ...         KeyStatus("a", "lost")]
    >>> (batch,) = fold_key_status(msgs)
    >>> batch.states, batch.inline, list(batch.errors)
    (['memory', 'erred', 'lost'], {0: 4}, [1])
    >>> [(m.key, m.state, m.inline) for m in unfold_key_status(batch)]
    [('a', 'memory', 4), ('b', 'erred', None), ('a', 'lost', None)]
"""

from __future__ import annotations

from .messages import KeyStatus, KeyStatuses, TaskDone, TasksDone

__all__ = ["batch_of", "fold_task_done", "unfold_task_done", "fold_key_status", "unfold_key_status"]


def _fold(messages: list, kind: type, fold) -> list:
    """``messages`` with each run of two or more consecutive ``kind`` s replaced by ``fold(run)``."""
    if sum(1 for m in messages if type(m) is kind) < 2:
        return messages
    out: list = []
    run: list = []
    for msg in messages:
        if type(msg) is kind:
            run.append(msg)
            continue
        _close_run(run, out, fold)
        run = []
        out.append(msg)
    _close_run(run, out, fold)
    return out


def _close_run(run: list, out: list, fold) -> None:
    if len(run) == 1:
        out.append(run[0])
    elif run:
        out.append(fold(run))


def fold_task_done(messages: list) -> list:
    """``messages`` with each run of two or more consecutive `TaskDone` s replaced by one `TasksDone`."""
    return _fold(messages, TaskDone, batch_of)


def batch_of(run: list) -> TasksDone:
    """One `TasksDone` holding the `TaskDone` s of ``run`` (one or more), in order: the scheduler handles a lone
    report as a batch of one, so the two share one path."""
    inline = {m.key: m.inline for m in run if m.inline is not None}
    return TasksDone(run[-1].stimulus_id, [m.key for m in run], [m.nbytes for m in run], [m.type_name for m in run],
                     [m.start for m in run], [m.stop for m in run], [m.thread for m in run], inline)


def unfold_task_done(msg: TasksDone):
    """``(key, nbytes, type_name, start, stop, thread, inline)`` per task of ``msg``, in its order."""
    inline = msg.inline
    get = inline.get if inline else None
    columns = (msg.keys, msg.nbytes, msg.type_names, msg.starts, msg.stops, msg.threads)
    for key, nbytes, type_name, start, stop, thread in zip(*columns):
        yield key, nbytes, type_name, start, stop, thread, (get(key) if get is not None else None)


def fold_key_status(messages: list) -> list:
    """``messages`` with each run of two or more consecutive `KeyStatus` es replaced by one `KeyStatuses`."""
    return _fold(messages, KeyStatus, _key_statuses)


def _key_statuses(run: list) -> KeyStatuses:
    inline = {i: m.inline for i, m in enumerate(run) if m.inline is not None}
    errors = {i: (m.exception, m.traceback) for i, m in enumerate(run) if m.state == "erred"}
    return KeyStatuses([m.key for m in run], [m.state for m in run], [m.nbytes for m in run],
                       [m.type_name for m in run], [m.who_has for m in run], inline, errors)


def unfold_key_status(msg: KeyStatuses):
    """The `KeyStatus` of each key of ``msg``, in its order (for the rare readers that want one message a key)."""
    inline, errors = msg.inline, msg.errors
    columns = (msg.keys, msg.states, msg.nbytes, msg.type_names, msg.who_has)
    for i, (key, state, nbytes, type_name, who_has) in enumerate(zip(*columns)):
        exception, traceback = errors.get(i, (None, ""))
        yield KeyStatus(key, state, nbytes, type_name, who_has, inline.get(i), exception, traceback)
