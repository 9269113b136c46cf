"""graphflow.local.blas: BLAS runs one thread per product only while two products run at once."""

import threading

import numpy as np
import pytest

import graphflow.array as ga
from graphflow.local import blas


def test_blas_threads_drop_to_one_while_two_products_run_and_come_back():
    ctl = blas.controls()
    if ctl is None:
        pytest.skip("numpy's BLAS is not OpenBLAS here: nothing to control")
    get, _ = ctl
    before = get()
    seen, both_in = [], threading.Barrier(2)

    def product():
        with blas.shared_cores():
            both_in.wait()
            seen.append(get())
            both_in.wait()

    threads = [threading.Thread(target=product) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [1, 1]
    assert get() == before
    with blas.shared_cores():  # alone: BLAS keeps its own threads
        assert get() == before


def test_threaded_matmul_is_right_and_leaves_blas_as_it_was():
    ctl = blas.controls()
    before = ctl[0]() if ctl else None
    a = np.random.default_rng(0).random((300, 200))
    x = ga.from_array(a, chunks=50)
    np.testing.assert_allclose((x @ x.T).compute(scheduler="threads"), a @ a.T)
    if ctl:
        assert ctl[0]() == before


def test_blas_gets_one_thread_on_a_multi_threaded_executor_and_all_of_them_alone():
    ctl = blas.controls()
    if ctl is None:
        pytest.skip("numpy's BLAS is not OpenBLAS here: nothing to control")
    get, _ = ctl
    before = get()

    def seen(_):
        with blas.shared_cores():
            return np.array([get()])

    x = ga.ones(2, chunks=1)
    assert list(x.map_blocks(seen).compute(scheduler="threads", num_workers=2)) == [1, 1]
    assert list(x.map_blocks(seen).compute(scheduler="sync")) == [before, before]
    assert get() == before
