"""Helpers every long-lived graphflow process needs: die with its parent, sweep what dead processes left.

A worker or scheduler started by a `graphflow.deploy.process.Supervisor` calls
`die_with_parent` first thing, so it never outlives the cluster that started
it.  Spill and shared-memory directories are named after their owner's pid and
start time; `remove_stale_dirs` removes those whose owner is gone (only this user's, never via a symlink).

    >>> import os, tempfile
    >>> base = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(base, "gf-123")); os.mkdir(os.path.join(base, "gf-456"))
    >>> [os.path.basename(p) for p in remove_stale_dirs(base, "gf-", lambda rest: rest == "123")]
    ['gf-123']
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import threading
import time

__all__ = ["SUPERVISED_ENV", "die_with_parent", "remove_stale_dirs"]

_PR_SET_PDEATHSIG = 1


SUPERVISED_ENV = "GRAPHFLOW_SUPERVISED"


def die_with_parent(only_if_supervised: bool = False) -> None:
    """Make this process exit when its parent dies (Linux: at once; elsewhere: within a second).

    ``only_if_supervised``: do it only for a child a `Supervisor` started (a
    scheduler started by hand from a shell must outlive that shell).
    """
    if only_if_supervised and os.environ.get(SUPERVISED_ENV) != "1":
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="graphflow-parent-watch", daemon=True).start()


def remove_stale_dirs(base: str, prefix: str, is_stale) -> list:
    """Remove the directories ``base/<prefix><rest>`` for which ``is_stale(rest)`` is true; return their paths.

    Spill and shared-memory directories are named after the process that
    owns them; a process killed with ``kill -9`` cannot remove its own, so the
    next worker on the host (and a LocalCluster's parent) sweeps them.  Only
    real directories of this user are removed: a symlink, a file, or another
    user's directory under a matching name is left alone (``/dev/shm`` and
    ``/tmp`` are shared by every user), and the removal itself never follows a
    symlink inside (``shutil.rmtree`` works through directory descriptors).
    """
    from .private_dirs import is_own_directory

    removed = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        if name.startswith(prefix) and is_stale(name[len(prefix):]):
            path = os.path.join(base, name)
            if not is_own_directory(path):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
