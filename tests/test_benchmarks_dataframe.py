"""The dataframe benchmarks time right answers: each engine's pandas result is checked against pandas' own
answer on the same input (benchmarks/frame_answers.py), and the group runs end to end at tiny sizes."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.frame_answers import check_answer, once
from benchmarks.workloads import dataframe as workloads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_wrong_value_is_caught_and_named():
    want = pd.DataFrame({"k": [1, 2], "x": [1.5, 0.5]})
    got = want.assign(x=[1.5, 0.6])
    with pytest.raises(AssertionError, match="dfdemo on someengine: the answer differs"):
        check_answer("dfdemo", "someengine", got, want)


def test_row_order_and_index_count_only_where_they_are_the_answer():
    want = pd.DataFrame({"k": [1, 2], "x": [1.5, 0.5]}, index=[7, 8])
    shuffled = pd.DataFrame({"k": [2, 1], "x": [0.5, 1.5]})
    check_answer("merge", "e", shuffled, want, order="rows", index=False)
    with pytest.raises(AssertionError):  # the index is part of a filter's answer
        check_answer("filter", "e", shuffled, want, order="rows", index=True)
    with pytest.raises(AssertionError):  # the order is part of a sort's answer
        check_answer("sort", "e", shuffled.set_axis([8, 7]), want, order="kept")
    check_answer("groupby", "e", shuffled.set_axis([8, 7]), want, order="index")


def test_a_series_for_a_frame_is_caught():
    with pytest.raises(AssertionError, match="a Series, pandas gives a DataFrame"):
        check_answer("k", "e", pd.Series([1.0]), pd.DataFrame({"a": [1.0]}))


def test_once_per_kind_and_engine():
    assert once("test-kind", "a") and once("test-kind", "b")
    assert not once("test-kind", "a")


def test_every_kind_says_how_its_answer_is_compared():
    assert set(workloads.ANSWER) == set(workloads.KINDS)


@pytest.mark.slow  # ~25 s: a subprocess importing dask and running four workloads on three engines
def test_quick_dataframe_run_checks_answers_beside_dask(tmp_path):
    """The new rows of issue 18 (set_index, map_partitions, groupby transform) and one issue-5 row, at tiny
    sizes: every engine ran (graphflow's transform only where its GroupBy has one), each answer checked."""
    out_json = tmp_path / "bench.json"
    names = ["dfgroupby", "dfset-index", "dfmap-partitions", "dfgroupby-transform"]
    out = subprocess.run([sys.executable, "-m", "benchmarks", *names, "--quick", "--json", str(out_json)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    results = {r["workload"]: r for r in json.loads(out_json.read_text())["results"]}
    assert set(results) == set(names)
    for name in names:
        assert results[name]["median"]["dask"] > 0, results[name]
    for name in names:
        assert results[name]["median"]["graphflow"] > 0, results[name]
    assert results["dfgroupby"]["median"]["pyarrow"] > 0
    assert "gf/dask" in out.stdout
