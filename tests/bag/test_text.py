"""read_text and to_textfiles: compression, line-preserving blocks, globs, round trips."""

import bz2
import gzip
import json
import lzma
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import graphflow.bag as db

SYNC = {"scheduler": "sync"}
lines_st = st.lists(st.text(alphabet="abcxyz é{}\":,", max_size=12), min_size=1, max_size=30)


@pytest.mark.api("db.read_text")
@settings(max_examples=20)
@given(lines_st, st.integers(1, 40), st.booleans())
def test_blocks_never_cut_or_repeat_a_line(tmp_path_factory, lines, blocksize, trailing_newline):
    """Any block size gives back every line exactly once, in order, with its newline."""
    path = tmp_path_factory.mktemp("blocks") / "data.txt"
    text = "\n".join(lines) + ("\n" if trailing_newline else "")
    path.write_bytes(text.encode("utf-8"))
    expected = [line + "\n" for line in lines[:-1]] + [lines[-1] + ("\n" if trailing_newline else "")]
    expected = [x for x in expected if x]  # an empty last line without a newline is no line
    b = db.read_text(str(path), blocksize=blocksize)
    assert b.npartitions == max(1, -(-len(text.encode()) // blocksize))
    assert b.compute(**SYNC) == expected
    assert db.read_text(str(path)).compute(**SYNC) == expected


@pytest.mark.api("db.read_text", "db.to_textfiles", "Bag.to_textfiles")
@pytest.mark.parametrize("ext,opener", [("", open), (".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_round_trip_with_compression(tmp_path, ext, opener):
    records = [json.dumps({"i": i, "w": "é" * (i % 3)}) for i in range(50)]
    b = db.from_sequence(records, npartitions=4)
    paths = b.to_textfiles(str(tmp_path / f"out-*.jsonl{ext}"), **SYNC)
    assert [os.path.basename(p) for p in paths] == [f"out-{i}.jsonl{ext}" for i in range(4)]
    with opener(paths[0], "rb") as f:  # really compressed with that format
        assert f.read().decode("utf-8").split("\n") == records[:13]
    back = db.read_text(str(tmp_path / f"out-*.jsonl{ext}")).map(json.loads)
    assert back.npartitions == 4
    assert back.pluck("i").compute(**SYNC) == list(range(50))
    # module function, explicit compression, a directory as target, last_endline
    more = db.to_textfiles(b, str(tmp_path / "dir"), compression="gzip", last_endline=True, **SYNC)
    assert all(p.endswith(".part.gz") for p in more)
    assert db.read_text(more, compression="gzip").compute(**SYNC) == [r + "\n" for r in records]


def test_compressed_files_cannot_be_read_in_blocks(tmp_path):
    path = tmp_path / "a.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("a\nb\n")
    with pytest.raises(ValueError, match="cannot be read in blocks"):
        db.read_text(str(path), blocksize=2)


def test_include_path_files_per_partition_crlf_and_missing(tmp_path):
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_bytes(f"x{i}\r\ny{i}\r\n".encode())
    b = db.read_text(str(tmp_path / "*.txt"), files_per_partition=2, include_path=True)
    assert b.npartitions == 2
    got = b.compute(**SYNC)
    assert [line for line, _ in got] == ["x0\n", "y0\n", "x1\n", "y1\n", "x2\n", "y2\n"]
    assert [os.path.basename(p) for _, p in got][::2] == ["f0.txt", "f1.txt", "f2.txt"]
    assert db.read_text(str(tmp_path / "f0.txt"), linedelimiter="\r\n").compute(**SYNC) == ["x0\r\n", "y0\r\n"]
    delayed = db.read_text(str(tmp_path / "*.txt"), collection=False)
    assert [d.compute(**SYNC) for d in delayed][2] == ["x2\n", "y2\n"]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        db.read_text(str(tmp_path / "*.nothing"))


def test_blocksize_as_a_string_and_non_strings_refused_on_write(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line {i}\n" for i in range(20000)))
    b = db.read_text(str(path), blocksize="64KiB")
    assert b.npartitions == -(-path.stat().st_size // 65536)
    assert b.count().compute(**SYNC) == 20000
    with pytest.raises(TypeError, match="writes strings"):
        db.from_sequence([1, 2]).to_textfiles(str(tmp_path / "n-*.txt"), **SYNC)


@given(st.text(alphabet="ab\n\x0b\x1c\u2028é ", max_size=30))
def test_split_lines_breaks_only_at_newlines_whatever_else_the_text_holds(text):
    """The splitlines fast path must give what split-and-append gives: "\\v", "\\u2028"... stay in the line."""
    from graphflow.bag.text import _split_lines

    parts = text.split("\n")
    last = parts.pop()
    assert _split_lines(text, None) == [p + "\n" for p in parts] + ([last] if last else [])


pieces_text = st.text(alphabet="ab é\n\r\v\x85\u2028{}", max_size=40)


@settings(max_examples=60, deadline=None)
@given(pieces_text, st.integers(1, 9), st.sampled_from(["utf-8", "latin-1", "ascii"]), st.booleans())
@example("a\r\nb\r\nc", 2, "utf-8", False)  # a piece ending between "\r" and "\n"
@example("ab\n\u00e9\u00e9\u00e9\n\u00e9", 1, "utf-8", True)  # pieces ending inside a character
def test_streamed_lines_are_the_lines_of_the_whole_file(tmp_path_factory, text, piece, encoding, gz):
    """Read a few bytes at a time, cut after newlines: the same lines as reading the file whole, whatever
    breaks ("\\r\\n", "\\r", "\\v", U+2028...) the text holds and wherever the pieces end."""
    from graphflow.bag.text import _iter_lines, _read_lines, stream_pieces

    path = tmp_path_factory.mktemp("pieces") / ("t.txt.gz" if gz else "t.txt")
    data = text.encode(encoding, "replace")
    path.write_bytes(gzip.compress(data) if gz else data)
    comp = "gzip" if gz else None
    whole = _read_lines(str(path), 0, None, comp, encoding, "replace", None, False)
    assert list(stream_pieces(str(path), comp, encoding, "replace", piece)) == whole
    assert list(_iter_lines(str(path), 0, None, comp, encoding, "replace", None, True)) == [
        (line, str(path)) for line in whole]


def test_streamed_lines_raise_the_whole_files_decoding_error(tmp_path):
    from graphflow.bag.text import _read_lines, stream_pieces

    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n" * 100 + b"bad \xff here\n" + b"ok\n" * 10)
    with pytest.raises(UnicodeDecodeError) as whole:
        _read_lines(str(path), 0, None, None, "utf-8", "strict", None, False)
    streamed = stream_pieces(str(path), None, "utf-8", "strict", 16)
    assert [next(streamed) for _ in range(3)] == ["ok\n"] * 3  # lines before the bad piece come first
    with pytest.raises(UnicodeDecodeError) as piecewise:
        list(streamed)
    assert str(piecewise.value) == str(whole.value) and "position 304" in str(whole.value)


def test_fused_reads_stream_only_where_the_lines_are_the_same(tmp_path):
    """read_text -> map streams whole files in utf-8/latin-1/ascii; blocks, delimiters and UTF-16 read whole."""
    from graphflow.bag.text import _iter_lines

    (tmp_path / "a.txt").write_text("x\r\ny\n")
    (tmp_path / "u.txt").write_bytes("x\ny\n".encode("utf-16"))
    args = (0, None, None, "utf-8", "strict", None, False)
    assert not isinstance(_iter_lines(str(tmp_path / "a.txt"), *args), type(iter([])))
    assert isinstance(_iter_lines(str(tmp_path / "a.txt"), 0, 3, *args[2:]), type(iter([])))
    assert isinstance(_iter_lines(str(tmp_path / "a.txt"), *args[:5], "\n", False), type(iter([])))
    assert isinstance(_iter_lines(str(tmp_path / "u.txt"), 0, None, None, "utf-16", "strict", None, False),
                      type(iter([])))
    assert db.read_text(str(tmp_path / "u.txt"), encoding="utf-16").map(str.upper).compute(**SYNC) == ["X\n", "Y\n"]
    assert db.read_text(str(tmp_path / "a.txt")).map(str.upper).compute(**SYNC) == ["X\n", "Y\n"]
