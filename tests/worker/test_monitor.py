"""MemoryPolicy: what a worker does for each memory sample; and the memory flags shared by every launcher."""

import argparse

import pytest

import graphflow as gf
from graphflow.worker.monitor import MemoryPolicy
from graphflow.worker.options import add_memory_options, memory_argv, worker_memory_kwargs

MB = 1_000_000


def policy(**kw):
    return MemoryPolicy(1000 * MB, **{"target": 0.6, "spill": 0.7, "pause": 0.8, "terminate": 0.95, **kw})


def test_below_every_threshold_nothing_happens():
    d = policy().decide(rss=500 * MB, managed=400 * MB, spill_failed=False)
    assert (d.spill_bytes, d.paused, d.over_target, d.terminate) == (0, False, False, False)


def test_past_spill_it_spills_back_to_the_target_but_never_more_than_it_manages():
    d = policy().decide(rss=750 * MB, managed=650 * MB, spill_failed=False)
    assert d.spill_bytes == 150 * MB and not d.paused
    d = policy().decide(rss=750 * MB, managed=100 * MB, spill_failed=False)  # mostly unmanaged memory
    assert d.spill_bytes == 100 * MB


def test_pause_and_terminate():
    assert policy().decide(rss=850 * MB, managed=0, spill_failed=False).paused
    d = policy().decide(rss=960 * MB, managed=0, spill_failed=False)
    assert d.terminate and d.paused
    # a failed spill: short of room instead of paused (pausing would wait for a spill that cannot happen)
    short = policy().decide(rss=850 * MB, managed=700 * MB, spill_failed=True)  # spilling cannot help: no pause
    assert short.short_of_room and not short.paused and not short.terminate
    assert not policy().decide(rss=850 * MB, managed=700 * MB, spill_failed=False).short_of_room


def test_short_of_room_lets_in_what_stays_under_the_pause_threshold():
    p = policy()
    assert p.fits_without_spilling(rss=700 * MB, incoming=100 * MB)
    assert not p.fits_without_spilling(rss=700 * MB, incoming=100 * MB + 1)
    assert policy(pause=False).fits_without_spilling(rss=900 * MB, incoming=50 * MB)  # then terminate bounds it
    assert not policy(pause=False).fits_without_spilling(rss=900 * MB, incoming=51 * MB)
    assert MemoryPolicy(None).fits_without_spilling(rss=10**12, incoming=10**12)
    # small results may add half the way from pause (800) to terminate (950) in one episode
    assert p.small_results_budget() == 75 * MB and policy(pause=False).small_results_budget() == 50 * MB
    assert MemoryPolicy(None).small_results_budget() == 0


def test_over_target_after_what_can_be_spilled():
    assert policy().decide(rss=650 * MB, managed=640 * MB, spill_failed=False).over_target
    assert not policy().decide(rss=750 * MB, managed=700 * MB, spill_failed=False).over_target  # spills 150


def test_thresholds_can_be_turned_off_and_default_to_config():
    d = policy(pause=False, terminate=False).decide(rss=2000 * MB, managed=0, spill_failed=False)
    assert not d.paused and not d.terminate
    with gf.config.set({"worker.memory.pause": 0.5}):
        assert MemoryPolicy(1000).pause == 0.5
    no_limit = MemoryPolicy(None)
    assert no_limit.decide(rss=10**12, managed=10**12, spill_failed=True).spill_bytes == 0
    with pytest.raises(ValueError, match="pause=1.5"):
        MemoryPolicy(1000, pause=1.5)


def test_flags_round_trip_to_a_child_process_argv():
    parser = argparse.ArgumentParser()
    add_memory_options(parser)
    args = parser.parse_args(["--local-directory", "/scratch", "--max-spill", "2GiB", "--memory-pause", "off",
                              "--memory-target", "0.5"])
    kwargs = worker_memory_kwargs(args)
    assert kwargs == {"local_directory": "/scratch", "max_spill": 2 * 1024 ** 3,
                      "memory": {"target": 0.5, "pause": False}}
    again = worker_memory_kwargs(parser.parse_args(memory_argv(kwargs)))
    assert again == kwargs
    with pytest.raises(ValueError, match="unknown worker memory threshold 'spil'"):
        memory_argv({"memory": {"spil": 0.5}})
    with pytest.raises(SystemExit):
        parser.parse_args(["--memory-spill", "1.5"])


def _faults_allocating(nbytes, times):
    """Minor page faults of this thread while making and dropping ``times`` arrays of ``nbytes`` (written)."""
    import resource

    import numpy as np

    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(times):
        np.ones(nbytes // 8)
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


def test_worker_with_a_memory_limit_reuses_freed_arrays_instead_of_faulting_fresh_pages():
    """A worker process with a memory limit fixes glibc's thresholds (return_freed_memory_promptly): at 1 MiB
    every 8 MiB array was a fresh mapping faulted in again (10k faults for these 20; TPC-H on a cluster spent
    a third of its worker CPU zeroing pages); now a freed array's memory serves the next one."""
    pages = 8 * 2**20 // 4096
    with gf.Client(n_workers=1, threads_per_worker=1, memory_limit="2GiB", dashboard_address=None) as client:
        client.submit(_faults_allocating, 8 * 2**20, 2, pure=False).result()  # the heap grows once
        faults = client.submit(_faults_allocating, 8 * 2**20, 20, pure=False).result()
    assert faults < pages, f"{faults} page faults for 20 arrays of {pages} pages"


def test_malloc_threshold_is_a_64th_of_the_limit_between_1_and_32_mib():
    from graphflow.worker.monitor import malloc_threshold

    assert malloc_threshold(128 * 2**20) == 2 * 2**20  # small workers see a spilled 10 MiB array leave RSS
    assert malloc_threshold(4 * 2**30) == 32 * 2**20  # glibc's own ceiling
    assert malloc_threshold(16 * 2**20) == 2**20
