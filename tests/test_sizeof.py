"""graphflow.sizeof against what the objects really allocate (tracemalloc, pyarrow's pool)."""

import subprocess
import sys
import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow as gf
from graphflow.sizeof import sizeof


def allocated(make):
    """(object, bytes the Python and Arrow allocators grew by while making it).

    ``make`` runs once before measuring, so one-time costs (imports, caches) are not counted.
    """
    make()
    arrow_before = pa.total_allocated_bytes()
    tracemalloc.start()
    try:
        obj = make()
        traced, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return obj, traced + pa.total_allocated_bytes() - arrow_before


def assert_close(measured, real, rel=0.05, slack=4096):
    assert abs(measured - real) <= rel * real + slack, f"sizeof says {measured}, allocated {real}"


@pytest.mark.parametrize("make", [
    lambda: np.zeros(2_000_000),
    lambda: np.arange(350_000, dtype="float64").reshape(500, 700).astype("float32"),
    lambda: np.arange(3_000_000, dtype="int16")[::3].copy(),
    lambda: [np.ones(1000) for _ in range(500)],                     # many small arrays, headers matter
    lambda: {f"k{i}": b"v" * 100 for i in range(2000)},            # a dict past the sampling threshold
    lambda: [str(i) * 20 for i in range(100_000)],                  # sampled list of str
    lambda: ("x" * 1_000_000, bytearray(500_000), b"y" * 300_000),
], ids=["zeros", "float32", "int16", "list-of-arrays", "dict", "list-of-str", "strings"])
def test_matches_python_allocations(make):
    obj, real = allocated(make)
    assert_close(sizeof(obj), real, rel=0.1)


def test_matches_arrow_allocations():
    table, real = allocated(lambda: pa.table({
        "i": pc.add(pa.array(np.arange(1_000_000)), 1),  # a buffer from Arrow's pool
        "s": pa.array([f"row{i}" for i in range(200_000)] * 5),
        "d": pa.array(["a", "bb", "a", "c"] * 250_000).dictionary_encode(),
    }))
    assert_close(sizeof(table), real)
    assert sizeof(table.to_batches()[0]) <= sizeof(table)
    assert sizeof(table.column("i")) == pytest.approx(8_000_000, abs=64)


def test_pandas_frame_matches_allocations():
    pd = pytest.importorskip("pandas")
    df, real = allocated(lambda: pd.DataFrame({
        "a": np.arange(500_000, dtype="float64"),
        "b": np.arange(500_000, dtype="int64"),
        "s": [f"x{i}" for i in range(500_000)],
        "c": pd.Categorical(["p", "q"] * 250_000),
    }))
    assert_close(sizeof(df), real, rel=0.15)
    assert sizeof(df["a"]) == pytest.approx(4_000_000, rel=0.01)
    assert sizeof(pd.Series([1, None, 3] * 1000, dtype="Int64")) > 3000 * 8


def test_a_buffer_shared_by_views_counts_once():
    """x, a transpose, slices and a broadcast of x all keep one 8 MB buffer alive."""
    x = np.zeros((1000, 1000))
    one = sizeof(x)
    assert one == pytest.approx(8_000_000, abs=200)
    assert sizeof([x, x.T, x[10:20], x[::2, ::3]]) < one + 1000
    rows = [x[i] for i in range(1000)]  # 1000 views: past the sampling threshold too
    assert sizeof(rows) == pytest.approx(one, rel=0.02)
    assert sizeof(x[:10]) >= one  # a small view keeps the whole buffer alive
    assert sizeof(np.broadcast_to(np.zeros(3), (10**6, 3))) < 500  # broadcasting allocates nothing
    y = np.frombuffer(bytearray(80_000))
    assert sizeof(y) == pytest.approx(80_000, abs=200)


def test_arrow_buffers_count_once():
    t = pa.table({"x": np.arange(1_000_000)})
    whole = sizeof(t)
    views = [t, t.slice(10, 100), t.column("x"), pa.Table.from_arrays([t.column("x")], ["y"])]
    assert sizeof(views) == whole + sys.getsizeof(views)
    assert sizeof(t.column("x").chunk(0).buffers()[1]) == whole


def test_numpy_and_arrow_views_of_one_buffer_count_once():
    a = pa.array(np.arange(1_000_000))
    view = a.to_numpy(zero_copy_only=True)
    assert sizeof([a, view]) < sizeof(a) + 500


def test_bytes_str_memoryview():
    assert sizeof(b"abc") == sys.getsizeof(b"abc")
    assert sizeof("é" * 10) == sys.getsizeof("é" * 10)
    data = b"z" * 100_000
    assert sizeof(memoryview(data)[:10]) >= 100_000  # the view keeps all of data alive
    assert sizeof(memoryview(np.zeros(1000))) > 8000


def test_containers_recurse_and_sample():
    big = [b"0123456789" * 10] * 200 + [bytes([i % 256]) * 110 for i in range(10_000)]
    assert_close(sizeof(big), sys.getsizeof(big) + 10_000 * sys.getsizeof(b"x" * 110), rel=0.1)
    nested = {"a": [{"b": (np.zeros(1000),)}]}
    assert sizeof(nested) > 8000
    cyclic = []
    cyclic.append(cyclic)
    assert sizeof(cyclic) == sys.getsizeof(cyclic)


def test_objects_hook_register_and_lazy_registration():
    class Hooked:
        def __graphflow_sizeof__(self):
            return 12345

    class Holder:
        def __init__(self):
            self.payload = np.zeros(10_000)

    assert sizeof(Hooked()) == 12345
    assert sizeof([Hooked(), Hooked()]) >= 2 * 12345
    assert sizeof(Holder()) > 80_000  # an instance's attributes are what it holds

    class Custom:
        pass

    sizeof.register(Custom, lambda obj: 7)
    assert sizeof(Custom()) == 7

    Lazy = type("Lazy", (), {"__module__": "notimportedpkg.sub"})
    calls = []

    @sizeof.register_lazy("notimportedpkg")
    def _register():
        calls.append(1)
        sizeof.register(Lazy, lambda obj: 99)

    assert calls == []
    assert sizeof(Lazy()) == 99 and sizeof(Lazy()) == 99
    assert calls == [1]


def test_public_and_light():
    assert gf.sizeof is sizeof
    code = ("import sys, graphflow as gf; gf.sizeof([1, 'a', {2: b'x'}]); "
            "print(sorted(m for m in ('numpy', 'pyarrow', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
