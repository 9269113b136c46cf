"""Ray's exception classes, under Ray's names, raised by `graphflow.ray`.

A program written for Ray catches ``ray.exceptions.GetTimeoutError`` or
``RayTaskError``; with ``import graphflow.ray as ray`` the same ``except``
clauses work.  Each class is also a `graphflow.errors.GraphflowError`.

A task's own error reaches ``ray.get`` as Ray delivers it: an instance of a
class made on the fly that derives from both `RayTaskError` and the task's
exception class, so ``except ValueError`` and ``except RayTaskError`` both
catch it::

    >>> err = as_task_error(ValueError("bad input"), "square-1")
    >>> isinstance(err, ValueError), isinstance(err, RayTaskError)
    (True, True)
    >>> type(err).__name__
    'RayTaskError(ValueError)'
"""

from __future__ import annotations

from ..errors import GraphflowError

__all__ = [
    "RayError", "RayTaskError", "GetTimeoutError", "TaskCancelledError", "RayActorError", "ActorDiedError",
    "ObjectLostError", "as_task_error",
]


class RayError(GraphflowError):
    """The base of every Ray-compatible error."""


class RayTaskError(RayError):
    """A task raised: ``cause`` is its exception, ``function_name`` the task that raised it."""

    def __init__(self, function_name: str = "", traceback_str: str = "", cause: BaseException | None = None,
                 *args):
        message = f"{function_name} raised {type(cause).__name__}: {cause}" if cause is not None else function_name
        super().__init__(message, *args)
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause

    def as_instanceof_cause(self):
        """This error as an instance of a class deriving from the cause's class too (what ``ray.get`` raises)."""
        return as_task_error(self.cause, self.function_name, self.traceback_str) if self.cause else self


class GetTimeoutError(RayError, TimeoutError):
    """``ray.get(..., timeout=)`` ran out of time before every object was ready."""


class TaskCancelledError(RayError):
    """``ray.get`` of a task that ``ray.cancel`` cancelled."""


class RayActorError(RayError):
    """An actor died (killed, or its worker lost and no restarts left) before a call on it completed."""


class ActorDiedError(RayActorError):
    """Ray's name for the actor error raised when the actor is known to be dead."""


class ObjectLostError(RayError):
    """An object's value was lost and cannot be recomputed."""


_task_error_classes: dict = {}


def as_task_error(cause: BaseException, function_name: str, traceback_str: str = "") -> BaseException:
    """``cause`` as a `RayTaskError` that is also an instance of ``type(cause)`` (Ray's delivery of task errors).

    A cause whose class cannot be subclassed (or whose instances cannot be
    made without their constructor) comes back as a plain `RayTaskError`
    with ``cause`` set.
    """
    if isinstance(cause, RayTaskError):
        return cause
    cls = type(cause)
    derived = _task_error_classes.get(cls)
    if derived is None:
        try:
            derived = type(f"RayTaskError({cls.__name__})", (RayTaskError, cls), {})
        except TypeError:  # a final class, or an incompatible layout
            derived = RayTaskError
        _task_error_classes[cls] = derived
    if derived is RayTaskError:
        return RayTaskError(function_name, traceback_str, cause)
    err = derived.__new__(derived)  # not cls.__init__: it may want arguments we do not have
    err.args = cause.args
    err.__dict__.update(getattr(cause, "__dict__", {}))
    err.function_name, err.traceback_str, err.cause = function_name, traceback_str, cause
    err.__cause__ = cause
    return err
