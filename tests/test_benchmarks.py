"""The benchmark runner works end to end at tiny sizes, graphflow beside dask."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_run_compares_every_workload_with_dask(tmp_path):
    out_json = tmp_path / "bench.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks", "all", "--quick", "--vs", "dask",
                          "--json", str(out_json)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out_json.read_text())
    names = {r["workload"] for r in report["results"]}
    assert {"sum10k", "sum100k", "chain10k", "graph1m", "mem1m", "import"} <= names
    for result in report["results"]:
        assert result["median"]["graphflow"] > 0, result
    compared = [r for r in report["results"] if r.get("ratio") is not None]
    assert len(compared) >= 5
    assert "gf/dask" in out.stdout
