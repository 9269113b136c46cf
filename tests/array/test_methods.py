"""Array's methods and accessors of issue 20 part 4, and the ways in and out (store, npy stacks,
zarr, Delayed, data frames), against numpy on the same data over several chunkings."""

import numpy as np
import pandas as pd
import pytest

import graphflow as gf
import graphflow.array as ga
from graphflow.errors import MissingExtraError

RNG = np.random.default_rng(4)
X = RNG.standard_normal((7, 9))
CHUNKS = [(7, 9), (3, 4), (2, 5), (1, 9)]


def same(got, want):
    got = got.compute() if hasattr(got, "compute") else got
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if want.dtype.kind in "fc":  # summation order differs by blocks: float32 keeps ~7 digits
        np.testing.assert_allclose(got, want, rtol=1e-5 if want.dtype.itemsize <= 4 else 1e-12)
    else:
        np.testing.assert_array_equal(got, want)


def block_bounds(chunks):
    return [np.cumsum((0,) + c) for c in chunks]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.blocks", "Array.partitions")
def test_blocks_index_the_block_grid(chunks):
    a = ga.from_array(X, chunks=chunks)
    rows, cols = block_bounds(a.chunks)
    assert a.blocks.shape == a.numblocks and a.blocks.size == a.npartitions
    same(a.blocks[0], X[:rows[1]])
    same(a.blocks[-1, 0], X[rows[-2]:, :cols[1]])
    same(a.partitions[::2, -1], np.concatenate([X[rows[i]:rows[i + 1], cols[-2]:] for i in
                                                range(0, len(rows) - 1, 2)]))
    same(a.blocks[..., [-1, 0]], np.concatenate([X[:, cols[-2]:], X[:, :cols[1]]], axis=1))
    parts = a.blocks.ravel()
    assert len(parts) == a.npartitions
    same(parts[-1], X[rows[-2]:, cols[-2]:])
    with pytest.raises(IndexError, match="out of bounds"):
        a.blocks[a.numblocks[0]]
    with pytest.raises(IndexError, match="too many"):
        a.blocks[0, 0, 0]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.vindex")
def test_vindex_is_numpys_pointwise_indexing(chunks):
    cube = RNG.integers(0, 100, (7, 9, 4))
    a = ga.from_array(cube, chunks=chunks + (3,))
    i, j = np.array([[0, 6], [3, 3]]), np.array([8, 0])
    same(a.vindex[i, j], cube[i, j])
    same(a.vindex[i, j, [3, 1]], cube[i, j, [3, 1]])
    same(a.vindex[[6, 0, 1, 1, -1]], cube[[6, 0, 1, 1, -1]])
    same(a.vindex[-1, [1, 2]], cube[-1, [1, 2]])
    same(a.vindex[ga.from_array(np.array([2, 5]), chunks=1), [0, 8]], cube[[2, 5], [0, 8]])
    same(a.vindex[[], []], cube[np.zeros(0, int), np.zeros(0, int)])
    with pytest.raises(IndexError, match="out of bounds"):
        a.vindex[[7], [0]]
    with pytest.raises(IndexError, match="broadcast"):
        a.vindex[[0, 1], [0, 1, 2]]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.view", "Array.swapaxes", "Array.repeat", "Array.trace", "Array.choose", "Array.moment")
def test_numpy_like_methods(chunks):
    a = ga.from_array(X, chunks=chunks)
    ints = RNG.integers(0, 3, (7, 9))
    b = ga.from_array(ints, chunks=chunks)
    same(a.view(np.int64), X.view(np.int64))
    same(a.view("u4"), X.view("u4"))
    same(b.astype("i2").view("u1"), ints.astype("i2").view("u1"))
    same(a.view(), X.view())
    same(a.swapaxes(0, 1), X.swapaxes(0, 1))
    same(a.swapaxes(-1, -1), X.swapaxes(-1, -1))
    same(a.repeat(2, axis=1), X.repeat(2, axis=1))
    same(a.repeat(3), X.repeat(3))
    same(a.trace(), X.trace())
    same(a.trace(2, dtype=np.float32), X.trace(2, dtype=np.float32))
    same(b.choose([X, X * 2, -X]), ints.choose([X, X * 2, -X]))
    for order in (2, 3):
        want = ((X - X.mean(axis=0)) ** order).mean(axis=0)
        same(a.moment(order, axis=0), want)
    with pytest.raises(ValueError, match="rechunk the last axis"):
        ga.from_array(np.zeros((2, 3), "u1"), chunks=(2, 3)).view("u2")


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.topk", "Array.argtopk", "Array.nonzero", "Array.map_overlap")
def test_topk_nonzero_map_overlap_methods(chunks):
    x = RNG.permutation(63).reshape(7, 9).astype(float)
    a = ga.from_array(x, chunks=chunks)
    same(a.topk(3), np.sort(x, axis=1)[:, ::-1][:, :3])
    same(a.topk(-2, axis=0), np.sort(x, axis=0)[:2])
    same(a.argtopk(4, axis=0), np.argsort(x, axis=0)[::-1][:4])
    for got, want in zip((a > 40).nonzero(), (x > 40).nonzero()):
        same(got, want)
    same(a.map_overlap(lambda b: b + np.roll(b, 1, axis=0), depth=1, boundary="periodic"), x + np.roll(x, 1, axis=0))


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.store", "da.store")
def test_store_into_a_memmap(chunks, tmp_path):
    a = ga.from_array(X, chunks=chunks)
    path = str(tmp_path / "out.npy")
    target = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    assert a.store(target) is None
    target.flush()
    same(np.load(path), X)
    big = np.zeros((10, 9))
    lazy = ga.store([a, a[:2] * 2], [big, np.zeros((2, 9))], regions=[(slice(3, 10), slice(0, 9)), None],
                    compute=False)
    assert isinstance(lazy, gf.Delayed) and not big.any()
    lazy.compute()
    same(big[3:], X)
    out = np.zeros((7, 9))
    assert ga.store(a, out, lock=False, return_stored=True) is a
    same(out, X)
    with pytest.raises(ValueError, match="shape"):
        ga.store(a, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2 targets"):
        ga.store([a], [out, out])


@pytest.mark.api("da.to_npy_stack", "da.from_npy_stack")
def test_npy_stack_round_trip(tmp_path):
    for chunks, axis in [((3, 9), 0), ((7, 4), 1), ((2, 5), 0)]:
        a = ga.from_array(X, chunks=chunks)
        folder = str(tmp_path / f"s{chunks}{axis}")
        ga.to_npy_stack(folder, a, axis=axis)
        back = ga.from_npy_stack(folder)
        assert back.chunks[axis] == a.chunks[axis]
        same(back, X)
        same(ga.from_npy_stack(folder, mmap_mode=None), X)
    with pytest.raises(FileNotFoundError, match="info"):
        ga.from_npy_stack(str(tmp_path))


@pytest.mark.api("Array.to_delayed", "da.from_delayed")
def test_delayed_blocks_both_ways():
    a = ga.from_array(X, chunks=(3, 4))
    parts = a.to_delayed()
    assert parts.shape == a.numblocks and all(isinstance(p, gf.Delayed) for p in parts.flat)
    same(parts[1, 2].compute(), X[3:6, 8:])
    total = gf.delayed(sum)([gf.delayed(np.sum)(p) for p in parts.flat])
    np.testing.assert_allclose(total.compute(), X.sum())
    made = ga.from_delayed(gf.delayed(np.arange)(6.0), shape=(6,), dtype=float)
    same(made * 2, np.arange(6.0) * 2)
    rows = [ga.from_delayed(p, shape=(3, 9), dtype=float) for p in a.rechunk((3, 9))[:6].to_delayed().ravel()]
    same(ga.concatenate(rows), X[:6])
    with pytest.raises(TypeError, match="Delayed"):
        ga.from_delayed(np.ones(3), shape=(3,))


@pytest.mark.api("Array.to_dask_dataframe")
def test_to_dataframe():
    a = ga.from_array(X, chunks=(3, 9))
    frame = a.to_dask_dataframe(columns=list("abcdefghi"))
    assert frame.npartitions == 3
    pd.testing.assert_frame_equal(frame.compute(), pd.DataFrame(X, columns=list("abcdefghi")))
    series = ga.from_array(X[:, 0], chunks=4).to_dataframe(columns="x")
    pd.testing.assert_series_equal(series.compute(), pd.Series(X[:, 0], name="x"))


def test_zarr_round_trip_or_the_missing_extra_error(tmp_path):
    """With zarr installed (``pip install graphflow[zarr]``) arrays go there and back; without it every
    zarr entry point raises MissingExtraError naming the extra (this environment has no zarr)."""
    a = ga.from_array(X, chunks=(3, 4))
    try:
        import zarr  # noqa: F401
    except ImportError:
        for call in (lambda: a.to_zarr(str(tmp_path / "z")), lambda: ga.to_zarr(a, str(tmp_path / "z")),
                     lambda: ga.from_zarr(str(tmp_path / "z"))):
            with pytest.raises(MissingExtraError, match=r"graphflow\[zarr\]") as info:
                call()
            assert info.value.library == "zarr" and info.value.extra == "zarr"
        return
    a.to_zarr(str(tmp_path / "z"))
    back = ga.from_zarr(str(tmp_path / "z"))
    assert back.chunks == a.chunks
    same(back, X)
    with pytest.raises(ValueError, match="regular blocks"):
        ga.to_zarr(ga.from_array(X, chunks=((2, 5), 9)), str(tmp_path / "bad"))
