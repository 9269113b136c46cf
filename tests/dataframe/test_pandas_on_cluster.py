"""The pandas-semantics surface of graphflow.dataframe, unchanged on a real LocalCluster.

One cluster for the module (``gf.LocalCluster(n_workers=2, threads_per_worker=1)``: a scheduler and two
worker processes over zmq, with a `Client` set as the default scheduler), and a cross-section of the pandas
surface run on it, each result compared with pandas on the same data.  Every plan op, user function and
reader runs in a worker process, so whatever does not pickle (pyarrow's compute options did not), leans on
module state of the client's process, or reads a path only the client can see fails here while it passes
under ``scheduler="sync"``.

Data: a small frame with nulls, strings and timestamps (``frame``), split into 4 partitions.
"""

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import graphflow as gf
import graphflow.dataframe as gd


@pytest.fixture(scope="module")
def client():
    # no dashboard: several test processes may share the machine, and the fixed default port would clash
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with gf.Client(cluster) as c:
            yield c


def frame(n=400, seed=7):
    """A pandas frame with an int key, a float with nulls, strings with nulls and timestamps with nulls."""
    rng = np.random.default_rng(seed)
    words = np.array(["apple", "Banana", "cherry", "date", "Elder", "fig"])
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    s = pd.array(words[rng.integers(0, len(words), n)], dtype="str")
    s[rng.random(n) < 0.1] = None
    t = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400 * 24, n), unit="h"))
    t[rng.random(n) < 0.05] = pd.NaT
    return pd.DataFrame({
        "k": rng.integers(0, 9, n),
        "name": pd.array(words[rng.integers(0, 3, n)], dtype="str"),
        "x": x,
        "y": rng.integers(-50, 50, n),
        "s": s,
        "t": t,
    })


@pytest.fixture(scope="module")
def data():
    pdf = frame()
    return pdf, gd.from_pandas(pdf, npartitions=4)


def by_index(obj):
    """Sorted by index, then values: Dask gives no row order within equal keys, nor between shuffle outputs."""
    if isinstance(obj, pd.Series):
        return obj.sort_index(kind="stable")
    return obj.reset_index().sort_values(list(obj.reset_index().columns)).set_index(list(obj.index.names))


def by_values(df):
    return df.sort_values(list(df.columns)).reset_index(drop=True)


# ------------------------------------------------------------------ results are pandas


@pytest.mark.api("dd.from_pandas", "DataFrame.compute", "Series.compute")
def test_results_are_pandas_objects(client, data):
    pdf, df = data
    got = df.compute()
    assert isinstance(got, pd.DataFrame)
    pdt.assert_frame_equal(got, pdf, check_dtype=False)
    series = df.x.compute()
    assert isinstance(series, pd.Series)
    pdt.assert_series_equal(series, pdf.x)
    total = df.y.sum().compute()
    assert isinstance(total, (int, np.integer)) and total == pdf.y.sum()
    assert isinstance(df.index.compute(), pd.Index)


@pytest.mark.api("DataFrame.map_partitions")
def test_map_partitions_with_a_pandas_lambda_shipped_by_value(client, data):
    pdf, df = data
    scale = 3.0  # captured by the lambda: the function travels by value, closure included
    out = df.map_partitions(lambda part: part.assign(z=part.x * scale + part.y, w=part.s.str.upper()))
    pdt.assert_frame_equal(out.compute(), pdf.assign(z=pdf.x * scale + pdf.y, w=pdf.s.str.upper()),
                           check_dtype=False)
    rows = df.map_partitions(lambda part: len(part), meta=(None, "int64")).compute()
    assert rows.sum() == len(pdf) and len(rows) == df.npartitions


# ------------------------------------------------------------------ groupby


@pytest.mark.api("DataFrame.groupby", "GroupBy.agg", "DataFrame.reset_index")
def test_groupby_agg_keys_as_index_and_reset_index(client, data):
    pdf, df = data
    spec = {"x": "sum", "y": "count"}
    got = df[df.y > -20].groupby(["k", "name"]).agg(spec)
    want = pdf[pdf.y > -20].groupby(["k", "name"]).agg(spec)
    pdt.assert_frame_equal(by_index(got.compute()), by_index(want), check_dtype=False)
    flat = got.reset_index().compute()
    pdt.assert_frame_equal(by_values(flat), by_values(want.reset_index()), check_dtype=False)
    mean = df.groupby("k").x.mean().compute()
    pdt.assert_series_equal(mean.sort_index(), pdf.groupby("k").x.mean())


@pytest.mark.api("DataFrame.groupby")
def test_groupby_by_a_series_builds_without_computing(client, data):
    """``ddf.groupby(ddf.name)``: the key is a lazy Series; building the graph runs no task on the cluster."""
    pdf, df = data
    ran_before = len(client.get_task_stream())
    result = df.groupby(df.name).x.sum()
    also = df.groupby([df.name, "k"]).agg({"y": "max"})
    assert isinstance(result, gd.Series) and isinstance(also, gd.DataFrame)
    assert len(client.get_task_stream()) == ran_before, "building the groupby ran tasks"
    pdt.assert_series_equal(result.compute().sort_index(), pdf.groupby(pdf.name).x.sum(), check_dtype=False)
    pdt.assert_frame_equal(by_index(also.compute()), by_index(pdf.groupby([pdf.name, "k"]).agg({"y": "max"})),
                           check_dtype=False)
    assert len(client.get_task_stream()) > ran_before  # the count above can see tasks


# ------------------------------------------------------------------ the index


@pytest.mark.api("DataFrame.set_index", "DataFrame.loc", "DataFrame.divisions")
def test_set_index_loc_slice_and_divisions(client, data):
    pdf, df = data
    ts = df.set_index("k")
    assert ts.known_divisions and len(ts.divisions) == ts.npartitions + 1
    want = pdf.set_index("k").sort_index(kind="stable")
    pdt.assert_frame_equal(by_index(ts.compute()), by_index(want), check_dtype=False)
    pdt.assert_frame_equal(by_index(ts.loc[2:5].compute()), by_index(want.loc[2:5]), check_dtype=False)
    # each partition holds only the index values its divisions promise
    divs = ts.divisions
    for i, part in enumerate(ts.to_delayed()):
        idx = gf.compute(part)[0].index
        if len(idx):
            assert divs[i] <= idx.min() and idx.max() <= divs[i + 1]


@pytest.mark.api("DataFrame.merge", "dd.merge")
def test_merge_on_columns_with_a_frame_and_with_pandas(client, data):
    pdf, df = data
    lookup = pd.DataFrame({"k": np.arange(0, 12, 2), "label": pd.array(list("abcdef"), dtype="str"),
                           "w": np.linspace(0.5, 3.0, 6)})
    dlookup = gd.from_pandas(lookup, npartitions=2)
    for how in ("inner", "left"):
        got = df.merge(dlookup, on="k", how=how).compute()
        pdt.assert_frame_equal(by_values(got), by_values(pdf.merge(lookup, on="k", how=how)), check_dtype=False)
    # the right side given as pandas, as Dask users often do
    got = df[["k", "x"]].merge(lookup, on="k", how="left").compute()
    pdt.assert_frame_equal(by_values(got), by_values(pdf[["k", "x"]].merge(lookup, on="k", how="left")),
                           check_dtype=False)
    # both sides partitioned and hashed across the workers (no broadcast), column names overlapping
    right = pdf[["k", "name", "y"]].drop_duplicates(subset=["k", "name"])
    got = gd.merge(df[["k", "name", "x", "y"]], gd.from_pandas(right, npartitions=3), on=["k", "name"],
                   broadcast=False, npartitions=3).compute()
    want = pd.merge(pdf[["k", "name", "x", "y"]], right, on=["k", "name"])
    pdt.assert_frame_equal(by_values(got), by_values(want), check_dtype=False)


@pytest.mark.api("DataFrame.join")
def test_join_on_index(client, data):
    pdf, df = data
    left = pdf.set_index("k")[["x", "name"]]
    right = pdf.groupby("k").agg(total=("y", "sum"))
    dleft = df.set_index("k")[["x", "name"]]
    dright = df.groupby("k").agg({"y": "sum"}).rename(columns={"y": "total"})
    got = dleft.join(dright, how="inner").compute()
    pdt.assert_frame_equal(by_index(got), by_index(left.join(right, how="inner")), check_dtype=False)


# ------------------------------------------------------------------ lazy scalars


@pytest.mark.api("Scalar.__gt__", "Scalar.__rmul__")
def test_lazy_scalar_in_a_filter_and_in_arithmetic(client, data):
    pdf, df = data
    mean = df.x.mean()
    got = df[df.x > mean].compute()
    pdt.assert_frame_equal(got, pdf[pdf.x > pdf.x.mean()], check_dtype=False)
    got = df[(df.x > 0.2 * mean) & (df.y < df.y.max())].compute()
    pdt.assert_frame_equal(got, pdf[(pdf.x > 0.2 * pdf.x.mean()) & (pdf.y < pdf.y.max())], check_dtype=False)
    assert (mean * 2 + 1).compute() == pytest.approx(pdf.x.mean() * 2 + 1)


# ------------------------------------------------------------------ methods


@pytest.mark.api("Series.str", "Series.dt")
def test_str_and_dt_accessors(client, data):
    pdf, df = data
    pdt.assert_series_equal(df.s.str.upper().compute(), pdf.s.str.upper(), check_dtype=False)
    pdt.assert_series_equal(df.s.str.slice(1, 3).compute(), pdf.s.str.slice(1, 3), check_dtype=False)
    pdt.assert_series_equal(df.s.str.len().compute(), pdf.s.str.len(), check_dtype=False)
    pdt.assert_series_equal(df.t.dt.year.compute(), pdf.t.dt.year, check_dtype=False)
    pdt.assert_series_equal(df.t.dt.strftime("%Y-%m").compute(), pdf.t.dt.strftime("%Y-%m"), check_dtype=False)
    # dt.date: datetime.date objects, as pandas; a missing one comes back None where pandas says NaT (the
    # partition's date32 null, converted as pyarrow converts every date column), so compare the nulls apart
    got, want = df.t.dt.date.compute(), pdf.t.dt.date
    pdt.assert_series_equal(got.isna(), want.isna())
    pdt.assert_series_equal(got.dropna(), want.dropna(), check_dtype=False)
    # pyarrow options objects (MatchSubstringOptions, ReplaceSubstringOptions) ride inside the plan ops
    pdt.assert_series_equal(df.s.str.contains("an").compute(), pdf.s.str.contains("an"), check_dtype=False)
    pdt.assert_series_equal(df.s.str.replace("a", "A").compute(), pdf.s.str.replace("a", "A"),
                            check_dtype=False)
    pdt.assert_frame_equal(df[df.s.str.startswith("c")].compute(), pdf[pdf.s.str.startswith("c", na=False)],
                           check_dtype=False)


@pytest.mark.api("Series.value_counts", "DataFrame.nlargest", "Series.nlargest", "DataFrame.drop_duplicates")
def test_value_counts_nlargest_drop_duplicates(client, data):
    pdf, df = data
    counts = df.name.value_counts().compute()
    pdt.assert_series_equal(counts.sort_index(), pdf.name.value_counts().sort_index(), check_dtype=False)
    pdt.assert_frame_equal(df.nlargest(5, "x").compute(), pdf.nlargest(5, "x"), check_dtype=False)
    pdt.assert_series_equal(df.y.nlargest(4).compute(), pdf.y.nlargest(4), check_dtype=False)
    for keep in ("first", "last", False):
        got = df.drop_duplicates(subset=["k", "name"], keep=keep).compute()
        want = pdf.drop_duplicates(subset=["k", "name"], keep=keep)
        pdt.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False)


@pytest.mark.api("Series.median", "Series.quantile", "DataFrame.median", "DataFrame.corr", "Series.corr")
def test_quantile_median_corr(client, data):
    pdf, df = data
    assert df.x.median().compute() == pytest.approx(pdf.x.median())
    assert df.x.quantile(0.3).compute() == pytest.approx(pdf.x.quantile(0.3))
    pdt.assert_series_equal(df[["x", "y"]].median().compute(), pdf[["x", "y"]].median(), check_dtype=False)
    pdt.assert_frame_equal(df[["x", "y"]].corr().compute(), pdf[["x", "y"]].corr())
    assert df.x.corr(df.y).compute() == pytest.approx(pdf.x.corr(pdf.y))


# ------------------------------------------------------------------ files read on the workers


@pytest.mark.api("dd.read_parquet", "DataFrame.to_parquet", "dd.read_csv")
def test_parquet_with_an_index_and_csv_read_on_the_workers(client, data, tmp_path):
    pdf, df = data
    indexed = df.set_index("k")
    indexed.to_parquet(str(tmp_path / "pq"))
    back = gd.read_parquet(str(tmp_path / "pq"), index="k")
    want = pdf.set_index("k")
    pdt.assert_frame_equal(by_index(back.compute()), by_index(want), check_dtype=False)
    assert back.x.sum().compute() == pytest.approx(want.x.sum())
    pdf[["k", "x", "s"]].to_csv(tmp_path / "a.csv", index=False)
    csv = gd.read_csv(str(tmp_path / "a.csv"), blocksize=2000)
    assert csv.npartitions > 1
    pdt.assert_frame_equal(csv.compute().reset_index(drop=True), pd.read_csv(tmp_path / "a.csv"),
                           check_dtype=False)


# ------------------------------------------------------------------ delayed and persist


@pytest.mark.api("DataFrame.to_delayed", "dd.from_delayed")
def test_to_delayed_from_delayed_round_trip(client, data):
    pdf, df = data
    parts = df.to_delayed()
    assert len(parts) == df.npartitions
    back = gd.from_delayed(parts, meta=df.meta)
    pdt.assert_frame_equal(back.compute().reset_index(drop=True), pdf, check_dtype=False)


@pytest.mark.api("DataFrame.persist")
def test_persist_then_further_operations(client, data):
    pdf, df = data
    kept = df[df.y > 0].persist()
    want = pdf[pdf.y > 0]
    pdt.assert_frame_equal(kept.compute(), want, check_dtype=False)
    pdt.assert_frame_equal(kept[kept.x > 0][["k", "s"]].compute(), want[want.x > 0][["k", "s"]],
                           check_dtype=False)
    assert kept.x.sum().compute() == pytest.approx(want.x.sum())
    pdt.assert_frame_equal(by_values(kept.merge(df[["k", "y"]].drop_duplicates(subset=["k"]), on="k").compute()),
                           by_values(want.merge(pdf[["k", "y"]].drop_duplicates(subset=["k"]), on="k")),
                           check_dtype=False)


@pytest.mark.api("DataFrame.persist")
def test_groupby_of_a_persisted_frame(client, data):
    pdf, df = data
    kept = df[df.y > 0].persist()
    want = pdf[pdf.y > 0]
    got = kept.groupby("name").x.max().compute()
    pdt.assert_series_equal(got.sort_index(), want.groupby("name").x.max(), check_dtype=False)
    pdt.assert_series_equal(kept.name.value_counts().compute().sort_index(),
                            want.name.value_counts().sort_index(), check_dtype=False)
