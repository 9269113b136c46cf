"""The rest of Dask's names compared with pandas on the same data (graphflow/dataframe/more_methods.py,
aligning.py, fill.py, functions.py, io/text.py): ``ffill``/``bfill`` across partition edges, ``align``,
``combine``, ``dot``, ``mode``, ``to_timestamp``, ``compute_current_divisions``, the frame methods a
Series has, and ``dd.map_overlap``/``dd.repartition``/``dd.read_fwf``/``dd.read_table``.

Partitionings: 1 and 3 (or 4) partitions; the data are random (fixed seeds) with nulls, strings and
timestamps, and the fill tests put runs of nulls across partition boundaries::

    partitions (4):  [1.0, nan, nan] [nan, nan, nan] [4.0, nan, nan] [nan, 8.0, nan]
    ffill:            1    1    1     1    1    1     4    4    4     4    8    8
"""

import os

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd

NPARTS = [1, 3]


def _frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.35] = np.nan
    words = np.array(["apple", "Banana", "cherry", "date"], dtype=object)
    s = words[rng.integers(0, 4, n)]
    s[rng.random(n) < 0.35] = None
    t = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10_000, n), unit="min"))
    t[rng.random(n) < 0.35] = pd.NaT
    return pd.DataFrame({"x": x, "s": pd.array(s, dtype="str"), "t": t.astype("datetime64[us]"),
                         "i": rng.integers(-5, 5, n)})


def _edge_nulls():
    return pd.DataFrame({"x": [1.0, np.nan, np.nan, np.nan, np.nan, np.nan, 4.0, np.nan, np.nan, np.nan, 8.0,
                               np.nan],
                         "s": ["a", None, None, None, None, None, "b", None, None, None, "c", None]},
                        index=range(12)).astype({"s": "str"})


# ------------------------------------------------------------------ ffill / bfill


@pytest.mark.api("DataFrame.ffill", "DataFrame.bfill", "Series.ffill", "Series.bfill")
@pytest.mark.parametrize("nparts", [1, 3, 4])
@pytest.mark.parametrize("limit", [None, 1, 2, 4])
def test_ffill_bfill_cross_partition_edges(nparts, limit):
    for pdf in (_edge_nulls(), _frame(seed=nparts)):
        df = gd.from_pandas(pdf, npartitions=nparts)
        for method in ("ffill", "bfill"):
            pd.testing.assert_frame_equal(getattr(df, method)(limit=limit).compute(),
                                          getattr(pdf, method)(limit=limit))
            pd.testing.assert_series_equal(getattr(df.x, method)(limit=limit).compute(),
                                           getattr(pdf.x, method)(limit=limit))
    # a partition holding only nulls takes the value from two partitions away
    pdf = pd.DataFrame({"x": [np.nan, 2.0, np.nan, np.nan, np.nan, np.nan, np.nan, 3.0, np.nan]})
    df = gd.from_pandas(pdf, npartitions=3)
    assert df.divisions == (0, 3, 6, 8)
    pd.testing.assert_frame_equal(df.ffill(limit=limit).compute(), pdf.ffill(limit=limit))
    pd.testing.assert_frame_equal(df.bfill(limit=limit).compute(), pdf.bfill(limit=limit))


@pytest.mark.api("DataFrame.ffill", "Series.bfill")
def test_fill_errors_and_row_axis():
    pdf = _edge_nulls()
    df = gd.from_pandas(pdf, npartitions=3)
    with pytest.raises(ValueError, match="Limit must be greater than 0"):
        pdf.ffill(limit=0)
    with pytest.raises(ValueError, match="Limit must be greater than 0"):
        df.ffill(limit=0)
    assert df.ffill().divisions == df.divisions
    num = pd.DataFrame({"a": [1.0, np.nan, np.nan], "b": [np.nan, 2.0, np.nan], "c": [np.nan, np.nan, 3.0]})
    gnum = gd.from_pandas(num, npartitions=2)
    pd.testing.assert_frame_equal(gnum.ffill(axis=1).compute(), num.ffill(axis=1))
    pd.testing.assert_frame_equal(gnum.bfill(axis="columns").compute(), num.bfill(axis="columns"))


# ------------------------------------------------------------------ align, combine, combine_first


def _two_frames():
    rng = np.random.default_rng(3)
    letters = pd.array(list("abcdefghijkl"), dtype="str")
    a = pd.DataFrame({"x": rng.normal(size=12), "i": rng.integers(0, 9, 12), "s": letters}, index=np.arange(0, 24, 2))
    a.loc[a.index[::5], "x"] = np.nan
    b = pd.DataFrame({"x": rng.normal(size=10), "y": rng.normal(size=10)}, index=np.arange(5, 35, 3))
    return a, b


@pytest.mark.api("DataFrame.align")
@pytest.mark.parametrize("nparts", NPARTS)
@pytest.mark.parametrize("join", ["outer", "inner", "left", "right"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_frame_align(nparts, join, axis):
    a, b = _two_frames()
    da, db = gd.from_pandas(a, npartitions=nparts), gd.from_pandas(b, npartitions=2)
    ga, gb = da.align(db, join=join, axis=axis)
    ea, eb = a.align(b, join=join, axis=axis)
    pd.testing.assert_frame_equal(ga.compute(), ea)
    pd.testing.assert_frame_equal(gb.compute(), eb)
    # fill_value: the new rows and columns (a string column would mix types; an int column filled with a
    # fraction is float in pandas only when rows were added, which a lazy frame cannot know: 0 keeps it int)
    num = da[["x", "i"]]
    ga, gb = num.align(db, join=join, axis=axis, fill_value=0)
    ea, eb = a[["x", "i"]].align(b, join=join, axis=axis, fill_value=0)
    pd.testing.assert_frame_equal(ga.compute(), ea)
    pd.testing.assert_frame_equal(gb.compute(), eb)


@pytest.mark.api("Series.align")
@pytest.mark.parametrize("nparts", NPARTS)
@pytest.mark.parametrize("join", ["outer", "inner", "left", "right"])
def test_series_align(nparts, join):
    a, b = _two_frames()
    sa, sb = gd.from_pandas(a.x, npartitions=nparts), gd.from_pandas(b.y, npartitions=2)
    for fill in (None, 0.0):
        ga, gb = sa.align(sb, join=join, fill_value=fill)
        ea, eb = a.x.align(b.y, join=join, fill_value=fill)
        pd.testing.assert_series_equal(ga.compute(), ea)
        pd.testing.assert_series_equal(gb.compute(), eb)


@pytest.mark.api("DataFrame.align", "Series.align")
def test_align_needs_divisions():
    a, b = _two_frames()
    da = gd.from_pandas(a, npartitions=2).clear_divisions()
    with pytest.raises(ValueError, match="Not all divisions are known"):
        da.align(gd.from_pandas(b, npartitions=2))
    with pytest.raises(ValueError, match="join must be one of"):
        gd.from_pandas(a, npartitions=2).align(gd.from_pandas(b, npartitions=2), join="cross")


@pytest.mark.api("DataFrame.combine", "Series.combine")
@pytest.mark.parametrize("nparts", NPARTS)
def test_combine(nparts):
    a, b = _two_frames()
    a, b = a[["x", "i"]].astype({"i": "f8"}), b
    da, db = gd.from_pandas(a, npartitions=nparts), gd.from_pandas(b, npartitions=2)
    pd.testing.assert_frame_equal(da.combine(db, np.fmax).compute(), a.combine(b, np.fmax))
    pd.testing.assert_frame_equal(da.combine(db, np.fmax, fill_value=-1.0).compute(),
                                  a.combine(b, np.fmax, fill_value=-1.0))
    # Series: unrelated (aligned), of one frame (partition-wise), and with a scalar
    sa, sb = gd.from_pandas(a.x, npartitions=nparts), gd.from_pandas(b.x, npartitions=2)
    pd.testing.assert_series_equal(sa.combine(sb, max).compute(), a.x.combine(b.x, max))
    pd.testing.assert_series_equal(sa.combine(sb, max, fill_value=0.0).compute(),
                                   a.x.combine(b.x, max, fill_value=0.0))
    pd.testing.assert_series_equal(da.x.combine(da.i, min).compute(), a.x.combine(a.i, min))
    pd.testing.assert_series_equal(sa.combine(0.25, max).compute(), a.x.combine(0.25, max))


@pytest.mark.api("Series.combine_first")
@pytest.mark.parametrize("nparts", NPARTS)
def test_series_combine_first(nparts):
    a, b = _two_frames()
    sa, sb = gd.from_pandas(a.x, npartitions=nparts), gd.from_pandas(b.x, npartitions=2)
    pd.testing.assert_series_equal(sa.combine_first(sb).compute(), a.x.combine_first(b.x))
    pd.testing.assert_series_equal(sb.combine_first(sa).compute(), b.x.combine_first(a.x))
    pdf = _frame()
    df = gd.from_pandas(pdf, npartitions=nparts)
    other = pdf.i.astype("f8")
    pd.testing.assert_series_equal(df.x.combine_first(df.i.astype("float64")).compute(), pdf.x.combine_first(other))


# ------------------------------------------------------------------ arithmetic, dot, mode, nbytes


@pytest.mark.api("DataFrame.divide", "Series.divide")
@pytest.mark.parametrize("nparts", NPARTS)
def test_divide(nparts):
    pdf = _frame()
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_series_equal(df.x.divide(df.i).compute(), pdf.x.divide(pdf.i))
    pd.testing.assert_series_equal(df.x.divide(2, fill_value=1.0).compute(), pdf.x.divide(2, fill_value=1.0))
    num = pdf[["x", "i"]]
    pd.testing.assert_frame_equal(df[["x", "i"]].divide(4).compute(), num.divide(4))


@pytest.mark.api("DataFrame.dot")
@pytest.mark.parametrize("nparts", NPARTS)
def test_frame_dot(nparts):
    rng = np.random.default_rng(5)
    pdf = pd.DataFrame(rng.normal(size=(20, 3)), columns=["a", "b", "c"])
    pdf.iloc[3, 1] = np.nan
    df = gd.from_pandas(pdf, npartitions=nparts)
    vec = pd.Series([1.0, -2.0, 0.5], index=["a", "b", "c"])
    mat = pd.DataFrame(rng.normal(size=(3, 2)), index=["a", "b", "c"], columns=["p", "q"])
    pd.testing.assert_series_equal(df.dot(vec).compute(), pdf.dot(vec))
    pd.testing.assert_frame_equal(df.dot(mat).compute(), pdf.dot(mat))
    pd.testing.assert_series_equal(df.dot(gd.from_pandas(vec, npartitions=2)).compute(), pdf.dot(vec))
    pd.testing.assert_frame_equal(df.dot(gd.from_pandas(mat, npartitions=1)).compute(), pdf.dot(mat))


@pytest.mark.api("DataFrame.mode")
@pytest.mark.parametrize("nparts", NPARTS)
def test_frame_mode(nparts):
    pdf = pd.DataFrame({"a": [1, 2, 2, 3, 3, 4, 5, 6], "b": [1.5, np.nan, 1.5, 2.5, np.nan, np.nan, 1.5, 0.0],
                        "s": pd.array(["x", "y", None, "y", "x", "z", None, None], dtype="str")})
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_frame_equal(df.mode().compute(), pdf.mode())
    pd.testing.assert_frame_equal(df.mode(numeric_only=True).compute(), pdf.mode(numeric_only=True))
    pd.testing.assert_frame_equal(df[["a"]].mode().compute(), pdf[["a"]].mode())


@pytest.mark.api("DataFrame.nbytes")
def test_frame_nbytes_as_dask():
    dd = pytest.importorskip("dask.dataframe")
    pdf = _frame()
    with pytest.raises(NotImplementedError) as dask_err:
        dd.from_pandas(pdf, npartitions=2).nbytes
    with pytest.raises(NotImplementedError) as ours:
        gd.from_pandas(pdf, npartitions=2).nbytes
    assert str(ours.value) == str(dask_err.value)


# ------------------------------------------------------------------ index and divisions


@pytest.mark.api("DataFrame.to_timestamp", "Series.to_timestamp")
@pytest.mark.parametrize("nparts", NPARTS)
@pytest.mark.parametrize("how", ["start", "end"])
def test_to_timestamp(nparts, how):
    pdf = _frame(n=12)
    pdf.index = pd.period_range("2024-01", periods=12, freq="M")
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = df.to_timestamp(how=how)
    # a computed result is a concatenation: pandas' freq of the index is not kept (as in Dask)
    pd.testing.assert_frame_equal(got.compute(), pdf.to_timestamp(how=how), check_freq=False)
    pd.testing.assert_series_equal(df.x.to_timestamp(how=how).compute(), pdf.x.to_timestamp(how=how),
                                   check_freq=False)
    exp = pdf.to_timestamp(how=how).index
    assert got.divisions[0] == exp[0] and got.divisions[-1] == exp[-1]
    assert got.loc[exp[2]:exp[5]].compute().index.equals(exp[2:6])


@pytest.mark.api("DataFrame.compute_current_divisions")
@pytest.mark.parametrize("nparts", [2, 3])
def test_compute_current_divisions(nparts):
    pdf = _frame(n=30)
    pdf["when"] = pd.date_range("2024-01-01", periods=30, freq="h")
    df = gd.from_pandas(pdf, npartitions=nparts)
    known = df.divisions
    assert df.compute_current_divisions() == known  # known: returned without computing
    cleared = df.clear_divisions()
    assert cleared.compute_current_divisions() == known
    again = cleared.compute_current_divisions(set_divisions=True)
    assert again.divisions == known
    pd.testing.assert_frame_equal(again.loc[5:9].compute(), pdf.loc[5:9])
    # a column's divisions: each partition's first value, then the last
    bounds = [pdf.when.iloc[pdf.index.get_loc(d)] for d in known[:-1]] + [pdf.when.iloc[-1]]
    assert cleared.compute_current_divisions("when") == tuple(bounds)
    with pytest.raises(NotImplementedError, match="Can't set divisions of non-index"):
        cleared.compute_current_divisions("when", set_divisions=True)
    with pytest.warns(FutureWarning, match="overlapping values"):
        cleared.compute_current_divisions("i")


# ------------------------------------------------------------------ what a Series has of a frame


@pytest.mark.api("Series.add_prefix", "Series.add_suffix")
@pytest.mark.parametrize("nparts", NPARTS)
def test_series_prefix_suffix(nparts):
    pdf = _frame(n=10)
    pdf.index = [f"r{i:02d}" for i in range(10)]
    s = gd.from_pandas(pdf.x, npartitions=nparts)
    got = s.add_prefix("p_")
    pd.testing.assert_series_equal(got.compute(), pdf.x.add_prefix("p_"))
    pd.testing.assert_series_equal(s.add_suffix("_q").compute(), pdf.x.add_suffix("_q"))
    assert got.divisions[0] == "p_r00"
    pd.testing.assert_series_equal(got.loc["p_r03":"p_r06"].compute(), pdf.x.add_prefix("p_").loc["p_r03":"p_r06"])
    ints = gd.from_pandas(pd.Series([1.0, 2.0, 3.0], index=[9, 10, 11]), npartitions=2)
    pd.testing.assert_series_equal(ints.add_prefix("a").compute(), pd.Series([1.0, 2.0, 3.0],
                                                                             index=[9, 10, 11]).add_prefix("a"))
    assert not ints.add_prefix("a").known_divisions  # "a10" < "a9": the order changed


@pytest.mark.api("Series.axes", "Series.squeeze", "Series.from_dict")
def test_series_axes_squeeze_from_dict():
    pdf = _frame(n=10)
    s = gd.from_pandas(pdf.x, npartitions=3)
    [idx] = s.axes
    assert idx.compute().equals(pdf.x.axes[0])
    assert len(s.axes) == len(pdf.x.axes) == 1
    pd.testing.assert_series_equal(s.squeeze().compute(), pdf.x.squeeze())
    data = {"a": [1, 2, 3], "b": ["x", None, "z"]}
    pd.testing.assert_frame_equal(gd.Series.from_dict(data, npartitions=2).compute(),
                                  pd.DataFrame.from_dict(data).astype({"b": "str"}))
    rows = {"r1": [1, 2], "r2": [3, 4]}
    # column labels that are not strings come back as an object Index (graphflow keeps labels that way)
    pd.testing.assert_frame_equal(gd.Series.from_dict(rows, orient="index").compute(),
                                  pd.DataFrame.from_dict(rows, orient="index"), check_column_type=False)


@pytest.mark.api("Series.partitions", "Series.get_partition")
@pytest.mark.parametrize("nparts", [1, 3])
def test_series_partitions(nparts):
    pdf = _frame(n=20)
    s = gd.from_pandas(pdf.s, npartitions=nparts)
    divs = s.divisions
    for i in range(nparts):
        hi = divs[i + 1] if i + 1 < nparts else divs[-1] + 1
        exp = pdf.s[(pdf.index >= divs[i]) & (pdf.index < hi)]
        pd.testing.assert_series_equal(s.partitions[i].compute(), exp)
        pd.testing.assert_series_equal(s.get_partition(i).compute(), exp)
    pd.testing.assert_series_equal(s.partitions[::-1].compute().sort_index(), pdf.s)
    assert s.partitions[1:].npartitions == nparts - 1


@pytest.mark.api("Series.repartition", "dd.repartition")
@pytest.mark.parametrize("nparts", NPARTS)
def test_repartition(nparts):
    pdf = _frame(n=30)
    s = gd.from_pandas(pdf.t, npartitions=nparts)
    for out in (s.repartition(npartitions=2), s.repartition(5), s.repartition(divisions=[0, 7, 20, 29]),
                gd.repartition(s, divisions=[0, 10, 29])):
        pd.testing.assert_series_equal(out.compute(), pdf.t)
    assert gd.repartition(s, divisions=[0, 10, 29]).divisions == (0, 10, 29)
    df = gd.from_pandas(pdf, npartitions=nparts)
    out = gd.repartition(df, divisions=[0, 5, 12, 29])
    assert out.npartitions == 3
    pd.testing.assert_frame_equal(out.compute(), pdf)
    pd.testing.assert_frame_equal(out.partitions[1].compute(), pdf.loc[5:11])


@pytest.mark.api("Series.shuffle")
def test_series_shuffle():
    pdf = _frame(n=60)
    s = gd.from_pandas(pdf.i, npartitions=3)
    out = s.shuffle(npartitions=4)
    assert out.npartitions == 4
    pd.testing.assert_series_equal(out.compute().sort_index(), pdf.i)
    seen = {}
    for p in range(4):
        for v in out.partitions[p].compute().unique():
            assert seen.setdefault(v, p) == p  # every value in one partition


@pytest.mark.api("Series.groupby")
@pytest.mark.parametrize("nparts", NPARTS)
def test_series_groupby(nparts):
    pdf = _frame(n=50)
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_series_equal(df.x.groupby(df.s).sum().compute(), pdf.x.groupby(pdf.s).sum())
    pd.testing.assert_series_equal(df.x.groupby(df.i).mean().compute(), pdf.x.groupby(pdf.i).mean())
    pd.testing.assert_series_equal(df.t.groupby(df.i).max().compute(), pdf.t.groupby(pdf.i).max())
    pd.testing.assert_series_equal((df.x * 2).groupby(df.s).count().compute(), (pdf.x * 2).groupby(pdf.s).count())
    pd.testing.assert_series_equal(df.x.groupby(level=0).sum().compute(), pdf.x.groupby(level=0).sum())


@pytest.mark.api("Series.to_csv", "Series.to_json", "Series.to_orc")
def test_series_writers(tmp_path):
    pdf = _frame(n=25)
    pdf.index.name = "row"
    s = gd.from_pandas(pdf.x, npartitions=3)
    s.to_csv(str(tmp_path / "csv"))
    files = sorted(os.listdir(tmp_path / "csv"))
    assert len(files) == 3
    back = pd.concat([pd.read_csv(tmp_path / "csv" / f, index_col="row") for f in files])
    pd.testing.assert_series_equal(back.x, pdf.x)
    s.to_json(str(tmp_path / "json"))
    files = sorted(os.listdir(tmp_path / "json"))
    back = pd.concat([pd.read_json(tmp_path / "json" / f, lines=True) for f in files], ignore_index=True)
    pd.testing.assert_series_equal(back.x, pdf.x.reset_index(drop=True))
    gd.from_pandas(pdf.t, npartitions=3).to_orc(str(tmp_path / "orc"))
    back = gd.read_orc(str(tmp_path / "orc"), index="row").compute()  # the index written as a column
    files = sorted(os.listdir(tmp_path / "orc"))
    direct = pd.concat([pd.read_orc(tmp_path / "orc" / f) for f in files]).set_index("row")
    pd.testing.assert_series_equal(back.t, direct.t)
    pd.testing.assert_series_equal(back.t, pdf.t.astype("datetime64[ns]"))  # ORC keeps nanoseconds


# ------------------------------------------------------------------ autocorr, map_overlap, readers


@pytest.mark.api("Series.autocorr")
@pytest.mark.parametrize("nparts", [1, 4])
@pytest.mark.parametrize("lag", [1, 3, -2, 0])
def test_autocorr(nparts, lag):
    pdf = _frame(n=40)
    df = gd.from_pandas(pdf, npartitions=nparts)
    assert np.isclose(float(df.x.autocorr(lag).compute()), pdf.x.autocorr(lag))
    assert np.isclose(float(df.i.autocorr(lag).compute()), pdf.i.autocorr(lag))
    with pytest.raises(TypeError, match="lag must be an integer"):
        df.x.autocorr(1.5)


@pytest.mark.api("dd.map_overlap")
@pytest.mark.parametrize("nparts", [1, 3, 5])
def test_module_map_overlap(nparts):
    pdf = _frame(n=30)
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = gd.map_overlap(lambda p: p.x.rolling(3, min_periods=1).sum(), df, 2, 0)
    pd.testing.assert_series_equal(got.compute(), pdf.x.rolling(3, min_periods=1).sum())
    got = gd.map_overlap(lambda p, k: p.assign(y=p.i.shift(-k)), df, 0, 2, 2)
    pd.testing.assert_frame_equal(got.compute(), pdf.assign(y=pdf.i.shift(-2)))
    with pytest.raises(TypeError, match="graphflow DataFrame or Series"):
        gd.map_overlap(lambda p: p, pdf, 1, 1)


@pytest.mark.api("dd.read_table")
@pytest.mark.parametrize("blocksize", [None, 200])
def test_read_table(tmp_path, blocksize):
    pdf = _frame(n=40).drop(columns="t")
    for i, part in enumerate([pdf.iloc[:15], pdf.iloc[15:]]):
        part.to_csv(tmp_path / f"p{i}.tsv", sep="\t", index=False)
    got = gd.read_table(str(tmp_path / "*.tsv"), blocksize=blocksize).compute()
    exp = pd.concat([pd.read_table(tmp_path / f"p{i}.tsv") for i in range(2)], ignore_index=True)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), exp)
    pdf.to_csv(tmp_path / "semi.txt", sep=";", index=False)
    pd.testing.assert_frame_equal(gd.read_table(str(tmp_path / "semi.txt"), sep=";").compute(),
                                  pd.read_table(tmp_path / "semi.txt", sep=";"))


@pytest.mark.api("dd.read_fwf")
def test_read_fwf(tmp_path):
    pdf = _frame(n=30)[["x", "s", "i"]].fillna({"s": "none"})
    for i, part in enumerate([pdf.iloc[:10], pdf.iloc[10:]]):
        (tmp_path / f"f{i}.txt").write_text(part.to_string(index=False))
    got = gd.read_fwf(str(tmp_path / "f*.txt"))
    assert got.npartitions == 2
    exp = [pd.read_fwf(tmp_path / f"f{i}.txt") for i in range(2)]
    # no stored index, as read_csv: the result has a fresh RangeIndex
    pd.testing.assert_frame_equal(got.compute(), pd.concat(exp, ignore_index=True))
    pd.testing.assert_frame_equal(got.partitions[1].compute(), exp[1])
    widths = gd.read_fwf(str(tmp_path / "f0.txt"), widths=[8, 9, 3], names=["a", "b", "c"], skiprows=1)
    pd.testing.assert_frame_equal(widths.compute(), pd.read_fwf(tmp_path / "f0.txt", widths=[8, 9, 3],
                                                                names=["a", "b", "c"], skiprows=1))
    with pytest.raises(NotImplementedError, match="one partition per file"):
        gd.read_fwf(str(tmp_path / "f0.txt"), blocksize=100)


@pytest.mark.api("Series.compute_current_divisions")
@pytest.mark.parametrize("nparts", [2, 3])
def test_series_compute_current_divisions(nparts):
    ps = pd.Series(np.arange(30) * 2, name="v", index=pd.RangeIndex(30) * 3)
    s = gd.from_pandas(ps, npartitions=nparts)
    known = s.divisions
    assert s.compute_current_divisions() == known
    cleared = s.clear_divisions()
    assert not cleared.known_divisions and cleared.compute_current_divisions() == known
    again = cleared.compute_current_divisions(set_divisions=True)
    assert isinstance(again, gd.Series) and again.divisions == known
    pd.testing.assert_series_equal(again.loc[15:27].compute(), ps.loc[15:27])
    with pytest.raises(TypeError, match="a Series has only its index"):
        cleared.compute_current_divisions("v")
