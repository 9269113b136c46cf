"""Arguments of ``.remote()`` calls: what is sent now, what waits, and what is kept alive.

Ray resolves an `ObjectRef` passed as a *top-level* argument to its value
before the call runs, and leaves refs nested in lists or dicts as refs.
Here a top-level ref is sent as follows (see `graphflow.ray.objects` for
what backs a ref):

=====================  ===========================  ==============================
top-level ref backed   to a remote function         to an actor method
by                     (a scheduler task)           (a direct call to its host)
=====================  ===========================  ==============================
a task's Future        a dependency (`Ref`): the    the ref itself, pickled by key;
                       worker gets the value        the actor's process ``ray.get`` s it
an actor call's        its value, once answered     its value, once answered
result
a pending call         as above, once submitted     as above, once submitted
=====================  ===========================  ==============================

A call whose arguments must wait returns *pending* refs at once and is
submitted from a callback when the last of them is ready (`call`); so
``b.f.remote(a.g.remote())`` never blocks the caller.  A failed argument
fails the call's refs with that argument's error, as Ray does.  Calls on one
actor keep their order: a call made after a pending call on the same handle
waits until that one is submitted (``after``).

Every ref among the arguments (nested ones too) is kept alive until the call
settles, so a task reading a nested ref by key finds it even if the caller
dropped its own ref.
"""

from __future__ import annotations

import threading

from ..client.actors import ActorFuture
from ..utils.traverse import leaves
from .objects import ObjectRef, as_ref, ray_error

__all__ = ["call"]


def _is_ref(x) -> bool:
    return isinstance(x, ObjectRef)


def call(args: tuple, kwargs: dict, n_out: int, submit, *, for_actor: bool = False,
         after: ObjectRef | None = None) -> list:
    """Run ``submit(args, kwargs) -> [Future-like, ...]`` now or once its arguments can be sent; returns refs.

    ``for_actor``: task-result refs stay refs (the actor resolves them);
    ``after``: a ref that must be submitted first (the handle's previous call).
    """
    top = [a for a in args if _is_ref(a)] + [v for v in kwargs.values() if _is_ref(v)]
    waits = [r for r in top if not r.is_task_result()]
    holds = leaves((args, kwargs), _is_ref) if (top or args or kwargs) else []
    if not waits and (after is None or after.is_bound()):
        targets = submit(*_convert(args, kwargs, for_actor))
        _keep(holds, targets)
        return [as_ref(t) for t in targets]
    outs = [ObjectRef.pending() for _ in range(n_out)]
    conditions = [r.on_ready for r in waits] + ([after.on_bound] if after is not None else [])
    remaining = [len(conditions)]
    lock = threading.Lock()

    def one_met():
        with lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        _submit_later(args, kwargs, waits, submit, for_actor, holds, outs)

    for condition in conditions:
        condition(one_met)
    return outs


def _submit_later(args, kwargs, waits, submit, for_actor, holds, outs) -> None:
    # Runs on whichever thread made the last argument ready (often the client's I/O thread): it must not block.
    try:
        for r in waits:
            target = r.graphflow_future()
            if target.status != "finished":
                raise ray_error(target)
        targets = submit(*_convert(args, kwargs, for_actor))
    except BaseException as err:  # an argument failed, or the submission itself: the call's refs carry it
        for o in outs:
            o.fail(err)
        return
    _keep(holds, targets)
    for o, t in zip(outs, targets):
        o.bind(t)


def _convert(args: tuple, kwargs: dict, for_actor: bool) -> tuple:
    def one(x):
        if not _is_ref(x):
            return x
        target = x.graphflow_future()
        if type(target) is ActorFuture:
            return target.key_state.value  # answered: the value is here already
        return x if for_actor else target

    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def _keep(holds: list, targets: list) -> None:
    """Keep ``holds`` (the refs among a call's arguments) alive until the call's first result settles."""
    if holds and targets:
        targets[0].key_state.on_done(lambda: holds.clear())
