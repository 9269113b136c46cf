"""Series: operators against pyarrow on the whole table (the Arrow path, to_arrow), isin/between, .str and .dt
accessors; the pandas results against pandas."""

import operator

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd

from .data import assert_like_pandas, needs_pandas, pd, random_table


@pytest.fixture(scope="module")
def table():
    return random_table(seed=3)


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=5)


@pytest.mark.parametrize("op, kernel", [
    (operator.add, "add"), (operator.sub, "subtract"), (operator.mul, "multiply"),
    (operator.lt, "less"), (operator.le, "less_equal"), (operator.gt, "greater"),
    (operator.ge, "greater_equal"), (operator.eq, "equal"), (operator.ne, "not_equal"),
])
def test_binary_ops_match_pyarrow(df, table, op, kernel):
    got = op(df.x, df.y).to_arrow()
    assert got.equals(pc.call_function(kernel, [table["x"], table["y"].cast(pa.float64())]))
    assert op(df.y, 3).to_arrow().equals(pc.call_function(kernel, [table["y"], pa.scalar(3)]))


def test_reflected_and_division(df, table):
    assert (10 - df.y).to_arrow().equals(pc.subtract(10, table["y"]))
    assert (df.y / 4).to_arrow().equals(pc.divide(table["y"].cast(pa.float64()), 4.0))
    assert (1 / df.x).to_arrow().equals(pc.divide(1.0, table["x"]))
    fl = (df.y // 7).to_arrow().to_pylist()
    assert fl == [None if v is None else float(v // 7) for v in table["y"].to_pylist()]
    assert (-df.y).to_arrow().equals(pc.negate(table["y"]))
    assert abs(df.y).to_arrow().equals(pc.abs(table["y"]))


def test_logic_is_kleene(df, table):
    a, b = pc.greater(table["x"], 0), pc.less(table["y"], 0)
    assert ((df.x > 0) & (df.y < 0)).to_arrow().equals(pc.and_kleene(a, b))
    assert ((df.x > 0) | (df.y < 0)).to_arrow().equals(pc.or_kleene(a, b))
    assert (~(df.x > 0)).to_arrow().equals(pc.invert(a))


def test_filter_drops_null_mask_rows(df, table):
    out = df[df.x > 0].to_arrow()
    assert len(df[df.x > 0].compute()) == out.num_rows == pc.sum(pc.greater(table["x"], 0)).as_py()
    assert df.x[df.x > 0].to_arrow().equals(out.column("x"))


def test_isin_between_fillna(df, table):
    got = df.s.isin(["apple", "fig"]).to_arrow().to_pylist()
    assert got == [v in ("apple", "fig") for v in table["s"].to_pylist()]
    between = df.y.between(-10, 10).to_arrow().to_pylist()
    assert between == [None if v is None else -10 <= v <= 10 for v in table["y"].to_pylist()]
    assert df.y.fillna(0).to_arrow().null_count == 0
    assert df.x.isna().to_arrow().equals(pc.is_null(table["x"]))
    assert df.y.astype("float32").dtype == pa.float32()


def test_str_accessor(df, table):
    s = table["s"]
    assert df.s.str.lower().to_arrow().equals(pc.utf8_lower(s))
    assert df.s.str.upper().to_arrow().equals(pc.utf8_upper(s))
    assert df.s.str.len().to_arrow().equals(pc.utf8_length(s))
    assert df.s.str.contains("an").to_arrow().equals(pc.match_substring_regex(s, "an"))
    assert df.s.str.contains("AN", case=False, regex=False).to_arrow().equals(
        pc.match_substring(s, "AN", ignore_case=True))
    assert df.s.str.startswith("B").to_arrow().equals(pc.starts_with(s, "B"))
    assert df.s.str.replace("a", "_").to_arrow().equals(pc.replace_substring_regex(s, "a", "_"))


def test_dt_accessor(df, table):
    t = table["t"]
    for name in ("year", "month", "day", "hour"):
        assert getattr(df.t.dt, name).to_arrow().equals(getattr(pc, name)(t)), name
    floored = df.t.dt.floor("h").to_arrow()
    assert floored.equals(pc.floor_temporal(t, 1, "hour"))
    with pytest.raises(ValueError, match="frequency"):
        df.t.dt.floor("fortnight")


def test_series_compute_type_and_head(df, table):
    out = df.k.compute()
    assert isinstance(out, pd.Series)
    pd.testing.assert_series_equal(out, table.to_pandas().k)
    arrow = df.k.to_arrow()
    assert isinstance(arrow, pa.ChunkedArray) and arrow.equals(table["k"])
    pd.testing.assert_series_equal(df.k.head(3), table.to_pandas().k.head(3))
    assert "dtype=int64" in repr(df.k)
    with pytest.raises(TypeError):
        bool(df.k > 0)


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    got = df.assign(z=df.x * 2 + df.y)[["z"]].to_pandas()
    expect = (pdf.x * 2 + pdf.y).rename("z")
    pd.testing.assert_series_equal(got.z, expect, check_dtype=False)
    for name, ours, theirs in [("x+y", df.x + df.y, pdf.x + pdf.y), ("x*y", df.x * df.y, pdf.x * pdf.y),
                               ("y/4", df.y / 4, pdf.y / 4), ("10-y", 10 - df.y, 10 - pdf.y),
                               ("1/x", 1 / df.x, 1 / pdf.x), ("-y", -df.y, -pdf.y), ("abs", abs(df.y), abs(pdf.y)),
                               ("lower", df.s.str.lower(), pdf.s.str.lower()), ("year", df.t.dt.year, pdf.t.dt.year)]:
        assert_like_pandas(ours.compute(), theirs, check_names=False, obj=name)


def test_where_and_between_variants(df, table):
    y = table["y"].to_pylist()
    got = df.y.where(df.y > 0, 0).to_arrow().to_pylist()
    assert got == [None if v is None else (v if v > 0 else 0) for v in y]
    assert df.y.between(-5, 5, inclusive="neither").to_arrow().to_pylist() == [
        None if v is None else -5 < v < 5 for v in y]
    assert df.y.dropna().to_arrow().null_count == 0
    assert df.y.rename("z").to_arrow().equals(table["y"])
    assert list(df.y.to_frame("w").columns) == ["w"]
