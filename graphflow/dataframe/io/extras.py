"""Formats whose libraries graphflow does not depend on: HDF5 (PyTables) and SQL (SQLAlchemy).

Dask's ``read_hdf``/``to_hdf`` need PyTables and its ``read_sql*``/``to_sql``
need SQLAlchemy; graphflow has neither as a dependency, so these names exist
(code written for Dask finds them) and raise `MissingExtraError` saying what
to install, or, with the library present, that graphflow cannot do it yet
and how to get there from pandas.

    >>> try:
    ...     read_hdf("data.h5", "/x")
    ... except ImportError as e:
    ...     print(type(e).__name__, e.library)
    MissingExtraError tables
"""

from __future__ import annotations

import importlib.util

from ...errors import MissingExtraError

__all__ = ["read_hdf", "to_hdf", "read_sql", "read_sql_table", "read_sql_query", "to_sql"]

_LIBS = {"hdf": ("tables", "PyTables", "pip install tables"),
         "sql": ("sqlalchemy", "SQLAlchemy", "pip install sqlalchemy")}


def _unavailable(func: str, kind: str):
    module, library, install = _LIBS[kind]
    instead = (f"read it with pandas (pandas.{func}) and pass the result to graphflow.dataframe.from_pandas"
               if func.startswith("read") else f"compute() the frame and write it with pandas' DataFrame.{func}")
    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(
            f"{func}() needs {library} (the {module!r} module), which graphflow does not depend on; install it "
            f"({install}). graphflow.dataframe does not read or write this format itself yet: {instead}.",
            library=module, feature=func)
    raise NotImplementedError(f"{func}() is not implemented by graphflow.dataframe ({library} is installed, "
                              f"but graphflow does not use it yet): {instead}")


def read_hdf(pattern, key, *args, **kwargs):
    """Dask's ``read_hdf``: needs PyTables (see the module docstring)."""
    _unavailable("read_hdf", "hdf")


def to_hdf(df, path, key, *args, **kwargs):
    """Dask's ``to_hdf``: needs PyTables (see the module docstring)."""
    _unavailable("to_hdf", "hdf")


def read_sql(sql, con, index_col=None, **kwargs):
    """Dask's ``read_sql``: needs SQLAlchemy (see the module docstring)."""
    _unavailable("read_sql", "sql")


def read_sql_table(table_name, con, index_col=None, **kwargs):
    """Dask's ``read_sql_table``: needs SQLAlchemy (see the module docstring)."""
    _unavailable("read_sql_table", "sql")


def read_sql_query(sql, con, index_col=None, **kwargs):
    """Dask's ``read_sql_query``: needs SQLAlchemy (see the module docstring)."""
    _unavailable("read_sql_query", "sql")


def to_sql(df, name, uri, *args, **kwargs):
    """Dask's ``to_sql``: needs SQLAlchemy (see the module docstring)."""
    _unavailable("to_sql", "sql")
