"""What a client does with messages it cannot load, and with a peer's word that it could not load ours.

Both happen when a module is missing on one side (`graphflow.comm.salvage`
reads such a batch as far as it can).  Coming in -- a result of a class only
the workers have -- `repair` keeps what the client can act on: a value it
cannot load becomes an error for its key, so ``result()`` raises a
`SerializationError` naming the module instead of waiting.  Going out -- a
scatter of an object of the user's module to a worker that lacks it -- the
receiver answers `graphflow.comm.messages.Unreadable`, and `failed_requests`
and `fail_work` fail what those messages were for: the scatter or question
waiting on an answer, the tasks a graph carried, the actor calls.

    >>> from graphflow.comm.messages import Unreadable
    >>> msg = Unreadable([("PutData", 7, ["x"], "mymod.Point in a PutData message ... cannot be loaded", "mymod")])
    >>> [(request_id, type(err).__name__, err.module, err.key) for request_id, err in failed_requests(msg)]
    [(7, 'SerializationError', 'mymod', 'x')]
"""

from __future__ import annotations

import logging

from ..comm import messages as wire
from ..comm.salvage import load_error, missing_in, task_exception
from ..errors import SerializationError
from .futures import PENDING

__all__ = ["failed_requests", "fail_work", "repair"]

logger = logging.getLogger("graphflow.client")


def repair(msg, error: SerializationError):
    """``msg`` with each part this process cannot load replaced by the error for it; None if there is no such
    part it can answer for (the sender is told instead)."""
    t = type(msg)
    if t is wire.DataReply:
        for key in [k for k, v in msg.data.items() if missing_in(v)]:
            msg.errors[key] = load_error(f"the result of {key!r}", msg.data.pop(key), key)
        return msg
    if t is wire.KeyStatus:
        if msg.inline is not None and missing_in(msg.inline):
            msg.inline = None  # fetched from its holder when asked for, which then errs naming the module
        if msg.exception is not None and missing_in(msg.exception):
            msg.exception = task_exception(msg.key, msg.exception)
        return msg
    if t is wire.KeyStatuses:  # as for each KeyStatus above, by position
        msg.inline = {i: v for i, v in msg.inline.items() if not missing_in(v)}
        msg.errors = {i: ((task_exception(msg.keys[i], exc), tb) if missing_in(exc) else (exc, tb))
                      for i, (exc, tb) in msg.errors.items()}
        return msg
    if t is wire.ActorResults:
        msg.results = [(seq, False, load_error(f"the result of call #{seq} on actor {msg.actor!r}", value), tb)
                       if missing_in(value) else (seq, ok, value, tb) for seq, ok, value, tb in msg.results]
        return msg
    if t is wire.RpcReply:
        return wire.RpcReply(msg.request_id, None, error)
    return None


def _error(keys: list, error: str, module) -> SerializationError:
    return SerializationError(error, key=keys[0] if len(keys) == 1 else None, module=module)


def failed_requests(msg: wire.Unreadable) -> list:
    """``[(request id, error)]``: the pending requests (scatters, questions) whose messages could not be loaded."""
    return [(request_id, _error(keys, error, module))
            for kind, request_id, keys, error, module in msg.messages if request_id is not None]


def fail_work(client, msg: wire.Unreadable) -> None:
    """Fail the futures of the tasks and the actor calls carried by messages that could not be loaded."""
    for kind, request_id, keys, error, module in msg.messages:
        if kind == "ActorCalls":
            # The host repairs the calls it cannot load (each fails in its turn); this is the batch it could not
            # even repair.  It runs a caller's calls in order, so the later ones would wait forever for these:
            # the actor is given up for this client instead.
            for actor in dict.fromkeys(actor for actor, _ in keys):
                caller = client.actor_callers.get(actor)
                if caller is not None:
                    caller.fail_all(_error([], error, module))
        elif kind == "SubmitGraph":
            for key in keys:
                state = client.refs.get(key)
                if state is not None and state.status == PENDING:
                    state.fail(_error([key], error, module), "")
        elif request_id is None:
            logger.warning("client %s: a %s it sent could not be loaded: %s", client.id, kind, error)
