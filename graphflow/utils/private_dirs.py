"""Private directories and files: made fresh, owned by this user, closed to everyone else, never via a symlink.

Spill blocks and shared-memory blocks hold pickles that graphflow maps back
and unpickles, so whoever can write into their directory can run code in a
worker, and whoever can read it sees the user's data.  Both directories live
in places other users can write to (``/tmp``, ``/dev/shm``), so they are
made the way an attacker cannot pre-empt:

* the name ends in 16 random hex digits from `secrets` (`make_private_dir`):
  nobody can create it in advance;
* ``mkdir(path, 0o700)`` fails if anything is already there (a directory, a
  symlink, a file): an existing path is never adopted (`create_private_dir`);
* `check_private_dir` then ``lstat``s it: a real directory (not a symlink),
  owned by this process's effective user, no group or other permission bits;
  anything else is refused with `graphflow.errors.UnsafePathError`;
* files inside are created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode
  0600 (`create_private_file`), and opened for reading with ``O_NOFOLLOW``
  and refused unless this user owns them (`open_private_file`), so a planted
  file or a symlink is never read.

Other processes of the same user on the host (a peer worker, the client)
never derive these names: the path of a block travels in the message that
hands it over (`graphflow.store.shm.ShmRef`).

    >>> import os, stat, tempfile
    >>> base = tempfile.mkdtemp()
    >>> d = make_private_dir(base, "gf-demo-")
    >>> os.path.basename(d).startswith("gf-demo-"), oct(stat.S_IMODE(os.lstat(d).st_mode))
    (True, '0o700')
    >>> create_private_dir(d)
    Traceback (most recent call last):
    graphflow.errors.UnsafePathError: ... already exists; graphflow makes its private directories itself ...
"""

from __future__ import annotations

import os
import secrets
import stat

from ..errors import UnsafePathError

__all__ = ["make_private_dir", "create_private_dir", "check_private_dir", "create_private_file",
           "open_private_file", "is_own_directory"]

_ATTEMPTS = 8  # fresh random names tried before giving up (a collision of 64 random bits means something is wrong)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _euid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def make_private_dir(base: str, prefix: str) -> str:
    """Create ``base/<prefix><16 random hex digits>`` as a private directory (see the module docstring); return it.

    ``base`` must exist.  Raises `UnsafePathError` if what was made is not
    private after all, ``OSError`` if ``base`` is missing or unwritable.
    """
    for _ in range(_ATTEMPTS):
        path = os.path.join(base, prefix + secrets.token_hex(8))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        check_private_dir(path)
        return path
    raise UnsafePathError(f"could not make a private directory {prefix}* in {base}: {_ATTEMPTS} fresh random "
                          "names were all taken; someone is filling that directory", path=base)


def create_private_dir(path: str) -> str:
    """Create the directory ``path`` (mode 0700), refusing anything already there; return ``path``.

    Raises `UnsafePathError` if ``path`` exists in any form (directory,
    symlink, file): an existing path may belong to someone else and is
    never adopted.
    """
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        raise UnsafePathError(f"{path} already exists; graphflow makes its private directories itself and never "
                              "uses one made in advance (it may belong to another user). Remove it, or use a "
                              "fresh name.", path=path) from None
    check_private_dir(path)
    return path


def check_private_dir(path: str) -> os.stat_result:
    """``lstat(path)`` if it is a directory (not a symlink) owned by this user with no group/other bits.

    Raises `UnsafePathError` saying which check failed.
    """
    st = os.lstat(path)
    why = _unsafe_dir(st)
    if why:
        raise UnsafePathError(f"refusing to use {path}: {why}", path=path)
    return st


def _unsafe_dir(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    euid = _euid()
    if euid is not None and st.st_uid != euid:
        return f"it is owned by uid {st.st_uid}, not by this process's user (uid {euid})"
    if stat.S_IMODE(st.st_mode) & 0o077:
        return f"its mode is {oct(stat.S_IMODE(st.st_mode))}: other users may read or write it (want 0o700)"
    return ""


def is_own_directory(path: str) -> bool:
    """Is ``path`` a real directory (not a symlink) owned by this user?  For sweeping stale directories."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    euid = _euid()
    return stat.S_ISDIR(st.st_mode) and (euid is None or st.st_uid == euid)


def create_private_file(path: str) -> int:
    """Create ``path`` with mode 0600 for writing, never through a symlink nor over an existing file; its fd.

    ``FileExistsError`` if anything is at ``path`` already (nothing is
    truncated or written there).
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o600)


def open_private_file(path: str) -> int:
    """Open ``path`` for reading if it is a regular file this user owns, not a symlink; its fd.

    Raises `UnsafePathError` for a symlink, a non-regular file or a file
    owned by someone else; ``FileNotFoundError`` if it is gone.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafePathError(f"refusing to read {path}: it is a symbolic link", path=path) from exc
        raise
    try:
        st = os.fstat(fd)
        euid = _euid()
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"refusing to read {path}: it is not a regular file", path=path)
        if euid is not None and st.st_uid != euid:
            raise UnsafePathError(f"refusing to read {path}: it is owned by uid {st.st_uid}, not by this "
                                  f"process's user (uid {euid}); graphflow reads only blocks it wrote", path=path)
    except BaseException:
        os.close(fd)
        raise
    return fd
