"""The benchmark runner works end to end at tiny sizes: graphflow beside dask, and graphflow's
cluster beside dask.distributed (and ray, where it is installed)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quick(tmp_path, *args, timeout=300):
    out_json = tmp_path / "bench.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks", *args, "--quick", "--json", str(out_json)],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    return out, json.loads(out_json.read_text())


def test_quick_run_compares_every_workload_with_dask(tmp_path):
    out, report = _quick(tmp_path, "local", "--vs", "dask")
    names = {r["workload"] for r in report["results"]}
    assert {"sum10k", "sum100k", "chain10k", "graph1m", "mem1m", "import"} <= names
    for result in report["results"]:
        assert result["median"]["graphflow"] > 0, result
    compared = [r for r in report["results"] if r.get("ratio") is not None]
    assert len(compared) >= 5
    assert "gf/dask" in out.stdout


def test_quick_array_run_compares_with_dask_and_numpy(tmp_path):
    """Time and peak memory of the three array workloads, each engine checking its answer."""
    out, report = _quick(tmp_path, "array", "--vs", "dask", "--vs", "numpy", timeout=120)
    results = {r["workload"]: r for r in report["results"]}
    assert set(results) == {"arr-sum", "arr-xxt-mean", "arr-matmul", "arr-sum-mem", "arr-xxt-mean-mem",
                            "arr-matmul-mem"}
    for result in results.values():
        for engine in ("graphflow", "dask", "numpy"):
            assert result["median"].get(engine, 0) > 0, (engine, result)
        assert result["ratio"]["dask"] is not None and result["ratio"]["numpy"] is not None, result
    assert "gf/numpy" in out.stdout


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_quick_cluster_run_compares_with_distributed_and_ray(tmp_path):
    if not _has("distributed"):
        pytest.skip("dask.distributed is not installed: pip install -e '.[test]'")
    anchors = ["distributed"] + (["ray"] if _has("ray") else [])
    # --timeout: a hung engine fails its sample (its cluster is killed) instead of hanging the suite
    out, report = _quick(tmp_path, "dist", "--timeout", "30", *[arg for a in anchors for arg in ("--vs", a)],
                         timeout=110)
    results = {r["workload"]: r for r in report["results"]}
    assert set(results) == {"dist10k", "dist-tree", "dist-transfer", "dist-latency", "sched-mem"}
    for name, result in results.items():
        engines = ["graphflow", *anchors] if name != "sched-mem" else ["graphflow", "distributed"]
        for engine in engines:
            assert result["median"].get(engine, 0) > 0, (engine, result)
            assert result["counts"][engine], (engine, result)  # every engine says how many tasks ran
        assert result["ratio"]["distributed"] is not None, result
    for name in ("dist10k", "dist-tree"):  # nothing fused away or run twice on the anchors
        tasks = results[name]["tasks"]
        assert [c["ran"] for c in results[name]["counts"]["distributed"]] == [tasks]
        assert 0 < results[name]["counts"]["graphflow"][0]["ran"] <= tasks
    assert "gf/distributed" in out.stdout


def test_ray_anchor_is_installed():
    """Only says so: ray comes with the bench extra, not the test extra, so CI may lack it."""
    if not _has("ray"):
        pytest.skip("ray is not installed (pip install -e '.[bench]'): the cluster smoke test ran without it")
