"""The worker's result store: a mapping over a memory tier and a disk tier.

`WorkerStore` is a `MutableMapping`, so the worker's state machine and the
shell read and write results like a dict and never know where a value lives
(DESIGN: "the spill store is a mapping").  Values live in memory until the
*managed* bytes (the sum of the sizes of values held in memory) pass
``target * memory_limit``; then the least recently used ones are written to
block files (`graphflow.store.blocks`) and dropped from memory.  Reading a
spilled key maps its block back.

State, per key: its size (``nbytes``), and where it is --

    memory only      in ``_fast``                 counted in managed_bytes
    disk only        in ``_slow``                 counted in spilled_bytes
    both             in ``_fast`` and ``_slow``   counted in managed_bytes; the
                                                  file is a clean copy, so
                                                  spilling it again writes nothing
    shared           in ``_shared``               counted in shared_bytes: a block
                                                  another worker on this host put
                                                  in shared memory and owns (and
                                                  counts); never spilled here
    being written    in ``_writing``              counted in spilled_bytes (with
                                                  ``background_writes``): leaving
                                                  memory, its block not written yet

Worked example (sizes given by ``sizer=len``; limit 100, target 0.6 -> spill
past 60 managed bytes)::

    >>> s = WorkerStore(100, sizer=len)
    >>> s["a"] = b"x" * 40
    >>> s["b"] = b"y" * 40            # 80 > 60: "a", least recently used, goes to disk
    >>> s.managed_bytes, s.spilled_bytes, s.is_spilled("a")
    (40, 40, True)
    >>> s["a"] == b"x" * 40           # read back (memory-mapped); now "b" is the LRU value
    True
    >>> s.is_spilled("b"), s.total_bytes
    (True, 80)
    >>> s.close()                     # removes the spill directory

Decisions:

* **What spills first**: least recently used (get and set both count as use).
  The value just written is the most recently used, so it spills only after
  every other value did and the store is still over target -- a single value
  bigger than the target goes straight to disk, as it would never fit.
* **Reading a spilled key** maps its block and moves the value back to the
  memory tier, counted in managed bytes: a task is about to touch it, and its
  pages become resident as it does.  The block file stays as a clean copy, so
  spilling the value again costs no write; the file is deleted with the key.
* **Failure** (disk full, directory unwritable, ``max_spill`` reached): the
  value stays in memory, ``spill_failed`` becomes True and ``last_spill_error``
  holds a `SpillError` naming the key, the directory, the bytes needed and the
  bytes free.  That starts a *failure episode*, logged once (not per attempt;
  ``log_spill_errors=False`` leaves the logging to the caller, as the worker
  does), which lasts until a spill succeeds or ``reset_spill_failure()`` is
  called (the worker does when its memory is back under the target); a spill
  that frees only part of what was asked does not end it.  While it lasts,
  spilling is still tried whenever asked, but a value that cannot fit in the
  free space (``statvfs``) or under ``max_spill`` fails before a byte is
  written, so a full disk costs a ``statvfs`` call per attempt, not a partial
  write.  Any other failure (a write error, an unwritable directory) stops
  further writes until a spilled key is deleted here or the episode is reset.
* **Sizes** come from ``store.set(key, value, nbytes)`` when the caller already
  measured (a task's thread, a peer's message) or from ``sizer`` (default
  `graphflow.sizeof`) for ``store[key] = value``.
* **Threads**: every public method takes an ``RLock``, so the local threaded
  executor can share one store between its threads; on a worker the event
  loop and the writer thread share it, each holding it for bookkeeping only.
* **Who writes** (``background_writes``): by default the caller of the spill
  writes the block (the local executors' threads).  A worker's store hands
  each write to a writer thread (`graphflow.store.writer`), so its event loop
  keeps answering heartbeats and fetches while 200 MB go to disk (~0.1 s).
  The value leaves the managed bytes at once (so the store does not spill a
  second value for the same room) and is held in ``_writing`` until its block
  is on disk; reading it meanwhile takes it back to memory (the block becomes
  its clean copy); deleting it throws the block away when written.  The
  checks that can fail early (``max_spill``, free space, the directory) run
  before the hand-off; a write that fails anyway puts the value back in
  memory and starts a failure episode, as a failed inline write does.
  `flush` waits for the writes under way.

Spill directory: ``<local_directory or tempdir>/graphflow-spill-<pid>-<random>``,
made on the first spill, removed by `close()`, when the store is collected and
at interpreter exit.  It is private (`graphflow.utils.private_dirs`): a random
name nobody can make in advance, created 0700 and checked (a real directory of
this user), blocks created 0600 with ``O_EXCL | O_NOFOLLOW``, and only this
user's own blocks are read back.  A worker killed with ``kill -9`` leaves its
directory behind; `clean_stale_spill_dirs` (called when a worker starts)
removes the directories of dead processes (this user's only).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import MutableMapping

from .. import config
from ..errors import SpillError
from ..sizeof import sizeof
from ..units import format_bytes, parse_bytes
from ..utils.private_dirs import make_private_dir
from . import blocks
from .writer import Writer

__all__ = ["WorkerStore", "SpillError", "Shared", "clean_stale_spill_dirs", "nbytes_of", "SPILL_PREFIX"]

logger = logging.getLogger("graphflow.store.spill")

#: Former name of the default sizer, kept for callers that import it.
nbytes_of = sizeof

SPILL_PREFIX = "graphflow-spill-"
_DIR_PATTERN = re.compile(re.escape(SPILL_PREFIX) + r"(\d+)-")
_THRESHOLDS = ("target", "spill", "pause", "terminate")
_BLOCK_SLACK = 64 * 1024  # a block's header and frame alignment, on top of the value's bytes


class WorkerStore(MutableMapping):
    """Results held by one worker: memory first, least recently used values spilled to disk.

    ``memory_limit``: the worker's limit in bytes (or a string like ``"2GiB"``;
    ``None``: no limit, nothing spills by itself).  ``target``, ``spill``,
    ``pause``, ``terminate``: fractions of it (``None``: from ``gf.config``
    ``worker.memory.*``; ``False``: off).  The store acts on ``target`` itself;
    the other three are for the worker's RSS monitor (`spill_lru`, pausing,
    restarting), kept here so the numbers live in one place.
    ``local_directory``: where the spill directory goes (default: the system
    temp dir).  ``max_spill``: bytes of block files allowed on disk (``None``:
    from ``gf.config`` ``worker.max_spill``; ``False``: no cap).  ``sizer``:
    ``value -> int`` for ``store[key] = value``.  ``log_spill_errors``: log the
    start of each spill failure episode (False: the caller does, as the worker).
    ``background_writes``: write blocks on a writer thread, not the caller's
    (see the module docstring).
    """

    def __init__(self, memory_limit=None, *, target=None, spill=None, pause=None, terminate=None,
                 local_directory: str | None = None, max_spill=None, sizer=sizeof,
                 log_spill_errors: bool = True, background_writes: bool = False):
        self.memory_limit = None if memory_limit is None else parse_bytes(memory_limit)
        given = {"target": target, "spill": spill, "pause": pause, "terminate": terminate}
        self.thresholds = {k: config.get(f"worker.memory.{k}") if v is None else v for k, v in given.items()}
        self.local_directory = local_directory
        if max_spill is None:
            max_spill = config.get("worker.max_spill")
        self.max_spill = None if max_spill is None or max_spill is False else parse_bytes(max_spill)
        self.log_spill_errors = log_spill_errors
        self.sizer = sizer
        self.spill_failed = False  # in a failure episode (see the module docstring)
        self.last_spill_error: SpillError | None = None
        self._blocked = False  # an unpredicted failure: no write is tried until disk space is freed here
        self._fast: OrderedDict = OrderedDict()  # key -> value, least recently used first
        self._slow: dict = {}  # key -> (path, file size)
        self._shared: dict = {}  # key -> value mapped from a host shared-memory block another process owns
        self._writing: dict = {}  # key -> value whose block the writer thread is writing
        self._writer = Writer(f"spill-{id(self):x}") if background_writes else None
        self._pending_disk = 0  # bytes of the blocks being written, for the max_spill and free-space checks
        self._nbytes: dict = {}
        self._total = 0
        self._managed = 0
        self._shared_total = 0
        self._disk = 0  # bytes of all block files (clean copies included)
        self._lock = threading.RLock()
        self._dir: str | None = None
        self._files = 0
        self._finalizer = None
        self._target_bytes = self._limit_of("target")

    # ------------------------------------------------------------ figures

    def _limit_of(self, name: str) -> int | None:
        fraction = self.thresholds[name]
        if self.memory_limit is None or not fraction:
            return None
        return int(self.memory_limit * fraction)

    def threshold_bytes(self, name: str) -> int | None:
        """``thresholds[name] * memory_limit`` in bytes (None when off or without a limit)."""
        return self._limit_of(name)

    @property
    def total_bytes(self) -> int:
        """Sizes of all values held, in memory or on disk (exact: kept up to date on every write and delete)."""
        return self._total

    @property
    def managed_bytes(self) -> int:
        """Sizes of the values held in memory."""
        return self._managed

    @property
    def spilled_bytes(self) -> int:
        """Sizes of the values held only on disk."""
        return self._total - self._managed - self._shared_total

    @property
    def shared_bytes(self) -> int:
        """Sizes of the values mapped from shared-memory blocks that another process on this host owns."""
        return self._shared_total

    @property
    def spilled_count(self) -> int:
        """Number of values held only on disk."""
        return len(self._nbytes) - len(self._fast) - len(self._shared)

    @property
    def disk_bytes(self) -> int:
        """Bytes of block files on disk (includes clean copies of values read back)."""
        return self._disk

    @property
    def directory(self) -> str | None:
        """The spill directory, or None before the first spill."""
        return self._dir

    def is_spilled(self, key) -> bool:
        """Is ``key``'s value on disk only (reading it maps the block back)?  ``KeyError`` if absent."""
        if key not in self._nbytes:
            raise KeyError(key)
        return key not in self._fast and key not in self._shared

    def nbytes(self, key) -> int:
        """The recorded size of ``key``'s value (``KeyError`` if absent)."""
        return self._nbytes[key]

    # ------------------------------------------------------------ writing

    def set(self, key, value, nbytes: int, shared: bool = False) -> None:
        """Store ``value`` under ``key`` with a size the caller already knows; may spill older values.

        ``shared=True``: the value is mapped from a shared-memory block that
        another process on this host owns and counts; it is held apart
        (`shared_bytes`), never spilled, and frees nothing here when deleted.
        """
        if type(value) is Shared:
            value, shared = value.value, True
        with self._lock:
            if key in self._nbytes:
                self._discard(key)
            self._nbytes[key] = nbytes
            self._total += nbytes
            if shared:
                self._shared[key] = value
                self._shared_total += nbytes
                return
            self._fast[key] = value
            self._managed += nbytes
            self._maybe_evict()

    def __setitem__(self, key, value) -> None:
        self.set(key, value, int(self.sizer(value)))

    def _maybe_evict(self) -> None:
        """After every write: spill LRU values while managed bytes exceed the target."""
        target = self._target_bytes
        if target is not None and self._managed > target:
            self._spill_until(lambda: self._managed <= target)

    def spill_lru(self, nbytes: int) -> int:
        """Spill least recently used values until at least ``nbytes`` left memory; return the bytes freed.

        The worker's memory monitor calls this when the process RSS passes
        ``spill * memory_limit``.  Returns less than asked when memory runs
        out of values or a spill fails (then ``spill_failed`` is True).
        """
        with self._lock:
            start = self._managed
            self._spill_until(lambda: start - self._managed >= nbytes)
            return start - self._managed

    def _spill_until(self, done) -> None:
        if self._blocked:
            return
        while self._fast and not done():
            key = next(iter(self._fast))
            try:
                self._spill(key)
            except SpillError as exc:
                self._fail(exc)
                return
        if self.spill_failed and done():  # made all the room asked for: the episode is over
            self._recovered()

    def _spill(self, key) -> None:
        """Move ``key`` from memory to disk (raises `SpillError`, leaving it in memory)."""
        if key in self._slow:  # a clean copy is on disk already
            pass
        elif self._writer is not None:
            self._write_later(key, self._fast[key])
            self._managed -= self._nbytes[key]
            return
        else:
            self._write(key, self._fast[key])
        del self._fast[key]
        self._managed -= self._nbytes[key]

    def _write(self, key, value) -> None:
        path = self._block_path_for(key)
        try:
            written = blocks.write_block(path, value)
        except OSError as exc:
            raise self._write_error(key, exc) from exc
        self._record_block(key, path, written)

    def _block_path_for(self, key) -> str:
        """A fresh block path for ``key``, after the checks that can fail before writing (raises `SpillError`)."""
        nbytes = self._nbytes[key]
        disk = self._disk + self._pending_disk
        if self.max_spill is not None and disk + nbytes > self.max_spill:
            self._drop_clean_copies()
            disk = self._disk + self._pending_disk
            if disk + nbytes > self.max_spill:
                raise self._error(key, f"max_spill is {format_bytes(self.max_spill)} and "
                                       f"{format_bytes(disk)} are spilled already", nbytes)
        try:
            directory = self._directory()
        except OSError as exc:
            self._blocked = True
            raise self._error(key, f"{type(exc).__name__}: {exc}", nbytes, unknown_room=True) from exc
        free = _free_bytes(directory)
        if free is not None and free < self._pending_disk + nbytes + _BLOCK_SLACK:  # would fail part-way
            raise self._error(key, "No space left on device", nbytes, max(0, free - self._pending_disk))
        self._files += 1
        return os.path.join(directory, f"{self._files}.block")

    def _write_error(self, key, exc: Exception) -> SpillError:
        # A full disk raced with another writer: the free-space check keeps the next tries from writing.
        # Anything else (EACCES, EIO, ...) would fail again after writing: none until space is freed here.
        self._blocked = getattr(exc, "errno", None) not in (errno.ENOSPC, errno.EDQUOT)
        return self._error(key, f"{type(exc).__name__}: {exc}", self._nbytes[key])

    def _record_block(self, key, path: str, written: int) -> None:
        """``key``'s block is on disk: keep it, unless it breaks ``max_spill`` (raises `SpillError`)."""
        if self.max_spill is not None and self._disk + written > self.max_spill:
            _unlink(path)
            raise self._error(key, f"max_spill is {format_bytes(self.max_spill)}; the block was "
                                   f"{format_bytes(written)} with {format_bytes(self._disk)} spilled already", written)
        self._slow[key] = (path, written)
        self._disk += written

    def _write_later(self, key, value) -> None:
        """Hand ``key``'s block to the writer thread; the value leaves ``_fast`` for ``_writing`` (lock held)."""
        path = self._block_path_for(key)
        nbytes = self._nbytes[key]
        del self._fast[key]
        self._writing[key] = value
        self._pending_disk += nbytes

        def job():
            try:
                written, error = blocks.write_block(path, value), None
            except Exception as exc:  # OSError, or a value that cannot be serialized: reported, never lost
                written, error = 0, exc
            self._written(key, value, path, nbytes, written, error)

        self._writer.submit(job)

    def _written(self, key, value, path: str, nbytes: int, written: int, error) -> None:
        """On the writer thread: record the outcome of writing ``key``'s block."""
        with self._lock:
            self._pending_disk -= nbytes
            if self._writing.get(key, _MISSING) is value:  # still leaving memory: it goes now, or comes back
                del self._writing[key]
                try:
                    if error is not None:
                        raise self._write_error(key, error) from error
                    self._record_block(key, path, written)
                except SpillError as exc:
                    _unlink(path)
                    self._fast[key] = value
                    self._fast.move_to_end(key, last=False)  # still the least recently used
                    self._managed += nbytes
                    self._fail(exc)
            elif error is None and self._fast.get(key, _MISSING) is value and key not in self._slow:
                self._slow[key] = (path, written)  # read back meanwhile: the block is its clean copy
                self._disk += written
            else:  # deleted or replaced meanwhile (or the write failed): nobody wants this block
                _unlink(path)

    def flush(self) -> None:
        """Wait until the blocks handed to the writer thread are written (no-op without ``background_writes``)."""
        if self._writer is not None:
            self._writer.flush()

    @property
    def writing_bytes(self) -> int:
        """Sizes of the values whose blocks are being written (still in memory until they are)."""
        return self._pending_disk

    def _drop_clean_copies(self) -> None:
        for key in [k for k in self._slow if k in self._fast]:
            path, size = self._slow.pop(key)
            self._disk -= size
            _unlink(path)

    def spill_room(self) -> int | None:
        """Bytes that could still be spilled: free space where the blocks go, capped by what ``max_spill``
        leaves (None if neither is known, e.g. the directory cannot be made)."""
        with self._lock:
            free = _free_bytes(self._dir or self.local_directory or tempfile.gettempdir())
            if free is not None:
                free = max(0, free - self._pending_disk)  # blocks being written take their room soon
            if self.max_spill is not None:
                left = max(0, self.max_spill - self._disk - self._pending_disk)
                free = left if free is None else min(free, left)
            return free

    def _error(self, key, why: str, needed: int, free: int | None = None, unknown_room: bool = False) -> SpillError:
        where = self._dir or self.local_directory or tempfile.gettempdir()
        if free is None and not unknown_room:
            free = self.spill_room()
        room = "" if free is None else f"; it needs {format_bytes(needed)} and {format_bytes(free)} are free"
        return SpillError(
            f"cannot spill {key!r} ({format_bytes(self._nbytes[key])}) to {where}: {why}{room}. The value stays "
            "in memory; free disk space, release results you no longer need, point --local-directory at a "
            "larger disk, or raise max_spill.", key=key, directory=where, needed=needed, free=free, reason=why)

    def _fail(self, exc: SpillError) -> None:
        if not self.spill_failed and self.log_spill_errors:
            logger.error("SpillError: %s", exc)  # once per episode: the next attempts fail quietly
        self.spill_failed = True
        self.last_spill_error = exc

    def _recovered(self) -> None:
        if self.log_spill_errors:
            logger.info("spilling to %s works again", self._dir)
        self.spill_failed = self._blocked = False

    def reset_spill_failure(self) -> None:
        """End a failure episode (e.g. the worker's memory is back under its target): spill freely again."""
        with self._lock:
            self.spill_failed = self._blocked = False

    def _directory(self) -> str:
        if self._dir is None:
            base = self.local_directory or tempfile.gettempdir()
            os.makedirs(base, exist_ok=True)  # the user's directory, possibly shared: ours goes inside it
            self._dir = make_private_dir(base, f"{SPILL_PREFIX}{os.getpid()}-")
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, True)
        return self._dir

    # ------------------------------------------------------------ reading

    def __getitem__(self, key):
        with self._lock:
            fast = self._fast
            if key in fast:
                fast.move_to_end(key)
                return fast[key]
            if key in self._shared:
                return self._shared[key]
            value = self._writing.pop(key, _MISSING)
            if value is _MISSING:
                path, _ = self._slow[key]
                value = blocks.read_block(path)
            fast[key] = value
            self._managed += self._nbytes[key]
            self._maybe_evict()
            return value

    def frames(self, key):
        """The mapped frames of ``key``'s block (``serialize.loads`` rebuilds the value), or None if not on disk.

        For serving a peer without unpickling: wrap them in
        ``graphflow.comm.serialize.SerializedValue``.  Does not count as a use.
        """
        with self._lock:
            if key not in self._nbytes:
                raise KeyError(key)
            entry = self._slow.get(key)
            return None if entry is None else blocks.block_frames(entry[0])[1]

    def block_path(self, key):
        """The path of ``key``'s block file, or None if it has none.  Does not count as a use."""
        with self._lock:
            entry = self._slow.get(key)
            return None if entry is None else entry[0]

    def __contains__(self, key) -> bool:
        return key in self._nbytes

    def __iter__(self):
        return iter(list(self._nbytes))

    def __len__(self) -> int:
        return len(self._nbytes)

    # ------------------------------------------------------------ deleting

    def __delitem__(self, key) -> None:
        with self._lock:
            if key not in self._nbytes:
                raise KeyError(key)
            self._discard(key)

    def _discard(self, key) -> None:
        nbytes = self._nbytes.pop(key)
        self._total -= nbytes
        if self._fast.pop(key, _MISSING) is not _MISSING:
            self._managed -= nbytes
        elif self._shared.pop(key, _MISSING) is not _MISSING:
            self._shared_total -= nbytes
        else:
            self._writing.pop(key, None)  # its block is thrown away when written
        entry = self._slow.pop(key, None)
        if entry is not None:
            self._disk -= entry[1]
            _unlink(entry[0])
            self._blocked = False  # disk space came free: writing may work again

    def clear(self) -> None:
        """Drop every value and block file."""
        with self._lock:
            for key in list(self._nbytes):
                self._discard(key)

    def close(self) -> None:
        """Drop everything and remove the spill directory.  Values already read stay usable."""
        with self._lock:
            self._writing.clear()  # blocks being written are unlinked when done (their keys are gone)
        self.flush()  # outside the lock: the writer takes it to record each write
        with self._lock:
            self._fast.clear()
            self._slow.clear()
            self._shared.clear()
            self._nbytes.clear()
            self._total = self._managed = self._disk = self._shared_total = 0
            if self._finalizer is not None:
                self._finalizer()
            self._dir = None

    def __repr__(self) -> str:
        limit = "" if self.memory_limit is None else f", memory_limit={self.memory_limit}"
        spilled = f", {self.spilled_count} spilled" if self._slow else ""
        return f"<WorkerStore: {len(self._nbytes)} keys, {self._total} bytes{spilled}{limit}>"

    def validate(self) -> None:
        """Check the byte accounting (for tests and ``WorkerState.validate_state``)."""
        keys = self._nbytes.keys()
        assert self._fast.keys() <= keys and self._slow.keys() <= keys, "a tier holds a key with no size"
        assert keys <= self._fast.keys() | self._slow.keys() | self._shared.keys() | self._writing.keys(), \
            "a key is in no tier"
        assert not self._writing.keys() & (self._fast.keys() | self._slow.keys()), "a key being written is elsewhere"
        assert not self._shared.keys() & (self._fast.keys() | self._slow.keys()), "a shared key is in a tier"
        assert self._shared_total == sum(self._nbytes[k] for k in self._shared), "shared_bytes is off"
        assert self._total == sum(self._nbytes.values()), f"total_bytes {self._total} is not the sum of sizes"
        assert self._managed == sum(self._nbytes[k] for k in self._fast), "managed_bytes is off"
        assert self._disk == sum(size for _, size in self._slow.values()), "disk_bytes is off"
        for path, _ in self._slow.values():
            assert os.path.exists(path), f"block file {path} is missing"


_MISSING = object()


class Shared:
    """A value mapped from another process's shared-memory block: ``store.set(key, Shared(v), n)`` holds it
    as ``shared=True`` (the worker wraps values that arrived by shared memory, so the state machine, which
    stores them, needs no flag)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def clean_stale_spill_dirs(base: str | None = None) -> list:
    """Remove spill directories under ``base`` (default: temp dir) whose process is gone; return them.

    A directory is named after the pid that made it; it is removed only when
    no process with that pid exists (a live process of another user counts as
    alive), so a running worker's spill files are never touched.
    """
    from ..utils.processes import remove_stale_dirs

    def is_stale(rest: str) -> bool:
        match = _DIR_PATTERN.match(SPILL_PREFIX + rest)
        return match is not None and not _pid_alive(int(match.group(1)))

    return remove_stale_dirs(base or tempfile.gettempdir(), SPILL_PREFIX, is_stale)


def _free_bytes(path: str) -> int | None:
    """Bytes an unprivileged write may still use on ``path``'s filesystem (None if it cannot be asked)."""
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):  # missing directory, or no statvfs (Windows)
        return None
    return st.f_bavail * st.f_frsize


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True
