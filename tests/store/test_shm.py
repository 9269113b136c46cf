"""Shared-memory blocks between real processes on this host."""

import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from graphflow.errors import UnsafePathError
from graphflow.store import shm

pytestmark = pytest.mark.skipif(not shm.available(), reason="no writable /dev/shm")

READER = """
import pickle, sys
from graphflow.errors import UnsafePathError
from graphflow.store import shm
ref = pickle.loads(bytes.fromhex(sys.argv[1]))
value = shm.open_ref(ref, release=sys.argv[2] == "release")
print(int(value.sum()) if hasattr(value, "sum") else value.num_rows)
"""


def read_in_child(ref, release=False) -> str:
    out = subprocess.run([sys.executable, "-c", READER, pickle.dumps(ref).hex(), "release" if release else "keep"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_another_process_maps_the_value():
    x = np.arange(1_000_000, dtype="int64")
    ref = shm.put(x)
    assert ref.kind == "numpy" and ref.owner == os.getpid() and ref.nbytes > x.nbytes
    assert os.path.dirname(ref.path) == shm.owner_directory()
    assert f"{shm.SHM_PREFIX}{os.getpid()}-" in ref.path
    assert read_in_child(ref) == str(int(x.sum()))
    assert os.path.exists(ref.path)  # kept: the reader did not release it
    y = shm.open_ref(ref)
    assert y.tobytes() == x.tobytes()
    shm.release(ref)
    assert not os.path.exists(ref.path)
    assert int(y.sum()) == int(x.sum())  # pages live on while mapped
    with pytest.raises(FileNotFoundError):
        shm.open_ref(ref)


def test_reader_releases_right_after_mapping():
    t = pa.table({"x": np.arange(1000)})
    ref = shm.put(t)
    assert ref.kind == "arrow" and pickle.loads(pickle.dumps(ref)).path == ref.path
    assert read_in_child(ref, release=True) == "1000"
    assert not os.path.exists(ref.path)


def test_frames_of_a_block_deserialize():
    from graphflow.comm.serialize import loads

    ref = shm.put({"a": np.ones(5000), "b": "text"})
    assert ref.kind == "pickle"
    value = loads(shm.frames(ref))
    assert value["b"] == "text" and value["a"].sum() == 5000
    shm.release(ref)


def test_a_block_can_belong_to_another_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ref = shm.put(np.zeros(10), owner=child.pid)
        assert ref.owner == child.pid and os.path.dirname(ref.path) == shm.owner_directory(child.pid)
        shm.clean_stale()
        assert os.path.exists(ref.path)  # a live owner's blocks stay
    finally:
        child.kill()
        child.wait()
    assert os.path.dirname(ref.path) in shm.clean_stale()
    assert not os.path.exists(ref.path)
    with pytest.raises(ProcessLookupError):
        shm.put(np.zeros(1), owner=child.pid)


OWNER = """
import os, sys
import numpy as np
from graphflow.errors import UnsafePathError
from graphflow.store import shm
ref = shm.put(np.ones(100_000))
print(ref.path, flush=True)
os.kill(os.getpid(), 9)
"""


def test_blocks_of_a_killed_owner_are_cleaned():
    proc = subprocess.run([sys.executable, "-c", OWNER], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    path = proc.stdout.strip()
    assert os.path.exists(path)  # kill -9 left it behind
    mine = shm.put(np.zeros(3))
    removed = shm.clean_stale()
    assert os.path.dirname(path) in removed and not os.path.exists(path)
    assert os.path.exists(mine.path)
    shm.release(mine)


def test_a_clean_exit_removes_the_owner_directory():
    code = "from graphflow.store import shm; import numpy as np; r = shm.put(np.ones(10)); print(r.path)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    path = out.stdout.strip()
    assert path and not os.path.exists(os.path.dirname(path))


# ------------------------------------------------------------ folders made in advance

NOBODY = 65534

SQUATTED = """
import sys
import numpy as np
from graphflow.errors import UnsafePathError
from graphflow.store import shm
sys.stdin.readline()  # the test squats this process's names first
ref = shm.put(np.arange(10))
print(ref.path, flush=True)
sys.stdin.readline()
"""


def _squat(path, owner):
    """A folder anyone may write, as an attacker would leave it."""
    os.mkdir(path)
    os.chmod(path, 0o777)
    if owner is not None:
        os.chown(path, owner, owner)


def test_folders_made_in_advance_for_a_worker_are_not_used(tmp_path):
    """Another user made the folder the block would have gone to before this hardening
    (``graphflow-shm-<pid>-<start time>``, 0777), and a symlink under the prefix to a folder of theirs.
    The process still puts its block: in a fresh folder with a random name, mode 0700, the block 0600,
    and nothing lands in either of the attacker's."""
    owner = NOBODY if os.geteuid() == 0 else None
    child = subprocess.Popen([sys.executable, "-c", SQUATTED], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    start = shm._start_time(child.pid)
    squatted = os.path.join(shm.SHM_DIR, f"graphflow-shm-{child.pid}-{start}")  # the name before this hardening
    linked = os.path.join(shm.SHM_DIR, f"{shm.SHM_PREFIX}{child.pid}-{start}-0000000000000000")
    elsewhere = tmp_path / "theirs"
    try:
        _squat(squatted, owner)
        _squat(elsewhere, owner)
        os.symlink(elsewhere, linked)
        child.stdin.write("go\n")
        child.stdin.flush()
        path = child.stdout.readline().strip()
        directory = os.path.dirname(path)
        assert path and directory not in (squatted, linked)
        assert os.path.basename(directory).startswith(f"{shm.SHM_PREFIX}{child.pid}-")
        st = os.lstat(directory)
        assert st.st_uid == os.geteuid() and (st.st_mode & 0o777) == 0o700
        assert (os.lstat(path).st_mode & 0o777) == 0o600
        assert os.listdir(squatted) == [] and os.listdir(elsewhere) == []
        child.stdin.write("exit\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0
        assert not os.path.exists(directory)  # its own folder went with it
        if owner is not None:  # another user's folders are never swept, even under a stale-looking name
            assert squatted not in shm.clean_stale("graphflow-shm-") and os.path.isdir(squatted)
        assert os.path.islink(linked) and os.path.isdir(elsewhere)  # a link is not followed by the sweep
    finally:
        child.kill()
        child.wait()
        for p in (linked,):
            if os.path.islink(p):
                os.unlink(p)
        if os.path.isdir(squatted):
            os.rmdir(squatted)


def test_a_reader_refuses_a_ref_to_a_symlink_or_to_another_users_file(tmp_path):
    ref = shm.put(np.arange(3))
    try:
        link = str(tmp_path / "link.block")
        os.symlink(ref.path, link)
        with pytest.raises(UnsafePathError, match="symbolic link"):
            shm.open_ref(shm.ShmRef(link, ref.nbytes, ref.kind, ref.owner))
        if os.geteuid() == 0:
            planted = str(tmp_path / "planted.block")
            with open(ref.path, "rb") as src, open(planted, "wb") as dst:
                dst.write(src.read())
            os.chown(planted, NOBODY, NOBODY)
            with pytest.raises(UnsafePathError, match=f"owned by uid {NOBODY}"):
                shm.open_ref(shm.ShmRef(planted, ref.nbytes, ref.kind, ref.owner))
        assert shm.open_ref(ref).tolist() == [0, 1, 2]
    finally:
        shm.release(ref)
