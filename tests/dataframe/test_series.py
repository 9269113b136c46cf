"""Series: operators against pyarrow on the whole table, isin/between, .str and .dt accessors."""

import operator

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow.dataframe as gd

from .data import needs_pandas, pd, random_table


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
    got = op(df.x, df.y).compute()
    assert got.equals(pc.call_function(kernel, [table["x"], table["y"].cast(pa.float64())]))
    assert op(df.y, 3).compute().equals(pc.call_function(kernel, [table["y"], pa.scalar(3)]))


def test_reflected_and_division(df, table):
    assert (10 - df.y).compute().equals(pc.subtract(10, table["y"]))
    assert (df.y / 4).compute().equals(pc.divide(table["y"].cast(pa.float64()), 4.0))
    assert (1 / df.x).compute().equals(pc.divide(1.0, table["x"]))
    fl = (df.y // 7).compute().to_pylist()
    assert fl == [None if v is None else float(v // 7) for v in table["y"].to_pylist()]
    assert (-df.y).compute().equals(pc.negate(table["y"]))
    assert abs(df.y).compute().equals(pc.abs(table["y"]))


def test_logic_is_kleene(df, table):
    a, b = pc.greater(table["x"], 0), pc.less(table["y"], 0)
    assert ((df.x > 0) & (df.y < 0)).compute().equals(pc.and_kleene(a, b))
    assert ((df.x > 0) | (df.y < 0)).compute().equals(pc.or_kleene(a, b))
    assert (~(df.x > 0)).compute().equals(pc.invert(a))


def test_filter_drops_null_mask_rows(df, table):
    out = df[df.x > 0].compute()
    assert out.num_rows == pc.sum(pc.greater(table["x"], 0)).as_py()
    assert df.x[df.x > 0].compute().equals(out.column("x"))


def test_isin_between_fillna(df, table):
    got = df.s.isin(["apple", "fig"]).compute().to_pylist()
    assert got == [v in ("apple", "fig") for v in table["s"].to_pylist()]
    between = df.y.between(-10, 10).compute().to_pylist()
    assert between == [None if v is None else -10 <= v <= 10 for v in table["y"].to_pylist()]
    assert df.y.fillna(0).compute().null_count == 0
    assert df.x.isna().compute().equals(pc.is_null(table["x"]))
    assert df.y.astype("float32").dtype == pa.float32()


def test_str_accessor(df, table):
    s = table["s"]
    assert df.s.str.lower().compute().equals(pc.utf8_lower(s))
    assert df.s.str.upper().compute().equals(pc.utf8_upper(s))
    assert df.s.str.len().compute().equals(pc.utf8_length(s))
    assert df.s.str.contains("an").compute().equals(pc.match_substring_regex(s, "an"))
    assert df.s.str.contains("AN", case=False, regex=False).compute().equals(
        pc.match_substring(s, "AN", ignore_case=True))
    assert df.s.str.startswith("B").compute().equals(pc.starts_with(s, "B"))
    assert df.s.str.replace("a", "_").compute().equals(pc.replace_substring_regex(s, "a", "_"))


def test_dt_accessor(df, table):
    t = table["t"]
    for name in ("year", "month", "day", "hour"):
        assert getattr(df.t.dt, name).compute().equals(getattr(pc, name)(t)), name
    floored = df.t.dt.floor("h").compute()
    assert floored.equals(pc.floor_temporal(t, 1, "hour"))
    with pytest.raises(ValueError, match="frequency"):
        df.t.dt.floor("fortnight")


def test_series_compute_type_and_head(df, table):
    out = df.k.compute()
    assert isinstance(out, pa.ChunkedArray) and out.equals(table["k"])
    assert df.k.head(3).to_pylist() == table["k"].slice(0, 3).to_pylist()
    assert "dtype=int64" in repr(df.k)
    with pytest.raises(TypeError):
        bool(df.k > 0)


@needs_pandas
def test_against_pandas(df, table):
    pdf = table.to_pandas()
    got = df.assign(z=df.x * 2 + df.y)[["z"]].to_pandas()
    expect = (pdf.x * 2 + pdf.y).rename("z")
    pd.testing.assert_series_equal(got.z, expect, check_dtype=False)


def test_where_and_between_variants(df, table):
    y = table["y"].to_pylist()
    got = df.y.where(df.y > 0, 0).compute().to_pylist()
    assert got == [None if v is None else (v if v > 0 else 0) for v in y]
    assert df.y.between(-5, 5, inclusive="neither").compute().to_pylist() == [
        None if v is None else -5 < v < 5 for v in y]
    assert df.y.dropna().compute().null_count == 0
    assert df.y.rename("z").compute().equals(table["y"])
    assert df.y.to_frame("w").columns == ["w"]
