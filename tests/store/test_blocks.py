"""Spill blocks: bit-exact round trips, memory-mapped reads, frames a peer can load."""

import os
import pickle

import numpy as np
import pyarrow as pa
import pytest

from graphflow.comm.protocol import pack, unpack
from graphflow.comm.serialize import SerializedValue, loads
from graphflow.store.blocks import MAGIC, block_frames, block_kind, read_block, write_block


def roundtrip(tmp_path, value):
    path = str(tmp_path / "v.block")
    written = write_block(path, value)
    assert written == os.path.getsize(path)
    return read_block(path), path


def assert_bit_exact(x, y):
    assert type(y) is np.ndarray and y.dtype == x.dtype and y.shape == x.shape
    assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes()


@pytest.mark.parametrize("make", [
    lambda: np.random.default_rng(0).random((300, 200)),
    lambda: np.random.default_rng(1).random((300, 200)).T,                      # Fortran order
    lambda: np.arange(100_000, dtype="int16").reshape(100, 1000)[::3, 5:900:7],  # strided view
    lambda: np.array([np.nan, -0.0, np.inf, 1e-310]),                          # bits, not values
    lambda: np.zeros((0, 5), dtype="complex128"),
    lambda: np.array(3.5, dtype="float32"),                                    # 0-d
    lambda: np.zeros(4, dtype=[("a", "<i4"), ("b", ">f8"), ("c", "S3")]),       # structured, big-endian field
    lambda: np.arange(0, 10, dtype="datetime64[s]"),
    lambda: np.broadcast_to(np.arange(3), (1000, 3)),                          # 0-stride: written in full
], ids=["c", "fortran", "strided", "special-floats", "empty", "0d", "structured", "datetime", "broadcast"])
def test_numpy_round_trip_is_bit_exact(tmp_path, make):
    x = make()
    assert block_kind(x) == "numpy"
    y, _ = roundtrip(tmp_path, x)
    assert_bit_exact(x, y)


def test_strided_array_is_written_in_slices_without_a_full_copy(tmp_path, monkeypatch):
    import graphflow.store.blocks as blocks

    monkeypatch.setattr(blocks, "_CHUNK", 4096)
    x = np.random.default_rng(2).random((2000, 50))[:, ::2]
    calls = []
    real = np.ascontiguousarray
    monkeypatch.setattr(np, "ascontiguousarray", lambda a: calls.append(a.nbytes) or real(a))
    y, _ = roundtrip(tmp_path, x)
    assert len(calls) > 10 and max(calls) <= 4096
    monkeypatch.undo()
    assert_bit_exact(x, y)


def test_read_is_memory_mapped_and_copy_on_write(tmp_path):
    x = np.arange(1_000_000, dtype="int64")
    y, path = roundtrip(tmp_path, x)
    base = y
    while not isinstance(base, memoryview) and getattr(base, "base", None) is not None:
        base = base.base
    assert isinstance(base, memoryview)  # a view over the mapping, not a copy
    assert y.flags.writeable
    y[:10] = -1  # private to this process: the file keeps the original
    assert_bit_exact(x, read_block(path))
    os.unlink(path)  # the mapping outlives the file
    assert int(y[10:].sum()) == int(x[10:].sum())


@pytest.mark.parametrize("make", [
    lambda: pa.table({"i": np.arange(1000), "s": [f"r{i}" for i in range(1000)], "f": [1.5, None] * 500}),
    lambda: pa.RecordBatch.from_pydict({"x": [1, 2, None], "l": [[1], [], [2, 3]]}),
    lambda: pa.chunked_array([[1, 2], [3]]),
    lambda: pa.array(["a", "b", "a"]).dictionary_encode(),
    lambda: pa.table({"x": np.arange(10)}).slice(3, 4),
], ids=["table", "batch", "chunked", "dictionary", "sliced"])
def test_arrow_round_trip_is_exact(tmp_path, make):
    value = make()
    assert block_kind(value) == "arrow"
    back, path = roundtrip(tmp_path, value)
    assert type(back) is type(value) and back.equals(value)
    header, _ = block_frames(path)
    assert header["kind"] == "arrow"


def test_arrow_read_allocates_nothing(tmp_path):
    path = str(tmp_path / "t.block")
    write_block(path, pa.table({"x": np.arange(500_000), "s": [str(i) for i in range(500_000)]}))
    before = pa.total_allocated_bytes()
    back = read_block(path)
    assert back.num_rows == 500_000 and back.nbytes > 4_000_000
    assert pa.total_allocated_bytes() - before < 10_000  # buffers are views of the mapped file


def test_anything_else_is_pickled_with_buffers_out_of_band(tmp_path):
    value = {"arrays": [np.arange(5000.0), np.ones((30, 30))], "table": pa.table({"a": [1]}), "n": 7,
             "objects": np.array([1, "x", None], dtype=object)}
    assert block_kind(value) == "pickle"
    back, path = roundtrip(tmp_path, value)
    assert back["n"] == 7 and back["table"].equals(value["table"])
    assert_bit_exact(value["arrays"][0], back["arrays"][0])
    assert list(back["objects"]) == [1, "x", None]
    header, frames = block_frames(path)
    assert header["kind"] == "pickle" and len(frames) >= 2  # the big array is its own frame
    assert len(frames[0]) < 2000


def test_frames_load_anywhere_and_travel_as_a_serialized_value(tmp_path):
    x = np.random.default_rng(3).random((400, 300))
    path = str(tmp_path / "x.block")
    write_block(path, x)
    header, frames = block_frames(path)
    assert header["kind"] == "numpy" and header["meta"]["shape"] == [400, 300]
    assert_bit_exact(x, loads(frames))
    # As a worker serves a peer: the frames go out as they are and arrive as the value.
    wire = pack({"data": {"k": SerializedValue(frames)}}, b"token")
    assert any(memoryview(f).nbytes == x.nbytes for f in wire[1:])
    received = unpack([bytes(f) for f in wire], b"token")["data"]["k"]
    assert_bit_exact(x, received)
    # and pickled whole (a process pool, a test) it still round-trips
    assert_bit_exact(x, pickle.loads(pickle.dumps(SerializedValue(frames), protocol=4)))


def test_bad_and_unfinished_files_are_refused(tmp_path):
    path = tmp_path / "junk.block"
    path.write_bytes(b"not a block at all")
    with pytest.raises(ValueError, match="not a graphflow spill block"):
        read_block(str(path))
    path.write_bytes(MAGIC + bytes(16))
    with pytest.raises(ValueError, match="incomplete"):
        read_block(str(path))


def test_failed_write_leaves_no_file(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise TypeError("nope")

    path = tmp_path / "bad.block"
    with pytest.raises(Exception):
        write_block(str(path), [Unpicklable()])
    assert not path.exists()
    with pytest.raises(OSError):
        write_block(str(tmp_path / "missing-dir" / "x.block"), np.zeros(3))
