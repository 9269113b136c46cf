"""Reading and writing partitioned data: Parquet (`parquet`) and CSV (`csv`)."""

from .csv import read_csv, to_csv
from .parquet import read_parquet, to_parquet

__all__ = ["read_parquet", "to_parquet", "read_csv", "to_csv"]
