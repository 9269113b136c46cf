"""``python -m benchmarks tpch [--sf 1] [--queries 1,3]``: TPC-H on graphflow beside dask, DuckDB and Polars.

Each engine lives in its own child process for the whole run (so its peak RSS is its own, and one
engine's memory or threads never slow another's), and the engines take turns, query by query:

    gf        graphflow.dataframe, threads scheduler (``--threads`` threads, default 2)
    gf-cluster graphflow.dataframe on a LocalCluster of 2 workers x 1 thread (its own processes)
    dask      dask.dataframe, threads scheduler
    duckdb    DuckDB on the SQL text (the reference answers)
    polars    polars.SQLContext on the SQL text

graphflow and dask run the same query functions (``QUERIES`` of the three query modules), DuckDB
and Polars the same ``SQL``; every answer is checked against DuckDB's (`benchmarks.tpch.check`). The
data comes from `benchmarks.tpch.data` (generated once per scale factor into the cache). The report
is a table of seconds per query and engine (the best of ``--repeat`` runs), the ratios gf/dask and
gf/duckdb, a total row (the queries every engine answered) and each engine's peak RSS (for the
cluster: the largest worker's).  Progress goes to stderr.  Exit status 1 when a graphflow answer is
wrong or failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
import traceback

from . import check, data, engines

__all__ = ["ENGINES", "main", "run"]

ENGINES = ("gf", "gf-cluster", "dask", "duckdb", "polars")
_GRAPHFLOW = ("gf", "gf-cluster")
_MODULE = {"gf": "graphflow", "gf-cluster": "graphflow", "dask": "dask", "duckdb": "duckdb", "polars": "polars"}


# ------------------------------------------------------------------ the engines (in their child processes)


class _Engine:
    """One engine in its child process: ``answer(n)`` runs query ``n`` and gives the pandas answer."""

    def __init__(self, name: str, paths: dict, threads: int):
        self.name, self.threads = name, threads
        self.queries, self.sql = engines.all_queries()
        self.client = None
        if name == "gf":
            import graphflow.dataframe as gdd

            self.tables = engines.load_tables(gdd, paths)
        elif name == "gf-cluster":
            import graphflow as gf
            import graphflow.dataframe as gdd

            self.client = gf.Client(n_workers=2, threads_per_worker=1)
            self.tables = engines.load_tables(gdd, paths)
        elif name == "dask":
            import dask
            import dask.dataframe as dd

            dask.config.set(scheduler="threads", num_workers=threads)
            self.tables = engines.load_tables(dd, paths)
        elif name == "duckdb":
            self.con = engines.duckdb_connection(paths, threads=threads)
        elif name == "polars":
            self.ctx = engines.polars_context(paths)
        self._warm_up()

    def _warm_up(self):
        """Read the smallest table once, untimed: the first query should not pay for imports and connections."""
        if self.name in ("duckdb", "polars"):
            self.sql = {**self.sql, 0: "select count(*) as n from region"}
            self.answer(0)
        else:
            self.tables["region"].compute()

    def answer(self, n: int):
        if self.name == "gf":
            return self.queries[n](self.tables).compute(scheduler="threads", num_workers=self.threads)
        if self.name in ("gf-cluster", "dask"):
            return self.queries[n](self.tables).compute()  # the Client's cluster / dask's configured threads
        if self.name == "duckdb":
            return engines.duckdb_answer(self.con, self.sql[n])
        return engines.polars_answer(self.ctx, self.sql[n])

    def peak_rss(self) -> int:
        """Bytes: this process's peak RSS, or for the cluster its largest worker's."""
        if self.client is not None:
            return max(self.client.run(_own_peak_rss).values())
        return _own_peak_rss()

    def close(self):
        if self.client is not None:
            self.client.close()


def _own_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _serve(name, paths, threads, conn):
    """Child process: build the engine, then answer ("run", n) with (seconds, answer, error) until "stop"."""
    if name == "polars":
        os.environ.setdefault("POLARS_MAX_THREADS", str(threads))  # read when polars is imported
    try:
        engine = _Engine(name, paths, threads)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", None))
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                conn.send(("rss", engine.peak_rss()))
                return
            start = time.perf_counter()
            try:
                got = engine.answer(msg[1])
                conn.send((time.perf_counter() - start, got, None))
            except Exception as exc:
                conn.send((time.perf_counter() - start, None, f"{type(exc).__name__}: {exc}"))
    finally:
        engine.close()


class _Child:
    """The parent's handle on one engine's process."""

    def __init__(self, name, paths, threads, timeout):
        ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no engine's imports or threads
        self.name, self.timeout = name, timeout
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(name, paths, threads, child_conn), daemon=False,
                                name=f"tpch-{name}")
        self.proc.start()
        child_conn.close()
        self.failed = None

    def wait_ready(self):
        """Wait for the engine to be built (the engines start side by side: their imports overlap)."""
        kind, detail = self._recv(max(self.timeout, 120))
        if kind != "ready":
            self.failed = f"could not start: {detail}"

    def _recv(self, timeout):
        if not self.conn.poll(timeout):
            return "timeout", f"no answer in {timeout:.0f} s"
        try:
            return self.conn.recv()
        except EOFError:
            return "died", f"the process died (exit code {self.proc.exitcode})"

    def run(self, n):
        """(seconds, answer, error) for query ``n``; a timeout or a crash ends this engine."""
        if self.failed:
            return None, None, self.failed
        self.conn.send(("run", n))
        reply = self._recv(self.timeout)
        if reply[0] in ("timeout", "died"):
            self.failed = f"q{n}: {reply[1]}"
            self.kill()
            return None, None, self.failed
        return reply

    def stop(self):
        """The engine's peak RSS in bytes (None if it has failed), and the process ended."""
        rss = None
        if not self.failed:
            self.conn.send(("stop",))
            reply = self._recv(60)
            rss = reply[1] if reply[0] == "rss" else None
        self.proc.join(30)
        self.kill()
        return rss

    def kill(self):
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(10)


# ------------------------------------------------------------------ the run


def missing_engines(names) -> dict:
    """{engine: reason} for the engines whose library is not installed."""
    import importlib.util

    return {n: f"{_MODULE[n]} is not installed" for n in names if importlib.util.find_spec(_MODULE[n]) is None}


def run(sf: float, queries: list, names: list, repeat: int = 1, threads: int = 2, timeout: float = 600,
        log=print) -> dict:
    """Run ``queries`` on the engines ``names`` (duckdb always, as the reference); see the module note.

    Returns ``{"seconds": {(engine, n): best}, "errors": {(engine, n): text}, "rss": {engine: bytes},
    "missing": {engine: reason}}``.
    """
    paths = data.generate(sf)
    names = ["duckdb"] + [n for n in names if n != "duckdb"]
    missing = missing_engines(names)
    if "duckdb" in missing:
        raise RuntimeError("duckdb is not installed: it gives the reference answers (pip install duckdb)")
    log(f"starting {', '.join(n for n in names if n not in missing)}")
    children = {name: _Child(name, paths, threads, timeout) for name in names if name not in missing}
    for child in children.values():
        child.wait_ready()
    seconds, errors = {}, {}
    try:
        for n in queries:
            want = None
            for r in range(repeat):
                turn = names[r % len(names):] + names[:r % len(names)]  # engines alternate; who goes first rotates
                for name in (e for e in turn if e in children):
                    took, got, error = children[name].run(n)
                    if error is None and name == "duckdb":
                        want = got if want is None else want
                    elif error is None:
                        error = _check(got, want, n)
                    if error is not None:
                        errors[(name, n)] = error
                        log(f"q{n} {name}: {error.splitlines()[0][:300]}")
                        continue
                    seconds[(name, n)] = min(took, seconds.get((name, n), float("inf")))
            log(f"q{n}: " + ", ".join(f"{e} {seconds[(e, n)]:.2f}s" for e in names if (e, n) in seconds))
    finally:
        rss = {name: child.stop() for name, child in children.items()}
    return {"seconds": seconds, "errors": errors, "rss": rss, "missing": missing}


def _check(got, want, n):
    if want is None:
        return "no DuckDB answer to check against"
    try:
        check.compare(got, want, n)
    except AssertionError as exc:
        return f"WRONG: {exc}"
    return None


# ------------------------------------------------------------------ the report


def format_report(result: dict, queries: list, names: list, sf: float) -> str:
    """The table: seconds per query and engine, gf/dask and gf/duckdb, a total row, peak RSS per engine."""
    names = [n for n in ENGINES if n in names or n == "duckdb"]
    seconds, errors, missing = result["seconds"], result["errors"], result["missing"]
    head = ["query"] + names + ["gf/dask", "gf/duckdb"]
    rows = []
    for n in queries:
        cells = [f"q{n}"]
        for e in names:
            cells.append(_cell(seconds.get((e, n)), errors.get((e, n)), missing.get(e)))
        cells += [_ratio(seconds.get(("gf", n)), seconds.get(("dask", n))),
                  _ratio(seconds.get(("gf", n)), seconds.get(("duckdb", n)))]
        rows.append(cells)
    complete = [n for n in queries if all((e, n) in seconds for e in names if e not in missing)]
    totals = {e: sum(seconds[(e, n)] for n in complete) for e in names if e not in missing}
    rows.append([f"total ({len(complete)}/{len(queries)})"]
                + [f"{totals[e]:.2f}" if e in totals else "-" for e in names]
                + [_ratio(totals.get("gf"), totals.get("dask")), _ratio(totals.get("gf"), totals.get("duckdb"))])
    rows.append(["peak RSS"] + [_mib(result["rss"].get(e)) for e in names] + ["", ""])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = [f"TPC-H SF {sf:g}: seconds (best of the runs), answers checked against DuckDB's"]
    lines += ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in [head] + rows]
    lines.append("peak RSS: each engine's process; gf-cluster: its largest worker")
    for e, reason in missing.items():
        lines.append(f"{e}: missing ({reason})")
    for (e, n), text in sorted(errors.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(f"q{n} {e}: {text.splitlines()[0][:400]}")
    return "\n".join(lines)


def _cell(took, error, missing):
    if missing:
        return "missing"
    if error is not None:
        return "WRONG" if error.startswith("WRONG") else "FAILED"
    return "-" if took is None else f"{took:.2f}"


def _ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _mib(nbytes):
    return "-" if nbytes is None else f"{nbytes / 2**20:.0f} MiB"


# ------------------------------------------------------------------ command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks tpch",
                                description="TPC-H on graphflow (threads and a LocalCluster), dask.dataframe, "
                                            "DuckDB and Polars, every answer checked against DuckDB's.")
    p.add_argument("--sf", type=float, default=1, help="scale factor (default 1); the data is generated once "
                                                       "into $GRAPHFLOW_TPCH_CACHE or ~/.cache/graphflow-tpch")
    p.add_argument("--queries", help="comma-separated query numbers (default: every query written)")
    p.add_argument("--engines", help=f"comma-separated subset of {','.join(ENGINES)} (default: all; duckdb "
                                     f"always runs, as the reference)")
    p.add_argument("--repeat", type=int, default=1, help="runs per query and engine; the best counts")
    p.add_argument("--threads", type=int, default=2, help="threads per engine (default 2)")
    p.add_argument("--timeout", type=float, default=900, help="seconds one query may take before its "
                                                              "engine is stopped (default 900)")
    return p


def main(argv=None) -> int:
    """Run the command; returns the exit status (1: a graphflow answer was wrong or failed)."""
    parser = _parser()
    args = parser.parse_args(argv)
    available = sorted(engines.all_queries()[0])
    queries = available
    if args.queries:
        try:
            queries = [int(q) for q in args.queries.split(",") if q.strip()]
        except ValueError:
            parser.error(f"--queries takes numbers like 1,3 (got {args.queries!r})")
        unknown = [q for q in queries if q not in available]
        if unknown:
            parser.error(f"no query {unknown} (written: {available})")
    names = list(ENGINES)
    if args.engines:
        names = [e.strip() for e in args.engines.split(",") if e.strip()]
        unknown = [e for e in names if e not in ENGINES]
        if unknown:
            parser.error(f"unknown engine(s) {unknown}; choose from {', '.join(ENGINES)}")
    if args.sf <= 0 or args.repeat < 1 or args.threads < 1:
        parser.error("--sf must be positive, --repeat and --threads at least 1")

    def log(text):
        print(text, file=sys.stderr, flush=True)

    result = run(args.sf, queries, names, repeat=args.repeat, threads=args.threads, timeout=args.timeout, log=log)
    print(format_report(result, queries, names, args.sf))
    bad = [k for k in result["errors"] if k[0] in _GRAPHFLOW]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
