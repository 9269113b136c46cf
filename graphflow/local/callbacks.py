"""`Callback`: watch the runs of the local executors (sync, threads, processes).

The model is Dask's ``dask.callbacks.Callback``: an object with four hooks,
active while registered (in a ``with`` block, or between `register` and
`unregister`).  Every run of a local executor started while it is active calls

``start(plan)``
    once, before the first task, in the thread that called ``compute()``;
    ``plan`` is the run's `graphflow.local.executors.ExecutionPlan` (``len(plan)`` tasks,
    ``plan.keys``);
``task_start(key)`` / ``task_finish(key)``
    around each task, from the thread that ran it (threads: any of the run's
    threads, so keep them short and thread-safe; processes: the dispatching
    thread, when the task is sent and when its result is back);
``finish()``
    once, after the last task or after the first error.

A task that fails calls no ``task_finish``.  A ``compute()`` made inside a
task is not reported (it would restart a progress bar).  Hooks come from a
subclass, or as functions given to the constructor:

    >>> import graphflow as gf
    >>> done = []
    >>> with Callback(task_finish=done.append):
    ...     gf.compute(gf.delayed(sum)([1, 2]), scheduler="sync")
    (3,)
    >>> len(done)
    1

Runs on a distributed `Client` are not local runs: use `graphflow.progress`.
"""

from __future__ import annotations

import threading

__all__ = ["Callback", "active", "add_callback", "remove_callback"]

# The callbacks now active.  Replaced whole under the lock, never mutated, so a run reads it once without
# locking; with none active a run pays one truthiness test (`graphflow.local.executors`).
active: tuple = ()
_lock = threading.Lock()


def add_callback(callback) -> None:
    """Let ``callback`` (``start(plan)``, ``task_start(key)``, ``task_finish(key)``, ``finish()``) watch runs."""
    global active
    with _lock:
        if callback not in active:
            active = active + (callback,)


def remove_callback(callback) -> None:
    """Stop ``callback`` watching runs (no error if it was not watching)."""
    global active
    with _lock:
        active = tuple(c for c in active if c is not callback)


class Callback:
    """Hooks into every local run while active; see the module docstring.

    ``Callback(start=f, task_start=g, task_finish=h, finish=k)``: functions
    replace the matching no-op methods, so a one-off watcher needs no subclass.
    """

    def __init__(self, start=None, task_start=None, task_finish=None, finish=None):
        for name, func in (("start", start), ("task_start", task_start), ("task_finish", task_finish),
                           ("finish", finish)):
            if func is not None:
                if not callable(func):
                    raise TypeError(f"Callback({name}=...) needs a function, not {func!r}")
                setattr(self, name, func)

    def start(self, plan) -> None:
        """A run of ``len(plan)`` tasks is starting."""

    def task_start(self, key) -> None:
        """The task ``key`` is starting."""

    def task_finish(self, key) -> None:
        """The task ``key`` has finished (its result is about to be recorded)."""

    def finish(self) -> None:
        """The run is over: done, or stopped by an error."""

    # -- activation
    def register(self) -> None:
        """Watch every local run from now on (all threads), until `unregister`."""
        add_callback(self)

    def unregister(self) -> None:
        """Stop watching runs."""
        remove_callback(self)

    @property
    def active(self) -> bool:
        """True while registered."""
        return self in active

    def __enter__(self):
        self.register()
        return self

    def __exit__(self, *exc_info):
        self.unregister()
