"""groupby(...).col.nunique() by distinct (key, value) pairs (graphflow/dataframe/nunique.py), against pandas:
tree and shuffle, integer keys (the packed path) and string/null ones (the grouping path)."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.nunique import NuniquePlan


def _frame(seed, n=3000):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"k": rng.integers(-50, 400, n), "v": rng.integers(0, 12, n),
                         "s": rng.choice(["x", "y", "z", None], n), "f": rng.choice([1.5, 2.5, np.nan], n)})


@pytest.mark.api("SeriesGroupBy.nunique")
@pytest.mark.parametrize("split_out", [None, 1, 3])
@pytest.mark.parametrize("key,value", [("k", "v"), ("k", "s"), ("s", "v"), ("k", "f"), (["s", "v"], "k")])
def test_nunique_matches_pandas(split_out, key, value):
    pdf = _frame(11)
    df = gd.from_pandas(pdf, npartitions=5)
    got = df.groupby(key)[value].nunique(split_out=split_out).compute(scheduler="sync")
    want = pdf.groupby(key)[value].nunique()
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_dtype=False)


def test_uses_pairs_not_lists():
    df = gd.from_pandas(_frame(2), npartitions=3)
    plans = [n.agg for n in df.groupby("k").v.nunique().optimized_plan().children if hasattr(n, "agg")]
    assert plans and isinstance(plans[0], NuniquePlan)


def test_packed_count_equals_grouped_count():
    """Integer keys without nulls take the packed numpy path; it agrees with pyarrow's count_distinct."""
    import pyarrow as pa

    pdf = _frame(4, n=20000)
    plan = NuniquePlan(["k"], "v", "v", sort=True, dropna=True)
    table = pa.table({"k": pdf.k.to_numpy(), "v": pdf.v.to_numpy()})
    got = plan.merge_finalize([plan.shuffle_chunk(table.slice(0, 7000)), plan.shuffle_chunk(table.slice(7000))])
    want = pdf.groupby("k").v.nunique()
    assert got.column("k").to_pylist() == list(want.index)
    assert got.column("v").to_pylist() == list(want.to_numpy())
