"""Spill blocks: one value per file, read back memory-mapped.

A block holds a value in the form `graphflow.comm.serialize` sends it -- a
small protocol-5 pickle plus out-of-band frames -- laid out so that each frame
can be mapped straight from the file:

    offset 0    b"GFBLOCK1"                    magic and format version
           8    u64 header offset, u64 header length  (little endian)
          24    frame 0: the pickle            every frame starts 64-byte aligned
                frame 1..n: raw buffers        (numpy data, an Arrow IPC stream, ...)
                header: JSON {"kind", "frames": [[offset, length], ...], "meta", "nbytes"}

What goes in the frames, by kind:

* ``numpy``: a plain ndarray with a non-object dtype.  Frame 1 is its data in
  C order (or Fortran order if that is how it lies in memory); a strided view
  is written contiguous in slices of `_CHUNK` bytes, never copied whole.
  Frame 0 rebuilds it with `_ndarray` (dtype, shape, order: the small header).
  ``meta`` repeats dtype and shape for people reading a spill directory.
* ``arrow``: a pyarrow Table, RecordBatch, ChunkedArray or Array.  Frame 1 is an
  Arrow IPC stream written by pyarrow directly into the file; frame 0 calls the
  same readers `comm.serialize` uses for Arrow.
* ``pickle``: anything else; the frames of ``serialize.dumps(value)``.

Because frame 0 plus the mapped frames are exactly what ``serialize.dumps``
would have produced, a worker can hand a spilled value to a peer without
opening it (`block_frames`, then ``serialize.SerializedValue``), and
``serialize.loads`` rebuilds it on the other side.

`read_block` maps the file copy-on-write (``MAP_PRIVATE``): nothing is read
until touched, numpy arrays come back writeable (writes stay private to the
process and never reach the file), and the file may be deleted while the
value is in use.  Arrow data is immutable, as always.

    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.block")
    >>> x = np.arange(12.0).reshape(3, 4).T            # Fortran-ordered view
    >>> write_block(path, x) > x.nbytes
    True
    >>> y = read_block(path)
    >>> bool((x == y).all()), y.dtype, y.shape
    (True, dtype('float64'), (4, 3))
"""

from __future__ import annotations

import json
import mmap
import os
import pickle
import struct

from graphflow.comm.serialize import dumps, loads
from graphflow.utils.private_dirs import create_private_file, open_private_file

__all__ = ["write_block", "read_block", "block_frames", "block_kind", "MAGIC"]

MAGIC = b"GFBLOCK1"
_PREFIX = struct.Struct("<8sQQ")
_ALIGN = 64
_CHUNK = 16 * 2**20  # a strided array is copied contiguous this many bytes at a time
_PAD = bytes(_ALIGN)


def block_kind(value) -> str:
    """``"numpy"``, ``"arrow"`` or ``"pickle"``: how `write_block` lays ``value`` out."""
    module = type(value).__module__
    if module.startswith("numpy"):
        import numpy as np

        if type(value) is np.ndarray and not value.dtype.hasobject:
            return "numpy"
    elif module.startswith("pyarrow") and _arrow_reader(value) is not None:
        return "arrow"
    return "pickle"


def write_block(path: str, value) -> int:
    """Write ``value`` to a new block file at ``path`` (mode 0600); return the bytes written.

    Raises ``FileExistsError`` if anything is at ``path`` already (it is left
    alone: see `graphflow.utils.private_dirs`); ``OSError`` (``ENOSPC`` for a
    full disk, ``EACCES``, ...) after removing the partial file;
    `graphflow.errors.SerializationError` if the value cannot be pickled.
    """
    kind = block_kind(value)
    fd = create_private_file(path)  # 0600, never through a symlink nor over an existing file
    try:
        with open(fd, "wb", buffering=0) as f:
            f.write(_PREFIX.pack(MAGIC, 0, 0))
            if kind == "numpy":
                spans, meta = _write_ndarray(f, value)
            elif kind == "arrow":
                spans, meta = _write_arrow(f, value)
            else:
                spans, meta = _write_frames(f, dumps(value)), {"type": type(value).__qualname__}
            header = json.dumps({"kind": kind, "frames": spans, "meta": meta}).encode()
            end = f.tell()
            f.write(header)
            f.seek(0)
            f.write(_PREFIX.pack(MAGIC, end, len(header)))
            return end + len(header)
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise


def _align(f) -> int:
    """Pad the file to the next frame boundary; return that offset."""
    pos = f.tell()
    pad = -pos % _ALIGN
    if pad:
        f.write(_PAD[:pad])
    return pos + pad


def _write_all(f, data) -> int:
    """Write a whole buffer (raw files may write less than asked)."""
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        done += f.write(view[done:])
    return done


def _write_frames(f, frames) -> list:
    spans = []
    for frame in frames:
        start = _align(f)
        spans.append([start, _write_all(f, frame)])
    return spans


def _ndarray(buf, dtype, shape, order):
    """Frame 0 of a numpy block calls this: ``buf`` seen as the array (no copy)."""
    import numpy as np

    return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)


class _NDArrayHeader:
    """Pickles as ``_ndarray(<out-of-band buffer>, dtype, shape, order)``."""

    def __init__(self, dtype, shape, order):
        self.args = (dtype, shape, order)

    def __reduce_ex__(self, protocol):
        return _ndarray, (_placeholder(), *self.args)


def _placeholder() -> pickle.PickleBuffer:
    """Where frame 1 goes in frame 0.  Writable, so the loaded buffer stays writable (no READONLY_BUFFER)."""
    return pickle.PickleBuffer(bytearray())


def _header_pickle(obj) -> bytes:
    return pickle.dumps(obj, protocol=5, buffer_callback=lambda buf: False)


def _write_ndarray(f, x) -> tuple:
    import numpy as np

    order = "F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C"
    frame0 = _header_pickle(_NDArrayHeader(x.dtype, x.shape, order))
    spans = _write_frames(f, [frame0])
    start = _align(f)
    if x.flags.c_contiguous or x.flags.f_contiguous:
        if x.nbytes:
            _write_all(f, _as_bytes(x.T if order == "F" else x))
    else:
        rows = max(1, _CHUNK // max(1, x[:1].nbytes))
        for i in range(0, x.shape[0], rows):
            _write_all(f, _as_bytes(np.ascontiguousarray(x[i:i + rows])))
    spans.append([start, f.tell() - start])
    meta = {"dtype": np.lib.format.dtype_to_descr(x.dtype), "shape": list(x.shape), "order": order}
    return spans, meta


def _as_bytes(x):
    """A C-contiguous array as flat bytes (datetime and some structured dtypes refuse ``memoryview``)."""
    import numpy as np

    return x.reshape(-1).view(np.uint8)


def _arrow_reader(value):
    """serialize.py's reader for this Arrow type (None: not one we lay out as IPC)."""
    from graphflow.comm import serialize as s

    import pyarrow as pa

    for cls, reader in ((pa.Table, s._table_from_ipc), (pa.RecordBatch, s._batch_from_ipc),
                        (pa.ChunkedArray, s._chunked_from_ipc), (pa.Array, s._array_from_ipc)):
        if isinstance(value, cls):
            return reader
    return None


class _ArrowHeader:
    def __init__(self, reader):
        self.reader = reader

    def __reduce_ex__(self, protocol):
        return self.reader, (_placeholder(),)


def _write_arrow(f, value) -> tuple:
    import pyarrow as pa

    reader = _arrow_reader(value)
    if isinstance(value, pa.ChunkedArray):
        value = pa.Table.from_arrays([value], names=["values"])
    elif isinstance(value, pa.Array):
        value = pa.RecordBatch.from_arrays([value], names=["values"])
    spans = _write_frames(f, [_header_pickle(_ArrowHeader(reader))])
    start = _align(f)
    with pa.ipc.new_stream(f, value.schema) as writer:  # writes into our file, no copy in memory
        if isinstance(value, pa.Table):
            writer.write_table(value)
        else:
            writer.write_batch(value)
    spans.append([start, f.tell() - start])
    return spans, {"schema": str(value.schema)[:2000], "rows": value.num_rows}


def block_frames(path: str) -> tuple:
    """``(header, frames)`` of the block at ``path``, the frames mapped from the file.

    ``serialize.loads(frames)`` rebuilds the value; the frames can also be sent
    to a peer as they are (wrapped in ``serialize.SerializedValue``).  Raises
    ``ValueError`` if the file is not a graphflow block,
    `graphflow.errors.UnsafePathError` if it is a symlink or another user's
    file (a block is unpickled: only this user's own blocks are read).
    """
    with open(open_private_file(path), "rb") as f:  # ours only: a planted file or a symlink is refused
        prefix = f.read(_PREFIX.size)
        if len(prefix) < _PREFIX.size or prefix[:8] != MAGIC:
            raise ValueError(f"{path} is not a graphflow spill block (magic {prefix[:8]!r}, want {MAGIC!r})")
        _, offset, length = _PREFIX.unpack(prefix)
        if offset == 0:
            raise ValueError(f"{path} is an incomplete graphflow spill block (its writer did not finish)")
        f.seek(offset)
        header = json.loads(f.read(length))
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    view = memoryview(mapped)
    frames = [view[start:start + n] for start, n in header["frames"]]
    return header, frames


def read_block(path: str):
    """The value in the block at ``path``, memory-mapped: pages are read when touched."""
    return loads(block_frames(path)[1])
