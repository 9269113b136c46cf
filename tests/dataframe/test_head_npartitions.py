"""head/tail(n, npartitions=k, compute=) as Dask spells them: k partitions from the front (back), -1 all."""

import pandas as pd
import pytest

import graphflow.dataframe as gd


@pytest.fixture
def frames():
    pdf = pd.DataFrame({"a": range(10), "b": [float(i) / 2 for i in range(10)]})
    return pdf, gd.from_pandas(pdf, npartitions=5)  # 2 rows per partition


@pytest.mark.api("DataFrame.head", "DataFrame.tail")
@pytest.mark.parametrize("compute", [True, False])
def test_npartitions_limits_the_partitions_read(frames, compute):
    pdf, df = frames

    def run(x):
        return x if compute else x.compute(scheduler="sync")

    pd.testing.assert_frame_equal(run(df.head(5, npartitions=1, compute=compute)), pdf.head(2))
    pd.testing.assert_frame_equal(run(df.head(5, npartitions=2, compute=compute)), pdf.head(4))
    pd.testing.assert_frame_equal(run(df.head(5, npartitions=-1, compute=compute)), pdf.head(5))
    pd.testing.assert_frame_equal(run(df.head(5, compute=compute)), pdf.head(5))
    pd.testing.assert_frame_equal(run(df.tail(5, npartitions=1, compute=compute)), pdf.tail(2))
    pd.testing.assert_frame_equal(run(df.tail(5, npartitions=-1, compute=compute)), pdf.tail(5))


@pytest.mark.api("DataFrame.head")
def test_head_after_sort_values_is_lazy_top_n(frames):
    pdf, df = frames
    got = df.sort_values("b", ascending=False).head(3, compute=False, npartitions=-1)
    pd.testing.assert_frame_equal(got.compute(scheduler="sync").reset_index(drop=True),
                                  pdf.sort_values("b", ascending=False).head(3).reset_index(drop=True))


@pytest.mark.api("Series.head")
def test_series_head_npartitions(frames):
    pdf, df = frames
    pd.testing.assert_series_equal(df.a.head(5, npartitions=1), pdf.a.head(2))


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_bad_npartitions(frames, bad):
    with pytest.raises(ValueError, match="npartitions must be a positive number of partitions or -1"):
        frames[1].head(3, npartitions=bad)
