"""Objects to frames and back: a small pickle plus out-of-band buffers.

`dumps(obj)` returns a list of frames.  Frame 0 is a pickle (protocol 5); the
others are the raw memory of big buffers found inside ``obj`` -- numpy arrays,
Arrow IPC streams -- which pickle handed to us through ``buffer_callback``
instead of copying them into its output.  `loads(frames)` rebuilds the object
with those buffers as the arrays' memory, so nothing big is copied on either
side:

    >>> import numpy as np
    >>> x = np.arange(1_000_000)
    >>> frames = dumps({"op": "data", "x": x})
    >>> len(frames), len(frames[0]) < 200, frames[1].nbytes == x.nbytes
    (2, True, True)
    >>> y = loads([bytearray(f) for f in frames])["x"]
    >>> bool((x == y).all()), y.flags.writeable
    (True, True)

How each kind of object travels:

- numpy arrays (contiguous, C or Fortran order, anywhere inside the object):
  numpy's own protocol-5 reduction gives us a `pickle.PickleBuffer`; buffers of
  at least `OUT_OF_BAND_MIN_BYTES` become frames, smaller ones stay in the pickle
  (a frame costs more than copying a few hundred bytes).  A large
  non-contiguous array is made contiguous first (one copy) rather than being
  copied into the pickle.  Object arrays pickle their elements as usual.
- pyarrow Table, RecordBatch, ChunkedArray, Array: written as one Arrow IPC
  stream (one copy on the sender) that travels as a frame; the receiver reads it
  with ``pa.ipc.open_stream(pa.py_buffer(frame))``, zero-copy.  Registered
  lazily, so pyarrow is imported only by a process that already uses it.
- `Serialized`: frames that were serialized elsewhere (a task's function and
  arguments, a result) and must cross a hop unopened -- the scheduler forwards
  them without importing user code.  Their frames stay separate frames.
- Everything else: plain `pickle` first (fast: dumps + loads of a small
  message take ~3 us, cloudpickle alone ~3 us to dump), and cloudpickle only if
  plain pickle fails or the pickle refers to ``__main__`` (a function defined in a script or notebook must travel by
  value, not by a name the other process cannot resolve).

Writability of received arrays: an array comes back as a view over the frame
it arrived in.  It is writeable when that frame's memory is writable
(``bytearray``, a writable ``memoryview``, a ``zmq.Frame`` received with
``copy=False``) and the original array was writeable; over ``bytes`` it is
read-only, as ``np.frombuffer`` would make it.  Buffers passed to `dumps`
are referenced, not copied: do not mutate an array until its frames are sent.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
import threading

from graphflow.utils.dispatch import Dispatch
from graphflow.utils.gcpause import no_gc
from graphflow.errors import SerializationError

#: Buffers smaller than this are copied into the pickle instead of becoming frames.
OUT_OF_BAND_MIN_BYTES = 2048


def _no_reducer(obj):
    return NotImplemented


#: Per-type reducers consulted for every object pickle cannot save natively;
#: ``NotImplemented`` means "pickle it the usual way".
reducers = Dispatch("serialize_reducer")
reducers.register(object, _no_reducer)
_plain: set = set()  # types `reducers` has no reducer for (pickled the usual way), as of...
_plain_generation = [reducers.generation]  # ...this generation of the registry


class _Pickler(pickle.Pickler):
    """Protocol-5 pickler collecting out-of-band buffers and consulting `reducers`.

    Building a pickler costs more than pickling a small message, so each thread
    reuses one (`_local_pickler`).
    """

    def __init__(self, file=None):
        self.file = file or io.BytesIO()
        self.frames: list = []
        super().__init__(self.file, protocol=5, buffer_callback=self.collect_buffer)
        self.busy = False

    def collect_buffer(self, buf: pickle.PickleBuffer):
        try:
            raw = buf.raw()
        except BufferError:  # non-contiguous: let pickle copy it in-band
            return True
        if raw.nbytes < OUT_OF_BAND_MIN_BYTES:
            return True  # a true value keeps the buffer in-band
        self.frames.append(raw)
        return False

    def reducer_override(self, obj):
        # Pickle asks this for every object it does not save natively (each message, Task node, function):
        # a batch of 100k tasks asks 300k times.  Types without a reducer of their own are remembered in
        # one set, so the common answer costs a set lookup, not a dispatch through three calls.
        cls = type(obj)
        if cls in _plain and _plain_generation[0] == reducers.generation:
            return NotImplemented
        func = reducers.dispatch(cls)
        if func is _no_reducer:
            if _plain_generation[0] != reducers.generation:  # a reducer was registered since: start over
                _plain.clear()
                _plain_generation[0] = reducers.generation
            _plain.add(cls)
            return NotImplemented
        return func(obj)

    def run(self, obj) -> list:
        """Pickle ``obj``; return ``[pickle, *buffers]`` and reset for the next call."""
        file = self.file
        try:
            self.dump(obj)
            return [file.getvalue(), *self.frames]
        finally:
            # Drop references at once: the memo would keep a 400 MB array alive.
            self.clear_memo()
            self.frames = []
            file.seek(0)
            file.truncate()


_local = threading.local()


def _local_pickler() -> _Pickler:
    pickler = getattr(_local, "pickler", None)
    if pickler is None:
        pickler = _local.pickler = _Pickler()
    elif pickler.busy:  # dumps() re-entered from inside a reducer
        pickler = _Pickler()
    return pickler


@functools.lru_cache(maxsize=None)
def _cloud_pickler_class():
    import cloudpickle  # imported on first need: it is slow to import and rarely needed

    class CloudPickler(cloudpickle.Pickler):
        def reducer_override(self, obj):
            rv = reducers(obj)
            return super().reducer_override(obj) if rv is NotImplemented else rv

    return CloudPickler


def _cloudpickle_run(obj) -> list:
    collector = _Pickler()  # only for its buffer callback
    file = io.BytesIO()
    _cloud_pickler_class()(file, protocol=5, buffer_callback=collector.collect_buffer).dump(obj)
    return [file.getvalue(), *collector.frames]


def _needs_cloudpickle(data: bytes) -> bool:
    """Does a plain pickle name something the receiving process cannot import?"""
    if b"__main__" in data:
        return True
    cloudpickle = sys.modules.get("cloudpickle")
    if cloudpickle is None:  # nothing can be registered to travel by value
        return False
    by_value = cloudpickle.list_registry_pickle_by_value()
    return bool(by_value) and any(name.encode() in data for name in by_value)


def dumps(obj) -> list:
    """Serialize ``obj`` into frames: ``[pickle, *out_of_band_buffers]``.

    Frames are ``bytes`` or ``memoryview`` objects; the memoryviews point into
    the original objects (nothing big is copied).  Raises `SerializationError`
    naming the part of ``obj`` that cannot be pickled.
    """
    pickler = _local_pickler()
    pickler.busy = True
    try:
        frames = pickler.run(obj)
        if not _needs_cloudpickle(frames[0]):
            return frames
    except Exception:
        pass
    finally:
        pickler.busy = False
    try:
        return _cloudpickle_run(obj)
    except Exception as exc:
        raise _serialization_error(obj, exc) from exc


def _serialization_error(obj, exc: BaseException) -> SerializationError:
    from graphflow.utils.pickling import describe_unpicklable

    try:
        where = describe_unpicklable(obj)
    except Exception:  # pragma: no cover - describing must never hide the real error
        where = f"a {type(obj).__qualname__}"
    return SerializationError(
        f"cannot serialize {where}: {type(exc).__name__}: {str(exc).rstrip('.')}. Everything sent between graphflow "
        "processes must be picklable: create locks, files, sockets and connections inside the task "
        "instead of capturing them, or give the type a __reduce__ method."
    )


_BIG_PICKLE = 1 << 20  # bytes of pickle from which loading pauses the cyclic collector


def loads(frames):
    """Rebuild the object from ``frames`` (as made by `dumps`), without copying big buffers.

    Frames may be ``bytes``, ``bytearray``, ``memoryview``, ``zmq.Frame`` or any
    object exposing the buffer protocol.  Arrays come back as views over their
    frame (writeable only if the frame is writable, see the module notes).
    Raises `SerializationError` if the pickle cannot be loaded here (a missing
    module, a class that changed).
    """
    buffers = [_byte_view(f) for f in frames[1:]] if len(frames) > 1 else ()
    try:
        if len(frames[0]) < _BIG_PICKLE:
            return pickle.loads(frames[0], buffers=buffers)
        with no_gc():  # a graph of 1M tasks is millions of new objects: no collector pass over each batch
            return pickle.loads(frames[0], buffers=buffers)
    except Exception as exc:
        raise SerializationError(
            f"cannot deserialize a message: {type(exc).__name__}: {exc}. The sender and this process "
            "need the same modules importable (install them on every worker, or register the module "
            "with cloudpickle.register_pickle_by_value) and compatible library versions."
        ) from exc


def _byte_view(frame) -> memoryview:
    view = memoryview(frame)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class Serialized:
    """An object already turned into frames, carried inside other messages unopened.

    The scheduler forwards a task's function and arguments this way without
    importing user code, and a deserialization failure stays confined to the
    one task.  Its frames stay separate frames of the enclosing message (no
    copy; the wire MAC covers them like any buffer, see `graphflow.comm.protocol`):

        >>> s = Serialized.from_object([1, 2, 3])
        >>> loads(dumps({"payload": s}))["payload"].to_object()
        [1, 2, 3]
    """

    __slots__ = ("frames",)

    def __init__(self, frames):
        self.frames = list(frames)

    @classmethod
    def from_object(cls, obj) -> Serialized:
        """Serialize ``obj`` now (raising `SerializationError` here, not later)."""
        return cls(dumps(obj))

    def to_object(self):
        """Deserialize the wrapped object (`SerializationError` if it cannot be loaded here)."""
        return loads(self.frames)

    @property
    def nbytes(self) -> int:
        """Total size of the frames in bytes."""
        return sum(memoryview(f).nbytes for f in self.frames)

    def __reduce_ex__(self, protocol):
        if protocol >= 5:
            return (_rebuild_serialized, tuple(pickle.PickleBuffer(f) for f in self.frames))
        return (_rebuild_serialized, tuple(bytes(f) for f in self.frames))

    def __repr__(self):
        return f"<Serialized: {len(self.frames)} frames, {self.nbytes} bytes>"


def _rebuild_serialized(*frames) -> Serialized:
    return Serialized(frames)


class SerializedValue:
    """Frames of a value, sent unopened, that arrive as *the value itself*.

    Unlike `Serialized` (which arrives as a `Serialized`), loading the
    enclosing message rebuilds the value from these frames, so the receiver
    cannot tell it from a value that was in memory.  A worker wraps the
    memory-mapped frames of a spilled result in it (`worker.blocks.block_frames`)
    to serve a peer without unpickling the result first:

        >>> msg = {"data": SerializedValue(dumps([1, 2, 3]))}
        >>> loads(dumps(msg))["data"]
        [1, 2, 3]
    """

    __slots__ = ("frames",)

    def __init__(self, frames):
        self.frames = list(frames)

    @property
    def nbytes(self) -> int:
        """Total size of the frames in bytes."""
        return sum(memoryview(f).nbytes for f in self.frames)

    def __reduce_ex__(self, protocol):
        if protocol >= 5:
            return (_rebuild_value, tuple(pickle.PickleBuffer(f) for f in self.frames))
        return (_rebuild_value, tuple(bytes(f) for f in self.frames))

    def __repr__(self):
        return f"<SerializedValue: {len(self.frames)} frames, {self.nbytes} bytes>"


def _rebuild_value(*frames):
    return loads(frames)


# ---------------------------------------------------------------- numpy


@reducers.register_lazy("numpy")
def _register_numpy():
    import numpy as np

    @reducers.register(np.ndarray)
    def _reduce_ndarray(x):
        # Contiguous arrays already reduce to a PickleBuffer.  A big strided view
        # would be copied into the pickle, through its output stream (and then hashed by the MAC):
        # one contiguous copy that travels out-of-band is cheaper.
        if (
            type(x) is np.ndarray
            and x.nbytes >= OUT_OF_BAND_MIN_BYTES
            and not x.flags.c_contiguous
            and not x.flags.f_contiguous
            and not x.dtype.hasobject
        ):
            return np.ascontiguousarray(x).__reduce_ex__(5)
        return NotImplemented


# ---------------------------------------------------------------- pyarrow


_IPC_ALIGNMENT = 8  # Arrow IPC pads every buffer to 8 bytes from the stream's start


def _arrow_ipc(schema, batches) -> pickle.PickleBuffer:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return pickle.PickleBuffer(sink.getvalue())


def _open_ipc(buf):
    import pyarrow as pa

    data = pa.py_buffer(buf)
    if data.address % _IPC_ALIGNMENT:
        # zmq lays small received messages (under its 8 KiB read batch) side by side in one buffer, at
        # any offset: int64 columns read in place would be misaligned, which Acero (group_by, join)
        # warns about or refuses.  Such frames are small, so the copy is cheap.
        aligned = pa.allocate_buffer(data.size)  # 64-byte aligned
        memoryview(aligned).cast("B")[:] = memoryview(data).cast("B")
        data = aligned
    return pa.ipc.open_stream(data)


def _table_from_ipc(buf):
    return _open_ipc(buf).read_all()


def _batch_from_ipc(buf):
    return _open_ipc(buf).read_next_batch()


def _chunked_from_ipc(buf):
    return _table_from_ipc(buf).column(0)


def _array_from_ipc(buf):
    return _batch_from_ipc(buf).column(0)


@reducers.register_lazy("pyarrow")
def _register_pyarrow():
    import pyarrow as pa

    @reducers.register(pa.Table)
    def _reduce_table(t):
        return _table_from_ipc, (_arrow_ipc(t.schema, t.to_batches()),)

    @reducers.register(pa.RecordBatch)
    def _reduce_batch(b):
        return _batch_from_ipc, (_arrow_ipc(b.schema, [b]),)

    @reducers.register(pa.ChunkedArray)
    def _reduce_chunked(c):
        t = pa.Table.from_arrays([c], names=["values"])
        return _chunked_from_ipc, (_arrow_ipc(t.schema, t.to_batches()),)

    @reducers.register(pa.Array)
    def _reduce_array(a):
        b = pa.RecordBatch.from_arrays([a], names=["values"])
        return _array_from_ipc, (_arrow_ipc(b.schema, [b]),)
