"""The bag benchmarks time right answers on both engines, and the group runs end to end at tiny sizes."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks.workloads import bag as workloads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"bag_json": {"mb": 1, "files": 2, "names": 50},
        "bag_words": {"words": 20_000, "files": 2, "vocabulary": 500}}


@pytest.mark.parametrize("kind", sorted(workloads.KINDS))
def test_both_engines_answer_right(kind):
    for case in (workloads.CASES[kind], workloads.DASK_CASES[kind]):
        phases = case(TINY[kind])
        assert phases["total"] > 0 and set(phases) >= {"build", "compute"}


def test_a_wrong_answer_is_caught():
    with pytest.raises(AssertionError, match="bag_json"):
        workloads._check("bag_json", TINY["bag_json"], [("user00000", -1)])
    with pytest.raises(AssertionError, match="bag_words"):
        workloads._check("bag_words", TINY["bag_words"], [("nope", 1)])


@pytest.mark.slow  # ~20 s: a subprocess importing dask, two workloads, warm-ups on both engines
def test_quick_bag_group_runs_against_dask(tmp_path):
    out_json = tmp_path / "report.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks", "bag", "--quick", "--vs", "dask", "--json",
                          str(out_json)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    results = {r["workload"]: r for r in json.loads(out_json.read_text())["results"]}
    assert set(results) == {"bag-json", "bag-words"}
    for result in results.values():
        assert result["median"]["graphflow"] > 0 and result["median"]["dask"] > 0, result
    assert "gf/dask" in out.stdout
