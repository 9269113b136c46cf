"""Values handed between processes on one host through shared memory.

The holder writes the value's block (the spill format of
`graphflow.store.blocks`) once into a file under ``/dev/shm`` and sends the
small picklable `ShmRef`; the reader maps the file and has the value, with no
copy through a socket.  The pages live once in the host's memory however many
processes map them.

    holder                                     reader
    ref = put(value)          -- ShmRef -->    value = open_ref(ref, release=True)
                                               (mapped; the name is unlinked at once,
                                                the pages stay until every mapping is gone)

Where blocks live: ``/dev/shm/graphflow-shared-<pid>-<start time>-<random>/<n>.block``,
a directory per *owner* process (the holder by default; pass ``owner=`` the
reader's pid to make the reader responsible).  The process start time in the
name tells a reused pid from the original.  The directory is private
(`graphflow.utils.private_dirs`): its name ends in random digits, so nobody
can make it in advance, it is created 0700 and refused unless it is a real
directory of this user, and blocks are created 0600 with ``O_EXCL |
O_NOFOLLOW``.  No reader derives the name: the `ShmRef` a holder sends
carries the block's path, and a reader maps only files of its own user.
Blocks are removed by `release`, by ``open_ref(..., release=True)``, by the
process that made the directory at exit, and -- when the owner was killed
with ``kill -9`` -- by `clean_stale`, which a worker and the cluster's parent
process call at start (it removes only this user's directories, never
through a symlink).

Speed: writing costs one copy into freshly allocated shared pages, reading
costs the page-table work of the mapping (and no copy).  On a kernel whose
``shmem_enabled`` transparent huge pages setting is ``never`` those pages are
4 KiB each, and allocating 100,000 of them dominates: a 400 MB array takes
~0.15 s to write and ~0.05 s to map and sum on this machine, where a memcpy
into fresh (huge-page) memory takes ~0.07 s -- so `graphflow.comm.vmcopy`
(``process_vm_readv`` into the reader's own memory) is the faster one-host
path there, and shared memory is the path that keeps one copy per host.

    >>> import numpy as np
    >>> ref = put(np.arange(5))
    >>> ref.kind, ref.nbytes > 40
    ('numpy', True)
    >>> open_ref(ref, release=True).tolist()
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import threading

from ..utils.private_dirs import is_own_directory, make_private_dir

__all__ = ["ShmRef", "put", "open_ref", "release", "clean_stale", "available", "owner_directory",
           "SHM_DIR", "SHM_PREFIX"]

SHM_DIR = "/dev/shm"
# Not "graphflow-shm-", the prefix of the predictable names of earlier versions: their stale-directory sweep
# would take a name with a random tail for a dead process's and remove a live one's blocks.
SHM_PREFIX = "graphflow-shared-"

_counter = itertools.count(1)
_lock = threading.Lock()
_made: dict = {}  # directory -> pid of the process that created it (removed at that process's exit)
_dirs: dict = {}  # (base, owner pid, its start time) -> the private directory this process made for that owner's blocks


class ShmRef:
    """A block in shared memory: ``path``, ``nbytes`` (file size), ``kind`` (numpy/arrow/pickle), ``owner`` pid."""

    __slots__ = ("path", "nbytes", "kind", "owner")

    def __init__(self, path: str, nbytes: int, kind: str, owner: int):
        self.path = path
        self.nbytes = nbytes
        self.kind = kind
        self.owner = owner

    def __reduce__(self):
        return (ShmRef, (self.path, self.nbytes, self.kind, self.owner))

    def __repr__(self):
        return f"<ShmRef {self.path} {self.kind} {self.nbytes} bytes>"


def available(base: str = SHM_DIR) -> bool:
    """Can this process put blocks in ``base`` (Linux's ``/dev/shm``)?"""
    return os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None if it does not exist)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    return stat[stat.rindex(b")") + 2:].split()[19].decode()


def owner_directory(owner: int | None = None, base: str = SHM_DIR) -> str:
    """The directory this process puts ``owner``'s blocks in (this process by default), made on first use.

    Its name is ``graphflow-shared-<pid>-<start time>-<random>``; raises
    ``ProcessLookupError`` if ``owner`` is not running, and
    `graphflow.errors.UnsafePathError` if the directory made is not private.
    """
    pid = os.getpid() if owner is None else owner
    start = _start_time(pid)
    if start is None:
        raise ProcessLookupError(f"cannot put a shared-memory block owned by process {pid}: it is not running")
    with _lock:
        directory = _dirs.get((base, pid, start))
        if directory is not None and is_own_directory(directory):
            return directory  # (else gone, e.g. /dev/shm swept by hand: a fresh one is made)
        directory = make_private_dir(base, f"{SHM_PREFIX}{pid}-{start}-")
        _dirs[(base, pid, start)] = directory
        if pid == os.getpid():  # another owner's directory is swept by clean_stale once that owner is gone
            _made[directory] = pid
        return directory


def put(value, owner: int | None = None, base: str = SHM_DIR) -> ShmRef:
    """Write ``value``'s block into shared memory once; return its `ShmRef`.

    ``owner``: the pid whose directory holds the block (default: this
    process); the block is removed at the latest when that process is gone
    and `clean_stale` runs.  Raises ``OSError`` (``ENOSPC`` when ``/dev/shm``
    is full, `graphflow.errors.UnsafePathError` when the directory is not
    private) after removing the partial block.
    """
    from graphflow.store import blocks

    directory = owner_directory(owner, base)
    path = os.path.join(directory, f"{next(_counter)}-{threading.get_ident()}.block")
    nbytes = blocks.write_block(path, value)
    return ShmRef(path, nbytes, blocks.block_kind(value), os.getpid() if owner is None else owner)


def open_ref(ref: ShmRef, release: bool = False):
    """The value behind ``ref``, memory-mapped (no copy; numpy arrays are copy-on-write).

    With ``release=True`` the block's name is unlinked right after mapping:
    the pages stay for as long as the value is alive, and nothing is left to
    clean up even if this process is killed.  Raises ``FileNotFoundError`` if
    the block is gone (released, or its owner exited).
    """
    from graphflow.store import blocks

    value = blocks.read_block(ref.path)
    if release:
        _unlink(ref.path)
    return value


def frames(ref: ShmRef) -> list:
    """The block's mapped frames (``serialize.loads`` rebuilds the value)."""
    from graphflow.store import blocks

    return blocks.block_frames(ref.path)[1]


def release(ref: ShmRef) -> None:
    """Unlink the block (processes that mapped it keep their pages until they drop the value)."""
    _unlink(ref.path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def clean_stale(prefix: str = SHM_PREFIX, base: str = SHM_DIR) -> list:
    """Remove the block directories of processes that are gone; return the paths removed.

    A directory ``<prefix><pid>-<start time>-<random>`` is stale when no
    process has that pid, or the process with it started at another time
    (the pid was reused).  Only directories of this user are removed, never
    through a symlink (`graphflow.utils.processes.remove_stale_dirs`).
    """
    from ..utils.processes import remove_stale_dirs

    def is_stale(rest: str) -> bool:
        pid, _, rest = rest.partition("-")
        start = rest.partition("-")[0]
        return pid.isdigit() and _start_time(int(pid)) != start

    return remove_stale_dirs(base, prefix, is_stale)


def _remove_own() -> None:
    pid = os.getpid()  # a forked child inherits _made but must not remove its parent's blocks
    for directory, creator in list(_made.items()):
        if creator == pid and is_own_directory(directory):
            shutil.rmtree(directory, ignore_errors=True)
    _made.clear()
    _dirs.clear()


atexit.register(_remove_own)
