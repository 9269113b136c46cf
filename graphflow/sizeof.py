"""Exact byte sizes of results: ``sizeof(obj) -> int``, a registry with lazy registration.

The worker's store and the scheduler's placement both run on these numbers,
so they aim at *the memory the object keeps alive*, not at a nominal size:

* numpy: the buffer an array keeps alive.  A view is followed through
  ``.base`` to the array that owns the memory, and that buffer is counted
  once per measurement, however many views of it the object holds (a list of
  100 row slices of one matrix costs one matrix).  Object arrays add their
  elements (sampled).
* pyarrow Array / ChunkedArray / RecordBatch / Table / Buffer: each distinct
  buffer once, keyed by its address (slices and tables sharing columns are
  not double counted).
* bytes / bytearray / str: ``sys.getsizeof`` (the allocation, header
  included); memoryview: the object it exposes.
* pandas DataFrame / Series / Index (when pandas is already imported): their
  numpy or Arrow storage, measured as above.
* list / tuple / set / dict: their own table plus their items, exactly up to
  `SAMPLE_ABOVE` items, past that from an evenly spread sample scaled up.
* any object with a ``__graphflow_sizeof__()`` method: what it returns.
* anything else: ``sys.getsizeof`` plus its instance ``__dict__``.

Handlers for numpy, pyarrow and pandas are registered lazily: the first time a
``numpy.*`` (...) object is measured.  Nothing here imports them at start-up.

    >>> import numpy as np
    >>> x = np.zeros(1_000_000)                       # 8 MB
    >>> sizeof(x) - x.nbytes < 200                     # plus the array header
    True
    >>> sizeof([x[:10], x[10:], x]) < 8_001_000        # three views, one buffer
    True
    >>> class Blob:
    ...     def __graphflow_sizeof__(self):
    ...         return 123
    >>> sizeof(Blob())
    123

Extend it for your own types::

    @sizeof.register(MyType)
    def _(obj):
        return obj.size_in_bytes

A registered function may call `sizeof` on the parts it holds; inside one
top-level call the shared-buffer bookkeeping spans all of them.
"""

from __future__ import annotations

import sys
import threading
import types

from .utils.dispatch import Dispatch

__all__ = ["sizeof", "SAMPLE_ABOVE"]

#: Containers with more items than this are measured from a sample.
SAMPLE_ABOVE = 256
_SAMPLE = 100  # items measured in a sampled container
_MAX_DEPTH = 16  # deeper nesting counts only the container itself


class _Seen:
    """Bookkeeping for one top-level measurement."""

    __slots__ = ("ids", "buffers", "touched", "depth")

    def __init__(self):
        # id() -> object already counted; holding the object keeps a temporary
        # (a pandas column, say) from dying and lending its id to the next one.
        self.ids: dict = {}
        self.buffers: dict = {}  # address -> bytes already counted there
        self.touched: list = []  # (address, bytes newly counted) per count_buffer call, for sampling
        self.depth = 0


_local = threading.local()


class _Sizeof(Dispatch):
    """`Dispatch` whose call shares one `_Seen` across nested calls."""

    def __call__(self, obj) -> int:
        if type(obj) in _ATOMS:
            return sys.getsizeof(obj)
        seen = getattr(_local, "seen", None)
        if seen is not None:
            return self._measure(obj, seen)
        _local.seen = seen = _Seen()
        try:
            return self._measure(obj, seen)
        finally:
            _local.seen = None

    def _measure(self, obj, seen: _Seen) -> int:
        tp = type(obj)
        if tp in _ATOMS:  # the common leaves: no bookkeeping
            return sys.getsizeof(obj)
        hook = getattr(tp, "__graphflow_sizeof__", None)
        if hook is not None and not isinstance(obj, type):
            return int(hook(obj))
        if id(obj) in seen.ids:
            return 0
        seen.ids[id(obj)] = obj
        if seen.depth >= _MAX_DEPTH:
            return _getsizeof(obj)
        seen.depth += 1
        try:
            return int(self.dispatch(tp)(obj))
        finally:
            seen.depth -= 1


sizeof = _Sizeof("sizeof")

_ATOMS = frozenset([int, float, bool, complex, type(None)])  # bytes and str are shared often: deduplicated


def count_buffer(address: int, nbytes: int) -> int:
    """Bytes of a buffer at ``address`` not yet counted in this measurement (for handlers)."""
    seen = getattr(_local, "seen", None)
    if seen is None:
        return nbytes
    done = seen.buffers.get(address, 0)
    new = nbytes - done if nbytes > done else 0
    if new:
        seen.buffers[address] = nbytes
    seen.touched.append((address, new))
    return new


def _getsizeof(obj) -> int:
    try:
        return sys.getsizeof(obj)
    except TypeError:  # some extension types refuse; any small positive figure will do
        return 64


_NO_DICT = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


@sizeof.register(object)
def _sizeof_object(obj) -> int:
    size = _getsizeof(obj)
    # An instance's attributes are what it holds (a wrapper around an array, say).
    d = getattr(obj, "__dict__", None)
    if type(d) is dict and not isinstance(obj, _NO_DICT):
        size += sizeof(d)
    return size


@sizeof.register((bytes, bytearray, str))
def _sizeof_bytes(obj) -> int:
    return sys.getsizeof(obj)


@sizeof.register(memoryview)
def _sizeof_memoryview(mv) -> int:
    base = mv.obj
    return sys.getsizeof(mv) + (sizeof(base) if base is not None else mv.nbytes)


def _sample(items: list, total: int) -> int:
    """Size of ``items`` scaled up to ``total`` items.

    When ``items`` is a sample, buffers shared by several sampled items (row
    views of one matrix) are counted once, not scaled up; everything else
    -- headers, and buffers only one sampled item holds -- is scaled.
    """
    if not items:
        return 0
    if len(items) == total:
        return sum(sizeof(item) for item in items)
    seen = _local.seen
    touched = seen.touched
    scaled = 0
    users: dict = {}  # address -> sampled items holding it
    new: dict = {}  # address -> bytes first counted in this sample
    for item in items:
        mark = len(touched)
        size = sizeof(item)
        mine = set()
        for address, nbytes in touched[mark:]:
            size -= nbytes
            if nbytes:
                new[address] = new.get(address, 0) + nbytes
            mine.add(address)
        for address in mine:
            users[address] = users.get(address, 0) + 1
        scaled += size
    private = sum(n for a, n in new.items() if users[a] == 1)
    return (scaled + private) * total // len(items) + sum(new.values()) - private


def _spread(seq, n: int) -> list:
    """Up to `_SAMPLE` items spread evenly over a sequence of length ``n``."""
    if n <= SAMPLE_ABOVE:
        return list(seq)
    step = n / _SAMPLE
    return [seq[int(i * step)] for i in range(_SAMPLE)]


def _first(iterable, n: int) -> list:
    out = []
    limit = n if n <= SAMPLE_ABOVE else _SAMPLE
    for item in iterable:
        if len(out) == limit:
            break
        out.append(item)
    return out


@sizeof.register((list, tuple))
def _sizeof_sequence(seq) -> int:
    n = len(seq)
    return sys.getsizeof(seq) + _sample(_spread(seq, n), n)


@sizeof.register((set, frozenset))
def _sizeof_set(s) -> int:
    n = len(s)
    return sys.getsizeof(s) + _sample(_first(s, n), n)


@sizeof.register(dict)
def _sizeof_dict(d) -> int:
    n = len(d)
    keys = _first(d, n)
    return sys.getsizeof(d) + _sample(keys, n) + _sample([d[k] for k in keys], n)


# ---------------------------------------------------------------- numpy


@sizeof.register_lazy("numpy")
def _register_numpy():
    import numpy as np

    def _root(x):
        """The array that owns ``x``'s memory (views, broadcasts and ``as_strided`` followed back)."""
        while True:
            b = x.base
            if isinstance(b, np.ndarray):
                x = b
                continue
            # as_strided() hides the real array behind a DummyArray whose .base it is
            inner = getattr(b, "base", None)
            if b is not None and type(b).__name__ == "DummyArray" and isinstance(inner, np.ndarray):
                x = inner
                continue
            return x

    def _extent(x) -> int:
        """Bytes of memory ``x`` spans (= nbytes when contiguous; less for 0-strides)."""
        if x.size == 0:
            return 0
        return x.itemsize + sum((n - 1) * abs(s) for n, s in zip(x.shape, x.strides))

    @sizeof.register(np.ndarray)
    def _sizeof_ndarray(x) -> int:
        header = sys.getsizeof(x) - (x.nbytes if x.flags.owndata else 0)
        root = _root(x)
        size = header + count_buffer(root.__array_interface__["data"][0], _extent(root))
        if x.dtype.hasobject:
            flat = x.ravel()
            n = flat.size
            size += _sample(_spread(flat, n), n)
        return size

    @sizeof.register(np.generic)
    def _sizeof_scalar(x) -> int:
        return sys.getsizeof(x)


# ---------------------------------------------------------------- pyarrow


@sizeof.register_lazy("pyarrow")
def _register_pyarrow():
    import pyarrow as pa

    def _buffers(bufs) -> int:
        size = 0
        for b in bufs:
            if b is not None:
                size += count_buffer(b.address, b.size)
        return size

    @sizeof.register(pa.Buffer)
    def _sizeof_buffer(b) -> int:
        return _buffers([b])

    @sizeof.register(pa.Array)
    def _sizeof_array(a) -> int:
        size = _buffers(a.buffers())
        if isinstance(a, pa.DictionaryArray):
            size += _sizeof_array(a.dictionary)
        return size

    @sizeof.register(pa.ChunkedArray)
    def _sizeof_chunked(c) -> int:
        return sum(_sizeof_array(chunk) for chunk in c.chunks)

    @sizeof.register(pa.RecordBatch)
    def _sizeof_batch(b) -> int:
        return sum(_sizeof_array(col) for col in b.columns)

    @sizeof.register(pa.Table)
    def _sizeof_table(t) -> int:
        return sum(_sizeof_chunked(col) for col in t.columns)

    @sizeof.register(pa.Scalar)
    def _sizeof_scalar(s) -> int:
        return _getsizeof(s)


# ---------------------------------------------------------------- pandas


@sizeof.register_lazy("pandas")
def _register_pandas():
    import pandas as pd

    def _values(arr) -> int:
        """Storage of a pandas extension array (numpy- or Arrow-backed)."""
        if hasattr(arr, "codes") and hasattr(arr, "categories"):
            return sizeof(arr.codes) + sizeof(arr.categories)
        for attr in ("_ndarray", "_pa_array", "_data"):
            inner = getattr(arr, attr, None)
            if inner is not None and type(inner).__module__.partition(".")[0] in ("numpy", "pyarrow"):
                size = sizeof(inner)
                mask = getattr(arr, "_mask", None)  # nullable integer/boolean arrays
                return size + (sizeof(mask) if mask is not None else 0)
        return int(arr.nbytes)

    @sizeof.register(pd.Index)
    def _sizeof_index(idx) -> int:
        if isinstance(idx, pd.RangeIndex):
            return _getsizeof(idx)
        if isinstance(idx, pd.MultiIndex):
            return sum(sizeof(level) for level in idx.levels) + sum(sizeof(c) for c in idx.codes)
        return 64 + _values(idx.array)

    @sizeof.register(pd.Series)
    def _sizeof_series(s) -> int:
        return 64 + sizeof(s.index) + _values(s.array)

    @sizeof.register(pd.DataFrame)
    def _sizeof_frame(df) -> int:
        size = 64 + sizeof(df.index) + sizeof(df.columns)
        for i in range(df.shape[1]):
            # Columns of one numpy block are views of it: counted once through their root.
            size += _values(df.iloc[:, i].array)
        return size
