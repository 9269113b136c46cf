"""Leaving and entering the lazy world: store, npy stacks, zarr, Delayed blocks, data frames.

``store(sources, targets)`` writes every block of each source into its target
with ``target[region of the block] = block``, so any object with
``__setitem__`` works (a numpy array or memmap, an h5py or zarr array).  The
writes run as tasks on the scheduler the arrays use (threads, by default):
with processes or a cluster, a target must be something every process can
open and write (a zarr array, a file path's memmap), not an in-memory array.

``to_npy_stack``/``from_npy_stack`` use Dask's folder layout: one ``<i>.npy``
per block along ``axis`` and an ``info`` file (a pickled dict of ``chunks``,
``dtype``, ``axis``), so folders written by either library read in the other.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(6, chunks=4)
    >>> out = np.zeros(6, dtype=x.dtype)
    >>> store(x, out)
    >>> out
    array([0, 1, 2, 3, 4, 5])
    >>> [d.key for d in to_delayed(x)]
    [('arange-...', 0), ('arange-...', 1)]
"""

from __future__ import annotations

import os
import pickle
import threading
import uuid

import numpy as np

from .. import base
from ..delayed import Delayed
from ..errors import MissingExtraError
from ..spec import Ref, Task
from ..utils.importing import import_object
from ..utils.traverse import identity
from .chunks import block_slices, has_unknown, normalize_chunks
from .core import Array, new_name
from .creation import asarray, from_array
from .rechunk import rechunk

__all__ = ["store", "to_npy_stack", "from_npy_stack", "to_zarr", "from_zarr", "to_delayed", "from_delayed",
           "to_dataframe"]


def _write(block, target, region, lock):
    if lock is None:
        target[region] = block
    else:
        with lock:
            target[region] = block
    return None


def _done(_):
    return None


def _region(sl, offset):
    return tuple(slice(s.start + o.start, s.stop + o.start) for s, o in zip(sl, offset))


def store(sources, targets, lock=True, regions=None, compute=True, return_stored=False, **kwargs):
    """Write each source Array into its target (``target[region] = block``, block by block).

    ``lock``: True (one new lock around every write), False/None (no lock), or a lock object;
    ``regions``: per target, the slices to write into (default: all of it); ``compute=False``
    returns a `Delayed` that writes when computed; ``return_stored=True`` returns the sources.
    ``kwargs`` go to the scheduler.
    """
    single = isinstance(sources, Array)
    sources = [sources] if single else [asarray(s) for s in sources]
    targets = [targets] if single else list(targets)
    if len(sources) != len(targets):
        raise ValueError(f"store has {len(sources)} sources but {len(targets)} targets")
    if regions is None or isinstance(regions, tuple):
        regions = [regions] * len(sources)
    if lock is True:
        lock = threading.Lock()
    lock = lock or None
    writes, parents = [], []
    for x, target, region in zip(sources, targets, regions):
        if has_unknown(x.chunks):
            raise ValueError("cannot store an array with unknown chunk sizes; call .compute_chunk_sizes() first")
        if region is None and tuple(getattr(target, "shape", x.shape)) != x.shape:
            raise ValueError(f"cannot store an array of shape {x.shape} into a target of shape {target.shape}")
        offset = tuple(slice(0, n) for n in x.shape) if region is None else \
            tuple(r if isinstance(r, slice) else slice(r, r + 1) for r in region)
        name = f"store-{uuid.uuid4().hex}"  # a write is an effect: never merged with an equal-looking one
        nodes = {}
        grid = block_slices(x.chunks)
        for idx in np.ndindex(*x.numblocks):
            key = (name,) + idx
            sl = tuple(grid[d][i] for d, i in enumerate(idx))
            nodes[key] = Task(key, _write, Ref((x.name,) + idx), target, _region(sl, offset), lock)
        if x.ndim == 0:
            nodes = {(name,): Task((name,), _write, Ref((x.name,)), target, region or (), lock)}
        writes.extend(nodes)
        parents.append(Array(name, x.chunks, object, nodes, [x]))
    final = f"store-done-{uuid.uuid4().hex}"
    done = Delayed(final, (Task(final, _done, [Ref(k) for k in writes]),), tuple(parents))
    if not compute:
        return done
    base.compute(done, **kwargs)
    return sources[0] if single and return_stored else (sources if return_stored else None)


def _save(block, path):
    np.save(path, block)
    return None


def to_npy_stack(dirname, x, axis=0):
    """Write ``x`` as one ``.npy`` file per block along ``axis`` (other axes made one block), plus ``info``."""
    x = asarray(x)
    if x.ndim == 0:
        raise ValueError("to_npy_stack needs an array of at least one dimension")
    axis = axis % x.ndim
    x = rechunk(x, tuple(c if d == axis else -1 for d, c in enumerate(x.chunks)))
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, "info"), "wb") as f:
        pickle.dump({"chunks": x.chunks, "dtype": x.dtype, "axis": axis}, f)
    name = new_name("to-npy-stack", x, os.path.abspath(dirname))
    nodes = {}
    for i in range(x.numblocks[axis]):
        idx = tuple(i if d == axis else 0 for d in range(x.ndim))
        nodes[(name, i)] = Task((name, i), _save, Ref((x.name,) + idx), os.path.join(dirname, f"{i}.npy"))
    final = name + "-done"
    base.compute(Delayed(final, (Task(final, _done, [Ref(k) for k in nodes]),),
                         (Array(name, (x.chunks[axis],), object, nodes, [x]),)))


def _load(path, mmap_mode):
    return np.load(path, mmap_mode=mmap_mode)


def from_npy_stack(dirname, mmap_mode="r"):
    """An Array over a folder written by `to_npy_stack` (or Dask's): one task per ``.npy`` file."""
    info_path = os.path.join(dirname, "info")
    if not os.path.exists(info_path):
        raise FileNotFoundError(f"{dirname!r} has no 'info' file: not a folder written by to_npy_stack")
    with open(info_path, "rb") as f:
        info = pickle.load(f)
    chunks, dtype, axis = info["chunks"], info["dtype"], info["axis"]
    name = new_name("from-npy-stack", os.path.abspath(dirname), chunks, str(dtype), mmap_mode,
                    os.stat(info_path).st_mtime_ns)
    nodes = {}
    for i in range(len(chunks[axis])):
        key = (name,) + tuple(i if d == axis else 0 for d in range(len(chunks)))
        nodes[key] = Task(key, _load, os.path.join(dirname, f"{i}.npy"), mmap_mode)
    return Array(name, chunks, dtype, nodes, ())


def _zarr(feature):
    try:
        import zarr
    except ImportError:
        raise MissingExtraError(f"{feature} needs the zarr library, which is not installed; install it with "
                                f"`pip install graphflow[zarr]` (or `pip install zarr`)",
                                library="zarr", feature=feature, extra="zarr") from None
    return zarr


def to_zarr(arr, url, component=None, overwrite=False, compute=True, **kwargs):
    """Write ``arr`` to a zarr array at ``url`` (a path or store; ``component``: the array's path in a
    group).  Blocks must be regular (all the same but the last per axis): each write is one zarr chunk."""
    zarr = _zarr("to_zarr")
    arr = asarray(arr)
    for d, c in enumerate(arr.chunks):
        if len(set(c[:-1])) > 1 or (len(c) > 1 and c[-1] > c[0]):
            raise ValueError(f"to_zarr needs regular blocks (equal but the last) along each axis; axis {d} has "
                             f"{c}: rechunk it first")
    z = zarr.open_array(store=url, path=component, mode="w" if overwrite else "w-", shape=arr.shape,
                        chunks=arr.chunksize, dtype=arr.dtype, **kwargs)
    return store(arr, z, lock=False, compute=compute)


def from_zarr(url, component=None, chunks=None):
    """An Array reading a zarr array (``url``: a path, store or zarr array) block by block."""
    zarr = _zarr("from_zarr")
    z = url if isinstance(url, zarr.Array) else zarr.open_array(store=url, path=component, mode="r")
    return from_array(z, chunks=z.chunks if chunks is None else chunks)


def to_delayed(x, optimize_graph=True):
    """A numpy object array (the block grid's shape) of `Delayed`, one per block of ``x``."""
    x = asarray(x)
    out = np.empty(x.numblocks, dtype=object)
    for idx in np.ndindex(*x.numblocks):
        out[idx] = Delayed((x.name,) + idx, (), (x,))
    return out


def from_delayed(value, shape, dtype=None, meta=None, name=None):
    """A one-block Array whose block is the (numpy) result of the `Delayed` ``value``; ``shape`` and
    ``dtype`` are trusted, as Dask trusts them."""
    if not isinstance(value, Delayed):
        raise TypeError(f"from_delayed needs a graphflow Delayed, not {type(value).__name__}")
    dtype = np.dtype(dtype if dtype is not None else getattr(meta, "dtype", float))
    shape = tuple(int(s) for s in shape)
    name = name or new_name("from-delayed", value.key, shape, str(dtype))
    key = (name,) + (0,) * len(shape)
    return Array(name, normalize_chunks(-1, shape), dtype, {key: Task(key, identity, Ref(value.key))}, [value])


# graphflow.dataframe sits above graphflow.array in the layers (pyproject's import-linter contract), so the
# converter is found by name when first used, never imported by this package.
_FROM_ARRAY = "graphflow.dataframe:from_dask_array"


def to_dataframe(x, columns=None, index=None, meta=None):
    """A graphflow DataFrame (2-d ``x``) or Series (1-d), one partition per row block, via
    ``graphflow.dataframe.from_dask_array``."""
    return import_object(_FROM_ARRAY)(x, columns=columns, index=index, meta=meta)
