"""The row-local methods (graphflow/dataframe/methods.py) give what pandas gives on the same data."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

from .data import random_table, same

SYNC = {"scheduler": "sync"}


def frames(n=60, seed=0, nparts=3):
    pdf = random_table(n, seed).to_pandas()
    return pdf, gd.from_pandas(pdf, npartitions=nparts)


partitionings = st.integers(min_value=1, max_value=7)


@pytest.mark.api("Series.add", "Series.sub", "Series.mul", "Series.div", "Series.truediv", "Series.floordiv",
                 "Series.pow", "Series.radd", "Series.rsub", "Series.rmul", "Series.rdiv", "Series.rtruediv",
                 "Series.rfloordiv", "Series.rpow", "Series.mod", "Series.rmod")
@settings(max_examples=15, deadline=None)
@given(nparts=partitionings, name=st.sampled_from(["add", "sub", "mul", "div", "truediv", "floordiv", "pow",
                                                   "mod"]),
       fill=st.sampled_from([None, 0, 1.5]), reflect=st.booleans())
def test_series_arithmetic_methods_match_pandas(nparts, name, fill, reflect):
    pdf, df = frames(nparts=nparts)
    method = f"r{name}" if reflect else name
    other_p, other_g = (pdf.y, df.y) if name != "pow" else (2, 2)
    expected = getattr(pdf.x, method)(other_p, fill_value=fill)
    same(getattr(df.x, method)(other_g, fill_value=fill), expected, check_dtype=False)


@pytest.mark.api("DataFrame.add", "DataFrame.sub", "DataFrame.mul", "DataFrame.div", "DataFrame.truediv",
                 "DataFrame.floordiv", "DataFrame.pow", "DataFrame.radd", "DataFrame.rsub", "DataFrame.rmul",
                 "DataFrame.rdiv", "DataFrame.rtruediv", "DataFrame.rfloordiv", "DataFrame.rpow",
                 "DataFrame.mod", "DataFrame.rmod")
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "truediv", "floordiv", "pow", "mod"])
def test_frame_arithmetic_with_a_scalar_matches_pandas(name):
    pdf, df = frames()
    cols = ["x", "y"]
    for method in (name, f"r{name}"):
        same(getattr(df[cols], method)(3), getattr(pdf[cols], method)(3), check_dtype=False)


@pytest.mark.api("DataFrame.eq", "DataFrame.ne", "DataFrame.lt", "DataFrame.le", "DataFrame.gt", "DataFrame.ge",
                 "Series.eq", "Series.ne", "Series.lt", "Series.le", "Series.gt", "Series.ge")
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_match_pandas(name):
    pdf, df = frames()
    pdf = pdf.dropna(subset=["x", "y"])
    df = df.dropna(subset=["x", "y"])
    same(getattr(df.x, name)(df.y), getattr(pdf.x, name)(pdf.y))
    same(getattr(df[["x", "y"]], name)(0), getattr(pdf[["x", "y"]], name)(0))


def test_frame_operators_work_column_by_column():
    pdf, df = frames()
    cols = ["x", "y"]
    for op in (operator.add, operator.mul, operator.truediv, operator.gt):
        same(op(df[cols], 2), op(pdf[cols], 2), check_dtype=False)
        same(op(2, df[cols]), op(2, pdf[cols]), check_dtype=False)
    sub = df[cols]
    same(sub + sub, pdf[cols] + pdf[cols])


@pytest.mark.api("DataFrame.clip", "Series.clip", "DataFrame.round", "Series.round", "DataFrame.abs",
                 "Series.abs")
@settings(max_examples=10, deadline=None)
@given(nparts=partitionings, lower=st.sampled_from([None, -0.5, -10]), upper=st.sampled_from([None, 0.5, 20]))
def test_clip_round_abs_match_pandas(nparts, lower, upper):
    pdf, df = frames(nparts=nparts)
    cols = ["x", "y"]
    same(df[cols].clip(lower=lower, upper=upper), pdf[cols].clip(lower=lower, upper=upper), check_dtype=False)
    same(df.x.clip(lower, upper), pdf.x.clip(lower, upper))
    same(df.x.round(2), pdf.x.round(2))
    same(df[cols].round(1), pdf[cols].round(1))
    same(df[cols].abs(), pdf[cols].abs())
    same(df.y.abs(), pdf.y.abs(), check_dtype=False)


@pytest.mark.api("DataFrame.mask", "Series.mask", "DataFrame.where", "Series.where")
def test_where_and_mask_match_pandas():
    pdf, df = frames()
    same(df.x.mask(df.y > 0), pdf.x.mask(pdf.y > 0))
    same(df.x.where(df.y > 0), pdf.x.where(pdf.y > 0))
    same(df.x.mask(df.y > 0, 0.0), pdf.x.mask(pdf.y > 0, 0.0))
    sub, psub = df[["x", "y"]], pdf[["x", "y"]]
    same(sub.where(sub.y > 0), psub.where(psub.y > 0), check_dtype=False)
    same(sub.mask(sub.y > 0), psub.mask(psub.y > 0), check_dtype=False)


@pytest.mark.api("DataFrame.replace", "Series.replace")
def test_replace_matches_pandas():
    pdf, df = frames()
    same(df.replace({"apple": "APPLE"}), pdf.replace({"apple": "APPLE"}))
    same(df.s.replace("fig", "FIG"), pdf.s.replace("fig", "FIG"))
    same(df.k.replace([1, 2], 99), pdf.k.replace([1, 2], 99))


@pytest.mark.api("DataFrame.isna", "DataFrame.isnull", "DataFrame.notna", "DataFrame.notnull", "Series.isna",
                 "Series.isnull", "Series.notna", "Series.notnull")
def test_missing_value_tests_match_pandas():
    pdf, df = frames()
    for name in ("isna", "isnull", "notna", "notnull"):
        same(getattr(df, name)(), getattr(pdf, name)())
        same(getattr(df.x, name)(), getattr(pdf.x, name)())


@pytest.mark.api("DataFrame.shape", "DataFrame.size", "DataFrame.ndim", "Series.shape", "Series.size",
                 "Series.ndim")
def test_shape_size_ndim():
    pdf, df = frames(nparts=4)
    rows, cols = df.shape
    assert (rows.compute(**SYNC), cols) == pdf.shape
    assert df.size.compute(**SYNC) == pdf.size
    assert df.x.size.compute(**SYNC) == pdf.x.size
    assert df.x.shape[0].compute(**SYNC) == len(pdf)
    assert (df.ndim, df.x.ndim) == (pdf.ndim, pdf.x.ndim)


def test_empty_says_it_is_not_lazy():
    _, df = frames()
    with pytest.raises(NotImplementedError, match="len"):
        df.empty


@pytest.mark.api("DataFrame.select_dtypes", "DataFrame.add_prefix", "DataFrame.add_suffix", "DataFrame.pop",
                 "DataFrame.copy", "Series.copy", "DataFrame.pipe", "Series.pipe")
def test_column_bookkeeping_matches_pandas():
    pdf, df = frames()
    same(df.select_dtypes("number"), pdf.select_dtypes("number"))
    same(df.select_dtypes(exclude=["number"]), pdf.select_dtypes(exclude=["number"]))
    same(df.add_prefix("p_"), pdf.add_prefix("p_"))
    same(df.add_suffix("_s"), pdf.add_suffix("_s"))
    popped_g, popped_p = df.copy(), pdf.copy()
    same(popped_g.pop("x"), popped_p.pop("x"))
    same(popped_g, popped_p)
    assert "x" in list(df.columns)  # pop changed the copy only
    same(df.x.copy(), pdf.x.copy())
    same(df.pipe(lambda d, c: d[c], "y"), pdf.pipe(lambda d, c: d[c], "y"))


@pytest.mark.api("DataFrame.query", "DataFrame.eval")
@settings(max_examples=10, deadline=None)
@given(nparts=partitionings)
def test_query_and_eval_match_pandas(nparts):
    pdf, df = frames(nparts=nparts)
    same(df.query("y > 10 and k < 5"), pdf.query("y > 10 and k < 5"))
    same(df.eval("x + y"), pdf.eval("x + y"))
    same(df.eval("z = x * 2"), pdf.eval("z = x * 2"))


@pytest.mark.api("DataFrame.apply", "Series.apply", "Series.map", "DataFrame.map", "DataFrame.applymap")
def test_apply_and_map_match_pandas():
    pdf, df = frames()
    same(df.apply(lambda r: r.k * 2 + 1, axis=1, meta=(None, "int64")), pdf.apply(lambda r: r.k * 2 + 1, axis=1))
    same(df.apply(lambda r: r.k * 2 + 1, axis=1), pdf.apply(lambda r: r.k * 2 + 1, axis=1))
    same(df.k.apply(lambda v: v % 3), pdf.k.apply(lambda v: v % 3))
    mapping = {"apple": 1, "fig": 2}
    same(df.s.map(mapping), pdf.s.map(mapping))
    same(df[["k", "y"]].map(lambda v: v * 2), pdf[["k", "y"]].map(lambda v: v * 2))
    with pytest.raises(NotImplementedError, match="axis=1"):
        df.apply(np.sum, axis=0)


def test_methods_are_lazy_and_do_not_compute():
    _, df = frames()
    out = df.x.add(df.y, fill_value=0).clip(0, 5).round(1)
    assert out.npartitions == df.npartitions
