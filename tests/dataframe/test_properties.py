"""Property tests: any partitioning gives pandas' answer on the whole table (hypothesis)."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

from .data import assert_like_pandas, pd, random_table

CASES = dict(max_examples=12, deadline=None)


@settings(**CASES)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 300), parts=st.integers(1, 9),
       threshold=st.floats(-1.5, 1.5))
def test_filter_groupby_any_partitioning(seed, n, parts, threshold):
    table = random_table(n=n, seed=seed, groups=5)
    df = gd.from_arrow(table, npartitions=parts)
    q = df[df.x > threshold].groupby(["k2", "k"]).agg({"y": ["sum", "count"], "x": "max"})
    got = q.compute(scheduler="sync")
    pdf = table.to_pandas()
    exp = pdf[pdf.x > threshold].groupby(["k2", "k"]).agg({"y": ["sum", "count"], "x": "max"})
    assert_like_pandas(got, exp, sort=True, check_index_type=len(exp) > 0)


@settings(**CASES)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), parts=st.integers(1, 9), out=st.integers(1, 5))
def test_sort_and_shuffle_join_any_partitioning(seed, n, parts, out):
    table = random_table(n=n, seed=seed, groups=7)
    df = gd.from_arrow(table, npartitions=parts)
    got = df.sort_values(["k", "y"], npartitions=out).compute(scheduler="sync")
    pdf = table.to_pandas()
    exp = pdf.sort_values(["k", "y"], ignore_index=True)  # nulls last, as pandas puts them
    pd.testing.assert_frame_equal(got[["k", "y"]], exp[["k", "y"]].astype(got[["k", "y"]].dtypes.to_dict()))
    right = pa.table({"k": pa.array(range(7)), "label": [f"g{i}" for i in range(7)]})
    joined = df.merge(gd.from_arrow(right, npartitions=2), on="k", how="left", broadcast=False,
                      npartitions=out).compute(scheduler="sync")
    assert len(joined) == table.num_rows
    exp = pdf.merge(right.to_pandas(), on="k", how="left")
    assert sorted(joined["label"].tolist()) == sorted(exp["label"].tolist()) == sorted(f"g{k}" for k in pdf.k)
