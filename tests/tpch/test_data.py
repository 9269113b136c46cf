"""benchmarks.tpch.data: normalized types, the files layout, reuse of a whole cache, clear errors."""

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.tpch import data


def test_types_are_normalized(tpch_paths):
    lineitem = pq.read_schema(os.path.join(tpch_paths["lineitem"], "part.0.parquet"))
    assert lineitem.field("l_extendedprice").type == pa.float64()
    assert lineitem.field("l_shipdate").type == pa.timestamp("ns")
    assert lineitem.field("l_returnflag").type == pa.string()
    assert lineitem.field("l_orderkey").type == pa.int64()
    for table, path in tpch_paths.items():
        for f in pq.read_schema(os.path.join(path, "part.0.parquet")):
            assert not (pa.types.is_decimal(f.type) or pa.types.is_date(f.type)
                        or pa.types.is_string_view(f.type)), (table, f)


def test_files_hold_at_most_rows_per_file(tpch_paths):
    files = sorted(os.listdir(tpch_paths["lineitem"]))
    rows = [pq.ParquetFile(os.path.join(tpch_paths["lineitem"], f)).metadata.num_rows for f in files]
    assert len(files) >= 5 and max(rows) <= 10_000
    assert sum(rows) == 60_175  # lineitem at SF 0.01
    assert pq.ParquetFile(os.path.join(tpch_paths["nation"], "part.0.parquet")).metadata.num_rows == 25


def test_whole_cache_is_reused(tpch_paths):
    """A second generate() of the same cache changes nothing (it does not even run tpchgen-cli)."""
    cache = os.path.dirname(tpch_paths["lineitem"])
    before = os.stat(os.path.join(tpch_paths["lineitem"], "part.0.parquet")).st_mtime_ns
    again = data.generate(0.01, cache, rows_per_file=10_000)
    assert again == tpch_paths
    assert os.stat(os.path.join(tpch_paths["lineitem"], "part.0.parquet")).st_mtime_ns == before


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHFLOW_TPCH_CACHE", str(tmp_path))
    assert data.cache_dir_for(1) == str(tmp_path / "sf1")
    assert data.cache_dir_for(0.01) == str(tmp_path / "sf0.01")
    monkeypatch.delenv("GRAPHFLOW_TPCH_CACHE")
    assert data.cache_dir_for(10) == os.path.join(os.path.expanduser("~"), ".cache", "graphflow-tpch", "sf10")


def test_missing_tpchgen_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(data.sys, "executable", str(tmp_path / "python"))  # no tpchgen-cli beside it
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(data.TpchGenMissing, match="pip install tpchgen-cli"):
        data.generate(0.01, str(tmp_path / "sf0.01"))
    assert not os.path.exists(tmp_path / "sf0.01")


@pytest.mark.parametrize("sf", [0, -1, "1"])
def test_bad_scale_factor(sf, tmp_path):
    with pytest.raises(ValueError, match="scale factor"):
        data.generate(sf, str(tmp_path))
