"""The partition loops: the collector is back on after; fused chains stream (json: tests/bag/test_jsonloads.py)."""

import gc
import json

import pytest

import graphflow.bag as db
from graphflow.bag.loops import map_elements


def test_collector_is_on_again_after_a_partition_even_when_it_raises():
    assert gc.isenabled()
    assert map_elements(str.upper, ["a"]) == ["A"] and gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        map_elements(lambda x: 1 / x, [0])
    assert gc.isenabled()
    assert db.from_sequence(['{"a": 1}'] * 5, npartitions=2).map(json.loads).pluck("a").compute(
        scheduler="sync") == [1] * 5


def test_fused_chains_stream_their_elements_and_give_the_same_answers(tmp_path):
    """read_text -> map(json.loads) -> foldby: map hands records one at a time (no list), same totals."""
    import operator

    import graphflow as gf

    lines = [json.dumps({"k": i % 3, "v": i}) for i in range(50)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    b = db.read_text(str(tmp_path / "*.jsonl")).map(json.loads)
    folded = b.foldby("k", lambda t, r: t + r["v"], 0, operator.add, 0)
    graph = gf.optimize(folded)[0].__graphflow_graph__()
    labels = [getattr(graph[k], "label", "") for k in graph]
    assert any("iter_elements" in label for label in labels), labels
    expected = {k: sum(i for i in range(50) if i % 3 == k) for k in range(3)}
    assert dict(folded.compute(scheduler="sync")) == expected
    words = db.from_sequence(["a b", "b c c"], npartitions=2).map(str.split).flatten()
    assert sorted(words.frequencies().compute(scheduler="sync")) == [("a", 1), ("b", 2), ("c", 2)]
    assert words.filter(lambda w: w != "a").pluck(0).topk(2).compute(scheduler="sync") == ["c", "c"]


def test_an_error_in_a_streamed_map_still_names_its_type(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"k": 1}\n{"k": \n')
    b = db.read_text(str(tmp_path / "*.jsonl")).map(json.loads).foldby("k", lambda t, r: t + 1, 0)
    with pytest.raises(json.JSONDecodeError):
        b.compute(scheduler="sync")
