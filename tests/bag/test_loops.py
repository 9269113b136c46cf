"""The partition loops: map_json gives exactly json.loads's results and errors; the collector is back on after."""

import gc
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.bag as db
from graphflow.bag.loops import map_elements, map_json

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)


def containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)


documents = st.recursive(scalars, containers, max_leaves=8)
noise = st.sampled_from(["", " ", "\n", " \t\r\n", "x", ",1", "\ufeff", "]", "  {"])


def outcome(func, s):
    try:
        return ("ok", func(s))
    except Exception as exc:  # the same type and message, whatever it is
        return (type(exc).__name__, str(exc))


@settings(max_examples=20)
@given(st.lists(st.tuples(noise, documents, noise), max_size=10))
def test_map_json_is_json_loads(parts):
    lines = [before + json.dumps(doc) + after for before, doc, after in parts]
    for line in lines:
        assert outcome(lambda s: map_json([s])[0], line) == outcome(json.loads, line)


def test_map_json_edge_cases():
    for s in ["", "NaN", "[1e999]", b'{"a": 1}', "\ufeff{}", '{"a": 1}\n', "1 2"]:
        assert outcome(lambda x: map_json([x])[0], s) == outcome(json.loads, s)


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
