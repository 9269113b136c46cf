import sys

import numpy as np
import pyarrow as pa
import pytest

from graphflow.worker.store import WorkerStore, nbytes_of


def test_set_overwrite_delete_keep_total_exact():
    s = WorkerStore()
    s.set("a", object(), 100)
    s.set("b", object(), 20)
    assert s.total_bytes == 120 and s.nbytes("a") == 100
    s.set("a", object(), 7)  # overwrite subtracts the old size
    assert s.total_bytes == 27
    s["b"] = b"12345"  # measured by the sizer
    assert s.total_bytes == 12 and s.nbytes("b") == 5
    del s["a"]
    assert s.total_bytes == 5 and "a" not in s and len(s) == 1
    assert s.pop("b") == b"12345"
    assert s.total_bytes == 0 and len(s) == 0
    s.validate()


def test_mapping_protocol_and_errors():
    s = WorkerStore(memory_limit=1000)
    s.update({"x": b"ab", ("y", 0): "abc"})
    assert sorted(map(str, s)) == ["('y', 0)", "x"]
    assert s[("y", 0)] == "abc" and s.total_bytes == 5
    assert dict(s.items()) == {"x": b"ab", ("y", 0): "abc"}
    with pytest.raises(KeyError):
        s.nbytes("missing")
    with pytest.raises(KeyError):
        del s["missing"]
    assert s.total_bytes == 5
    assert "2 keys, 5 bytes, memory_limit=1000" in repr(s)
    s.clear()
    assert s.total_bytes == 0
    s.validate()


def test_sizer_is_injectable():
    s = WorkerStore(sizer=lambda value: 42)
    s["a"] = "anything"
    assert s.nbytes("a") == 42
    s.set("b", "known", 3)  # set() never calls the sizer
    assert s.total_bytes == 45


def test_eviction_hook_runs_after_every_write():
    class Counting(WorkerStore):
        calls = 0

        def _maybe_evict(self):
            self.calls += 1
            assert self.total_bytes == sum(self.nbytes(k) for k in self)  # called with accounting done

    s = Counting()
    s["a"] = b"x"
    s.set("b", 1, 8)
    s.set("b", 1, 9)
    assert s.calls == 3


def test_nbytes_of_buffers_and_strings():
    assert nbytes_of(np.zeros(1000)) == 8000
    assert nbytes_of(pa.array(np.arange(100, dtype="int64"))) == 800
    table = pa.table({"x": np.arange(10, dtype="int32")})
    assert nbytes_of(table) == table.nbytes
    assert nbytes_of(b"abc") == 3 and nbytes_of("abcd") == 4 and nbytes_of(bytearray(5)) == 5
    assert nbytes_of(memoryview(b"abcdef")) == 6


def test_nbytes_of_containers_sum_their_items():
    arrays = [np.zeros(100), np.zeros(200)]
    assert nbytes_of(arrays) == sys.getsizeof(arrays) + 2400
    d = {"k": np.zeros(10)}
    assert nbytes_of(d) == sys.getsizeof(d) + 1 + 80
    assert nbytes_of((b"ab", {b"cd"})) >= 4
    assert nbytes_of(frozenset([b"xy"])) == sys.getsizeof(frozenset([b"xy"])) + 2


def test_nbytes_of_samples_big_containers_and_bounds_depth():
    big = [b"0123456789"] * 1_000_000
    assert nbytes_of(big) == sys.getsizeof(big) + 10 * 1_000_000  # extrapolated from a sample
    nested = [[[[[b"x" * 1000]]]]]
    assert nbytes_of(nested) < 1000  # below the depth cap, only getsizeof is counted


def test_nbytes_of_anything_else():
    class Plain:
        pass

    obj = Plain()
    assert nbytes_of(obj) == sys.getsizeof(obj)
    assert nbytes_of(12) == sys.getsizeof(12)
