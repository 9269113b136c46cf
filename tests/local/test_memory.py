"""Local executors with ``memory_limit=``: results spill to disk and the answer stays right."""

import glob
import os

import numpy as np
import pytest

import graphflow as gf


CHUNK = 2 * 2**20  # 16 MiB of float64
N = 12  # 12 chunks = 192 MiB: three times the 64 MiB limit


@gf.delayed(pure=True)
def make(i):
    return np.full(CHUNK, float(i))


@gf.delayed(pure=True)
def spilled_then_sum(directory, *chunks):
    """Runs once every chunk exists: count the blocks on disk, then add everything up."""
    files = glob.glob(os.path.join(directory, "graphflow-spill-*", "*.block"))
    return len(files), float(sum(c.sum() for c in chunks))


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_working_set_three_times_the_limit(tmp_path, scheduler):
    chunks = [make(i) for i in range(N)]
    result = spilled_then_sum(str(tmp_path), *chunks)
    (nfiles, total), = gf.compute(result, scheduler=scheduler, memory_limit="64MiB",
                                  local_directory=str(tmp_path))
    assert total == float(CHUNK * sum(range(N)))
    assert nfiles >= N // 2  # most chunks had to go to disk
    assert os.listdir(tmp_path) == []  # the run's spill directory is gone


def test_tree_sum_with_spilling(tmp_path):
    @gf.delayed(pure=True)
    def add(a, b):
        return a + b

    level = [make(i) for i in range(8)]
    while len(level) > 1:
        level = [add(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    (out,) = gf.compute(level[0], scheduler="threads", num_workers=2, memory_limit=40 * 2**20,
                        local_directory=str(tmp_path))
    assert out.shape == (CHUNK,) and out[0] == sum(range(8)) and out[-1] == sum(range(8))
