"""`read_table` (delimited text, tab by default) and `read_fwf` (fixed-width columns), as Dask's.

``read_table`` is `read_csv` with pandas' ``read_table`` default separator (a tab), so it takes all of
``read_csv``'s keywords and cuts files into ``blocksize`` partitions.  ``read_fwf`` reads each file with
pandas' ``read_fwf`` (its keywords pass through), one partition per file: fixed-width columns are
inferred from each file's own lines, and a byte range cut inside a file would have none to infer from.
As from `read_csv`, the frame has no stored index (a computed result gets a fresh ``RangeIndex``).

    >>> import os, tempfile, graphflow.dataframe as gd
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.txt"), "w") as f:
    ...     _ = f.write("x    y\\n1  abc\\n22 de\\n")
    >>> gd.read_fwf(os.path.join(d, "a.txt")).compute(scheduler="sync").y.tolist()
    ['abc', 'de']
"""

from __future__ import annotations

import pandas as pd

from ..frame import DataFrame
from .csv import read_csv
from .paths import check_local, expand_paths

__all__ = ["read_table", "read_fwf"]

_TEXT_SUFFIXES = (".txt", ".tsv", ".csv", ".dat", ".fwf", ".part")


def read_table(urlpath, blocksize="default", **kwargs) -> DataFrame:
    """A DataFrame over tab-separated files (``sep=`` / ``delimiter=`` choose another separator), as
    pandas' ``read_table``; every other keyword as `read_csv`."""
    if "sep" not in kwargs and "delimiter" not in kwargs:
        kwargs["sep"] = "\t"
    return read_csv(urlpath, blocksize=blocksize, **kwargs)


def read_fwf(urlpath, blocksize=None, storage_options=None, meta=None, **kwargs) -> DataFrame:
    """A DataFrame over fixed-width files (a file, directory, glob or list), one partition per file, each
    read by pandas' ``read_fwf`` with ``kwargs`` (``colspecs``, ``widths``, ``names``, ``dtype``...).
    ``blocksize`` other than None is refused (see the module docstring); ``meta`` as in ``from_map``."""
    if blocksize is not None:
        raise NotImplementedError("read_fwf reads one partition per file (blocksize=None): fixed-width columns "
                                  "are inferred from each file's lines; split the files instead")
    check_local(storage_options, what="read_fwf")
    files = expand_paths(urlpath, _TEXT_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no files found at {urlpath!r}")
    from ..convert import from_map

    return from_map(_read_one, files, kwargs=kwargs, meta=meta)


def _read_one(path, kwargs):
    return pd.read_fwf(path, **kwargs)
