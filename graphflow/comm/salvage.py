"""A batch of messages that passed authentication but cannot be loaded here: read what can be, answer the rest.

A message names the classes and functions of the objects it carries; a
process that cannot import one (the scheduler lacks the user's modules, and
so may a worker started from the command line) cannot load the wire batch
holding it.  The batch used to be dropped with a log line, and its sender
waited for answers that never came.  `salvage` loads it again with each class
or function that cannot be imported replaced by a stand-in (a subclass of
`Missing`, which takes any arguments and state), then sorts its messages:

* clean ones (no stand-in inside: loaded exactly as usual) are delivered;
* the receiving shell may *repair* a spoiled one it can still act on
  (``repair(msg, error) -> msg or None``, replacing each spoiled part): the
  scheduler passes a result on without its inline value (the client fetches
  it from the worker) and a task's exception as a `SerializationError`
  naming it; a client turns a value it cannot load into an error for its key;
* the rest go back to the sender in one `graphflow.comm.messages.Unreadable`:
  per message its kind, request id and keys, and what could not be loaded
  where and what to do.  The sender fails those requests, tasks and actor
  calls with that `SerializationError`.

A batch that cannot be loaded even so (a reduce function that fails for
another reason) is answered with an `Unreadable` naming no message.

    >>> import collections, pickle
    >>> batch = [{"op": "put", "value": collections.Counter("ab")}, {"op": "ping"}]
    >>> frames = [pickle.dumps(batch).replace(b"collections", b"kollections")]  # a module missing here
    >>> deliver, unreadable = salvage(frames, None, "to tcp://127.0.0.1:8786")
    >>> deliver
    [{'op': 'ping'}]
    >>> [(kind, error.split(" cannot")[0], module) for kind, _, _, error, module in unreadable.messages]
    [('dict', 'kollections.Counter in a dict message to tcp://127.0.0.1:8786', 'kollections')]
"""

from __future__ import annotations

import io
import pickle

from graphflow.comm.messages import Unreadable
from graphflow.errors import SerializationError, cannot_load

__all__ = ["Missing", "describe", "load_error", "missing_in", "salvage", "task_exception"]


class Missing:
    """Base of the stand-ins for classes and functions that cannot be imported here.

    Each stand-in class has ``missing`` (``"module.name"``) and ``error`` (why
    it could not be imported); an instance keeps the arguments it was built
    with (``args``: an exception's message, say) and ignores its state.
    """

    missing = "?"
    error: BaseException | None = None

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):  # a dict subclass's items
        pass

    def append(self, item):  # a list subclass's items
        pass

    def extend(self, items):
        pass

    def __repr__(self):
        return f"<{self.missing} that cannot be loaded here>"


def _stand_in(module: str, name: str, error: BaseException) -> type:
    return type(name.rpartition(".")[2] or "Missing", (Missing,),
                {"missing": f"{module}.{name}", "error": error, "__module__": __name__})


class _Unpickler(pickle.Unpickler):
    """Loads what it can: a class or function it cannot import becomes a stand-in."""

    def __init__(self, file, buffers):
        super().__init__(file, buffers=buffers)
        self.stand_ins: dict = {}

    def find_class(self, module, name):
        if module == "graphflow.comm.serialize" and name == "_rebuild_value":
            return _load  # a value sent unopened inside the message: load it the same forgiving way
        try:
            return super().find_class(module, name)
        except Exception as exc:
            found = self.stand_ins.get((module, name))
            if found is None:
                found = self.stand_ins[(module, name)] = _stand_in(module, name, exc)
            return found


def _load(*frames):
    buffers = [_byte_view(f) for f in frames[1:]]
    return _Unpickler(io.BytesIO(_byte_view(frames[0])), buffers).load()


def _byte_view(frame) -> memoryview:
    view = memoryview(frame)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class _Null:
    def write(self, data):
        return len(data)


class _Finder(pickle.Pickler):
    """Walks an object the way pickling it would, collecting the stand-ins inside (nothing is kept)."""

    def __init__(self):
        super().__init__(_Null(), protocol=5, buffer_callback=lambda buf: False)  # buffers: never copied
        self.found: list = []

    def reducer_override(self, obj):
        if isinstance(obj, Missing) or (isinstance(obj, type) and issubclass(obj, Missing)):
            self.found.append(obj if isinstance(obj, type) else type(obj))
            return (bool, ())  # not looked into further
        return NotImplemented


def missing_in(obj) -> list:
    """The stand-in classes inside ``obj`` (empty: it loaded as usual); ``[Missing]`` if it cannot even be
    walked."""
    finder = _Finder()
    try:
        finder.dump(obj)
    except Exception:
        return [Missing]
    return finder.found


def describe(obj) -> str:
    """``obj`` for an error message: ``module.Name(args)`` for a stand-in, else its type."""
    if isinstance(obj, Missing):
        args = ", ".join(repr(a) for a in obj.args if isinstance(a, (str, int, float, bool, type(None))))
        return f"{obj.missing}({args})"
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"


def load_error(what: str, obj, key=None) -> SerializationError:
    """The error for ``what`` (holding ``obj``, with stand-ins inside) that cannot be loaded here."""
    found = missing_in(obj) or [Missing]
    names = ", ".join(dict.fromkeys(cls.missing for cls in found))
    first = next((cls.error for cls in found if cls.error is not None), None)
    return cannot_load(f"{names} in {what}", first or SerializationError("it cannot be loaded"), key)


def task_exception(key, exception) -> SerializationError:
    """What a task's exception that cannot be loaded here becomes: a `SerializationError` saying what the task
    raised and what is missing (its traceback travels beside it, as text)."""
    inner = load_error("the exception", exception, key)
    return SerializationError(f"task {key!r} raised {describe(exception)}, and {inner}", key, inner.module)


def _plain_keys(keys) -> list:
    return [k for k in keys if type(k) in (str, int, tuple) and not missing_in(k)]


def _keys(msg) -> list:
    """The task keys a message carries (``(actor, seq)`` for actor calls), for the sender to fail."""
    calls = getattr(msg, "calls", None)
    if type(calls) is list and hasattr(msg, "caller"):  # ActorCalls
        return _plain_keys((msg.actor, c[0]) for c in calls if type(c) is tuple and c)
    for field in ("specs", "data"):
        value = getattr(msg, field, None)
        if type(value) is dict:
            return _plain_keys(value)
    tasks = getattr(msg, "tasks", None)
    if type(tasks) is list:
        return _plain_keys(getattr(t, "key", None) for t in tasks)
    keys = getattr(msg, "keys", None)
    if type(keys) is list:
        return _plain_keys(keys)
    return _plain_keys([getattr(msg, "key", None)])


def salvage(frames, repair, where: str) -> tuple:
    """``(messages to deliver, Unreadable or None)`` for the frames of a batch that did not load here.

    ``where``: how error messages place the batch (``"to tcp://..."``, ``"from tcp://..."``).
    ``repair(msg, error)``: the receiver's fix for a spoiled message (the
    message to deliver instead, or None to report it to the sender).
    """
    try:
        batch = _load(*frames)
    except Exception as exc:
        err = cannot_load(f"a message {where}", exc)
        return [], Unreadable([("?", None, [], str(err), err.module)])
    if type(batch) is not list:
        batch = [batch]
    deliver, spoiled = [], []
    for msg in batch:
        if not missing_in(msg):
            deliver.append(msg)
            continue
        err = load_error(f"a {type(msg).__name__} message {where}", msg)
        try:
            fixed = repair(msg, err) if repair is not None else None
        except Exception:  # a message spoiled in a way the repair did not expect: its sender is told
            fixed = None
        if fixed is not None and not missing_in(fixed):
            deliver.append(fixed)
        else:
            spoiled.append((type(msg).__name__, getattr(msg, "request_id", None), _keys(msg), str(err),
                            err.module))
    return deliver, (Unreadable(spoiled) if spoiled else None)
