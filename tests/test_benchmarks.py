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


def test_quick_spill_run_reports_peak_rss_and_bytes_spilled(tmp_path):
    """graphflow alone (the anchors' quick runs add ~6 s): every spill workload reports its workers' peak RSS
    and what they wrote to disk beside the time."""
    out, report = _quick(tmp_path, "spill", "--vs", "none", "--timeout", "60", timeout=120)
    results = {r["workload"]: r for r in report["results"]}
    assert set(results) == {"spill-tree", "spill-sums", "spill-transfer"}
    for name, result in results.items():
        assert result["median"]["graphflow"] > 0, result
        [counts] = result["counts"]["graphflow"]
        assert counts["procs"] == 2, counts  # the two workers of the cluster
        assert counts["rss_1"] >= counts["rss_2"] > 10 * 2**20, counts  # a python process with numpy loaded
        assert counts["spilled"] >= 0 and "on_disk_peak" in counts, counts
        assert result["failures"] == {}, result
    assert "GiB, spilled" in out.stdout and "peak RSS (VmHWM)" in out.stdout


def _flaky_result(keep_going: bool):
    from benchmarks import runner
    from benchmarks.model import Engine, Workload
    from benchmarks.targets import finishes

    calls = []

    def case(params):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("a worker was killed")
        return {"total": 0.5}

    workload = Workload(name="flaky", summary="", kind="flaky", params={}, quick_params={}, repeat=3,
                        warmup="none", target=finishes(), keep_going=keep_going)
    return runner.run_workload(workload, [Engine("graphflow", "0", {"flaky": case}, "")], {}, in_process=True)


def test_keep_going_counts_a_failed_run_and_runs_the_next():
    from benchmarks import report

    result = _flaky_result(keep_going=True)
    assert len(result.samples["graphflow"]) == 2 and len(result.failures["graphflow"]) == 1
    assert "MemoryError" in result.failures["graphflow"][0]
    assert result.verdict() is False  # one failure misses "every run finishes"
    assert "1 of 3 FAILED" in report.format_table([result], [])
    assert "graphflow: 1 of 3 runs FAILED" in report.format_notes([result])

    stopped = _flaky_result(keep_going=False)  # the default: the first failure ends the engine's runs
    assert "graphflow" not in stopped.samples and stopped.skipped["graphflow"].startswith("FAILED")


_ALLOCATE = ("import sys\nsys.stdin.readline()\nblock = b\"x\" * (200 * 2**20)\ndel block\n"
             "print('freed', flush=True)\nsys.stdin.readline()\n")


def test_peak_rss_of_another_process_sees_a_peak_that_is_gone():
    from benchmarks.probe import PeakRSS, rss_of

    child = subprocess.Popen([sys.executable, "-c", _ALLOCATE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        watch = PeakRSS(lambda: [child.pid]).start()
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "freed\n"
        peaks = watch.stop()
        assert peaks[child.pid] >= 200 * 2**20 > rss_of(child.pid)
    finally:
        child.kill()
        child.wait()


def test_quick_encrypt_run_times_the_same_work_on_an_encrypted_and_a_plain_cluster(tmp_path):
    out, report = _quick(tmp_path, "encrypt", "--timeout", "60", timeout=120)
    (result,) = report["results"]
    assert result["workload"] == "dist10k-encrypt" and result["median"]["graphflow"] > 0
    (sample,) = result["samples"]["graphflow"]
    assert sample["plain"] > 0 and sample["total"] > 0, sample  # both clusters ran the work
    assert result["counts"]["graphflow"] == [{"ran": result["tasks"]}]
    assert "encrypted" in out.stdout and "vs plain" in out.stdout


def test_quick_scale_run_reports_rss_per_task_growth_and_release(tmp_path):
    """The scale group (issue 23) on graphflow alone: per-task peaks, growth over the reference tree,
    and the scheduler's RSS after each round's release."""
    out, report = _quick(tmp_path, "scale-tree-10k", "scale-list-100k", "--vs", "none", timeout=240)
    results = {r["workload"]: r for r in report["results"]}
    [tree] = results["scale-tree-10k"]["counts"]["graphflow"]
    assert tree["scheduler_b_per_task"] > 0 and tree["client_b_per_task"] >= 0 and tree["growth_pct"] > 0
    [rounds] = results["scale-list-100k"]["counts"]["graphflow"]
    assert rounds["released_r1_mib"] > 0 and rounds["released_r2_mib"] > 0 and rounds["release_ok"] in (0, 1)
    assert "B/task" in out.stdout


def test_quick_transfer_says_where_its_time_went(tmp_path):
    """graphflow's dist-transfer samples split the time between the producer's run, the move (report, fetch,
    copy) and the consumer's run, read from the task stream: each positive, together within the total;
    the copy (the receiving worker's own count) is part of the move."""
    _, report = _quick(tmp_path, "dist-transfer", "--vs", "none", "--timeout", "60", timeout=120)
    [result] = report["results"]
    for sample in result["samples"]["graphflow"]:
        steps = [sample["make"], sample["move"], sample["consume"]]
        assert all(step > 0 for step in steps), sample
        assert sum(steps) <= sample["total"], sample
        assert 0 <= sample["copy"] <= sample["move"], sample
