"""Dask collections on graphflow (``gf.dask_get``, ``client.dask_get``), graphflow graphs on a
dask.distributed cluster, and graphflow collections inside Dask: always against Dask's own answer."""

import subprocess
import sys

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga
import graphflow.dataframe as gd
from graphflow import delayed

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed")


def inc(x):
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


def _frame():
    rng = np.random.default_rng(0)
    pdf = pd.DataFrame({"k": rng.integers(0, 7, 2_000), "x": rng.random(2_000), "y": np.arange(2_000)})
    return dd.from_pandas(pdf, npartitions=6)


def _array_exprs():
    x = da.random.default_rng(0).random((300, 300), chunks=(70, 100))
    return {"sum": x.sum(), "xxt": (x + x.T).mean(axis=0), "matmul": x @ x.T, "slice": x[::3, 10:].std(axis=1),
            "fused": ((x + 1) * 2 - x).max()}


def _frame_exprs():
    df = _frame()
    return {"groupby": df.groupby("k").x.sum(), "agg": df.groupby("k").agg({"x": "mean", "y": "max"}),
            "filter": df[df.x > 0.5].y.mean(), "merge": df.merge(df[df.y < 100], on="k").x_y.sum(),
            "shuffle": df.shuffle("k").groupby("k").y.max()}


def _same(a, b):
    if isinstance(a, (pd.Series, pd.DataFrame)):
        a, b = a.sort_index(), b.sort_index()
        assert a.shape == b.shape and np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    else:
        assert np.allclose(a, b)


# ------------------------------------------------------------------ gf.dask_get


@pytest.mark.parametrize("name", list(_array_exprs()))
def test_dask_array_through_dask_get_equals_dask(name):
    expr = _array_exprs()[name]
    _same(expr.compute(scheduler=gf.dask_get), expr.compute(scheduler="sync"))


def test_dask_dataframe_through_dask_get_equals_dask():
    exprs = _frame_exprs()
    got = dask.compute(*exprs.values(), scheduler=gf.dask_get)
    want = dask.compute(*exprs.values(), scheduler="sync")
    for a, b in zip(got, want):
        _same(a, b)


def test_dask_delayed_through_config_and_errors_keep_their_type():
    parts = [dask.delayed(inc)(i) for i in range(1_000)]
    total = dask.delayed(sum)(parts)
    with dask.config.set(scheduler=gf.dask_get):
        assert total.compute() == 500_500
        assert dask.compute(parts[:3], {"t": total}) == ([1, 2, 3], {"t": 500_500})
        with pytest.raises(ValueError, match="bad value 2") as info:
            dask.delayed(inc)(dask.delayed(fail)(2)).compute()
    assert any("fail-" in note for note in info.value.__notes__)  # the note names Dask's key of the failed task
    with pytest.raises(TypeError, match="unexpected option"):
        total.compute(scheduler=gf.dask_get, pool=None)


# ------------------------------------------------------------------ graphflow collections seen by Dask


def test_graphflow_collections_speak_dasks_protocol():
    x = ga.random.random((200, 200), chunks=(50, 50), seed=1)
    y = (x + x.T).mean(axis=0)
    d = delayed(sum)([delayed(inc)(i) for i in range(10)])
    ours = gf.compute(y, d, scheduler="sync")
    assert dask.base.is_dask_collection(y) and dask.base.is_dask_collection(d)
    got = dask.compute(y, d)  # default: graphflow's threads through gf.dask_get
    assert np.allclose(got[0], ours[0]) and got[1] == ours[1] == 55
    got = dask.compute(y, d, scheduler="sync")  # Dask's own scheduler runs the converted graph
    assert np.allclose(got[0], ours[0]) and got[1] == 55
    assert dask.delayed(inc)(d).compute(scheduler="sync") == 56  # a graphflow value as a Dask argument
    (persisted,) = dask.persist(d, scheduler="sync")
    assert persisted.compute() == 55 and len(persisted.__graphflow_graph__()) == 1
    assert dask.base.tokenize(y) == dask.base.tokenize(y) != dask.base.tokenize(x)
    table = gd.from_dict({"k": [1, 2, 1], "v": [1.0, 2.0, 3.0]}, npartitions=2).groupby("k").agg({"v": "sum"})
    got = dask.compute(table)[0]
    pd.testing.assert_frame_equal(got, pd.DataFrame({"v": [4.0, 2.0]}, index=pd.Index([1, 2], name="k")))


# ------------------------------------------------------------------ clusters


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_graphflow_graphs_on_a_dask_cluster(dask_client):
    parts = [delayed(inc)(i) for i in range(200)]
    assert gf.compute(delayed(sum)(parts), parts[7], scheduler=dask_client) == (20_100, 8)
    x = ga.random.random((300, 300), chunks=(100, 100), seed=2)
    y = (x + x.T).mean(axis=0)
    assert np.allclose(y.compute(scheduler=dask_client), y.compute(scheduler="sync"))
    df = gd.from_dict({"k": [1, 2, 1, 3] * 50, "v": list(range(200))}, npartitions=4)
    got = df[df.v > 10].groupby("k").agg({"v": "sum"}).compute(scheduler=dask_client)
    want = df[df.v > 10].groupby("k").agg({"v": "sum"}).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index())
    with gf.config.set(scheduler=dask_client), pytest.raises(ValueError, match="bad value 3") as info:
        delayed(inc)(delayed(fail)(3)).compute()
    assert any("fail-" in note for note in info.value.__notes__)  # the graphflow key of the failed task


@pytest.fixture(scope="module")
def gf_client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", set_as_default=False) as client:
        yield client


def test_dask_collections_on_a_graphflow_cluster(gf_client):
    arrays, frames = _array_exprs(), _frame_exprs()
    # one kind per compute call: Dask warns when graph-backed and expression-backed collections mix
    for exprs in ([arrays["xxt"], arrays["fused"], dask.delayed(sum)([dask.delayed(inc)(i) for i in range(300)])],
                  [frames["groupby"], frames["merge"]]):
        got = dask.compute(*exprs, scheduler=gf_client.dask_get)
        want = dask.compute(*exprs, scheduler="sync")
        for a, b in zip(got, want):
            _same(a, b)
    with pytest.raises(ValueError, match="bad value 4"):
        dask.delayed(fail)(4).compute(scheduler=gf_client.dask_get)


# ------------------------------------------------------------------ optional dependencies


def test_importing_graphflow_imports_neither_dask_nor_ray():
    code = ("import sys, graphflow as gf, graphflow.array, graphflow.dataframe; gf.dask_get; "
            "gf.compute(gf.delayed(1) + 1); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'ray'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_missing_extra_is_named():
    code = ("import sys; sys.modules['ray'] = None; sys.modules['dask'] = None\n"
            "import graphflow as gf\n"
            "from graphflow.interop import MissingExtraError\n"
            "for call in (lambda: gf.compute(gf.delayed(1) + 1, scheduler='ray'),\n"
            "             lambda: gf.dask_get({'a': 1}, ['a'])):\n"
            "    try:\n"
            "        call()\n"
            "    except MissingExtraError as exc:\n"
            "        print(exc.extra, 'graphflow[' + exc.extra + ']' in str(exc))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ray", "True", "dask", "True"]
