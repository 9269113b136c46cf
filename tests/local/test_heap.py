"""graphflow.local.heap: glibc is set to reuse freed blocks during a threaded run, and the run gives the freed
memory back when it ends.  Each case runs in a fresh interpreter: glibc's settings are per process.

(That the reuse saves page faults is measured, not asserted: Dask's (x + x.T).mean(0) through gf.dask_get,
20000^2 in 2000^2 blocks, 30-50 thousand faults and 0.3-1.0 s of system time a run before, ~3.5 thousand
and 0.05 s after.)"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator: Linux only")


def _run(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


_BLOCKS = """
    import json, resource
    import numpy as np
    from graphflow.local import get_threads
    from graphflow.spec import Ref, Task, TaskGraph

    def block(i):
        return np.full(4_000_000, float(i))  # 32 MB: a 2000 x 2000 float64 block

    def total(*xs):
        return float(sum(np.sum(x) for x in xs))

    def graph():
        tasks = [Task(("b", i), block, i) for i in range(24)]
        sums = [Task(("s", j), total, *[Ref(("b", i)) for i in range(j, 24, 6)]) for j in range(6)]
        return TaskGraph(tasks + sums + [Task("t", total, *[Ref(("s", j)) for j in range(6)])])

    def status(field):
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith(field)).split()[1]) * 1024
"""


def test_a_threaded_run_of_big_blocks_gives_the_freed_memory_back():
    """24 blocks of 32 MB, read in groups of 4, twice.  glibc is told to keep freed blocks for reuse during a
    run (the first run configures it), and each run ends by giving them back: RSS is near what it was before
    the run, not the run's peak (glibc's defaults kept ~190 MB here after the second run)."""
    got = _run(_BLOCKS + """
    from graphflow.local import heap
    before = status("VmRSS")
    assert get_threads(graph(), ["t"], num_workers=2) == [float(sum(range(24))) * 4_000_000]
    after_first = status("VmRSS")
    get_threads(graph(), ["t"], num_workers=2)
    print(json.dumps({"set": heap.reuse_freed_blocks(), "before": before, "after": after_first,
                      "after2": status("VmRSS"), "peak": status("VmHWM")}))
    """)
    assert got["set"] is True
    assert got["peak"] - got["before"] > 96 * 2 ** 20, got  # the run did hold several blocks at once
    assert got["after"] - got["before"] < 48 * 2 ** 20, got
    assert got["after2"] - got["before"] < 48 * 2 ** 20, got


def test_a_worker_process_keeps_its_own_memory_policy():
    """In a worker process (graphflow.deploy.worker_process imported) a threaded run leaves malloc alone."""
    got = _run("""
    import json
    import graphflow.deploy.worker_process
    from graphflow.local import heap
    print(json.dumps({"set": heap.reuse_freed_blocks(), "trimmed": heap.return_freed_blocks()}))
    """)
    assert got == {"set": False, "trimmed": False}
