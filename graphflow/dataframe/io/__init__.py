"""Reading and writing partitioned data: Parquet, CSV, JSON lines, ORC; HDF5 and SQL name what they need.

Every reader and writer takes the pandas/Dask keywords (an unknown one is a
TypeError naming it, as in pandas); index keywords go through `index`, the
one place that knows how the index is stored.
"""

from .csv import read_csv
from .csv_write import to_csv
from .parquet import read_parquet
from .parquet_write import to_parquet

__all__ = ["read_parquet", "to_parquet", "read_csv", "to_csv"]
