"""The TPC-H query sets and the engines that answer them: graphflow/dask from `QUERIES`, DuckDB/Polars from `SQL`.

The queries live in three modules (``queries_01_08``, ``queries_09_15``, ``queries_16_22``), each with
``QUERIES: {n: function(tables) -> lazy frame}`` and ``SQL: {n: text}``; `all_queries` merges those
that are present.  ``tables`` is a plain dict from table name to a lazy frame made by the library's
``read_parquet``, so one query function runs on graphflow.dataframe and dask.dataframe alike::

    >>> from benchmarks.tpch import data, engines                  # doctest: +SKIP
    >>> paths = data.generate(0.01)                                 # doctest: +SKIP
    >>> queries, sql = engines.all_queries()                        # doctest: +SKIP
    >>> import graphflow.dataframe as gdd                           # doctest: +SKIP
    >>> queries[1](engines.load_tables(gdd, paths)).compute()      # doctest: +SKIP
    >>> engines.duckdb_connection(paths).sql(sql[1]).df()           # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os

__all__ = ["QUERY_MODULES", "all_queries", "duckdb_connection", "duckdb_answer", "load_tables",
           "polars_context", "polars_answer"]

QUERY_MODULES = ("queries_01_08", "queries_09_15", "queries_16_22")


def all_queries() -> tuple:
    """``(QUERIES, SQL)`` merged from the query modules of this package that exist (sorted by number)."""
    queries, sql = {}, {}
    for name in QUERY_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":  # the module exists but imports something missing
                raise
            continue
        queries.update(module.QUERIES)
        sql.update(module.SQL)
    return dict(sorted(queries.items())), dict(sorted(sql.items()))


def load_tables(library, paths: dict) -> dict:
    """``{table: library.read_parquet(directory)}`` for graphflow.dataframe or dask.dataframe."""
    return {name: library.read_parquet(path) for name, path in paths.items()}


def duckdb_connection(paths: dict, threads: int | None = None):
    """An in-memory DuckDB connection with one view per table over its Parquet files."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # it would print into the report (stdout)
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    for name, path in paths.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_glob(path)}')")
    return con


def duckdb_answer(con, sql: str):
    """DuckDB's answer to ``sql`` as a pandas DataFrame."""
    return con.sql(sql).df()


def polars_context(paths: dict):
    """A ``polars.SQLContext`` with every table registered as a lazy Parquet scan."""
    import polars as pl

    return pl.SQLContext({name: pl.scan_parquet(_glob(path)) for name, path in paths.items()})


def polars_answer(ctx, sql: str):
    """Polars' answer to ``sql`` as a pandas DataFrame."""
    return ctx.execute(sql, eager=True).to_pandas()


def _glob(path: str) -> str:
    return os.path.join(path, "*.parquet") if os.path.isdir(path) else path
