"""Reading and writing partitioned data: Parquet, CSV, JSON lines, ORC; HDF5 and SQL name what they need.

Every reader and writer takes the pandas/Dask keywords (an unknown one is a
TypeError naming it, as in pandas); index keywords go through `index`, the
one place that knows how the index is stored.
"""

from .csv import read_csv
from .csv_write import to_csv
from .extras import read_hdf, read_sql, read_sql_query, read_sql_table, to_hdf, to_sql
from .json import read_json, to_json
from .orc import read_orc, to_orc
from .parquet import read_parquet
from .parquet_write import to_parquet

__all__ = ["read_parquet", "to_parquet", "read_csv", "to_csv", "read_json", "to_json", "read_orc", "to_orc",
           "read_hdf", "to_hdf", "read_sql", "read_sql_table", "read_sql_query", "to_sql"]
