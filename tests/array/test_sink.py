"""graphflow.array.sink: product blocks written into one preallocated result, handed out without a copy."""

import gc

import numpy as np

import graphflow.array as ga
from graphflow.array import sink


def test_each_block_is_handed_out_once_and_the_table_forgets_a_full_buffer():
    views = [sink.block_view("t-once", (4, 2), np.float64, (i, 0), (slice(2 * i, 2 * i + 2), slice(0, 2)), 2)
             for i in range(2)]
    assert views[0].base is views[1].base
    again = sink.block_view("t-once", (4, 2), np.float64, (0, 0), (slice(0, 2), slice(0, 2)), 2)
    assert again is not None and again.base is not views[0].base  # all handed out: a new buffer
    assert sink.block_view("t-once", (4, 2), np.float64, (0, 0), (slice(0, 2), slice(0, 2)), 2) is None


def test_a_buffer_is_claimed_whole_once_and_freed_with_its_blocks():
    view = sink.block_view("t-claim", (3, 3), np.int64, (0, 0), (slice(0, 3), slice(0, 3)), 1)
    buffer = view.base
    assert sink.claim_whole(buffer) and not sink.claim_whole(buffer)
    assert not sink.claim_whole(np.empty((3, 3)))
    del view, buffer
    gc.collect()
    fresh = sink.block_view("t-claim", (3, 3), np.int64, (0, 0), (slice(0, 3), slice(0, 3)), 1)
    assert fresh is not None


def test_a_product_computes_into_one_array_and_two_computes_do_not_share_memory():
    rng = np.random.default_rng(1)
    a, b = rng.random((23, 17)), rng.random((17, 31))
    expr = ga.from_array(a, chunks=(5, 6)) @ ga.from_array(b, chunks=(6, 7))
    first, second = expr.compute(), expr.compute()
    np.testing.assert_allclose(first, a @ b)
    np.testing.assert_allclose(second, a @ b)
    assert first.base is None and first.flags.owndata  # the sink buffer itself, not a view or a copy of views
    assert not np.shares_memory(first, second)
    first[:] = 0
    np.testing.assert_allclose(expr.compute(), a @ b)


def test_a_part_computed_first_does_not_alias_the_whole():
    rng = np.random.default_rng(2)
    a, b = rng.random((12, 8)), rng.random((8, 10))
    expr = ga.from_array(a, chunks=4) @ ga.from_array(b, chunks=4)
    corner = expr[:4, :4].compute()
    whole = expr.compute()
    corner[:] = -1
    np.testing.assert_allclose(whole, a @ b)
    np.testing.assert_allclose(expr.compute(), a @ b)


def test_blocks_that_are_views_of_a_users_array_are_copied():
    x = np.arange(24.0).reshape(4, 6)
    out = ga.from_array(x, chunks=2).compute()
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


def test_q_of_a_qr_is_written_in_place_too():
    x = np.random.default_rng(3).random((40, 3))
    q, r = ga.linalg.qr(ga.from_array(x, chunks=(9, 3)))
    qv = q.compute()
    assert qv.flags.owndata
    np.testing.assert_allclose(qv @ r.compute(), x)
