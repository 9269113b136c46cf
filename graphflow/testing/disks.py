"""`small_disk`: a really small filesystem for tests of a full spill disk, or the nearest thing without root.

As root (CI), it mounts a ``tmpfs`` of the given size on a fresh temporary
directory and unmounts it on the way out, whatever happened inside (a lazy
unmount if a process still holds a file there); writes past the size fail
with ``ENOSPC`` as on a full disk.  Without root, or where ``mount`` is
refused (a container without the capability), it yields a plain temporary
directory and ``mounted=False``: the test then caps the spill with
``max_spill`` of the same size, the setting a user without a small disk would
reach for.

    with small_disk(50 * 2**20) as (path, mounted):
        kwargs = {} if mounted else {"max_spill": 50 * 2**20}
        ...  # Client(local_directory=path, **kwargs)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile

__all__ = ["small_disk"]


@contextlib.contextmanager
def small_disk(nbytes: int, timeout: float = 30.0):
    """Yield ``(path, mounted)``: a directory on a ``nbytes`` tmpfs (``mounted``), else a plain temp dir."""
    path = tempfile.mkdtemp(prefix="graphflow-small-disk-")
    mounted = _mount_tmpfs(path, nbytes, timeout)
    try:
        yield path, mounted
    finally:
        if mounted:
            done = subprocess.run(["umount", path], capture_output=True, timeout=timeout)
            if done.returncode != 0:  # still busy (a process on its way out): detach it now, freed when unused
                subprocess.run(["umount", "-l", path], capture_output=True, timeout=timeout)
        shutil.rmtree(path, ignore_errors=True)


def _mount_tmpfs(path: str, nbytes: int, timeout: float) -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={nbytes},mode=0755", "tmpfs", path],
                              capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
