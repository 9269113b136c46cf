"""Series made by pandas functions from a frame (apply, map, accessors, map_partitions) put back beside it:
assign, setitem, boolean masks and arithmetic, against pandas; rows matched by position or by index label
inside each partition; without an index, on each row's position in the partition (Dask's per-partition
RangeIndex); a clear error where nothing can match them."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


def frame():
    pdf = pd.DataFrame({"s": ["ab", "cd", "ef", "gh"] * 25, "x": np.arange(100),
                        "t": pd.date_range("2024-01-01", periods=100, freq="h")})
    return pdf, gd.from_pandas(pdf, npartitions=3)


def made(d, kind):
    """A Series a pandas function makes from ``d`` (graphflow or pandas), as a Dask user writes it."""
    lazy = isinstance(d, gd.DataFrame)
    if kind == "apply":
        return d.x.apply(lambda v: v * 3 + 1, **({"meta": ("x", "i8")} if lazy else {}))
    if kind == "map":
        return d.x.map({1: 10, 13: 20})
    if kind == "dt.date":
        return d.t.dt.date
    if kind == "dt.strftime":
        return d.t.dt.strftime("%Y-%m-%d %H")
    if kind == "str.pad":
        return d.s.str.pad(4, fillchar="_")
    if kind == "map_partitions":
        return d.x.map_partitions(lambda s: s * 2) if lazy else d.x * 2
    raise AssertionError(kind)


KINDS = ["apply", "map", "dt.date", "dt.strftime", "str.pad", "map_partitions"]


@pytest.mark.api("DataFrame.assign")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("filtered", [False, True])
def test_assign_a_series_a_pandas_function_made(kind, filtered):
    pdf, df = frame()
    if filtered:
        pdf, df = pdf[pdf.x % 3 > 0], df[df.x % 3 > 0]
    got = df.assign(u=made(df, kind)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.assign(u=made(pdf, kind)), check_dtype=False)


@pytest.mark.api("DataFrame.__setitem__")
def test_setitem_then_use_the_new_column():
    pdf, df = frame()
    for d in (pdf, df):
        d["day"] = d.t.dt.strftime("%d")
        d["y"] = d.x.apply(lambda v: v % 7, **({"meta": ("x", "i8")} if d is df else {}))
        d["z"] = d.y + d.x  # a formula over the attached column
    got = df[df.y > 2].compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf[pdf.y > 2], check_dtype=False)


@pytest.mark.api("DataFrame.__getitem__")
def test_mask_a_pandas_function_made():
    pdf, df = frame()
    mask = lambda d: d.s.str.pad(3, fillchar="x") == "xcd"  # noqa: E731
    pd.testing.assert_frame_equal(df[mask(df)].compute(scheduler="sync"), pdf[mask(pdf)])


@pytest.mark.api("Series.add")
def test_arithmetic_with_a_series_a_pandas_function_made():
    pdf, df = frame()
    got = (df.x + made(df, "apply")).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, pdf.x + made(pdf, "apply"), check_dtype=False)
    got = (made(df, "map_partitions") / df.x).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, made(pdf, "map_partitions") / pdf.x, check_dtype=False)


def test_rows_matched_by_index_label_when_the_function_drops_rows():
    """map_partitions dropping rows: pandas aligns by label, the missing ones are NaN (assign) or the
    union's (arithmetic)."""
    pdf, df = frame()
    drop = lambda s: s[s % 4 != 0] * 10  # noqa: E731
    got = df.assign(u=df.x.map_partitions(drop)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.assign(u=drop(pdf.x)), check_dtype=False)
    got = (df.x + df.x.map_partitions(drop)).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, pdf.x + drop(pdf.x), check_dtype=False)


def _parquet_parts(tmp_path, pdf, npartitions):
    """``pdf`` written as ``npartitions`` Parquet files without an index: each partition then has Dask's
    per-partition RangeIndex, and none in graphflow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cuts = np.linspace(0, len(pdf), npartitions + 1).astype(int)
    where = tmp_path / f"parts{npartitions}"
    where.mkdir()
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
        pq.write_table(pa.Table.from_pandas(pdf.iloc[a:b], preserve_index=False), where / f"part.{i}.parquet")
    return str(where)


NO_INDEX_CASES = {
    "map_partitions filter": lambda df: df.assign(y=df.x.map_partitions(lambda s: s[s > 0])),
    "assign filtered": lambda df: df.assign(y=df.x[df.x > 0]),
    "setitem filtered frame": lambda df: (df.__setitem__("y", df[df.z != "c"].x), df)[1],
    "filter by a lazy mean": lambda df: df.assign(y=df[df.x > df.x.mean()].x),
    "dropna": lambda df: df.assign(y=df.w.dropna()),
    "head per partition": lambda df: df.assign(y=df.x.map_partitions(lambda s: s.head(2))),
    "reset inside": lambda df: df.assign(y=df.w.map_partitions(lambda s: s.dropna().reset_index(drop=True))),
    "filtered frame, whole series": lambda df: df[df.x > 0].assign(y=df.x.map_partitions(lambda s: s * 2)),
    "two attaches": lambda df: df.assign(a=df.x.map_partitions(lambda s: s * 2)).pipe(
        lambda d: d.assign(b=d.a.map_partitions(lambda s: s[s > 0]), c=d.x.map_partitions(lambda s: s.iloc[:1]))),
}


@pytest.mark.api("DataFrame.assign", "DataFrame.__setitem__")
@pytest.mark.parametrize("npartitions", [1, 2, 5])
@pytest.mark.parametrize("case", sorted(NO_INDEX_CASES))
def test_no_index_rows_dropped_match_dask(tmp_path, case, npartitions):
    """Frames without an index (Parquet without one), a Series from them that lost rows (a filter, a pandas
    function): Dask aligns on each partition's own RangeIndex, so the missing rows are NaN; graphflow
    matches on each row's position in the partition both come from, with the same values."""
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(npartitions)
    pdf = pd.DataFrame({"x": rng.integers(-9, 9, 23), "w": rng.normal(size=23), "z": rng.choice(list("abc"), 23)})
    pdf["w"] = pdf.w.where(rng.random(23) > 0.3)
    path = _parquet_parts(tmp_path, pdf, npartitions)
    want = NO_INDEX_CASES[case](dd.read_parquet(path)).compute(scheduler="sync").reset_index(drop=True)
    if case == "filtered frame, whole series":
        # pandas gives an EMPTY frame the rows of the Series assigned to it, so Dask, assigning partition by
        # partition, adds rows (x missing) where the filter left a partition empty; pandas on the whole
        # frame (and graphflow) keeps the frame's rows
        want = pdf[pdf.x > 0].assign(y=pdf.x * 2).reset_index(drop=True)
    got = NO_INDEX_CASES[case](gd.read_parquet(path)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.api("Series.add")
@pytest.mark.parametrize("npartitions", [1, 3])
def test_no_index_arithmetic_with_a_filtered_series_matches_dask(tmp_path, npartitions):
    """``df.x + df.x[df.x > 0]`` without an index: the union of the rows, NaN where one side has none."""
    dd = pytest.importorskip("dask.dataframe")
    pdf = pd.DataFrame({"x": np.arange(-6, 9)})
    path = _parquet_parts(tmp_path, pdf, npartitions)
    want, got = ((df.x + df.x[df.x > 0]).compute(scheduler="sync").reset_index(drop=True)
                 for df in (dd.read_parquet(path), gd.read_parquet(path)))
    pd.testing.assert_series_equal(got, want, check_dtype=False)
    assert got.isna().sum() == 7


def test_index_on_one_side_only_is_a_clear_error():
    """A function whose meta promises an index of its own, beside a frame without one: nothing to match the
    frame's rows with (Dask would match its per-partition RangeIndex against those labels)."""
    import pyarrow as pa

    df = gd.from_arrow(pa.table({"x": np.arange(20)}), npartitions=2)
    relabel = lambda s: s.iloc[:3].set_axis(pd.Index([0, 10, 20]))  # noqa: E731
    short = df.x.map_partitions(relabel, meta=pd.Series([], dtype="i8", name="x", index=pd.Index([], dtype="i8")))
    with pytest.raises(ValueError, match="no index to match them on"):
        df.assign(u=short).compute(scheduler="sync")


def test_no_index_duplicate_labels_is_pandas_error():
    """A function that repeats rows (explode) gives repeated labels: pandas' (and Dask's) error."""
    import pyarrow as pa

    df = gd.from_arrow(pa.table({"l": [[1, 2], [3], None, [4, 5]]}), npartitions=2)
    with pytest.raises(ValueError, match="cannot reindex on an axis with duplicate labels"):
        df.assign(y=df.l.explode()).compute(scheduler="sync")


def test_unrelated_frames_still_refused():
    _, df = frame()
    _, other = frame()
    other = other[other.x > 5].reset_index(drop=True)
    with pytest.raises(ValueError, match="cannot align"):
        df.assign(u=other.x.apply(lambda v: v, meta=("x", "i8"))).compute(scheduler="sync")


@pytest.mark.api("Series.astype", "DataFrame.astype")
def test_astype_str_writes_as_pandas():
    pdf = pd.DataFrame({"f": [1.0, 2.5, np.nan, 4.0] * 3, "b": [True, False] * 6, "i": range(12),
                        "t": pd.date_range("2024", periods=12, freq="D")})
    df = gd.from_pandas(pdf, npartitions=3)

    def same(got, want):
        assert got.astype(object).where(got.notna(), None).tolist() == \
            want.astype(object).where(want.notna(), None).tolist()

    for c in pdf.columns:
        for dtype in (str, "str"):
            same(df[c].astype(dtype).compute(scheduler="sync"), pdf[c].astype(dtype))
    got = df.astype(str).compute(scheduler="sync")
    assert list(got.columns) == list(pdf.columns)
    for c in pdf.columns:
        same(got[c], pdf[c].astype(str))


@pytest.mark.api("Series.__getitem__")
def test_series_masked_by_a_pandas_function_made():
    pdf, df = frame()
    mask = lambda d: d.t.dt.strftime("%H") < "05"  # noqa: E731
    pd.testing.assert_series_equal(df.x[mask(df)].compute(scheduler="sync"), pdf.x[mask(pdf)])
