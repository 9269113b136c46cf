"""Every named exception a graphflow user can catch.

All of them derive from `GraphflowError`, and each also derives from the builtin
exception a Python user would reach for first (a cycle is a `ValueError`, a
non-callable task a `TypeError`), so ``except ValueError`` keeps working.

Messages say which key is at fault and what to do about it.  Exceptions raised
*by a task* are not wrapped: the caller gets the task's own exception type and
message back, with the key and the (remote) traceback attached as a note.
"""

from __future__ import annotations


class GraphflowError(Exception):
    """Base class of every graphflow-specific error."""

    def __reduce_ex__(self, protocol):
        # Subclasses rebuild from their constructor's arguments (``__reduce__``); keep what was set on the
        # error afterwards as well -- the task it is blamed on, notes -- as BaseException's own reduce does.
        rv = self.__reduce__()
        if type(rv) is tuple and len(rv) == 2 and self.__dict__:
            return (*rv, self.__dict__)
        return rv


class InvalidKeyError(GraphflowError, TypeError):
    """A key is neither a ``str`` nor a tuple ``(name, i, j, ...)``."""


class NotCallableError(GraphflowError, TypeError):
    """A `Task` was given a function that cannot be called."""


class InvalidGraphError(GraphflowError, ValueError):
    """A graph is malformed: a value is not a node, or a key does not match its node."""


class MissingDependencyError(InvalidGraphError):
    """A task refers to a key that is not in the graph."""

    def __init__(self, message: str, key=None, missing=None):
        super().__init__(message)
        self.key = key
        self.missing = missing


class CycleError(InvalidGraphError):
    """The graph has a cycle; ``.cycle`` holds the keys along it."""

    def __init__(self, message: str, cycle=()):
        super().__init__(message)
        self.cycle = tuple(cycle)

    @classmethod
    def along(cls, cycle) -> "CycleError":
        """The error for ``cycle``, keys in execution order with the first repeated at the end."""
        shown = " -> ".join(repr(k) for k in cycle)
        return cls(f"the graph has a cycle: {shown}. A task cannot depend, directly or through others, on "
                   f"itself; break one of these references.", cycle=cycle)

    def __reduce__(self):
        return (type(self), (self.args[0], self.cycle))


class KeyConflictError(InvalidGraphError):
    """Two different computations were given the same key."""


class UnknownSchedulerError(GraphflowError, ValueError):
    """``scheduler=`` names no known scheduler."""


class SerializationError(GraphflowError, TypeError):
    """A task, its inputs or its result cannot be pickled to cross a process boundary, or unpickled on the
    other side (``key``: the task; ``module``: the module the receiver could not import, if that was why)."""

    def __init__(self, message: str, key=None, module=None):
        super().__init__(message)
        self.key = key
        self.module = module

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.module))


def cannot_load(what: str, exc: BaseException, key=None) -> SerializationError:
    """The error for ``what`` (a task, a function, an actor class, a message) failing to load in this process
    because of ``exc``: which module is missing here, and what to do (install it, or ``ship_modules=True``)."""
    import os
    import socket

    cause = exc
    while isinstance(cause, SerializationError) and cause.__cause__ is not None:
        cause = cause.__cause__
    here = f"on host {socket.gethostname()} (pid {os.getpid()})"
    if isinstance(cause, ModuleNotFoundError) and cause.name:
        module = cause.name
        return SerializationError(
            f"{what} cannot be loaded {here}: no module named {module!r} there. Install "
            f"{module!r} on every worker (pip install, or put its folder on the workers' PYTHONPATH), or pass "
            f"Client(..., ship_modules=True) to send the client's own modules with its tasks", key=key,
            module=module)
    return SerializationError(
        f"{what} cannot be loaded {here}: {type(cause).__name__}: {cause}. The client and the "
        f"workers need the same modules and compatible versions of them (or Client(..., ship_modules=True) "
        f"for the client's own modules)", key=key)


class WorkerProcessDiedError(GraphflowError, RuntimeError):
    """A local worker process exited while it was running tasks."""


class GraphvizNotFoundError(GraphflowError, RuntimeError):
    """Rendering SVG/PNG needs the graphviz ``dot`` program, which is not installed."""


class TokenizeError(GraphflowError, TypeError):
    """An object cannot be tokenized deterministically and determinism was required."""


class ConfigError(GraphflowError, ValueError):
    """A configuration value is of the wrong type or out of range."""


class RemoteTaskError(GraphflowError, RuntimeError):
    """A task failed in another process with an exception that could not be sent back as is."""


class MissingExtraError(GraphflowError, ImportError):
    """A feature needs an optional library that is not installed (``library``: the module to install,
    ``feature``: what needed it, ``extra``: graphflow's extra that brings it, if there is one)."""

    def __init__(self, message: str, library=None, feature=None, extra=None):
        super().__init__(message)
        self.library = library
        self.feature = feature
        self.extra = extra

    def __reduce__(self):
        return (type(self), (self.args[0], self.library, self.feature, self.extra))


class ChunkingError(GraphflowError, ValueError):
    """An operation needs another chunking of its input (an FFT along a chunked axis); the message names
    the ``rechunk`` that fixes it (``axis``: the axis concerned, if one)."""

    def __init__(self, message: str, axis=None):
        super().__init__(message)
        self.axis = axis

    def __reduce__(self):
        return (type(self), (self.args[0], self.axis))


class RemoteTraceback(Exception):
    """Carries the text of a traceback from another process; shown as the cause of a task's error."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return "\n\n" + self.text.rstrip()


def task_error_key(exc: BaseException, default=None):
    """The key of the task that raised ``exc`` (the inner key for a fused task), or ``default``."""
    return getattr(exc, "__graphflow_key__", None) or default


def blame_task(exc: BaseException, key) -> BaseException:
    """Record that task ``key`` raised ``exc`` (unless an inner task was already blamed); returns ``exc``.

    Where a task fails (a worker thread, the scheduler erring a task), so that
    dependents failing with the same exception -- a ``compute``'s final task
    included -- still name the task that raised it.
    """
    if exc is not None and getattr(exc, "__graphflow_key__", None) is None:
        try:
            exc.__graphflow_key__ = key
        except Exception:  # pragma: no cover - exceptions without a __dict__
            pass
    return exc


def annotate_task_error(exc: BaseException, key, remote_traceback: str | None = None) -> BaseException:
    """Attach the failing task's key (and a remote traceback) to a task's own exception.

    The exception keeps its type and message, so ``except ValueError`` in user
    code still works; the key shows in the printed traceback as a note.
    """
    key = task_error_key(exc, key)
    try:
        exc.__graphflow_key__ = key
    except Exception:  # pragma: no cover - exceptions without a __dict__
        pass
    note = f"graphflow: raised by task {key!r}"
    notes = getattr(exc, "__notes__", None)
    if notes is None or note not in notes:
        if hasattr(exc, "add_note"):
            exc.add_note(note)
        else:  # Python 3.10: keep the note where 3.11's traceback printer would look
            exc.__notes__ = [*(notes or []), note]
    if remote_traceback is not None and exc.__cause__ is None:
        exc.__cause__ = RemoteTraceback(remote_traceback)
    return exc


class InvalidTransition(GraphflowError, RuntimeError):
    """A scheduler or worker state machine was asked for a state change its table does not allow.

    This is a bug in graphflow; the message holds the key, both states and the
    stimulus, and ``story(key)`` on the state machine shows how it got there.
    """

    def __init__(self, message: str, key=None, start=None, finish=None, stimulus_id=None):
        super().__init__(message)
        self.key = key
        self.start = start
        self.finish = finish
        self.stimulus_id = stimulus_id


class KilledWorkerError(GraphflowError, RuntimeError):
    """A task was running on a worker that died, too many times (``key``, ``last_worker``)."""

    def __init__(self, message: str, key=None, last_worker=None):
        super().__init__(message)
        self.key = key
        self.last_worker = last_worker

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.last_worker))


class NoWorkerError(GraphflowError, RuntimeError):
    """No worker can run a task: its ``resources`` or ``workers=`` restrictions match none (``key``, ``request``).

    ``request`` is what the task asked for (a resources dict, or the workers it
    was restricted to); ``workers`` maps each connected worker to what it offers
    (its resources, or its name and host).  Start a worker that offers it
    (``graphflow worker --resources "GPU=1"``, ``LocalCluster(resources=...)``),
    ask for less, or pass ``allow_other_workers=True``.
    """

    def __init__(self, message: str, key=None, request=None, workers=None):
        super().__init__(message)
        self.key = key
        self.request = request
        self.workers = workers

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.request, self.workers))


class ActorDiedError(GraphflowError, RuntimeError):
    """An actor's worker died and it could not be recreated (``actor`` key, ``worker``, ``call``).

    Either it was not asked to survive (``@gf.actor(max_restarts=..., checkpoint_every=...)``)
    or it used up its restarts.  ``call`` names the call that did not complete, when there was one.
    """

    def __init__(self, message: str, actor=None, worker=None, call=None):
        super().__init__(message)
        self.actor = actor
        self.worker = worker
        self.call = call

    def __reduce__(self):
        return (type(self), (self.args[0], self.actor, self.worker, self.call))


class MemoryLimitError(GraphflowError, MemoryError):
    """A task's inputs plus its output cannot fit the memory limit of any worker (``key``, ``nbytes``, ``limit``).

    Make the pieces smaller (more, smaller chunks or partitions) or give the
    workers more memory (``memory_limit=``).
    """

    def __init__(self, message: str, key=None, nbytes=None, limit=None):
        super().__init__(message)
        self.key = key
        self.nbytes = nbytes
        self.limit = limit

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.nbytes, self.limit))


class SpillError(GraphflowError, OSError):
    """A result could not be spilled to disk, so there is no room for more (``key``, ``directory``).

    The disk is full, the directory unwritable, or ``max_spill`` reached.  The
    values stay in memory; the worker pauses work that needs room, and each task
    that needs room fails with this error (``needed``: bytes it had to spill,
    ``free``: bytes left in ``directory``, None if unknown; ``reason``: why the
    spill failed, e.g. "No space left on device").  Free disk space,
    release results you no longer need, point ``--local-directory`` at a larger
    disk, or raise ``max_spill``.
    """

    def __init__(self, message: str, key=None, directory=None, needed=None, free=None, reason=None):
        super().__init__(message)
        self.key = key
        self.directory = directory
        self.needed = needed
        self.free = free
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.directory, self.needed, self.free, self.reason))


class UnsafePathError(GraphflowError, PermissionError):
    """A directory or file graphflow would use is not private (``path``): made in advance, a symlink, owned by
    another user, or open to other users.  Nothing was written to it or read from it."""

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path

    def __reduce__(self):
        return (type(self), (self.args[0], self.path))


class RetireError(GraphflowError, RuntimeError):
    """Workers could not retire gracefully (``workers``), and why; they keep running.

    ``retired``: the workers of the same request that did leave; ``left``:
    worker -> what kept it (``{"keys": [...], "tasks": [...], "actors": [...]}``).
    No running worker left to receive the data (every worker is retiring, or
    the others died), or the deadline (config ``scheduler.retire_timeout``)
    passed.  Start more workers first, retire fewer, or pass
    ``close_anyway=True`` to close them and recompute what they held.
    """

    def __init__(self, message: str, workers=(), retired=(), left=None):
        super().__init__(message)
        self.workers = list(workers)
        self.retired = list(retired)
        self.left = dict(left or {})

    def __reduce__(self):
        return (type(self), (self.args[0], self.workers, self.retired, self.left))


class LostDataError(GraphflowError, RuntimeError):
    """A finished result could not be fetched from its workers, again and again (``key``, ``worker``).

    Each time it was recomputed or asked of another holder first; the
    message says what the last holder answered.  Usually this process cannot
    reach the workers' addresses (a firewall, or workers listening on an
    interface the client cannot route to: ``graphflow worker --host``).
    """

    def __init__(self, message: str, key=None, worker=None):
        super().__init__(message)
        self.key = key
        self.worker = worker

    def __reduce__(self):
        return (type(self), (self.args[0], self.key, self.worker))


class AuthenticationError(GraphflowError, PermissionError):
    """A peer did not prove it holds the cluster's token; nothing it sent was deserialized."""


class CommClosedError(GraphflowError, ConnectionError):
    """The scheduler (or a peer) went away or cannot be reached; the message says which address."""


class MessageTooLargeError(SerializationError):
    """A message is larger than ``comm.max_message_size`` (``size``, ``limit``): its receiver would drop it.

    A kind of `SerializationError`, so what cannot be sent because of its size
    is handled like what cannot be pickled.
    """

    def __init__(self, message: str, size: int = 0, limit: int = 0, key=None):
        super().__init__(message, key)
        self.size = size
        self.limit = limit

    def __reduce__(self):
        return (type(self), (self.args[0], self.size, self.limit, self.key))


class LazyValueError(GraphflowError, TypeError):
    """A lazy value (a dataframe `Scalar`) was used where a concrete one is needed: ``if s:``, ``int(s)``.

    The value does not exist until it is computed: ``s.compute()`` gives it.
    """


class UnboundScalarError(GraphflowError, TypeError):
    """A lazy `Scalar` inside a column formula reached an operation that cannot take one (a formula given to
    a reader, a join key): compute the scalar first."""


def __getattr__(name):
    # FutureCancelledError derives from concurrent.futures.CancelledError, so that
    # ``except CancelledError`` works; it is built on first use to keep
    # ``import graphflow`` from importing concurrent.futures (and logging).
    if name == "FutureCancelledError":
        cls = globals().get("_FutureCancelledError")
        if cls is None:
            cls = globals()["_FutureCancelledError"] = _future_cancelled_error()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _future_cancelled_error():
    import concurrent.futures

    class FutureCancelledError(GraphflowError, concurrent.futures.CancelledError):
        """The result of a cancelled future was asked for (``key`` names it)."""

        def __init__(self, message: str, key=None):
            super().__init__(message)
            self.key = key

        def __reduce__(self):
            return (_rebuild_future_cancelled, (self.args[0], self.key))

    FutureCancelledError.__module__ = __name__
    FutureCancelledError.__qualname__ = "FutureCancelledError"
    return FutureCancelledError


def _rebuild_future_cancelled(message, key):
    return __getattr__("FutureCancelledError")(message, key)


class LeaseError(GraphflowError, RuntimeError):
    """A lock or semaphore was released by a handle that does not hold it, or created twice with different
    limits (`graphflow.Lock`, `graphflow.Semaphore`)."""


class VersionMismatchError(GraphflowError, RuntimeError):
    """The client, scheduler and workers run different versions of packages that must match
    (``client.get_versions(check=True)``); ``mismatches`` maps a package to ``{where: version}``."""

    def __init__(self, message: str, mismatches=None):
        super().__init__(message)
        self.mismatches = dict(mismatches or {})
