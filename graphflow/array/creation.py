"""Creating Arrays: from numpy or array-likes, constants, ranges, ``eye``, and ``.npy`` files.

Every creator makes one task (or one data node) per block and nothing else,
so creating a 3 GB array allocates nothing until compute:

    >>> import numpy as np, graphflow.array as ga
    >>> ga.zeros((4, 6), chunks=(2, 4)).chunks
    ((2, 2), (4, 2))
    >>> ga.arange(0, 10, 3, chunks=2).compute()
    array([0, 3, 6, 9])
    >>> ga.from_array(np.eye(3), chunks=2).sum().compute()
    np.float64(3.0)

`from_array` keeps a numpy array's blocks as views in the graph (no copy);
other array-likes (``np.memmap``, h5py, zarr: anything with ``shape``,
``dtype`` and slicing) stay one node that each block task slices, so they are
read block by block.  `from_npy` memory-maps the file in each task and copies
only its block; `to_npy` writes blocks into a memory-mapped file in parallel.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from ..spec import DataNode, Ref, Task, tokenize
from .chunks import block_slices, normalize_chunks
from .core import Array, new_name

__all__ = ["from_array", "asarray", "asanyarray", "array", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "linspace", "eye", "from_npy", "to_npy"]


def _blocks(chunks):
    """(block index, tuple of slices, block shape) for every block."""
    slices = block_slices(chunks)
    for idx in itertools.product(*[range(len(c)) for c in chunks]):
        sl = tuple(slices[d][i] for d, i in enumerate(idx))
        yield idx, sl, tuple(chunks[d][i] for d, i in enumerate(idx))


def _get_block(source, index):
    return np.asarray(source[index])


def from_array(x, chunks="auto", name=None) -> Array:
    """An Array over ``x`` (a numpy array or any array-like with shape, dtype and slicing).

    >>> import numpy as np
    >>> from_array(np.arange(5), chunks=2).chunks
    ((2, 2, 1),)
    """
    if isinstance(x, Array):
        return x.rechunk(chunks) if chunks != "auto" else x
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    shape, dtype = tuple(int(s) for s in x.shape), np.dtype(x.dtype)
    chunks = normalize_chunks(chunks, shape, dtype)
    plain = type(x) is np.ndarray
    if name is None:
        name = "array-" + (tokenize(x, chunks) if plain else tokenize(id(x), type(x).__name__, shape, chunks))
    nodes = {}
    if plain:
        for idx, sl, _ in _blocks(chunks):
            key = (name,) + idx
            nodes[key] = DataNode(key, x[sl])
    else:
        src = "source-" + name
        nodes[src] = DataNode(src, x)
        for idx, sl, _ in _blocks(chunks):
            key = (name,) + idx
            nodes[key] = Task(key, _get_block, Ref(src), sl)
    return Array(name, chunks, dtype, nodes)


def asarray(x, chunks="auto", dtype=None) -> Array:
    """``x`` as an Array (Arrays pass through; anything else goes through `from_array`)."""
    if isinstance(x, Array):
        return x if dtype is None else x.astype(dtype)
    arr = x if hasattr(x, "shape") and hasattr(x, "dtype") else np.asarray(x)
    if dtype is not None and np.dtype(dtype) != arr.dtype:
        arr = np.asarray(arr, dtype=dtype)
    return from_array(arr, chunks=chunks)


array = asarray


def asanyarray(a, dtype=None, order=None, chunks="auto") -> Array:
    """``numpy.asanyarray`` for graphflow: `asarray`, as Arrays are the only array kind here (Dask's signature).

    ``order`` is accepted for numpy compatibility; blocks are always C-ordered.
    """
    if order not in (None, "C", "K", "A"):
        raise ValueError(f"asanyarray: order={order!r} is not supported; blocks are C-ordered")
    return asarray(a, chunks=chunks, dtype=dtype)


def _filled(kind, shape, dtype, fill):
    if kind == "empty":
        return np.empty(shape, dtype)
    return np.full(shape, fill, dtype)


def _constant(kind, shape, dtype, chunks, fill=None) -> Array:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimensions are not allowed: {shape}")
    if dtype is None:
        dtype = np.asarray(fill).dtype if fill is not None else np.float64
    dtype = np.dtype(dtype)
    chunks = normalize_chunks(chunks, shape, dtype)
    name = new_name(kind, shape, dtype, chunks, fill)
    nodes = {}
    for idx, _, bshape in _blocks(chunks):
        key = (name,) + idx
        nodes[key] = Task(key, _filled, kind, bshape, dtype, fill)
    return Array(name, chunks, dtype, nodes)


def zeros(shape, dtype=float, chunks="auto") -> Array:
    """An Array of zeros."""
    return _constant("zeros", shape, float if dtype is None else dtype, chunks, 0)  # numpy: None is float64


def ones(shape, dtype=float, chunks="auto") -> Array:
    """An Array of ones."""
    return _constant("ones", shape, float if dtype is None else dtype, chunks, 1)  # numpy: None is float64


def full(shape, fill_value, dtype=None, chunks="auto") -> Array:
    """An Array filled with ``fill_value``."""
    if np.ndim(fill_value) != 0:
        raise ValueError("fill_value must be a scalar")
    return _constant("full", shape, dtype, chunks, fill_value)


def empty(shape, dtype=float, chunks="auto") -> Array:
    """An uninitialized Array."""
    return _constant("empty", shape, float if dtype is None else dtype, chunks)


def _like(maker, a, dtype, chunks, *extra):
    chunks = a.chunks if chunks is None and isinstance(a, Array) else (chunks or "auto")
    shape = a.shape if hasattr(a, "shape") else np.shape(a)
    return maker(shape, *extra, dtype=dtype or getattr(a, "dtype", None) or float, chunks=chunks)


def zeros_like(a, dtype=None, chunks=None) -> Array:
    """Zeros with the shape (and, for Arrays, the chunks) of ``a``."""
    return _like(zeros, a, dtype, chunks)


def ones_like(a, dtype=None, chunks=None) -> Array:
    """Ones with the shape (and, for Arrays, the chunks) of ``a``."""
    return _like(ones, a, dtype, chunks)


def empty_like(a, dtype=None, chunks=None) -> Array:
    """Uninitialized, with the shape (and, for Arrays, the chunks) of ``a``."""
    return _like(empty, a, dtype, chunks)


def full_like(a, fill_value, dtype=None, chunks=None) -> Array:
    """``fill_value`` everywhere, with the shape (and, for Arrays, the chunks) of ``a``."""
    return _like(full, a, dtype, chunks, fill_value)


def _arange_block(start, step, offset, size, dtype):
    return (start + np.arange(offset, offset + size) * step).astype(dtype, copy=False)


def arange(start, stop=None, step=1, chunks="auto", dtype=None) -> Array:
    """``numpy.arange`` in blocks.

    >>> arange(5, chunks=2).compute()
    array([0, 1, 2, 3, 4])
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ZeroDivisionError("arange: step must not be zero")
    n = max(0, int(np.ceil((stop - start) / step)))
    if dtype is None:
        dtype = np.arange(start, start + step, step).dtype if n else np.result_type(start, stop, step)
    dtype = np.dtype(dtype)
    chunks = normalize_chunks(chunks, (n,), dtype)
    name = new_name("arange", start, stop, step, chunks, dtype)
    nodes, off = {}, 0
    for i, size in enumerate(chunks[0]):
        nodes[(name, i)] = Task((name, i), _arange_block, start, step, off, size, dtype)
        off += size
    return Array(name, chunks, dtype, nodes)


def _linspace_block(start, step, offset, size, last, stop, dtype):
    out = start + np.arange(offset, offset + size) * step
    if last and size:
        out[-1] = stop
    return out.astype(dtype, copy=False)


def linspace(start, stop, num=50, endpoint=True, chunks="auto", dtype=None) -> Array:
    """``numpy.linspace`` in blocks.

    >>> linspace(0, 1, 5, chunks=2).compute()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    num = int(num)
    if num < 0:
        raise ValueError(f"number of samples, {num}, must be non-negative")
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    dtype = np.dtype(dtype or np.result_type(start, stop, float(num)))
    chunks = normalize_chunks(chunks, (num,), dtype)
    name = new_name("linspace", start, stop, num, endpoint, chunks, dtype)
    nodes, off = {}, 0
    for i, size in enumerate(chunks[0]):
        last = endpoint and num > 1 and i == len(chunks[0]) - 1
        nodes[(name, i)] = Task((name, i), _linspace_block, start, step, off, size, last, stop, dtype)
        off += size
    return Array(name, chunks, dtype, nodes)


def eye(N, M=None, k=0, dtype=float, chunks="auto") -> Array:
    """``numpy.eye`` in blocks: blocks off the diagonal are plain zeros."""
    M = N if M is None else M
    dtype = np.dtype(dtype)
    chunks = normalize_chunks(chunks, (N, M), dtype)
    name = new_name("eye", N, M, k, chunks, dtype)
    nodes = {}
    for idx, sl, shape in _blocks(chunks):
        key = (name,) + idx
        nodes[key] = Task(key, np.eye, shape[0], shape[1], k + sl[0].start - sl[1].start, dtype)
    return Array(name, chunks, dtype, nodes)


def _npy_block(path, index):
    return np.array(np.load(path, mmap_mode="r")[index])


def from_npy(path, chunks="auto", mmap_mode="r") -> Array:
    """An Array reading a ``.npy`` file block by block (each task memory-maps it)."""
    path = os.fspath(path)
    meta = np.load(path, mmap_mode=mmap_mode or "r")
    shape, dtype = meta.shape, meta.dtype
    del meta
    chunks = normalize_chunks(chunks, shape, dtype)
    st = os.stat(path)
    name = new_name("from-npy", os.path.abspath(path), st.st_mtime_ns, st.st_size, chunks)
    nodes = {}
    for idx, sl, _ in _blocks(chunks):
        key = (name,) + idx
        nodes[key] = Task(key, _npy_block, path, sl)
    return Array(name, chunks, dtype, nodes)


def _store_block(block, path, index):
    out = np.load(path, mmap_mode="r+")
    out[index] = block
    out.flush()
    return None


def to_npy(path, x, **compute_kwargs) -> None:
    """Write ``x`` to a ``.npy`` file, blocks in parallel into a memory map; computes ``x``."""
    from .. import base
    from ..delayed import Delayed

    path = os.fspath(path)
    x = asarray(x)
    if x.ndim == 0 or x.size == 0:
        np.save(path, x.compute())
        return
    np.lib.format.open_memmap(path, mode="w+", dtype=x.dtype, shape=x.shape).flush()
    name = new_name("to-npy", x, path)
    nodes = {}
    for idx, sl, _ in _blocks(x.chunks):
        key = (name,) + idx
        nodes[key] = Task(key, _store_block, Ref((x.name,) + idx), path, sl)
    stores = Array(name, x.chunks, object, nodes, [x])
    done = Delayed(name + "-done", (Task(name + "-done", _none, [Ref(k) for k in nodes]),), (stores,))
    base.compute(done, **compute_kwargs)


def _none(_):
    return None
