"""What the multi-host tests run on their workers: importable there (``tests`` is on every host's path)."""

import time

import numpy as np

import graphflow as gf

MiB = 2 ** 20


def make_chunk(i, nbytes):
    """An array of ``nbytes`` bytes, every element ``i``."""
    return np.full(nbytes // 8, float(i))


def chunk_sum(x):
    return float(x.sum())


def slow_sum(x, seconds):
    time.sleep(seconds)  # the work: long enough for a worker to be killed while it runs
    return float(x.sum())


def add(*xs):
    return sum(xs)


def expected_sum(i, nbytes) -> float:
    return float(i) * (nbytes // 8)


@gf.actor
class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n


def use_counter(handle, k):
    """Called in a task on another worker: the call goes from that worker to the actor's, over the network."""
    return handle.add(k).result(timeout=30)
