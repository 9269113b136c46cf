"""Large values between processes on one host: copied straight out of the holder's memory.

A 400 MB array sent over zmq on loopback moves at 1.2-1.7 GB/s: it is copied
into the kernel, out again and through zmq's I/O thread, into freshly faulted
pages.  Between two processes of one user on one host, Linux can copy from
one address space to the other in a single pass (``process_vm_readv``) into
private memory with transparent huge pages (`graphflow.comm.recvbuffers`), so
the whole transfer costs about one memcpy.

    holder                                      reader
    frames = dumps(value)                       (asks with its host id)
    pin the frames under a lease        ->      Lent(pickle, [(pid, address, size)], lease)
                                                np.empty(size) <- process_vm_readv(pid, ...)
    drop the pin                        <-      ReturnLease(lease)

The holder keeps the frames alive while lent, so the memory read is the
value's own; a lease not returned within ``LEASE_TTL`` is dropped, and a
reader checks the lease's age (``CLOCK_MONOTONIC`` is shared by every process
of a host) before reading, so it never reads memory that might have been
freed.  Anything that fails (another host, no permission to read the peer,
an old lease) raises `VMCopyUnavailable`, and the caller asks again over the
socket.

What it costs (400 MB, 2 cores): ~43 ms of CPU however many threads share it
(an in-process memcpy of the same bytes: ~27 ms; the kernel pins and copies
4 KiB at a time), so ~22 ms on two idle cores.  That is most of what a
transfer has over making and using the array in one process; the messages
around it (report, dispatch, fetch) are ~3 ms.  Sharing the copy in small
chunks instead of halves, a third thread, or one thread did not beat two
halves on a busy host (`copied` tells the copy's share, as ``dist-transfer``
reports it).  The kernel copies with ``rep movsb``, ~1.7x the CPU of glibc's
memcpy for the same bytes here (AMD EPYC: 55-60 ms against 34 ms for 400 MB
into touched pages, load ~15), and no user-space copy can read a private page
of another process.

Only a transfer without a copy goes lower: the producer's array allocated in
shared memory (a memfd) that the reader maps.  Not done, measured first: on a
kernel whose ``shmem_enabled`` is ``never`` a memfd's pages are 4 KiB shmem
pages, and making 400 MB there costs ~0.62 s of CPU against ~0.10 s for
numpy's ``arange`` into private huge pages (0.25 s of it just allocating the
pages; load ~20, 2 cores), while mapping and touching one element per page of
it costs the reader ~35 ms, as much as the copy.  The producer would pay
several copies to save one; with shmem huge pages (``advise`` or
``within_size``) the sum may turn.  What costs more than the copy today is
the producer's fresh memory: in a profile of ``dist-transfer`` (both
workers, load ~15) the kernel zeroing the pages of each new 400 MB result
took 37% of the CPU samples, the copy 6.7%.  glibc cannot keep a block that
big for reuse (its mmap threshold stops at 32 MiB), so that takes a numpy
allocation handler keeping freed large blocks mapped, as
`graphflow.comm.recvbuffers` does for the reader.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import os
import socket
import sys
import threading
import time

from .serialize import dumps, loads

__all__ = ["MIN_BYTES", "Lent", "VMCopyUnavailable", "host_id", "namespaces", "lend", "borrow", "borrow_all",
           "return_lease", "available", "copied"]

logger = logging.getLogger("graphflow.comm")

MIN_BYTES = 8 * 2**20  # below this the socket is about as fast
LEASE_TTL = 300.0
_SAFETY = 30.0  # a reader refuses leases this close to expiry

_host_id: str | None = None


# The namespaces that decide whether a same-host shortcut is sound between two processes of one kernel:
# mnt (the same /dev/shm and the same files at a spilled block's path), pid (a Lent's pid names the holder),
# user (the uid means the same) and net (a process in its own network namespace stands for another machine:
# containers and `ip netns` hosts talk over the network, which is also how the multi-host tests reach it).
_NAMESPACES = ("mnt", "pid", "user", "net")


def host_id() -> str:
    """Processes with the same id may share memory: same kernel boot, hostname, uid and namespaces.

    Two processes with equal ids read each other's memory (`borrow`) and map each other's shared-memory
    and spilled blocks by path (`graphflow.store.shm`); any other pair goes through the socket.
    ``boot_id`` alone is shared by every container on a kernel, which may not share ``/dev/shm``, files
    or pids, so the namespace inodes (``/proc/self/ns/*``, unique per boot) are part of the id.
    """
    global _host_id
    if _host_id is None:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                boot = f.read().strip()
        except OSError:
            boot = "no-boot-id"
        uid = os.getuid() if hasattr(os, "getuid") else ""
        _host_id = f"{boot}/{socket.gethostname()}/{uid}/{namespaces()}"
    return _host_id


def namespaces() -> str:
    """``mnt:I,pid:J,user:K,net:L``, the inodes of this process's namespaces ('' where there is no /proc)."""
    parts = []
    for name in _NAMESPACES:
        try:
            parts.append(f"{name}:{os.stat(f'/proc/self/ns/{name}').st_ino}")
        except OSError:
            parts.append(f"{name}:")
    return ",".join(parts)


class _IOVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


_readv = None


def available() -> bool:
    """Is ``process_vm_readv`` there to call (Linux with a glibc that has it)?"""
    global _readv
    if _readv is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.process_vm_readv
            fn.restype = ctypes.c_ssize_t
            fn.argtypes = [ctypes.c_int, ctypes.POINTER(_IOVec), ctypes.c_ulong, ctypes.POINTER(_IOVec),
                           ctypes.c_ulong, ctypes.c_ulong]
            _readv = fn
        except (OSError, AttributeError):
            _readv = False
    return bool(_readv) and sys.platform.startswith("linux")


class VMCopyUnavailable(OSError):
    """The value cannot be copied from the peer's memory; fetch it over the socket instead."""


class Lent:
    """A serialized value whose large frames stay in the holder's memory.

    ``frames[i]`` is None where ``regions[i]`` is ``(address, size)`` in process ``pid``.
    """

    __slots__ = ("pid", "lease", "lent_at", "frames", "regions")

    def __init__(self, pid, lease, lent_at, frames, regions):
        self.pid = pid
        self.lease = lease
        self.lent_at = lent_at
        self.frames = frames
        self.regions = regions

    def __reduce__(self):
        return (Lent, (self.pid, self.lease, self.lent_at, self.frames, self.regions))


_leases: dict = {}  # lease id -> (time lent, frames kept alive)
_lock = threading.Lock()
_ids = itertools.count(1)
_copied = [0, 0, 0.0]  # copies, bytes, seconds spent in them: what `copied` reports


def copied() -> dict:
    """What this process has copied out of others' memory so far: ``{"copies", "bytes", "seconds"}``.

    Benchmarks read it from a worker before and after a transfer (``client.run``) to tell the copy's
    share of a fetch from the messages around it.
    """
    with _lock:
        copies, nbytes, seconds = _copied
    return {"copies": copies, "bytes": nbytes, "seconds": seconds}


def _address(frame) -> int:
    import numpy as np

    return np.frombuffer(frame, dtype=np.uint8).ctypes.data


def lend(value, min_bytes: int = MIN_BYTES) -> Lent | None:
    """``value`` with its large frames pinned here for a reader to copy, or None if none is large."""
    if not available():
        return None
    frames = dumps(value)
    sizes = [memoryview(f).nbytes for f in frames]
    if not any(n >= min_bytes for n in sizes[1:]):
        return None
    now = time.monotonic()
    out, regions = [], []
    for i, frame in enumerate(frames):
        if i > 0 and sizes[i] >= min_bytes:
            out.append(None)
            regions.append((_address(frame), sizes[i]))
        else:
            out.append(frame)
            regions.append(None)
    lease = next(_ids)
    with _lock:
        _leases[lease] = (now, frames)
        expired = [k for k, (t, _) in _leases.items() if now - t > LEASE_TTL]
        for k in expired:
            del _leases[k]
    return Lent(os.getpid(), lease, now, out, regions)


def return_lease(lease: int) -> None:
    """The reader is done: stop pinning the frames of ``lease``."""
    with _lock:
        _leases.pop(lease, None)


def borrow(lent: Lent):
    """Copy the lent frames out of the holder's memory and rebuild the value (a writeable copy)."""
    from .recvbuffers import take

    if not available():
        raise VMCopyUnavailable("process_vm_readv is not available here")
    if time.monotonic() - lent.lent_at > LEASE_TTL - _SAFETY:
        raise VMCopyUnavailable(f"lease {lent.lease} is too old to read safely")
    frames = []
    for frame, region in zip(lent.frames, lent.regions):
        if region is None:
            frames.append(frame)
            continue
        address, size = region
        started = time.perf_counter()
        dest = take(size)  # pages a value received earlier left faulted in, when there are
        _read(lent.pid, address, dest)
        frames.append(dest)
        elapsed = time.perf_counter() - started
        with _lock:
            _copied[0] += 1
            _copied[1] += size
            _copied[2] += elapsed
    return loads(frames)


def borrow_all(lent: dict, into: dict, give_back) -> list:
    """Copy each lent value (key -> `Lent`) into ``into``; returns the keys that failed.

    Every lease is handed to ``give_back(lease)`` once read, or once it failed,
    so the holder stops pinning it either way; failed keys are fetched over the
    socket instead.
    """
    failed = []
    for key, item in lent.items():
        try:
            into[key] = borrow(item)
        except VMCopyUnavailable as exc:
            logger.warning("copying %r from process %d failed (%s); fetching over the socket", key, item.pid, exc)
            failed.append(key)
        finally:
            give_back(item.lease)
    return failed


PARALLEL_BYTES = 64 * 2**20  # copies this big are split between two threads
_SPLIT_ALIGN = 2 * 2**20  # huge-page boundaries: each thread faults in whole pages of its own


def _read(pid: int, address: int, dest) -> None:
    """Copy ``dest.nbytes`` bytes at ``address`` in process ``pid`` into ``dest``.

    A large copy is split in two halves read by two threads at once: one
    thread spends much of a 400 MB copy faulting in the destination's fresh
    pages, and two do it in 0.035 s instead of 0.06 s (measured here, 2 cores).
    """
    size = dest.nbytes
    half = (size // 2) // _SPLIT_ALIGN * _SPLIT_ALIGN
    if size < PARALLEL_BYTES or half == 0 or (os.cpu_count() or 1) < 2:
        return _read_range(pid, address, dest)
    errors = []

    def second():
        try:
            _read_range(pid, address + half, dest[half:])
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    helper = threading.Thread(target=second, name="graphflow-vmcopy", daemon=True)
    helper.start()
    try:
        _read_range(pid, address, dest[:half])
    finally:
        helper.join()
    if errors:
        raise errors[0]


def _read_range(pid: int, address: int, dest) -> None:
    done, size, base = 0, dest.nbytes, dest.ctypes.data
    while done < size:
        local = _IOVec(base + done, size - done)
        remote = _IOVec(address + done, size - done)
        got = _readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if got <= 0:
            err = ctypes.get_errno()
            raise VMCopyUnavailable(f"cannot read process {pid}'s memory: {os.strerror(err) if err else 'no data'}")
        done += got
