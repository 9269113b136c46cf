"""`Array`: a lazy n-dimensional array cut into numpy blocks, one task per block.

An Array is metadata plus a recipe.  It holds a ``name``, its ``chunks`` (block
lengths per dimension, see `graphflow.array.chunks`), a ``dtype``, the nodes
that compute its own blocks, and the arrays those nodes read (its *parents*).
Block ``(i, j)`` of an array named ``"add-3f2a"`` is the key ``("add-3f2a", i, j)``.

    >>> import numpy as np
    >>> import graphflow.array as ga
    >>> x = ga.from_array(np.arange(6.0).reshape(2, 3), chunks=(1, 3))
    >>> y = x + 1                     # nothing runs: y knows its shape and blocks
    >>> y.shape, y.chunks, y.numblocks
    ((2, 3), ((1, 1), (3,)), (2, 1))
    >>> y.compute()
    array([[1., 2., 3.],
           [4., 5., 6.]])

Building an operation costs O(its own blocks): the whole graph is assembled
once, at compute time, by an iterative walk over parents (`collect`).  Names
are `tokenize` of the operation and its inputs, so the same expression built
twice gets the same keys.  Operators, numpy ufuncs (``__array_ufunc__``) and
numpy functions (``__array_function__``) all build new Arrays; nothing here
computes except ``compute``, ``persist``, ``__array__`` and ``__len__`` of an
unknown length.

The operations live in their own modules (`elementwise`, `slicing`, `reductions`, ...), which
import `Array`; so `Array`'s methods reach them through `OPERATIONS`, a table that
``graphflow/array/__init__.py`` fills once with `bind_operations` when the package is imported.
The table is the only way up: this module imports nothing from the operation modules.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .. import base
from ..interop.protocol import DaskCollection
from ..spec import tokenize
from . import sink
from .chunks import has_unknown
from .display import array_repr
from .svg import chunks_svg
from ..utils.optable import OperationTable

__all__ = ["Array", "collect", "new_name", "is_array", "ArrayOperations", "OPERATIONS", "bind_operations",
           "REDUCTIONS"]


def new_name(prefix: str, *parts) -> str:
    """``prefix-<token>``: the deterministic name of an operation on ``parts``."""
    return f"{prefix}-{tokenize(prefix, *parts)}"


def is_array(obj) -> bool:
    """True for graphflow Arrays."""
    return isinstance(obj, Array)


def _assemble(results, ndim):
    """Finalize: nested lists of numpy blocks -> one numpy array."""
    if ndim == 0:  # numpy gives scalars for 0-d results (x.sum()); so do we
        r = results[0]
        return r[()] if isinstance(r, np.ndarray) else r
    flat = results
    while type(flat) is list and len(flat) == 1:
        flat = flat[0]
    if type(flat) is not list:  # a single block: hand it back without a copy
        return np.asarray(flat)
    blocks = []
    _flatten(results, (), blocks)
    whole = _tiled_base(blocks, ndim)
    if whole is not None:  # the tasks wrote their blocks into one array already (graphflow/array/sink.py)
        return whole
    if sum(b.nbytes for _, b in blocks) < _PARALLEL_ASSEMBLY_BYTES:
        return np.block(results)
    return _assemble_in_threads(blocks, ndim)


# A result this big is copied together by two threads: the copy is mostly the kernel faulting in the
# fresh output's pages, which runs at the end of a compute on one core while the other idles.
_PARALLEL_ASSEMBLY_BYTES = 64 * 2**20


def _tiled_base(blocks: list, ndim: int):
    """The sink buffer (`graphflow.array.sink`) that ``(index, block)`` pairs are views of, each at its own
    place, or None."""
    base = blocks[0][1].base
    if type(base) is not np.ndarray or base.ndim != ndim or not base.flags.c_contiguous:
        return None
    starts = [dict() for _ in range(ndim)]
    for index, block in blocks:
        if block.base is not base or block.strides != base.strides:
            return None
        for axis in range(ndim):
            starts[axis][index[axis]] = block.shape[axis]
    for axis in range(ndim):
        total = 0
        for i in sorted(starts[axis]):
            starts[axis][i], total = total, total + starts[axis][i]
        if total != base.shape[axis]:
            return None
    origin = base.__array_interface__["data"][0]
    for index, block in blocks:
        offset = sum(starts[axis][index[axis]] * base.strides[axis] for axis in range(ndim))
        if block.__array_interface__["data"][0] != origin + offset:
            return None
    return base if sink.claim_whole(base) else None  # checked first: a claim is once only


def _flatten(nested, index: tuple, out: list) -> None:
    if type(nested) is list:
        for i, item in enumerate(nested):
            _flatten(item, index + (i,), out)
    else:
        out.append((index, np.asarray(nested)))


def _assemble_in_threads(blocks: list, ndim: int):
    """``np.block`` of ``(index, block)`` pairs (all ``ndim``-d), copied by two threads."""
    import threading

    sizes = [dict() for _ in range(ndim)]
    for index, block in blocks:
        for axis in range(ndim):
            sizes[axis][index[axis]] = block.shape[axis]
    starts = []
    for axis in range(ndim):
        offsets, total = {}, 0
        for i in sorted(sizes[axis]):
            offsets[i] = total
            total += sizes[axis][i]
        starts.append((offsets, total))
    out = np.empty(tuple(total for _, total in starts), dtype=np.result_type(*[b for _, b in blocks]))

    def copy(part):
        for index, block in part:
            where = tuple(slice(starts[a][0][index[a]], starts[a][0][index[a]] + block.shape[a]) for a in range(ndim))
            out[where] = block

    half = len(blocks) // 2
    helper = threading.Thread(target=copy, args=(blocks[half:],), daemon=True)
    helper.start()
    copy(blocks[:half])
    helper.join()
    return out


def _keys(name, numblocks, prefix=()):
    if len(prefix) == len(numblocks):
        return (name,) + prefix
    return [_keys(name, numblocks, prefix + (i,)) for i in range(numblocks[len(prefix)])]


# ------------------------------------------------------------------ the operations table

# The reductions that are also methods: ``x.sum(axis=0)`` is ``graphflow.array.sum(x, axis=0)``.
REDUCTIONS = ("sum", "prod", "mean", "std", "var", "min", "max", "argmin", "argmax", "any", "all",
              "cumsum", "cumprod", "nansum", "nanmean")


# Methods and accessors of issue 20 part 4 (``x.blocks``, ``x.topk(k)``, ``x.store(target)``, ...).
_ACCESSORS = ("blocks", "vindex", "view", "to_delayed", "store", "to_zarr", "to_dataframe", "swapaxes",
              "nonzero", "repeat", "trace", "topk", "argtopk", "choose", "moment", "map_overlap", "shuffle")


class ArrayOperations(OperationTable):
    """The functions `Array`'s methods call, from the modules that build on `Array`.

    One slot per operation, each filled once by `bind_operations`.  Reading a slot
    that was never filled says so (it can only happen while ``graphflow.array``
    itself is still being imported).
    """

    __slots__ = ("getitem", "setitem", "transpose", "reshape", "ravel", "squeeze", "rechunk", "astype",
                 "round", "clip", "map_blocks", "dot", "matmul", "to_npy", "elemwise", "is_operand",
                 "array_ufunc", "array_function") + REDUCTIONS + _ACCESSORS

    package = "graphflow.array"


OPERATIONS = ArrayOperations()


def bind_operations(**functions) -> None:
    """Fill `OPERATIONS`: every slot, each by name.  Called once, by ``graphflow/array/__init__.py``.

    A missing or unknown name is a TypeError, so the table and the package
    cannot drift apart silently.
    """
    OPERATIONS.bind(**functions)


_ops = OPERATIONS  # the short name Array's methods use


# ------------------------------------------------------------------ the Array


class Array(DaskCollection, base.LineageCollection):
    """A lazy chunked numpy array; see the module docstring."""

    __slots__ = ("_name", "_chunks", "_dtype", "_nodes", "_parents", "recipe", "__weakref__")
    __graphflow_scheduler__ = "threads"
    __array_priority__ = 11

    def __init__(self, name, chunks, dtype, nodes=None, parents=()):
        self._name = name
        self._chunks = tuple(tuple(c) for c in chunks)
        self._dtype = np.dtype(dtype)
        self._nodes = {} if nodes is None else nodes
        self._parents = tuple(parents)
        # What made this array, for rewrites that need more than its tasks: ("elemwise",) (a numpy ufunc
        # or operator, block by block), ("random", method, seed, kwargs), ("transpose", axes); else None.
        # Public, as the operation modules set it on the arrays they make; graphflow-internal all the same.
        self.recipe = None

    # -- metadata
    @property
    def name(self) -> str:
        """The name shared by all this array's block keys."""
        return self._name

    @property
    def chunks(self) -> tuple:
        """Block lengths per dimension (a tuple of tuples; nan when unknown)."""
        return self._chunks

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def shape(self) -> tuple:
        """Length per dimension (nan when a block length is unknown)."""
        return tuple(sum(c) if not any(b != b for b in c) else math.nan for c in self._chunks)

    @property
    def ndim(self) -> int:
        return len(self._chunks)

    @property
    def size(self):
        """Number of elements (nan if unknown)."""
        return math.prod(self.shape)

    @property
    def nbytes(self):
        """Bytes of the computed array (nan if unknown)."""
        return self.size * self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def numblocks(self) -> tuple:
        """Number of blocks per dimension."""
        return tuple(len(c) for c in self._chunks)

    @property
    def npartitions(self) -> int:
        """Total number of blocks."""
        return math.prod(self.numblocks)

    @property
    def chunksize(self) -> tuple:
        """The largest block length per dimension."""
        return tuple(max(c) if c else 0 for c in self._chunks)

    @property
    def A(self) -> "Array":
        """This array itself (Dask's ``Array.A``, for code written against ``numpy.matrix``'s ``.A``)."""
        return self

    @property
    def T(self) -> "Array":
        return self.transpose()

    def __len__(self):
        if not self._chunks:
            raise TypeError("len() of unsized object")
        n = self.shape[0]
        if n != n:
            raise ValueError("the length of this array is unknown (it came from a boolean mask); "
                             "call .compute_chunk_sizes() first")
        return n

    # -- collection protocol (the graph, compute, persist and visualize: base.LineageCollection)
    def __graphflow_keys__(self) -> list:
        if not self._chunks:
            return [(self._name,)]
        return _keys(self._name, self.numblocks)

    def __graphflow_finalize__(self):
        return _assemble, (self.ndim,)

    def __graphflow_rebuild__(self, graph):
        return Array(self._name, self._chunks, self._dtype, graph, ())

    def __graphflow_tokenize__(self):
        return ("graphflow.array", self._name)

    def __reduce__(self):
        return (Array, (self._name, self._chunks, self._dtype, collect([self]), ()))

    # -- computing
    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.compute())  # a 0-d result computes to a numpy scalar: numpy wants an array
        return out.astype(dtype, copy=False) if dtype is not None else out

    def __bool__(self):
        if self.size != 1:
            raise ValueError("the truth value of an array with more than one element is ambiguous; "
                             "use a.any() or a.all()")
        return bool(self.compute())

    def __int__(self):
        return int(self.compute())

    def __float__(self):
        return float(self.compute())

    def __complex__(self):
        return complex(self.compute())

    def __index__(self):
        return operator.index(self.compute())

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def compute_chunk_sizes(self) -> "Array":
        """Compute unknown block lengths (after a boolean mask) in place; returns self."""
        if not has_unknown(self._chunks):
            return self
        shapes = _ops.map_blocks(_block_shape, self, dtype=object, chunks=tuple((1,) * n for n in self.numblocks))
        shapes = shapes.compute()
        chunks = []
        for d in range(self.ndim):
            index = [0] * self.ndim
            lengths = []
            for i in range(self.numblocks[d]):
                index[d] = i
                lengths.append(int(shapes[tuple(index)][d]))
            chunks.append(tuple(lengths))
        self._chunks = tuple(chunks)
        return self

    # -- display
    def __repr__(self):
        return array_repr(self)

    def to_svg(self, size: int = 500) -> str:
        """The chunk grid as SVG text, one ``<rect>`` per block (see `graphflow.array.svg`)."""
        return chunks_svg(self.chunks, self.shape, size=size)

    def _repr_html_(self):
        from ..cards import array_html

        return array_html(self)

    # -- numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ops.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _ops.array_function(func, types, args, kwargs)

    # -- methods (implemented in the operation modules, reached through OPERATIONS)
    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        self.become(_ops.setitem(self, index, value))

    def become(self, new: "Array") -> "Array":
        """Rebind this Array to ``new``'s recipe (``x[i] = v`` and numpy's ``out=``); returns self.

        The graph is flattened first: other arrays (often ``new`` itself) read the old self.
        """
        nodes = collect([new])
        self._name, self._chunks, self._dtype = new.name, new.chunks, new.dtype
        self._nodes, self._parents, self.recipe = nodes, (), None
        return self

    def transpose(self, *axes) -> "Array":
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    def reshape(self, *shape) -> "Array":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _ops.reshape(self, tuple(shape))

    def ravel(self) -> "Array":
        return _ops.ravel(self)

    flatten = ravel

    def squeeze(self, axis=None) -> "Array":
        return _ops.squeeze(self, axis)

    def rechunk(self, chunks="auto", limit=None) -> "Array":
        return _ops.rechunk(self, chunks, limit=limit)

    def astype(self, dtype, casting="unsafe", copy=True) -> "Array":
        return _ops.astype(self, dtype, casting=casting)

    def round(self, decimals=0) -> "Array":
        return _ops.round(self, decimals)

    def clip(self, min=None, max=None) -> "Array":  # noqa: A002 - numpy's names
        return _ops.clip(self, min, max)

    def map_blocks(self, func, *args, **kwargs) -> "Array":
        return _ops.map_blocks(func, self, *args, **kwargs)

    def dot(self, other) -> "Array":
        return _ops.dot(self, other)

    def to_npy(self, path) -> None:
        _ops.to_npy(path, self)

    def copy(self) -> "Array":
        return self  # Arrays are immutable recipes; __setitem__ rebinds rather than mutates

    # -- accessors and methods of issue 20 part 4 (graphflow.array's accessors, storage, routines)
    @property
    def blocks(self):
        """Index the grid of blocks: ``x.blocks[0, 1:]`` is an Array of those blocks (axes kept)."""
        return _ops.blocks(self)

    partitions = blocks

    @property
    def vindex(self):
        """numpy's pointwise fancy indexing: ``x.vindex[[0, 2], [1, 3]]`` is ``x[[0, 2], [1, 3]]`` in numpy."""
        return _AccessorIndex(_ops.vindex, self)

    def view(self, dtype=None, order="C") -> "Array":
        """The same bytes read as ``dtype`` (``ndarray.view``)."""
        return _ops.view(self, dtype, order)

    def swapaxes(self, axis1, axis2) -> "Array":
        return _ops.swapaxes(self, axis1, axis2)

    def nonzero(self) -> tuple:
        """The indices of the non-zero elements, one Array per axis (``numpy.nonzero``)."""
        return _ops.nonzero(self)

    def repeat(self, repeats, axis=None) -> "Array":
        return _ops.repeat(self, repeats, axis)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None) -> "Array":
        return _ops.trace(self, offset, axis1, axis2, dtype)

    def topk(self, k, axis=-1, split_every=None) -> "Array":
        """The ``k`` largest along ``axis``, largest first (``k < 0``: the smallest, smallest first)."""
        return _ops.topk(self, k, axis, split_every)

    def argtopk(self, k, axis=-1, split_every=None) -> "Array":
        """The indices of `topk`'s elements."""
        return _ops.argtopk(self, k, axis, split_every)

    def choose(self, choices, mode="raise") -> "Array":
        return _ops.choose(self, choices, mode)

    def moment(self, order, axis=None, dtype=None, keepdims=False, ddof=0, split_every=None) -> "Array":
        """The ``order``-th central moment (`graphflow.array.moment`)."""
        return _ops.moment(self, order, axis, dtype, keepdims, ddof, split_every)

    def map_overlap(self, func, depth, boundary=None, trim=True, **kwargs) -> "Array":
        """``func`` over blocks grown by ``depth`` (`graphflow.array.map_overlap`)."""
        return _ops.map_overlap(func, self, depth=depth, boundary=boundary, trim=trim, **kwargs)

    def shuffle(self, indexer, axis, chunks="auto") -> "Array":
        """Reorder ``axis`` by groups of positions, each group whole in one block (`graphflow.array.shuffle`)."""
        return _ops.shuffle(self, indexer, axis, chunks)

    def store(self, target, **kwargs):
        """Write into ``target`` (anything with ``__setitem__``); see `graphflow.array.store`."""
        return _ops.store([self], [target], **kwargs)

    def to_delayed(self, optimize_graph=True):
        """A numpy object array of `Delayed`, one per block."""
        return _ops.to_delayed(self, optimize_graph)

    def to_zarr(self, url, component=None, overwrite=False, compute=True, **kwargs):
        """Write to a zarr array (needs the ``zarr`` extra)."""
        return _ops.to_zarr(self, url, component, overwrite, compute, **kwargs)

    def to_dask_dataframe(self, columns=None, index=None, meta=None):
        """A graphflow DataFrame (2-d) or Series (1-d), one partition per row block."""
        return _ops.to_dataframe(self, columns, index, meta)

    to_dataframe = to_dask_dataframe

    def conj(self) -> "Array":
        return np.conj(self)

    @property
    def real(self) -> "Array":
        return np.real(self)

    @property
    def imag(self) -> "Array":
        return np.imag(self)


class _AccessorIndex:
    """``x.vindex``: ``[...]`` calls ``func(x, index tuple)``."""

    __slots__ = ("_func", "_array")

    def __init__(self, func, array):
        self._func, self._array = func, array

    def __getitem__(self, index):
        return self._func(self._array, index if isinstance(index, tuple) else (index,))


def _block_shape(block):
    out = np.empty((1,) * block.ndim, dtype=object)
    out[(0,) * block.ndim] = block.shape
    return out


def _add_reductions():
    """Reduction methods: ``x.sum(axis=0)`` is ``ga.sum(x, axis=0)``."""

    def make(name):
        def method(self, *args, **kwargs):
            return getattr(_ops, name)(self, *args, **kwargs)

        method.__name__ = name
        method.__doc__ = f"``{name}`` of this array; same arguments as ``numpy.{name}``."
        return method

    for name in REDUCTIONS:
        setattr(Array, name, make(name))


def _add_operators():
    """Arithmetic, comparison and bitwise operators build elementwise Arrays."""
    binary = {
        "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
        "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
        "and": operator.and_, "or": operator.or_, "xor": operator.xor,
        "lshift": operator.lshift, "rshift": operator.rshift, "divmod": divmod,
    }
    compare = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
               "eq": operator.eq, "ne": operator.ne}
    unary = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}

    def make(op, reflected):
        def method(self, other):
            if not _ops.is_operand(other):
                return NotImplemented
            return _ops.elemwise(op, other, self) if reflected else _ops.elemwise(op, self, other)

        return method

    def make_unary(op):
        def method(self):
            return _ops.elemwise(op, self)

        return method

    for name, op in binary.items():
        if name == "divmod":
            continue
        setattr(Array, f"__{name}__", make(op, False))
        setattr(Array, f"__r{name}__", make(op, True))
    for name, op in compare.items():
        setattr(Array, f"__{name}__", make(op, False))
    for name, op in unary.items():
        setattr(Array, f"__{name}__", make_unary(op))
    Array.__matmul__ = lambda self, other: _ops.matmul(self, other)
    Array.__rmatmul__ = lambda self, other: _ops.matmul(other, self)
    Array.__hash__ = object.__hash__


_add_operators()
_add_reductions()


def collect(arrays) -> dict:
    """One ``{key: node}`` dict for ``arrays`` and everything they read (an explicit stack)."""
    return base.collect_lineages(arrays)
