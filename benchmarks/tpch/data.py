"""TPC-H tables as Parquet, generated once per scale factor into a cache outside the repo.

``generate(sf)`` runs ``tpchgen-cli parquet -s SF`` (PyPI package ``tpchgen-cli``) into a scratch
directory, then rewrites every table ONCE into the layout all engines read:

    <cache>/sf1/lineitem/part.0.parquet, part.1.parquet, ...   (one row group per file)
    <cache>/sf1/orders/part.0.parquet, ...
    <cache>/sf1/_complete.json                                  (written last: the cache is whole)

Types are normalized so that pandas, dask.dataframe, graphflow.dataframe, DuckDB and Polars all read
the same values the same way:

- decimals (``decimal128(15, 2)``: prices, quantities, discounts, taxes, balances) -> ``float64``;
  the TPC-H answers are then checked within 1e-6 relative, as the spec's own validation allows;
- dates (``date32``: shipdate, orderdate, ...) -> ``timestamp[ns]`` (pandas ``datetime64[ns]``), so a
  query compares them with ``pandas.Timestamp`` and DuckDB/Polars with ``DATE '1998-09-02'``;
- strings (``string_view``, which not every reader takes) -> ``string``;
- integer keys keep their width (int64 keys, int32 line numbers and priorities).

Files hold at most ``rows_per_file`` rows, so every engine sees the same partitions (one per file)
rather than each library's own splitting of one big file.

The cache directory is ``$GRAPHFLOW_TPCH_CACHE/sf<N>`` when that variable is set, else
``~/.cache/graphflow-tpch/sf<N>``.  Generation writes a sibling temporary directory and renames it
into place, so a crash leaves no half cache and two processes generating at once both end with
the same whole cache.  Example (SF 0.01 takes about a second)::

    >>> from benchmarks.tpch.data import generate          # doctest: +SKIP
    >>> tables = generate(0.01)                             # doctest: +SKIP
    >>> sorted(tables)                                      # doctest: +SKIP
    ['customer', 'lineitem', 'nation', 'orders', 'part', 'partsupp', 'region', 'supplier']
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["TABLES", "TpchGenMissing", "cache_dir_for", "generate", "tpchgen_command"]

TABLES = ("lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region")
ROWS_PER_FILE = 500_000  # SF1: lineitem in 13 files, orders in 3; a few hundred MB in memory per file
_FORMAT_VERSION = 1  # bump when the normalization changes: old caches are then regenerated
_MARKER = "_complete.json"


class TpchGenMissing(RuntimeError):
    """``tpchgen-cli`` is not installed: the TPC-H tables cannot be generated."""


def cache_dir_for(sf: float) -> str:
    """The cache directory of scale factor ``sf``: ``$GRAPHFLOW_TPCH_CACHE/sf<N>`` or ``~/.cache/...``."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "graphflow-tpch")
    root = os.environ.get("GRAPHFLOW_TPCH_CACHE") or default
    return os.path.join(root, f"sf{_sf_text(sf)}")


def tpchgen_command() -> str:
    """The path of ``tpchgen-cli``: beside this Python first (a venv's bin), else on ``PATH``."""
    beside = os.path.join(os.path.dirname(sys.executable), "tpchgen-cli")
    if os.path.exists(beside):
        return beside
    found = shutil.which("tpchgen-cli")
    if found is None:
        raise TpchGenMissing(
            "tpchgen-cli is not installed, so the TPC-H tables cannot be generated; install it with "
            "`pip install tpchgen-cli` (it is in graphflow's `test` and `bench` extras: "
            "`pip install -e '.[bench]'`)")
    return found


def generate(sf: float = 1, cache_dir: str | None = None, rows_per_file: int = ROWS_PER_FILE) -> dict:
    """Generate (once) the TPC-H tables at scale factor ``sf``; returns ``{table name: directory}``.

    ``cache_dir`` defaults to `cache_dir_for(sf)`.  A cache that is whole (its marker names the same
    scale factor, layout and format version) is reused as it is; anything else there is replaced.
    Raises `TpchGenMissing` when ``tpchgen-cli`` is not installed, ``ValueError`` for a scale factor
    that is not positive, and ``RuntimeError`` (with tpchgen-cli's output) when the generator fails.
    """
    if not (isinstance(sf, (int, float)) and sf > 0):
        raise ValueError(f"scale factor must be a positive number, got {sf!r}")
    if rows_per_file < 1:
        raise ValueError(f"rows_per_file must be at least 1, got {rows_per_file!r}")
    cache_dir = os.path.abspath(cache_dir or cache_dir_for(sf))
    want = {"sf": _sf_text(sf), "rows_per_file": rows_per_file, "version": _FORMAT_VERSION}
    if _marker(cache_dir) == want:
        return _paths(cache_dir)
    command = tpchgen_command()
    parent = os.path.dirname(cache_dir)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(cache_dir)}-", dir=parent)
    try:
        raw = os.path.join(scratch, "raw")
        _run_tpchgen(command, sf, raw)
        out = os.path.join(scratch, "tables")
        for table in TABLES:
            _normalize(os.path.join(raw, f"{table}.parquet"), os.path.join(out, table), rows_per_file)
        with open(os.path.join(out, _MARKER), "w") as f:
            json.dump(want, f)
        _install(out, cache_dir, want)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _paths(cache_dir)


def normalize_schema(schema: pa.Schema) -> pa.Schema:
    """The schema a raw tpchgen-cli table is rewritten to: float64 decimals, timestamp dates, plain strings."""
    return pa.schema([pa.field(f.name, _normal_type(f.type), nullable=f.nullable) for f in schema])


def _normal_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_date(t):
        return pa.timestamp("ns")
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


def _normalize(raw_path: str, out_dir: str, rows_per_file: int) -> None:
    """Rewrite one raw table into ``out_dir/part.<i>.parquet`` files of at most ``rows_per_file`` rows.

    Streams the raw file batch by batch (SF10's lineitem is 60M rows, ~10 GB decoded: it is never
    held whole), so memory stays about one output file.
    """
    raw = pq.ParquetFile(raw_path)
    schema = normalize_schema(raw.schema_arrow.remove_metadata())
    os.makedirs(out_dir)
    pending, held, nfiles = [], 0, 0

    def flush(rows):
        nonlocal pending, held, nfiles
        table = pa.Table.from_batches(pending, schema=schema)
        pq.write_table(table.slice(0, rows), os.path.join(out_dir, f"part.{nfiles}.parquet"),
                       row_group_size=rows_per_file)
        rest = table.slice(rows)
        pending, held, nfiles = rest.to_batches(), rest.num_rows, nfiles + 1

    for batch in raw.iter_batches(batch_size=min(rows_per_file, 65_536)):
        batch = pa.RecordBatch.from_arrays([col.cast(f.type) for col, f in zip(batch.columns, schema)],
                                           schema=schema)
        pending.append(batch)
        held += batch.num_rows
        while held >= rows_per_file:
            flush(rows_per_file)
    if held or nfiles == 0:
        flush(held)


def _run_tpchgen(command: str, sf: float, out_dir: str) -> None:
    args = [command, "parquet", "-s", _sf_text(sf), "--output-dir", out_dir, "--quiet"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with status {done.returncode}:\n{done.stderr or done.stdout}")
    missing = [t for t in TABLES if not os.path.exists(os.path.join(out_dir, f"{t}.parquet"))]
    if missing:
        raise RuntimeError(f"{' '.join(args)} wrote no file for table(s) {missing} in {out_dir}")


def _install(new: str, cache_dir: str, want: dict) -> None:
    """Move the finished tables to ``cache_dir``; a stale cache there is replaced, a whole one kept."""
    if os.path.exists(cache_dir):
        if _marker(cache_dir) == want:  # another process finished first: keep its (equal) tables
            return
        stale = cache_dir + f".stale-{os.getpid()}"
        os.rename(cache_dir, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.rename(new, cache_dir)
    except OSError:
        if _marker(cache_dir) != want:  # lost a race to a process that wrote something else
            raise


def _marker(cache_dir: str):
    try:
        with open(os.path.join(cache_dir, _MARKER)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _paths(cache_dir: str) -> dict:
    return {t: os.path.join(cache_dir, t) for t in TABLES}


def _sf_text(sf: float) -> str:
    """``1`` -> ``"1"``, ``0.01`` -> ``"0.01"``: the scale factor as tpchgen-cli and the cache name spell it."""
    return f"{sf:g}"
