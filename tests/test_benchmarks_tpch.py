"""``python -m benchmarks tpch`` end to end at SF 0.01: every engine answers q1 (checked against DuckDB's)
and the report has its table, ratios, total and peak RSS rows; bad arguments are refused."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, cache, timeout=600):
    env = dict(os.environ, GRAPHFLOW_TPCH_CACHE=str(cache), PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "benchmarks", "tpch", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # five engine processes and a LocalCluster start: 20-50 s on 2 busy cores
@pytest.mark.timeout(900)
def test_tpch_command_runs_q1_on_every_engine(tmp_path):
    done = _run(["--sf", "0.01", "--queries", "1"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("TPC-H SF 0.01"), done.stdout  # the report only: no engine prints into it
    assert lines[1].split() == ["query", "gf", "gf-cluster", "dask", "duckdb", "polars", "gf/dask", "gf/duckdb",
                                "cluster", "RSS/worker", "(MiB)", "driver"]
    q1 = lines[2].split()
    assert q1[0] == "q1"
    for cell in q1[1:5]:  # gf, gf-cluster, dask, duckdb: seconds, so each answered and matched DuckDB's
        assert float(cell) > 0, done.stdout
    assert q1[5] == "missing" or float(q1[5]) > 0  # polars is in the bench extra, not the test extra
    assert q1[6].endswith("x") and q1[7].endswith("x")
    assert [int(w) > 0 for w in q1[8].split("/")] == [True, True] and q1[10] == "MiB"  # 2 workers' and driver's
    assert lines[3].startswith("total (1/1)")
    assert lines[4].startswith("peak RSS") and "MiB" in lines[4]
    assert os.path.exists(tmp_path / "sf0.01" / "_complete.json")  # the data went to the cache


@pytest.mark.parametrize("args, message", [
    (["--queries", "99"], "no query [99]"),
    (["--queries", "one"], "--queries takes numbers"),
    (["--engines", "spark"], "unknown engine(s) ['spark']"),
    (["--sf", "0"], "--sf must be positive"),
])
def test_bad_arguments(args, message, tmp_path):
    done = _run(args, tmp_path, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
