"""Lazy scalars behave like numbers: Scalar arithmetic, Series with Scalars, gd.compute, against pandas.

Every expression is computed by graphflow and by pandas on the same data;
values and types must agree (pandas' reductions give numpy scalars, so do
ours).  Results of frames and series are compared as pandas objects with a
fresh index, so the tests hold whether ``compute()`` returns Arrow or pandas.
"""

import datetime
import math
import operator
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow as gf
import graphflow.dataframe as gd
from graphflow.dataframe.colexpr import Call, Col, Lit, ScalarArg
from graphflow.dataframe.plan import Blockwise, FromTables, WithScalars, walk
from graphflow.dataframe.together import optimize_together
from graphflow.errors import LazyValueError, UnboundScalarError
from graphflow.spec import tokenize
from graphflow.spec.collections import collections_to_graph

from .data import needs_pandas, pd, random_table

pytestmark = needs_pandas

CASES = dict(max_examples=15, deadline=None)


def make_table(n=400, seed=0):
    """Ints without nulls (so pandas keeps int64), floats with nulls (NaN in pandas), strings, booleans."""
    rng = np.random.default_rng(seed)
    return pa.table({
        "i": pa.array(rng.integers(-20, 50, n), pa.int64()),
        "x": pa.array(rng.normal(size=n), mask=rng.random(n) < 0.1),
        "b": pa.array(rng.random(n) < 0.3),
        "s": pa.array(np.array(["apple", "fig", "kiwi", "date"])[rng.integers(0, 4, n)]),
    })


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.fixture(scope="module")
def pdf(table):
    return table.to_pandas()


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=6)


def as_pandas(result):
    """A computed Series or DataFrame as pandas with a fresh index."""
    if hasattr(result, "to_pandas"):
        result = result.to_pandas()
    return result.reset_index(drop=True)


def assert_same_scalar(got, exp):
    """Same value (NaN equal to NaN, floats to rounding) and the same Python/numpy type as pandas gives
    (a missing value: np.float64 NaN, as Dask gives, where pandas sometimes says float NaN)."""
    if isinstance(exp, (float, np.floating)) and math.isnan(exp):
        assert type(got) is np.float64 and math.isnan(got), got
        return
    assert type(got) is type(exp), (got, exp)
    if isinstance(exp, (float, np.floating)):
        assert got == pytest.approx(exp, rel=1e-9, abs=1e-12)
    else:
        assert got == exp


def assert_same_series(got, exp):
    got, exp = as_pandas(got), exp.reset_index(drop=True)
    assert got.dtype == exp.dtype, (got.dtype, exp.dtype)
    if exp.dtype.kind == "f":
        np.testing.assert_allclose(got.to_numpy(), exp.to_numpy(), rtol=1e-9, equal_nan=True)
    else:
        assert got.tolist() == exp.tolist()


# ------------------------------------------------------------------ Scalar.compute() is pandas' value


@pytest.mark.parametrize("col, how", [
    ("i", "sum"), ("i", "mean"), ("i", "min"), ("i", "max"), ("i", "count"), ("i", "nunique"), ("i", "std"),
    ("x", "sum"), ("x", "mean"), ("x", "max"), ("x", "count"), ("x", "var"),
    ("b", "sum"), ("b", "any"), ("b", "all"), ("s", "max"), ("s", "min"),
])
def test_reductions_compute_to_pandas_scalars(df, pdf, col, how):
    got = getattr(df[col], how)().compute()
    exp = getattr(pdf[col], how)()
    if how == "nunique":
        exp = np.int64(exp)  # pandas gives a Python int here, Dask an np.int64 (as we do)
    assert_same_scalar(got, exp)


def test_missing_values_are_nan_as_in_pandas(df, pdf):
    none = df[df.i > 1000]
    pnone = pdf[pdf.i > 1000]
    assert_same_scalar(none.x.mean().compute(), pnone.x.mean())
    assert_same_scalar(none.i.sum().compute(), pnone.i.sum())
    assert math.isnan(none.i.min().compute()) and math.isnan(pnone.i.min())


# ------------------------------------------------------------------ Scalar with numbers, and with Scalars

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
          operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("other", [3, -2.5, np.float32(0.5), np.int64(7), True])
def test_scalar_and_number_either_order(df, pdf, op, other):
    for col, how in (("i", "sum"), ("x", "mean"), ("i", "max")):
        s, ps = getattr(df[col], how)(), getattr(pdf[col], how)()
        left, right = op(s, other), op(other, s)
        assert isinstance(left, gd.Scalar) and isinstance(right, gd.Scalar)
        with np.errstate(all="ignore"):
            exp_left, exp_right = op(ps, other), op(other, ps)
        assert_same_scalar(left.compute(), exp_left)
        assert_same_scalar(right.compute(), exp_right)
        assert left.dtype == pa.scalar(exp_left).type  # known before computing


@pytest.mark.parametrize("op", BINARY + [operator.pow], ids=lambda f: f.__name__)
def test_scalar_and_scalar(df, pdf, op):
    pairs = [(df.i.sum(), df.x.mean(), pdf.i.sum(), pdf.x.mean()),
             (df.i.max(), df.i.count(), pdf.i.max(), pdf.i.count()),
             (df.x.std(), df.x.min(), pdf.x.std(), pdf.x.min())]
    for a, b, pa_, pb in pairs:
        with np.errstate(all="ignore"):
            exp = op(pa_, pb)
        assert_same_scalar(op(a, b).compute(), exp)


def test_unary_round_abs_and_chains(df, pdf):
    s, ps = df.x.sum(), pdf.x.sum()
    assert_same_scalar((-s).compute(), -ps)
    assert_same_scalar((+s).compute(), +ps)
    assert_same_scalar(abs(-df.i.sum()).compute(), abs(-pdf.i.sum()))
    assert_same_scalar(round(s, 2).compute(), round(ps, 2))
    assert_same_scalar(round(df.i.mean()).compute(), np.int64(round(pdf.i.mean())))  # numpy's type, not int
    assert_same_scalar((~(df.i.sum() > 0)).compute(), ~(pdf.i.sum() > 0))
    assert_same_scalar(((df.b.any()) & (df.i.min() < 0)).compute(), pdf.b.any() & (pdf.i.min() < 0))
    var = ((df.x - df.x.mean()) ** 2).sum() / (df.x.count() - 1)  # the variance, by hand
    assert_same_scalar(var.compute(), pdf.x.var())
    assert_same_scalar((1 + 2 * df.i.sum() / df.i.count() ** 2).compute(),
                       1 + 2 * pdf.i.sum() / pdf.i.count() ** 2)
    assert_same_scalar(sum([df.i.sum(), df.i.max(), 1]).compute(), sum([pdf.i.sum(), pdf.i.max(), 1]))


def test_numpy_scalars_defer_to_lazy_operands(df, pdf):
    s = np.float64(0.5) * df.i.sum()
    assert isinstance(s, gd.Scalar)
    assert_same_scalar(s.compute(), np.float64(0.5) * pdf.i.sum())
    col = np.int64(3) * df.i
    assert isinstance(col, gd.Series)
    assert_same_series(col.compute(), np.int64(3) * pdf.i)


def test_string_scalars(df, pdf):
    assert (df.s.max() + "!").compute() == pdf.s.max() + "!"
    assert bool((df.s.max() > df.s.min()).compute()) is True
    with pytest.raises(TypeError, match=r"unsupported operand.*\*"):
        df.s.max() * df.s.min()


def test_timestamp_scalars():
    table = random_table(n=300, seed=5)
    df, pdf = gd.from_arrow(table, npartitions=4), table.to_pandas()
    assert df.t.max().compute() == pdf.t.max() and isinstance(df.t.max().compute(), pd.Timestamp)
    span = (df.t.max() - df.t.min()).compute()
    assert isinstance(span, pd.Timedelta) and span == pdf.t.max() - pdf.t.min()
    cut = df.t.min() + datetime.timedelta(days=100)
    got = as_pandas(df[df.t > cut].compute())
    assert got.shape[0] == (pdf.t > pdf.t.min() + datetime.timedelta(days=100)).sum()
    since = as_pandas((df.t - df.t.min()).compute())
    assert since.dropna().tolist() == (pdf.t - pdf.t.min()).dropna().tolist()


def test_same_scalar_twice_reads_it_once(df, pdf):
    s = df.i.sum()
    assert len((s * s).expr.children) == 1
    twice = s * s - s
    assert_same_scalar(twice.compute(), pdf.i.sum() * pdf.i.sum() - pdf.i.sum())


# ------------------------------------------------------------------ Series with Scalar, Scalar with Series


SERIES_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.lt, operator.ge, operator.eq]


@pytest.mark.parametrize("op", SERIES_OPS, ids=lambda f: f.__name__)
def test_series_and_scalar_either_order(df, pdf, op):
    for col, scalar, pscalar in (("i", df.x.mean(), pdf.x.mean()),   # int column, float scalar: float64
                                 ("i", df.i.max(), pdf.i.max()),     # int with int: int64 (float64 for /)
                                 ("x", df.i.sum(), pdf.i.sum())):
        for got, exp in ((op(df[col], scalar), op(pdf[col], pscalar)), (op(scalar, df[col]), op(pscalar, pdf[col]))):
            assert isinstance(got, gd.Series)
            if exp.dtype == bool and col == "x":  # pyarrow: a comparison with a null is null, pandas: False
                got = got.fillna(False)
            assert got.arrow_type == pa.from_numpy_dtype(exp.dtype)  # the type, before computing
            assert_same_series(got.compute(), exp)


def test_filter_by_a_fraction_of_an_aggregate(df, pdf):
    """The issue's example: df[df.amount > 0.2 * df.amount.mean()]."""
    big = df[df.x > 0.2 * df.x.mean()]
    exp = pdf[pdf.x > 0.2 * pdf.x.mean()]
    got = as_pandas(big.compute())
    pd.testing.assert_frame_equal(got, exp.reset_index(drop=True), check_dtype=False)
    # and the filtered frame takes further columns and aggregates, aligned by rows as in pandas
    more = big.assign(share=big.i / big.i.sum(), z=df.i * 2, m=df.x.max())
    pexp = exp.assign(share=exp.i / exp.i.sum(), z=exp.i * 2, m=pdf.x.max())
    got = as_pandas(more.compute())
    pd.testing.assert_frame_equal(got, pexp.reset_index(drop=True), check_dtype=False)
    assert_same_scalar(big.i.sum().compute(), exp.i.sum())


def test_standardize_and_fill_with_aggregates(df, pdf):
    z = (df.x - df.x.mean()) / df.x.std()
    assert_same_series(z.compute(), (pdf.x - pdf.x.mean()) / pdf.x.std())
    assert_same_scalar(z.abs().max().compute(), ((pdf.x - pdf.x.mean()) / pdf.x.std()).abs().max())
    filled = df.x.fillna(df.x.mean())
    assert_same_series(filled.compute(), pdf.x.fillna(pdf.x.mean()))
    assert_same_series(df.i.where(df.i > 0, df.i.min()).compute(), pdf.i.where(pdf.i > 0, pdf.i.min()))


def test_a_missing_scalar_broadcasts_as_missing(df, pdf):
    nothing, pnothing = df.i[df.i > 1000].min(), pdf.i[pdf.i > 1000].min()  # NaN in pandas
    assert_same_series((df.x + nothing).compute(), pdf.x + pnothing)
    assert as_pandas(df[df.i > nothing].compute()).shape[0] == 0 == pdf[pdf.i > pnothing].shape[0]


def test_persisted_scalar_keeps_its_type(df, pdf):
    s = df.i.sum().persist(scheduler="sync")
    assert s.dtype == pa.int64()
    assert_same_scalar((s * 2).compute(), pdf.i.sum() * 2)
    assert_same_series((df.i - s).compute(), pdf.i - pdf.i.sum())


# ------------------------------------------------------------------ the plan: one pass, fused, nothing big pickled


def test_the_scalar_is_a_broadcast_input_and_the_tasks_hold_no_plan(df):
    s = df.x.mean()
    plan = df[df.x > s].optimized_plan()
    assert isinstance(plan, Blockwise) and isinstance(plan.op, WithScalars)
    assert plan.broadcast == (False, True) and isinstance(plan.children[0], FromTables)
    leaf = ScalarArg(s.expr.name, pa.float64(), s.expr)
    assert pickle.loads(pickle.dumps(leaf)).plan is None
    assert len(pickle.dumps(plan.op)) < 2000  # tokens only: the table behind the scalar stays out


def test_formulas_pickle_with_their_kernel_options():
    """CastOptions (every '/' on a Series casts) do not pickle in pyarrow; a Call ships them as bytes."""
    t = pa.table({"a": [1, 2, None]})
    e = Call("divide", [Call("cast", [Col("a")], pc.CastOptions.safe(pa.float64())), Lit(2.0)])
    back = pickle.loads(pickle.dumps(e))
    assert back.evaluate(t).equals(e.evaluate(t))
    assert tokenize(back) == tokenize(e)


def test_fusion_sees_through_scalars(df):
    df2 = df.assign(y=df.x * 2)
    q = df2[df2.y > df.x.mean()][["i", "y"]]
    plan = q.optimized_plan()
    partitionwise = [n for n in walk(plan) if isinstance(n, Blockwise) and n.npartitions == df.npartitions
                     and isinstance(n.op, WithScalars)]
    assert len(partitionwise) == 1  # assign, filter and projection: one task per partition
    assert isinstance(plan.children[0], FromTables)


def test_two_aggregates_share_the_read(tmp_path, table, pdf):
    for k in range(3):
        pq.write_table(table.slice(k * 150, 150), tmp_path / f"part{k}.parquet")
    df = gd.read_parquet(str(tmp_path))
    a, b = df.x.sum(), df.i.max()

    def reads(*collections):
        return {k[0] for c in collections for k in c.__graphflow_graph__() if "read-parquet" in str(k[0])}

    assert len(reads(a, b)) == 2  # each alone reads only its own column
    assert len(reads(*optimize_together([a, b]))) == 1  # together: one read of both columns
    assert len(reads(a / b)) == 1  # one ScalarCombine over both: one read
    assert len(reads(df[df.x > 0.2 * df.x.mean()])) == 1
    got_a, got_b, got_q = gd.compute(a, b, df[df.x > a / 400])
    assert_same_scalar(got_a, pdf.x.sum())
    assert_same_scalar(got_b, pdf.i.max())
    assert as_pandas(got_q).shape[0] == (pdf.x > pdf.x.sum() / 400).sum()


def test_collections_computed_together_are_lowered_once(df, pdf):
    """gf.compute(a, b) over one in-memory frame: one graph node per source partition, built by one lowering
    (merging two lowerings compared the partitions' tokens: hashing all their data)."""
    a, b, s = df.x.sum(), df[df.i > df.i.mean()], df.i.max()
    graph = collections_to_graph([a, b, s])
    sources = [k for k in graph if str(k[0]).startswith("from-arrow")]
    assert len(sources) == df.npartitions
    persisted = s.persist(scheduler="sync")
    got_a, got_b, got_s, got_p = gf.compute(a, b, s, persisted, scheduler="sync")
    assert_same_scalar(got_a, pdf.x.sum())
    assert as_pandas(got_b).shape[0] == (pdf.i > pdf.i.mean()).sum()
    assert got_s == got_p == pdf.i.max()


def test_compute_takes_anything_graphflow_compute_takes(df, pdf):
    d = gf.delayed(lambda v: v + 1)(1)
    out = gd.compute({"sum": df.i.sum(), "n": [df.i.count(), 5]}, d, "plain", scheduler="sync")
    assert out[1:] == (2, "plain")
    assert_same_scalar(out[0]["sum"], pdf.i.sum())
    assert out[0]["n"][1] == 5 and out[0]["n"][0] == len(pdf)
    assert gd.compute() == ()


@settings(**CASES)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 120), parts=st.integers(1, 7),
       op=st.sampled_from(BINARY + [operator.pow]), factor=st.floats(-3, 3, allow_nan=False),
       reflect=st.booleans())
def test_any_partitioning(seed, n, parts, op, factor, reflect):
    table = make_table(n=n, seed=seed)
    pdf = table.to_pandas()
    df = gd.from_arrow(table, npartitions=max(1, min(parts, n)))
    s, ps = df.x.mean() * factor, pdf.x.mean() * factor
    a, pa_ = df.i.sum(), pdf.i.sum()
    with np.errstate(all="ignore"):
        exp = op(ps, pa_) if reflect else op(pa_, ps)
    got, filtered = gd.compute(op(s, a) if reflect else op(a, s), df[df.i > s], scheduler="sync")
    assert_same_scalar(got, exp)
    assert as_pandas(filtered).i.tolist() == pdf[pdf.i > ps].i.tolist()
    assert_same_series((df.i * s - a).compute(scheduler="sync"), pdf.i * ps - pa_)


# ------------------------------------------------------------------ bad input


def test_a_lazy_scalar_has_no_truth_value(df):
    s = df.i.sum()
    with pytest.raises(LazyValueError, match="lazy Scalar.*compute"):
        if s > 0:
            pass
    for convert in (bool, int, float, range):
        with pytest.raises(TypeError, match="lazy Scalar"):
            convert(s)


def test_unsupported_operands_are_type_errors(df):
    s = df.i.sum()
    for bad in ([1, 2], {"a": 1}, None, object(), 1j):
        with pytest.raises(TypeError, match="unsupported operand"):
            s + bad
        with pytest.raises(TypeError):  # [1, 2] * s asks for an index: a LazyValueError
            bad * s
    with pytest.raises(TypeError, match=r"unsupported operand.*\+.*Scalar of int64.*str"):
        s + "a"  # found when written, not when computed
    with pytest.raises(ValueError, match="negative integer powers"):  # numpy's (and pandas') error
        s ** -1
    with pytest.raises(TypeError):  # the Series says which types (at once, not at compute)
        df.s.max() - df.i
    assert not hasattr(s, "__len__")


def test_a_scalar_where_none_can_go_says_so(df):
    leaf = ScalarArg("some-scalar", pa.int64())
    with pytest.raises(UnboundScalarError, match="cannot take a lazy Scalar"):
        leaf.evaluate(pa.table({"a": [1]}))


# ------------------------------------------------------------------ unchanged on a cluster


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def test_on_a_cluster(client, df, pdf):
    """The same expressions on worker processes: every op and value pickles."""
    avg = df.x.mean()
    big = df[df.x > 0.2 * avg].assign(r=df.i / df.i.sum(), m=avg)
    got_big, got_r, got_z = gd.compute(big, round(avg * 100 / df.i.count(), 3), (df.i - avg) / df.x.std())
    exp = pdf[pdf.x > 0.2 * pdf.x.mean()]
    exp = exp.assign(r=exp.i / pdf.i.sum(), m=pdf.x.mean())
    pd.testing.assert_frame_equal(as_pandas(got_big), exp.reset_index(drop=True), check_dtype=False)
    assert_same_scalar(got_r, round(pdf.x.mean() * 100 / pdf.i.count(), 3))
    assert_same_series(got_z, (pdf.i - pdf.x.mean()) / pdf.x.std())
    assert_same_scalar((df.i.sum() // 7).compute(), pdf.i.sum() // 7)
