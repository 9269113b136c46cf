"""Copying large values straight out of another process's memory (process_vm_readv)."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from graphflow.comm import vmcopy
from graphflow.comm.vmcopy import VMCopyUnavailable, borrow, lend, return_lease

pytestmark = pytest.mark.skipif(not vmcopy.available(), reason="process_vm_readv is Linux-only")

HOLDER = """
import sys, pickle, time
import numpy as np
from graphflow.comm.vmcopy import lend
value = {"a": np.arange(3_000_000, dtype="float64"), "small": [1, 2, 3]}
lent = lend(value, min_bytes=1 << 20)
sys.stdout.buffer.write(pickle.dumps(lent, protocol=5))
sys.stdout.flush()
time.sleep(30)
"""


def test_small_values_are_not_lent():
    assert lend({"x": np.zeros(10)}) is None


def test_a_value_is_copied_from_another_process():
    import pickle

    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE)
    try:
        header = proc.stdout.read1(1 << 20)
        lent = pickle.loads(header)
        assert lent.pid == proc.pid and any(r is not None for r in lent.regions)
        value = borrow(lent)
        np.testing.assert_array_equal(value["a"], np.arange(3_000_000, dtype="float64"))
        assert value["small"] == [1, 2, 3]
        value["a"][0] = -1  # a private, writeable copy
    finally:
        proc.kill()
        proc.wait()


def test_reading_a_gone_process_is_refused_not_garbage():
    lent = lend(np.ones(2_000_000), min_bytes=1 << 20)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    lent.pid = proc.pid  # a process that no longer exists
    with pytest.raises(VMCopyUnavailable):
        borrow(lent)
    return_lease(lent.lease)


def test_an_old_lease_is_refused():
    lent = lend(np.ones(2_000_000), min_bytes=1 << 20)
    lent.lent_at = time.monotonic() - vmcopy.LEASE_TTL
    with pytest.raises(VMCopyUnavailable, match="too old"):
        borrow(lent)
    return_lease(lent.lease)
    assert lent.lease not in vmcopy._leases


def test_lease_pins_the_frames_until_returned():
    lent = lend(np.ones(2_000_000), min_bytes=1 << 20)
    assert lent.lease in vmcopy._leases
    assert borrow(lent).sum() == 2_000_000  # reading our own process works too
    return_lease(lent.lease)
    assert lent.lease not in vmcopy._leases
    assert os.getpid() == lent.pid


def test_host_id_names_this_processs_namespaces():
    """Same boot and uid are not enough: the mount, pid, user and network namespaces are part of the id
    (tests/multihost runs processes in other network namespaces and checks their ids differ)."""
    ids = vmcopy.host_id()
    for name in ("mnt", "pid", "user", "net"):
        assert f"{name}:{os.stat(f'/proc/self/ns/{name}').st_ino}" in ids
    child = subprocess.run([sys.executable, "-c", "from graphflow.comm.vmcopy import host_id; print(host_id())"],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert child.stdout.strip() == ids  # another process in the same namespaces: the same host


def test_copies_are_counted():
    """`copied` adds up the copies this process made: one per large frame, its bytes and a positive time."""
    import pickle

    before = vmcopy.copied()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE)
    try:
        borrow(pickle.loads(proc.stdout.read1(1 << 20)))
    finally:
        proc.kill()
        proc.wait()
    after = vmcopy.copied()
    assert after["copies"] - before["copies"] == 1
    assert after["bytes"] - before["bytes"] == 3_000_000 * 8
    assert after["seconds"] > before["seconds"]


ODD_HOLDER = """
import sys, pickle, time
import numpy as np
from graphflow.comm.vmcopy import lend
value = np.random.default_rng(7).standard_normal(3_000_017)  # no multiple of the split's 2 MiB alignment
sys.stdout.buffer.write(pickle.dumps(lend(value, min_bytes=1 << 20), protocol=5))
sys.stdout.flush()
time.sleep(30)
"""


@pytest.mark.parametrize("parallel_bytes", [1 << 20, 1 << 40], ids=["split-in-two-threads", "one-thread"])
def test_a_large_frame_arrives_intact_whether_its_copy_is_split_or_not(monkeypatch, parallel_bytes):
    """Both halves of a split copy, and the seam between them, hold the holder's values; so does one read."""
    import pickle

    monkeypatch.setattr(vmcopy, "PARALLEL_BYTES", parallel_bytes)
    proc = subprocess.Popen([sys.executable, "-c", ODD_HOLDER], stdout=subprocess.PIPE)
    try:
        value = borrow(pickle.loads(proc.stdout.read1(1 << 20)))
    finally:
        proc.kill()
        proc.wait()
    np.testing.assert_array_equal(value, np.random.default_rng(7).standard_normal(3_000_017))
