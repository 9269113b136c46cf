"""graphflow.drawing: visualize() and to_networkx()."""
import os
import shutil

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.errors import GraphvizNotFoundError
from graphflow.drawing import to_dot


@delayed
def inc(x):
    return x + 1


def graph():
    return delayed(sum)([inc(1), inc(2)])


def test_dot_is_always_written(tmp_path):
    path = graph().visualize(str(tmp_path / "g.dot"))
    text = open(path).read()
    assert path.endswith("g.dot")
    assert text.startswith("digraph graphflow {") and text.count("->") == 2
    assert 'label="inc"' in text and 'label="sum"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed (make test installs it)")
@pytest.mark.parametrize("ext,magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_svg_and_png_with_graphviz(tmp_path, ext, magic):
    path = graph().visualize(str(tmp_path / f"g.{ext}"))
    assert path.endswith(f".{ext}")
    with open(path, "rb") as f:
        head = f.read(400)
    assert magic in head
    assert os.path.exists(tmp_path / "g.dot")


def test_clear_error_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFoundError) as info:
        graph().visualize(str(tmp_path / "g.svg"))
    msg = str(info.value)
    assert "graphviz" in msg and "apt-get install graphviz" in msg and "g.dot" in msg
    assert os.path.exists(tmp_path / "g.dot")


def test_bad_extension(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        graph().visualize(str(tmp_path / "g.jpg"))


def test_optimized_drawing_shows_fused_chain(tmp_path):
    x = inc(inc(inc(1)))
    text = open(gf.visualize(x, filename=str(tmp_path / "o.dot"), optimize_graph=True)).read()
    assert "doubleoctagon" in text and "inc+inc+inc" in text


def test_labels_are_escaped():
    from graphflow.spec import DataNode, TaskGraph

    text = to_dot(TaskGraph([DataNode('we"ird', 1)]))
    assert 'tooltip="we\\"ird"' in text


def test_visualize_needs_a_collection():
    with pytest.raises(TypeError, match="nothing to draw"):
        gf.visualize(1)
