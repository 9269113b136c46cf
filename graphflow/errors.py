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


class KeyConflictError(InvalidGraphError):
    """Two different computations were given the same key."""


class UnknownSchedulerError(GraphflowError, ValueError):
    """``scheduler=`` names no known scheduler."""


class SerializationError(GraphflowError, TypeError):
    """A task, its inputs or its result cannot be pickled to cross a process boundary."""

    def __init__(self, message: str, key=None):
        super().__init__(message)
        self.key = key


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
