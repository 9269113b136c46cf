"""DataFrame window workloads (issue 18): methods whose rows depend on neighbouring rows, on 10M rows in 20
partitions, graphflow.dataframe beside dask.dataframe (pandas backend, threads scheduler).

    kind             query                                         result
    df_rolling_mean  df.a.rolling(7).mean()                        a pandas Series, 10M rows
    df_shift         df.a.shift(1)                                 "
    df_diff          df.a.diff(1)                                  "
    df_cumsum        df.a.cumsum()                                 "
    df_resample      ts.resample("1h").sum() (a, b; 1 s apart)     a pandas DataFrame, 2778 rows

The inputs are built once per process and kept in memory (graphflow: ``from_pandas``; dask:
``from_pandas(...).persist()``); the timed region is the query and its pandas result.
``python -m benchmarks.workloads.df_windows`` prints both side by side.
"""

from __future__ import annotations

import functools
import statistics

from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES"]

PARAMS = {"rows": 10_000_000, "partitions": 20}
QUICK_PARAMS = {"rows": 200_000, "partitions": 20}


@functools.lru_cache(maxsize=2)
def frames(rows: int):
    """The pandas inputs: a plain frame (a, b) and the same with a 1-second DatetimeIndex."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    plain = pd.DataFrame({"a": rng.random(rows), "b": rng.random(rows)})
    timed = plain.set_axis(pd.date_range("2024-01-01", periods=rows, freq="s", name="when"), axis=0)
    return plain, timed


@functools.lru_cache(maxsize=2)
def _gf_frames(rows, partitions):
    import graphflow.dataframe as gd

    plain, timed = frames(rows)
    return gd.from_pandas(plain, npartitions=partitions), gd.from_pandas(timed, npartitions=partitions)


@functools.lru_cache(maxsize=2)
def _dask_frames(rows, partitions):
    import dask
    import dask.dataframe as dd

    plain, timed = frames(rows)
    return dask.persist(dd.from_pandas(plain, npartitions=partitions), dd.from_pandas(timed, npartitions=partitions),
                        scheduler="threads")


def _query(kind, df, ts):
    if kind == "df_rolling_mean":
        return df.a.rolling(7).mean()
    if kind == "df_shift":
        return df.a.shift(1)
    if kind == "df_diff":
        return df.a.diff(1)
    if kind == "df_cumsum":
        return df.a.cumsum()
    return ts.resample("1h").sum()


def _check(kind, params, out):
    n = params["rows"]
    expect = -(-n // 3600) if kind == "df_resample" else n
    if len(out) != expect:
        raise AssertionError(f"{kind}: unexpected result size {len(out)} (expected {expect})")


def _timed(frames, kind, params) -> dict:
    """Build the query on ``frames`` (an engine's), compute it to pandas on threads, check it; the phases."""
    df, ts = frames
    watch = Stopwatch()
    query = _query(kind, df, ts)
    watch.lap("build")
    out = query.compute(scheduler="threads")
    watch.lap("compute")
    _check(kind, params, out)
    return watch.phases()


def graphflow_case(kind, params) -> dict:
    return _timed(_gf_frames(params["rows"], params["partitions"]), kind, params)


def dask_case(kind, params) -> dict:
    return _timed(_dask_frames(params["rows"], params["partitions"]), kind, params)


KINDS = {
    "df_rolling_mean": ("dfrolling", "a.rolling(7).mean()"),
    "df_shift": ("dfshift", "a.shift(1)"),
    "df_diff": ("dfdiff", "a.diff(1)"),
    "df_cumsum": ("dfcumsum", "a.cumsum()"),
    "df_resample": ("dfresample", 'resample("1h").sum() on a 1-second DatetimeIndex'),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}

WORKLOADS = [
    Workload(
        name=name,
        summary=f"dataframe windows, 10M rows in 20 partitions: {summary}",
        kind=kind,
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        repeat=5,
        target=ratio_at_most(0.5, "dask"),
        anchors=("dask",),
    )
    for kind, (name, summary) in KINDS.items()
]


def compare(params=PARAMS, repeat: int = 3, kinds=None) -> dict:
    """``{kind: {engine: median seconds}}`` for graphflow and dask, after a warm-up each."""
    out = {}
    for kind in kinds or KINDS:
        row = {}
        for engine, cases in (("graphflow", CASES), ("dask", DASK_CASES)):
            cases[kind](params)
            row[engine] = statistics.median(cases[kind](params)["total"] for _ in range(repeat))
        out[kind] = row
        print(f"{kind:16s} " + "  ".join(f"{e} {v:.3f}s" for e, v in row.items())
              + f"   gf/dask {row['graphflow'] / row['dask']:.2f}", flush=True)
    return out


if __name__ == "__main__":
    import sys

    compare(QUICK_PARAMS if "--quick" in sys.argv else PARAMS, kinds=[a for a in sys.argv[1:] if a in KINDS] or None)
