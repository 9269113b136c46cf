"""Parquet footers are parsed once per file version (graphflow/dataframe/io/metadata.py)."""

import os

import pyarrow as pa
import pyarrow.parquet as pq

import graphflow.dataframe as gd
from graphflow.dataframe.io.metadata import file_metadata, open_parquet


def test_footer_parsed_once_and_again_after_a_rewrite(tmp_path):
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    first = file_metadata(path)
    assert first is file_metadata(path) and first.num_rows == 3
    pq.write_table(pa.table({"a": [1, 2, 3, 4, 5]}), path)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a coarse clock could leave the mtime equal
    assert file_metadata(path).num_rows == 5
    assert open_parquet(path).read().num_rows == 5


def test_read_parquet_sees_a_rewritten_file(tmp_path):
    """Planning (row counts, bytes) and reading agree with the file as it is now."""
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"a": [1, 2]}), path)
    assert gd.read_parquet(path).a.sum().compute(scheduler="sync") == 3
    pq.write_table(pa.table({"a": [1, 2, 10]}), path)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert gd.read_parquet(path).a.sum().compute(scheduler="sync") == 13
