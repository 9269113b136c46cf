"""Issue 4's core names, each compared with numpy (values and dtype) or, for metadata, with dask.array.

Every test names the Dask API it proves with ``@pytest.mark.api`` (counted by
``python -m benchmarks.api_coverage array``).  Inputs run over chunkings that
divide the shape and that do not, plus empty and 0-d arrays where the operation
takes them.
"""

import os
import xml.etree.ElementTree as ET

import dask.array as da
import numpy as np
import pytest

import graphflow.array as ga

RNG = np.random.default_rng(20)
X = RNG.standard_normal((13, 9))
XI = RNG.integers(-50, 50, size=(13, 9))
CHUNKS = [(13, 9), (4, 4), (5, 2), (1, 9)]
EMPTY = np.zeros((0, 4))
SCALAR = np.float64(3.25)


def same(got, want):
    """``got`` (computed if lazy) equals ``want`` in shape, dtype and values (floats to rounding)."""
    got = got.compute() if hasattr(got, "compute") else got
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if want.dtype.kind in "fc":  # blocks sum in another order than numpy's pairwise sum
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(got, want)


# -- reductions, as module functions and as methods

REDUCTIONS = ["sum", "prod", "max", "min", "mean", "std", "var", "argmax", "argmin", "all", "any"]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api(*[f"da.{n}" for n in REDUCTIONS], *[f"Array.{n}" for n in REDUCTIONS])
def test_reductions_match_numpy(chunks):
    for data in (X, XI, X > 0.3):
        a = ga.from_array(data, chunks=chunks)
        for name in REDUCTIONS:
            if data.dtype == bool and name in ("std", "var", "mean", "prod"):
                continue  # numpy promotes these; covered on numbers
            axes = (None, 0, 1) if name.startswith("arg") else (None, 0, 1, (0, 1))
            for axis in axes:
                want = getattr(np, name)(data, axis=axis)
                same(getattr(ga, name)(a, axis=axis), want)
                same(getattr(a, name)(axis=axis), want)
            if not name.startswith("arg"):
                same(getattr(a, name)(axis=1, keepdims=True), getattr(np, name)(data, axis=1, keepdims=True))


@pytest.mark.api("da.std", "da.var", "Array.std", "Array.var")
@pytest.mark.parametrize("chunks", CHUNKS)
def test_std_var_ddof_and_dtype(chunks):
    a = ga.from_array(X.astype(np.float32), chunks=chunks)
    for ddof in (0, 1):
        for axis in (None, 0):
            want = np.var(X.astype(np.float32), axis=axis, ddof=ddof)
            got = a.var(axis=axis, ddof=ddof).compute()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-5)
            np.testing.assert_allclose(ga.std(a, axis=axis, ddof=ddof).compute(),
                                       np.std(X.astype(np.float32), axis=axis, ddof=ddof), rtol=1e-5)


@pytest.mark.api("da.sum", "da.prod", "da.all", "da.any", "da.max", "Array.sum", "Array.max")
def test_reductions_of_empty_and_0d():
    e = ga.from_array(EMPTY, chunks=(2, 2))
    for name in ("sum", "prod", "all", "any"):
        for axis in (None, 0, 1):
            same(getattr(ga, name)(e, axis=axis), getattr(np, name)(EMPTY, axis=axis))
    same(e.max(axis=1), EMPTY.max(axis=1))  # (0,) result: nothing to reduce, no error
    with pytest.raises(ValueError):
        e.max().compute()  # numpy: zero-size array to reduction operation maximum which has no identity
    s = ga.from_array(SCALAR)
    for name in ("sum", "prod", "max", "min", "mean", "all", "any"):
        same(getattr(ga, name)(s), getattr(np, name)(SCALAR))


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.nansum", "da.nanmean")
def test_nan_reductions_match_numpy(chunks):
    data = X.copy()
    data[::3, ::2] = np.nan
    a = ga.from_array(data, chunks=chunks)
    for axis in (None, 0, 1):
        same(ga.nansum(a, axis=axis), np.nansum(data, axis=axis))
        same(ga.nanmean(a, axis=axis), np.nanmean(data, axis=axis))


# -- elementwise methods

@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.astype", "Array.clip", "Array.round", "Array.conj", "Array.real", "Array.imag",
                 "Array.copy", "da.clip", "da.round")
def test_elementwise_methods_match_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    same(a.astype(np.float32), X.astype(np.float32))
    same(a.astype("i8"), X.astype("i8"))
    same(a.clip(-0.5, 0.5), X.clip(-0.5, 0.5))
    same(a.clip(min=0), X.clip(min=0))
    same(ga.clip(a, -0.1, 0.2), np.clip(X, -0.1, 0.2))
    same(a.round(2), X.round(2))
    same(ga.round(a, 1), np.round(X, 1))
    z = X + 1j * X[::-1]
    c = ga.from_array(z, chunks=chunks)
    same(c.conj(), z.conj())
    same(c.real, z.real)
    same(c.imag, z.imag)
    same(a.real, X.real)
    same(a.imag, X.imag)
    b = a.copy()
    same(b, X)
    assert b.shape == a.shape and b.chunks == a.chunks


@pytest.mark.api("Array.astype", "Array.round", "Array.clip", "Array.copy")
def test_elementwise_methods_on_empty_and_0d():
    for data in (EMPTY, np.asarray(SCALAR)):
        a = ga.from_array(data)
        same(a.astype(np.int16), data.astype(np.int16))
        same(a.round(1), data.round(1))
        same(a.clip(0, 1), data.clip(0, 1))
        same(a.copy(), data.copy())


# -- shape changes

@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.reshape", "Array.ravel", "Array.flatten", "Array.squeeze", "Array.rechunk",
                 "da.reshape", "da.ravel", "da.squeeze", "da.rechunk", "da.expand_dims", "da.moveaxis",
                 "da.swapaxes", "da.transpose")
def test_shape_changes_match_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    same(a.reshape(9, 13), X.reshape(9, 13))
    same(a.reshape((117,)), X.reshape(117))
    same(ga.reshape(a, (3, 39)), X.reshape(3, 39))
    same(a.ravel(), X.ravel())
    same(ga.ravel(a), np.ravel(X))
    same(a.flatten(), X.flatten())
    e = ga.expand_dims(a, 1)
    same(e, np.expand_dims(X, 1))
    same(e.squeeze(), X)
    same(ga.squeeze(e, axis=1), np.squeeze(np.expand_dims(X, 1), axis=1))
    same(ga.moveaxis(e, 0, -1), np.moveaxis(np.expand_dims(X, 1), 0, -1))
    same(ga.swapaxes(a, 0, 1), np.swapaxes(X, 0, 1))
    same(ga.transpose(e, (2, 0, 1)), np.transpose(np.expand_dims(X, 1), (2, 0, 1)))
    for new in ((3, 3), (13, 9), ((6, 7), (2, 2, 5))):
        r = a.rechunk(new)
        same(r, X)
        assert r.chunks == da.from_array(X, chunks=chunks).rechunk(new).chunks
    r = ga.rechunk(a, (5, 5))
    assert r.chunks == ((5, 5, 3), (5, 4))
    same(r, X)


@pytest.mark.api("Array.reshape", "Array.ravel", "Array.squeeze", "da.reshape", "da.squeeze", "da.expand_dims")
def test_shape_changes_on_empty_and_0d():
    e = ga.from_array(EMPTY, chunks=(1, 2))
    same(e.reshape(4, 0), EMPTY.reshape(4, 0))
    same(e.ravel(), EMPTY.ravel())
    s = ga.from_array(SCALAR)
    same(s.reshape(1, 1), np.reshape(SCALAR, (1, 1)))
    same(ga.squeeze(ga.expand_dims(s, 0)), np.squeeze(np.expand_dims(SCALAR, 0)))
    same(s.ravel(), np.ravel(SCALAR))


@pytest.mark.api("Array.reshape", "Array.squeeze")
def test_shape_errors_are_numpys():
    a = ga.from_array(X, chunks=4)
    with pytest.raises(ValueError):
        a.reshape(10, 10)
    with pytest.raises(ValueError):
        a.squeeze(axis=0)


# -- products

@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.dot", "da.dot", "da.matmul", "da.tensordot", "da.outer")
def test_products_match_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    y = RNG.standard_normal((9, 5))
    b = ga.from_array(y, chunks=(chunks[1], 3))
    same(a.dot(b), X.dot(y))
    same(ga.dot(a, b), np.dot(X, y))
    same(ga.matmul(a, b), np.matmul(X, y))
    same(a @ b, X @ y)
    same(ga.tensordot(a, b, axes=1), np.tensordot(X, y, axes=1))
    same(ga.tensordot(a, a, axes=([0], [0])), np.tensordot(X, X, axes=([0], [0])))
    v = ga.from_array(X[:, 0], chunks=chunks[0])
    same(ga.outer(v, v), np.outer(X[:, 0], X[:, 0]))
    same(a.dot(ga.from_array(y[:, 0], chunks=chunks[1])), X.dot(y[:, 0]))


# -- creation

@pytest.mark.parametrize("chunks", [4, 5, (3, 4), "auto"])
@pytest.mark.api("da.ones", "da.zeros", "da.empty", "da.full", "da.ones_like", "da.zeros_like", "da.empty_like",
                 "da.full_like", "da.eye", "da.arange", "da.linspace", "da.array", "da.asarray")
def test_creation_matches_numpy(chunks):
    shape = (11, 7)
    for dtype in (None, np.int32, np.float32):
        want = np.dtype(dtype or np.float64)
        same(ga.ones(shape, chunks=chunks, dtype=dtype), np.ones(shape, dtype=dtype))
        same(ga.zeros(shape, chunks=chunks, dtype=dtype), np.zeros(shape, dtype=dtype))
        e = ga.empty(shape, chunks=chunks, dtype=dtype)
        assert e.shape == shape and e.dtype == want and e.compute().shape == shape
    same(ga.full(shape, 7, chunks=chunks), np.full(shape, 7))
    same(ga.full(shape, 1.5, chunks=chunks, dtype=np.float32), np.full(shape, 1.5, dtype=np.float32))
    a = ga.from_array(XI, chunks=chunks)
    same(ga.ones_like(a), np.ones_like(XI))
    same(ga.zeros_like(a, dtype=float), np.zeros_like(XI, dtype=float))
    same(ga.full_like(a, 3), np.full_like(XI, 3))
    e = ga.empty_like(a)
    assert e.shape == XI.shape and e.dtype == XI.dtype and e.chunks == a.chunks
    same(ga.eye(9, chunks=chunks), np.eye(9))
    same(ga.eye(6, 8, k=2, chunks=chunks, dtype=int), np.eye(6, 8, k=2, dtype=int))
    c1 = chunks[0] if isinstance(chunks, tuple) else chunks  # 1-d
    same(ga.arange(17, chunks=c1), np.arange(17))
    same(ga.arange(2, 19, 3, chunks=c1), np.arange(2, 19, 3))
    same(ga.arange(0.5, 4.0, 0.25, chunks=c1), np.arange(0.5, 4.0, 0.25))
    same(ga.arange(5, dtype=np.int8, chunks=c1), np.arange(5, dtype=np.int8))
    same(ga.linspace(0, 1, 23, chunks=c1), np.linspace(0, 1, 23))
    same(ga.linspace(-2, 5, 10, endpoint=False, chunks=c1), np.linspace(-2, 5, 10, endpoint=False))
    same(ga.array(XI, chunks=chunks), np.array(XI))
    same(ga.asarray(X.tolist(), chunks=chunks), np.asarray(X.tolist()))
    same(ga.asarray(XI, dtype=np.float32, chunks=chunks), np.asarray(XI, dtype=np.float32))


@pytest.mark.api("da.ones", "da.zeros", "da.full", "da.arange", "da.linspace", "da.eye", "da.asarray", "da.Array")
def test_creation_of_empty_and_0d():
    same(ga.ones((0, 3), chunks=2), np.ones((0, 3)))
    same(ga.zeros(()), np.zeros(()))
    same(ga.full((), 4), np.full((), 4))
    same(ga.arange(0, chunks=3), np.arange(0))
    same(ga.linspace(0, 1, 0, chunks=3), np.linspace(0, 1, 0))
    same(ga.eye(0, chunks=2), np.eye(0))
    s = ga.asarray(SCALAR)
    assert isinstance(s, ga.Array) and s.ndim == 0
    same(s, np.asarray(SCALAR))
    a = ga.asarray(X, chunks=4)
    assert ga.asarray(a) is a  # an Array passes through, as in Dask


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.stack")
def test_stack_matches_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    b = ga.from_array(-X, chunks=chunks)
    for axis in (0, 1, 2, -1):
        same(ga.stack([a, b, a], axis=axis), np.stack([X, -X, X], axis=axis))


# -- block functions

@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.map_blocks", "Array.map_blocks", "da.blockwise")
def test_block_functions_match_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    same(a.map_blocks(np.sin), np.sin(X))
    same(ga.map_blocks(np.add, a, a), X + X)
    same(a.map_blocks(lambda b: b.astype(np.float32), dtype=np.float32), X.astype(np.float32))
    # a block function that shrinks its blocks: 2 rows per block, whatever the block
    rows = a.map_blocks(lambda b: b[:1] * 0 + b.shape[0], chunks=((1,) * a.numblocks[0], a.chunks[1]))
    same(rows, np.repeat(np.asarray(a.chunks[0], dtype=float)[:, None], 9, axis=1))
    t = ga.blockwise(np.transpose, "ji", a, "ij", dtype=X.dtype)
    same(t, X.T)
    o = ga.blockwise(np.add, "ij", a, "ij", a, "ij", dtype=X.dtype)
    same(o, X + X)


# -- metadata, against dask.array on the same input

@pytest.mark.parametrize("shape,chunks", [((13, 9), (4, 4)), ((13, 9), (5, 2)), ((13, 9), (13, 9)),
                                          ((0, 4), (2, 2)), ((), ()), ((10,), 3)])
@pytest.mark.api("Array.chunks", "Array.chunksize", "Array.numblocks", "Array.npartitions", "Array.nbytes",
                 "Array.itemsize", "Array.dtype", "Array.ndim", "Array.shape", "Array.size", "Array.name", "Array.dask",
                 "da.Array")
def test_metadata_matches_dask(shape, chunks):
    data = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    g = ga.from_array(data, chunks=chunks)
    d = da.from_array(data, chunks=chunks)
    assert isinstance(g, ga.Array)
    for attr in ("chunks", "chunksize", "numblocks", "npartitions", "nbytes", "itemsize", "dtype", "ndim", "shape",
                 "size"):
        assert getattr(g, attr) == getattr(d, attr), attr
    assert isinstance(g.name, str) and g.name
    assert ga.from_array(data, chunks=chunks).name == g.name  # deterministic, like Dask's tokens
    assert ga.from_array(data.astype(np.int64) + 1, chunks=chunks).name != g.name
    graph = dict(g.dask)
    assert len(graph) == len(dict(d.dask))
    assert {k[1:] for k in graph if k[0] == g.name} == {k[1:] for k in dict(d.dask) if k[0] == d.name}


@pytest.mark.api("Array.chunks", "Array.chunksize", "Array.numblocks", "Array.name", "Array.dask")
def test_metadata_follows_operations():
    g = ga.from_array(X, chunks=(4, 4))
    d = da.from_array(X, chunks=(4, 4))
    for op in (lambda a: a.T, lambda a: a[1:, ::2], lambda a: a.sum(axis=0), lambda a: a.rechunk((6, 5))):
        gg, dd = op(g), op(d)
        meta = (gg.chunks, gg.chunksize, gg.numblocks, gg.npartitions)
        assert meta == (dd.chunks, dd.chunksize, dd.numblocks, dd.npartitions)
        assert gg.name != g.name and (gg.name,) + (0,) * gg.ndim in gg.dask


# -- compute, persist, compute_chunk_sizes, visualize

@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("Array.compute", "Array.persist")
def test_compute_and_persist(chunks):
    a = ga.from_array(X, chunks=chunks)
    y = (a + 1) * 2
    same(y, (X + 1) * 2)
    p = y.persist()
    assert isinstance(p, ga.Array) and p.chunks == y.chunks
    same(p, (X + 1) * 2)
    same(p.sum(axis=0), ((X + 1) * 2).sum(axis=0))
    assert len(p.dask) == a.npartitions  # persisted: one stored block per key, the work is gone


@pytest.mark.api("Array.compute_chunk_sizes")
def test_compute_chunk_sizes_after_boolean_mask():
    a = ga.from_array(X, chunks=(4, 9))
    masked = a[a[:, 0] > 0]
    want = X[X[:, 0] > 0]
    assert masked.compute_chunk_sizes() is masked
    assert masked.shape == want.shape
    sizes = tuple(int((X[i:i + 4, 0] > 0).sum()) for i in range(0, 13, 4))
    assert masked.chunks == (sizes, (9,))
    same(masked, want)
    known = ga.from_array(X, chunks=4)
    assert known.compute_chunk_sizes().chunks == known.chunks  # nothing unknown: unchanged


@pytest.mark.api("Array.visualize")
def test_visualize_writes_the_graph(tmp_path):
    a = ga.from_array(X, chunks=(5, 5)).sum(axis=0)
    path = a.visualize(filename=str(tmp_path / "graph.dot"))
    assert os.path.exists(path)
    text = open(path).read()
    assert text.lstrip().startswith("digraph")
    assert "sum" in text and "array" in text  # node labels name the key prefixes


# -- the names the coverage report found missing: to_svg, A, asanyarray, reduction, reshape_blockwise

@pytest.mark.parametrize("shape,chunks", [((13, 9), (4, 4)), ((13, 9), (5, 2)), ((10,), 3), ((3, 4, 6), (2, 2, 3)),
                                          ((0, 4), (2, 2)), ((2000, 3), (100, 3))])
@pytest.mark.api("Array.to_svg")
def test_to_svg_draws_one_rect_per_block(shape, chunks):
    a = ga.ones(shape, chunks=chunks)
    svg = a.to_svg(size=300)
    root = ET.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == ns + "svg"
    rects = root.findall(f".//{ns}rect")
    assert len(rects) == a.npartitions == da.ones(shape, chunks=chunks).npartitions
    widths = [float(r.get("width")) for r in rects]
    heights = [float(r.get("height")) for r in rects]
    assert max(widths) <= 300 and max(heights) <= 300
    if a.size:  # block sides proportional to block lengths along the last axis
        last = a.chunks[-1]
        row = widths[:len(last)]
        np.testing.assert_allclose(np.array(row) / sum(row), np.array(last) / sum(last), rtol=0.01)
    with pytest.raises(NotImplementedError):
        ga.from_array(SCALAR).to_svg()


@pytest.mark.api("Array.A")
def test_A_is_the_array_itself():
    a = ga.from_array(X, chunks=4)
    assert a.A is a
    same(a.A, X)


@pytest.mark.api("da.asanyarray")
def test_asanyarray_matches_numpy():
    for data in (X, XI, X.tolist(), SCALAR, EMPTY, [1, 2.5]):
        same(ga.asanyarray(data), np.asanyarray(data))
        same(ga.asanyarray(data, dtype=np.float32), np.asanyarray(data, dtype=np.float32))
    a = ga.from_array(X, chunks=(5, 2))
    assert ga.asanyarray(a) is a
    assert ga.asanyarray(X, chunks=(5, 2)).chunks == a.chunks
    with pytest.raises(ValueError):
        ga.asanyarray(X, order="F")


def _sum_squares_chunk(block, axis, keepdims):
    return (block.astype(np.float64) ** 2).sum(axis=axis, keepdims=keepdims)


def _count_chunk(block, axis, keepdims):
    shape = [1 if d in axis else n for d, n in enumerate(block.shape)] if keepdims else \
        [n for d, n in enumerate(block.shape) if d not in axis]
    return np.full(shape, np.prod([block.shape[d] for d in axis]), dtype=np.int64)


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.api("da.reduction")
def test_reduction_with_dask_signature_matches_numpy(chunks):
    a = ga.from_array(X, chunks=chunks)
    for axis in (None, 0, 1, (0, 1)):
        for split_every in (None, 2, 3):
            got = ga.reduction(a, _sum_squares_chunk, np.sum, axis=axis, dtype=np.float64, split_every=split_every)
            same(got, (X ** 2).sum(axis=axis))
            # chunk sees whole blocks: counting elements per block is exact even on (a + 1)
            n = ga.reduction(a + 1, _count_chunk, np.sum, axis=axis, dtype=np.int64, split_every=split_every)
            same(n, np.sum(np.ones_like(X, dtype=np.int64), axis=axis))
    # combine differs from aggregate: aggregate finishes (sqrt), combine only merges
    norm = ga.reduction(a, _sum_squares_chunk, lambda p, axis, keepdims: np.sqrt(p.sum(axis=axis, keepdims=keepdims)),
                        combine=np.sum, axis=0, dtype=np.float64, split_every=2)
    same(norm, np.sqrt((X ** 2).sum(axis=0)))
    kept = ga.reduction(a, np.max, np.max, axis=1, keepdims=True, dtype=X.dtype)
    same(kept, X.max(axis=1, keepdims=True))
    # matches dask.array.reduction on the same input and functions
    d = da.reduction(da.from_array(X, chunks=chunks), _sum_squares_chunk, np.sum, axis=1, dtype=np.float64)
    same(ga.reduction(a, _sum_squares_chunk, np.sum, axis=1, dtype=np.float64), d.compute())


@pytest.mark.api("da.reduction")
def test_reduction_options_and_errors():
    a = ga.from_array(XI, chunks=(4, 4))
    same(ga.reduction(a, np.sum, np.sum, meta=np.empty((), dtype=np.int64)), XI.sum())
    out = ga.zeros((9,), chunks=9, dtype=np.int64)
    res = ga.reduction(a, np.sum, np.sum, axis=0, dtype=np.int64, out=out)
    assert res is out
    same(out, XI.sum(axis=0))
    e = ga.from_array(EMPTY, chunks=2)
    same(ga.reduction(e, np.sum, np.sum, axis=0, dtype=np.float64), EMPTY.sum(axis=0))
    s = ga.from_array(np.asarray(SCALAR))
    same(ga.reduction(s, np.sum, np.sum, dtype=np.float64), np.sum(SCALAR))
    with pytest.raises(ValueError, match="dtype"):
        ga.reduction(a, np.sum, np.sum)
    with pytest.raises(NotImplementedError, match="concatenate"):
        ga.reduction(a, np.sum, np.sum, dtype=int, concatenate=False)
    with pytest.raises(NotImplementedError, match="weights"):
        ga.reduction(a, np.sum, np.sum, dtype=int, weights=a)
    with pytest.raises(np.exceptions.AxisError):
        ga.reduction(a, np.sum, np.sum, axis=2, dtype=int)


@pytest.mark.parametrize("chunks", [(3, 2, (2, 1)), (1, 1, 1), (2, 3, 2), (3, 3, 3), ((1, 2), (2, 1), 3)])
@pytest.mark.api("da.reshape_blockwise")
def test_reshape_blockwise_matches_dask_and_numpy(chunks):
    data = np.arange(27, dtype=np.int16).reshape(3, 3, 3)
    g = ga.from_array(data, chunks=chunks)
    d = da.from_array(data, chunks=chunks)
    for shape in ((3, 9), (9, 3), (27,), (-1,), (1, 27), (3, 9, 1)):
        got = ga.reshape_blockwise(g, shape)
        want = da.reshape_blockwise(d, shape)
        assert got.chunks == want.chunks
        same(got, want.compute())
        assert sorted(got.compute().ravel()) == sorted(data.ravel())  # same elements, block order
    merged = ga.reshape_blockwise(g, (3, 9))
    same(ga.reshape_blockwise(merged, (3, 3, 3), chunks=g.chunks), data)  # a split undoes the merge
    one = ga.from_array(data, chunks=(1, 3, 3))  # merged axes in one block: numpy's order exactly
    same(ga.reshape_blockwise(one, (3, 9)), data.reshape(3, 9))


@pytest.mark.api("da.reshape_blockwise")
def test_reshape_blockwise_errors_and_edges():
    g = ga.from_array(np.arange(24).reshape(4, 6), chunks=(2, 3))
    assert ga.reshape_blockwise(g, (4, 6)) is g
    with pytest.raises(ValueError, match="chunks="):
        ga.reshape_blockwise(g, (4, 2, 3))
    with pytest.raises(ValueError, match="multiply out"):
        ga.reshape_blockwise(g, (4, 2, 3), chunks=((2, 2), (2,), (3,)))
    with pytest.raises(ValueError, match="consecutive"):
        ga.reshape_blockwise(g, (6, 4))
    with pytest.raises(ValueError, match="cannot reshape"):
        ga.reshape_blockwise(g, (5, 5))
    with pytest.raises(ValueError, match="chunks= applies"):
        ga.reshape_blockwise(g, (24,), chunks=((24,),))
    split = ga.reshape_blockwise(g, (4, 2, 3), chunks=((2, 2), (1, 1), (3,)))
    same(split, da.reshape_blockwise(da.from_array(np.arange(24).reshape(4, 6), chunks=(2, 3)), (4, 2, 3),
                                     chunks=((2, 2), (1, 1), (3,))).compute())
    e = ga.from_array(np.zeros((0, 4)), chunks=(2, 2))
    assert ga.reshape_blockwise(e, (0,)).shape == (0,)
    s = ga.from_array(np.asarray(SCALAR))
    same(ga.reshape_blockwise(s, (1,), chunks=((1,),)), np.reshape(SCALAR, (1,)))
