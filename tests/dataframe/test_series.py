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


@pytest.mark.parametrize("op, kernel", [(operator.add, "add"), (operator.sub, "subtract"), (operator.mul, "multiply")])
def test_arithmetic_matches_pyarrow(df, table, op, kernel):
    got = op(df.x, df.y).to_arrow()
    assert got.equals(pc.call_function(kernel, [table["x"], table["y"].cast(pa.float64())]))
    assert op(df.y, 3).to_arrow().equals(pc.call_function(kernel, [table["y"], pa.scalar(3)]))


@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne])
def test_comparisons_are_pandas(df, table, op):
    """A missing value compares False (pandas), not null (Arrow)."""
    pdf = table.to_pandas()
    pd.testing.assert_series_equal(op(df.x, df.y).compute(), op(pdf.x, pdf.y))
    pd.testing.assert_series_equal(op(df.y, 3).compute(), op(pdf.y, 3))


def test_reflected_and_division(df, table):
    assert (10 - df.y).to_arrow().equals(pc.subtract(10, table["y"]))
    assert (df.y / 4).to_arrow().equals(pc.divide(table["y"].cast(pa.float64()), 4.0))
    assert (1 / df.x).to_arrow().equals(pc.divide(1.0, table["x"]))
    fl = (df.y // 7).to_arrow().to_pylist()
    assert fl == [None if v is None else float(v // 7) for v in table["y"].to_pylist()]
    assert (-df.y).to_arrow().equals(pc.negate(table["y"]))
    assert abs(df.y).to_arrow().equals(pc.abs(table["y"]))


def test_logic_is_pandas(df, table):
    pdf = table.to_pandas()
    a, b = pdf.x > 0, pdf.y < 0
    pd.testing.assert_series_equal(((df.x > 0) & (df.y < 0)).compute(), a & b)
    pd.testing.assert_series_equal(((df.x > 0) | (df.y < 0)).compute(), a | b)
    pd.testing.assert_series_equal((~(df.x > 0)).compute(), ~a)


def test_filter_drops_null_mask_rows(df, table):
    out = df[df.x > 0].to_arrow()
    assert len(df[df.x > 0].compute()) == out.num_rows == pc.sum(pc.greater(table["x"], 0)).as_py()
    assert df.x[df.x > 0].to_arrow().equals(out.column("x"))


def test_isin_between_fillna(df, table):
    pdf = table.to_pandas()
    pd.testing.assert_series_equal(df.s.isin(["apple", "fig"]).compute(), pdf.s.isin(["apple", "fig"]))
    pd.testing.assert_series_equal(df.y.between(-10, 10).compute(), pdf.y.between(-10, 10))
    assert df.y.fillna(0).to_arrow().null_count == 0
    assert df.x.isna().to_arrow().equals(pc.is_null(table["x"]))
    assert df.y.astype("float32").compute().dtype == "float32"


def test_str_accessor(df, table):
    s = table.to_pandas().s
    for name, ours, theirs in [("lower", df.s.str.lower(), s.str.lower()), ("upper", df.s.str.upper(), s.str.upper()),
                               ("len", df.s.str.len(), s.str.len()),
                               ("contains", df.s.str.contains("an"), s.str.contains("an")),
                               ("contains-case", df.s.str.contains("AN", case=False, regex=False),
                                s.str.contains("AN", case=False, regex=False)),
                               ("startswith", df.s.str.startswith("B"), s.str.startswith("B")),
                               ("replace", df.s.str.replace("a", "_"), s.str.replace("a", "_"))]:
        assert_like_pandas(ours.compute(), theirs, obj=name)


def test_dt_accessor(df, table):
    t = table.to_pandas().t
    for name in ("year", "month", "day", "hour"):
        assert_like_pandas(getattr(df.t.dt, name).compute(), getattr(t.dt, name), obj=name)
    assert_like_pandas(df.t.dt.floor("h").compute(), t.dt.floor("h"), obj="floor")
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
    pdf = table.to_pandas()
    # pandas holds the nullable int column as float64 (NaN); where() fills every null here, so our int64 stays
    pd.testing.assert_series_equal(df.y.where(df.y > 0, 0).compute(), pdf.y.where(pdf.y > 0, 0), check_dtype=False)
    pd.testing.assert_series_equal(df.y.between(-5, 5, inclusive="neither").compute(),
                                   pdf.y.between(-5, 5, inclusive="neither"))
    assert df.y.dropna().to_arrow().null_count == 0
    assert df.y.rename("z").to_arrow().equals(table["y"])
    assert list(df.y.to_frame("w").columns) == ["w"]
