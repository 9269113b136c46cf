"""Shared-memory blocks between real processes on this host."""

import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from graphflow.store import shm

pytestmark = pytest.mark.skipif(not shm.available(), reason="no writable /dev/shm")

READER = """
import pickle, sys
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
