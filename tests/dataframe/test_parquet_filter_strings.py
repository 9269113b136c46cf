"""A string column that only a pushed-down filter reads is decoded as a dictionary (much cheaper for the
low-cardinality strings of real tables); the rows kept are the same whatever kernel the filter uses."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.io.parquet import read_piece


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(4)
    n = 3000
    pdf = pd.DataFrame({"x": rng.normal(size=n), "mode": rng.choice(["AIR", "AIR REG", "RAIL", None], n),
                        "how": rng.choice(["DELIVER IN PERSON", "NONE", "TAKE BACK RETURN"], n)})
    d = tmp_path_factory.mktemp("strings")
    for i in range(3):
        pq.write_table(pa.Table.from_pandas(pdf.iloc[i * 1000:(i + 1) * 1000], preserve_index=False),
                       d / f"part.{i}.parquet")
    return str(d), pdf


@pytest.mark.api("read_parquet")
@pytest.mark.parametrize("kind", ["equal", "isin", "startswith", "contains"])
def test_filter_only_string_columns(files, kind):
    path, pdf = files
    df = gd.read_parquet(path)

    def keep(frame):
        if kind == "equal":
            return frame["how"] == "DELIVER IN PERSON"
        if kind == "isin":
            return frame["mode"].isin(["AIR", "AIR REG"]) & (frame["how"] != "NONE")
        if kind == "startswith":
            return frame["mode"].str.startswith("AIR")
        return frame["how"].str.contains("BACK")

    got = df[keep(df)][["x"]].compute(scheduler="sync")
    want = pdf[keep(pdf).fillna(False).astype(bool)][["x"]]
    assert sorted(got.x) == sorted(want.x) and len(want) > 0


def test_read_piece_keeps_the_wanted_types(files):
    """Only the filter's own columns are dictionary-coded; the columns read out keep the file's types."""
    from graphflow.dataframe.colexpr import Call, Col, Lit

    path, _ = files
    pred = Call("equal", [Col("how"), Lit("NONE")])
    out = read_piece(f"{path}/part.0.parquet", None, ["x", "mode"], pred)
    stored = pq.ParquetFile(f"{path}/part.0.parquet").schema_arrow.field("mode").type
    assert out.schema.field("mode").type == stored and out.column_names == ["x", "mode"]
    assert len(out) > 0 and set(out.column("mode").drop_null().to_pylist()) <= {"AIR", "AIR REG", "RAIL"}


def test_only_strings_with_few_distinct_values_are_read_as_dictionaries(tmp_path):
    """Hashing a nearly unique column (TPC-H's comments) into a dictionary costs about twice its plain read,
    so the stored bytes a row decide: ship modes yes, comments no; the rows kept are the same either way."""
    from graphflow.dataframe.io.parquet import _few_distinct

    rng = np.random.default_rng(5)
    n = 20_000
    comments = ["".join(rng.choice(list("abcdefghij "), 30)) for _ in range(n)]
    modes = rng.choice(["AIR", "RAIL", "SHIP"], n)
    pq.write_table(pa.table({"x": np.arange(n), "comment": comments, "mode": modes}), tmp_path / "t.parquet")
    md = pq.ParquetFile(tmp_path / "t.parquet").metadata
    assert _few_distinct(md, "mode", None) and _few_distinct(md, "mode", 0)
    assert not _few_distinct(md, "comment", None)
    df = gd.read_parquet(str(tmp_path))
    got = df[df.comment.str.contains("a.*b") & (df["mode"] == "AIR")].x.compute(scheduler="sync")
    pdf = pd.DataFrame({"x": np.arange(n), "comment": comments, "mode": modes})
    assert sorted(got) == sorted(pdf[pdf.comment.str.contains("a.*b") & (pdf["mode"] == "AIR")].x)


def test_strings_read_out_are_decoded_as_dictionaries_then_plain(files, monkeypatch):
    """A low-cardinality string column the query reads (not only filters on) is decoded as a dictionary too
    (TPC-H q1's flags: ~2x cheaper even with the cast back) and handed on in the file's own type, the same
    values as a plain read, filtered or not."""
    import graphflow.dataframe.io.parquet as parquet_module
    from graphflow.dataframe.colexpr import Call, Col, Lit

    path, _ = files
    file = f"{path}/part.1.parquet"
    asked = []
    real = parquet_module.open_parquet

    def spy(p, **kw):
        asked.append(kw.get("read_dictionary"))
        return real(p, **kw)

    monkeypatch.setattr(parquet_module, "open_parquet", spy)
    plain = pq.read_table(file, columns=["mode", "how", "x"])
    got = read_piece(file, None, ["mode", "how", "x"], None)
    assert ["mode", "how"] in [sorted(a, reverse=True) for a in asked if a]
    assert got.schema == plain.schema and got.equals(plain)
    pred = Call("equal", [Col("how"), Lit("NONE")])
    kept = read_piece(file, None, ["x", "mode"], pred)
    want = plain.filter(pc.equal(plain.column("how"), "NONE")).select(["x", "mode"])
    assert kept.schema == want.schema and kept.equals(want) and 0 < len(kept) < len(plain)


def test_a_string_function_filter_on_a_column_read_out(files):
    """A filter kernel without dictionary support (starts_with) on a dictionary-read column that is also read
    out: the column is decoded once for the filter and handed on in the file's type."""
    from graphflow.dataframe.colexpr import Call, Col

    path, _ = files
    file = f"{path}/part.2.parquet"
    plain = pq.read_table(file, columns=["x", "mode"])
    pred = Call("starts_with", [Col("mode")], pc.MatchSubstringOptions("AIR"))
    kept = read_piece(file, None, ["x", "mode"], pred)
    want = plain.filter(pc.fill_null(pc.starts_with(plain.column("mode"), "AIR"), False))
    assert kept.schema == want.schema and kept.equals(want) and 0 < len(kept) < len(plain)
