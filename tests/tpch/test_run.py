"""The benchmark command's run: gf-cluster under a worker memory limit, checked answers, RSS per worker."""

import pytest

from benchmarks.tpch import run


def test_cluster_run_reports_each_workers_peak_rss_per_query(tpch_paths):
    """Two queries on a 2-worker LocalCluster of 1 GiB each, beside DuckDB: answers right, and every query
    has both workers' peak RSS (reset before the query) and the driver's, all under the limit."""
    result = run.run(0.01, [1, 18], ["gf-cluster"], paths=tpch_paths, worker_memory="1GiB", log=lambda text: None)
    assert result["errors"] == {}
    assert {("gf-cluster", 1), ("gf-cluster", 18), ("duckdb", 1)} <= set(result["seconds"])
    for n in (1, 18):
        peaks = result["peaks"][n]
        assert len(peaks["workers"]) == 2
        assert all(10 * 2**20 < b < 2**30 for b in peaks["workers"] + [peaks["driver"]]), peaks
    assert result["rss"]["gf-cluster"] >= max(max(p["workers"]) for p in result["peaks"].values())
    report = run.format_report(result, [1, 18], ["gf-cluster"], 0.01)
    assert "cluster RSS/worker" in report and "limit 1GiB" in report and "gf-cluster/duckdb" in report


def test_worker_memory_must_be_a_size(capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(["--worker-memory", "lots"])
    assert exc.value.code == 2 and "--worker-memory takes a size" in capsys.readouterr().err
