"""The interop benchmark rows run end to end at tiny sizes, graphflow beside dask (Ray's row runs in
``python -m benchmarks interop``; its Ray start-up would double this test's time)."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("dask")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_interop_rows_compare_dask_get_with_dask_threads(tmp_path):
    out_json = tmp_path / "bench.json"
    rows = ["dask-arr-xxt-mean", "dask-arr-xxt-mean-mem", "dask-delayed10k"]
    out = subprocess.run([sys.executable, "-m", "benchmarks", *rows, "--quick",
                          "--vs", "dask", "--timeout", "60", "--json", str(out_json)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    results = {r["workload"]: r for r in json.loads(out_json.read_text())["results"]}
    assert set(results) == {"dask-arr-xxt-mean", "dask-arr-xxt-mean-mem", "dask-delayed10k"}
    for result in results.values():
        assert result["median"]["graphflow"] > 0 and result["median"]["dask"] > 0, result
        assert result["ratio"]["dask"] is not None, result
