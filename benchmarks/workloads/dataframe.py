"""DataFrame workloads (issue 5): 10M rows, an int key with 1000 groups, two float columns, 20 partitions.

Each kind runs the same query on graphflow.dataframe, on dask.dataframe
(pandas backend, threads scheduler) and on single-threaded pyarrow over the
whole table.  The input is built once per process and kept in memory
(graphflow: `from_arrow`; dask: ``from_pandas(...).persist()``), so the
timings are the query alone; the parquet kind writes its files once into a
temporary directory and times the read.

    kind                 query
    df_groupby           groupby(key).agg(sum a, mean b)
    df_filter            df[df.a > 0.5][[key, b]]
    df_merge_broadcast   merge with a 100k-row right side on key
    df_merge_shuffle     merge of two 5M-row frames on id (a shuffle: no broadcast)
    df_sort              sort_values(a)
    df_read_parquet      read_parquet(columns=[key, a]) of 20 files

Registration the harness needs (not done here): add ``dataframe`` to the
modules in ``benchmarks/workloads/__init__.py`` (its ``CASES`` joins
``GRAPHFLOW_CASES``), and merge ``DASK_CASES`` into the cases of
``benchmarks/anchors/dask.py``'s ``engine()``.  ``PYARROW_CASES`` are the
single-threaded pyarrow floor, for a "pyarrow" anchor if one is added.
``python -m benchmarks.workloads.dataframe`` prints all three side by side.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import statistics
import tempfile

from ..clock import Stopwatch
from ..model import Workload
from ..targets import all_of, ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES", "PYARROW_CASES"]

PARAMS = {"rows": 10_000_000, "groups": 1000, "partitions": 20, "right_rows": 100_000}
QUICK_PARAMS = {"rows": 200_000, "groups": 1000, "partitions": 20, "right_rows": 10_000}


@functools.lru_cache(maxsize=2)
def tables(rows: int, groups: int, right_rows: int):
    """The pyarrow inputs: the main table, the small right side, and two halves-size frames keyed by id."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    main = pa.table({"key": rng.integers(0, groups, rows), "a": rng.random(rows), "b": rng.random(rows)})
    right = pa.table({"key": np.arange(right_rows), "c": rng.random(right_rows)})
    half = rows // 2
    left5 = pa.table({"id": rng.permutation(half), "x": rng.random(half)})
    right5 = pa.table({"id": rng.permutation(half), "y": rng.random(half)})
    return main, right, left5, right5


def _inputs(p):
    return tables(p["rows"], p["groups"], p["right_rows"])


@functools.lru_cache(maxsize=2)
def parquet_dir(rows: int, groups: int, right_rows: int, partitions: int) -> str:
    """A directory of ``partitions`` Parquet files holding the main table (written once per process)."""
    import pyarrow.parquet as pq

    main = tables(rows, groups, right_rows)[0]
    path = tempfile.mkdtemp(prefix="gf-bench-pq-")
    atexit.register(shutil.rmtree, path, True)  # 176 MB per process: never leave it behind
    size = -(-main.num_rows // partitions)
    for i in range(partitions):
        pq.write_table(main.slice(i * size, size), os.path.join(path, f"part.{i:03d}.parquet"))
    return path


# ------------------------------------------------------------------ graphflow


@functools.lru_cache(maxsize=2)
def _gf_frames(rows, groups, right_rows, partitions):
    import graphflow.dataframe as gd

    main, right, l5, r5 = tables(rows, groups, right_rows)
    return (gd.from_arrow(main, npartitions=partitions), gd.from_arrow(right),
            gd.from_arrow(l5, npartitions=partitions), gd.from_arrow(r5, npartitions=partitions))


def _gf_query(kind, p):
    df, right, l5, r5 = _gf_frames(p["rows"], p["groups"], p["right_rows"], p["partitions"])
    if kind == "df_groupby":
        return df.groupby("key").agg({"a": "sum", "b": "mean"})
    if kind == "df_filter":
        return df[df.a > 0.5][["key", "b"]]
    if kind == "df_merge_broadcast":
        return df.merge(right, on="key")
    if kind == "df_merge_shuffle":
        return l5.merge(r5, on="id", broadcast=False)
    if kind == "df_sort":
        return df.sort_values("a")
    import graphflow.dataframe as gd

    return gd.read_parquet(parquet_dir(p["rows"], p["groups"], p["right_rows"], p["partitions"]),
                           columns=["key", "a"])


def graphflow_case(kind, params) -> dict:
    """Build the query, compute it to a pandas.DataFrame (threads; the conversion to pandas is timed, as
    Dask's result is), check its size."""
    if kind == "df_read_parquet":
        parquet_dir(params["rows"], params["groups"], params["right_rows"], params["partitions"])
    _gf_frames(params["rows"], params["groups"], params["right_rows"], params["partitions"])
    watch = Stopwatch()
    query = _gf_query(kind, params)
    watch.lap("build")
    out = query.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, len(out))
    return watch.phases()


# ------------------------------------------------------------------ dask (pandas backend, threads)


@functools.lru_cache(maxsize=2)
def _dask_frames(rows, groups, right_rows, partitions):
    import dask
    import dask.dataframe as dd

    main, right, l5, r5 = tables(rows, groups, right_rows)
    with dask.config.set({"dataframe.convert-string": False}):
        frames = (dd.from_pandas(main.to_pandas(), npartitions=partitions),
                  dd.from_pandas(right.to_pandas(), npartitions=1),
                  dd.from_pandas(l5.to_pandas(), npartitions=partitions),
                  dd.from_pandas(r5.to_pandas(), npartitions=partitions))
    return dask.persist(*frames, scheduler="threads")


def dask_case(kind, params) -> dict:
    import dask.dataframe as dd

    df, right, l5, r5 = _dask_frames(params["rows"], params["groups"], params["right_rows"], params["partitions"])
    pq_path = parquet_dir(params["rows"], params["groups"], params["right_rows"], params["partitions"])
    watch = Stopwatch()
    if kind == "df_groupby":
        query = df.groupby("key").agg({"a": "sum", "b": "mean"})
    elif kind == "df_filter":
        query = df[df.a > 0.5][["key", "b"]]
    elif kind == "df_merge_broadcast":
        query = df.merge(right, on="key")
    elif kind == "df_merge_shuffle":
        query = l5.merge(r5, on="id", shuffle_method="tasks")
    elif kind == "df_sort":
        query = df.sort_values("a")
    else:
        query = dd.read_parquet(pq_path, columns=["key", "a"])
    watch.lap("build")
    out = query.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, len(out))
    return watch.phases()


# ------------------------------------------------------------------ pyarrow, one thread, whole table


def pyarrow_case(kind, params) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    main, right, l5, r5 = _inputs(params)
    pq_path = parquet_dir(params["rows"], params["groups"], params["right_rows"], params["partitions"])
    watch = Stopwatch()
    if kind == "df_groupby":
        out = main.group_by("key", use_threads=False).aggregate([("a", "sum"), ("b", "mean")])
    elif kind == "df_filter":
        out = main.filter(pc.greater(main["a"], 0.5)).select(["key", "b"])
    elif kind == "df_merge_broadcast":
        out = main.join(right, keys="key", use_threads=False)
    elif kind == "df_merge_shuffle":
        out = l5.join(r5, keys="id", use_threads=False)
    elif kind == "df_sort":
        out = main.sort_by("a")
    else:
        out = pq.read_table(pq_path, columns=["key", "a"], use_threads=False)
    watch.lap("compute")
    _check(kind, params, out.num_rows)
    return watch.phases()


def _check(kind, params, rows):
    n = params["rows"]
    expect = {"df_groupby": params["groups"], "df_merge_shuffle": n // 2}.get(kind, n)
    if kind == "df_filter":
        ok = 0.45 * n < rows < 0.55 * n
    elif kind == "df_merge_broadcast":
        ok = rows == n if params["right_rows"] >= params["groups"] else rows > 0
    else:
        ok = rows == expect
    if not ok:
        raise AssertionError(f"{kind}: unexpected result size {rows}")


KINDS = {
    "df_groupby": ("dfgroupby", "groupby(key).agg(sum a, mean b), 1000 groups"),
    "df_filter": ("dffilter", "df[df.a > 0.5][[key, b]]"),
    "df_merge_broadcast": ("dfmerge-bcast", "merge with a 100k-row right side"),
    "df_merge_shuffle": ("dfmerge-shuffle", "merge of two 5M-row frames on id (hash shuffle)"),
    "df_sort": ("dfsort", "sort_values(a)"),
    "df_read_parquet": ("dfparquet", "read_parquet of 20 files, columns [key, a]"),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}
PYARROW_CASES = {kind: functools.partial(pyarrow_case, kind) for kind in KINDS}

# The targets: every workload at most half of dask's time; groupby and filter also at most
# single-threaded pyarrow's (checked against a "pyarrow" anchor once one is registered).
_AT_MOST_PYARROW = ("df_groupby", "df_filter")


def _target(kind):
    half_dask = ratio_at_most(0.5, "dask")
    return all_of(half_dask, ratio_at_most(1.0, "pyarrow")) if kind in _AT_MOST_PYARROW else half_dask


WORKLOADS = [
    Workload(
        name=name,
        summary=f"dataframe, 10M rows in 20 partitions: {summary}",
        kind=kind,
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        repeat=5,
        target=_target(kind),
        anchors=("dask", "pyarrow"),
    )
    for kind, (name, summary) in KINDS.items()
]


def compare(params=PARAMS, repeat: int = 3, kinds=None) -> dict:
    """``{kind: {engine: median seconds}}`` for graphflow, dask and pyarrow, after a warm-up each."""
    out = {}
    for kind in kinds or KINDS:
        row = {}
        for engine, cases in (("graphflow", CASES), ("dask", DASK_CASES), ("pyarrow", PYARROW_CASES)):
            cases[kind](params)
            row[engine] = statistics.median(cases[kind](params)["total"] for _ in range(repeat))
        out[kind] = row
        print(f"{kind:20s} " + "  ".join(f"{e} {v:.3f}s" for e, v in row.items())
              + f"   gf/dask {row['graphflow'] / row['dask']:.2f}  gf/pyarrow {row['graphflow'] / row['pyarrow']:.2f}",
              flush=True)
    return out


if __name__ == "__main__":
    import sys

    compare(QUICK_PARAMS if "--quick" in sys.argv else PARAMS, kinds=[a for a in sys.argv[1:] if a in KINDS] or None)
