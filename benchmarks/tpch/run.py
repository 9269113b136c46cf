"""``python -m benchmarks tpch [--sf 1] [--queries 1,3]``: TPC-H on graphflow beside dask, DuckDB and Polars.

Each engine lives in its own child process for the whole run (so its peak RSS is its own, and one
engine's memory or threads never slow another's), and the engines take turns, query by query:

    gf        graphflow.dataframe, threads scheduler (``--threads`` threads, default 2)
    gf-cluster graphflow.dataframe on a LocalCluster of 2 workers x 1 thread (its own processes), each
               worker limited to ``--worker-memory`` (default 4 GiB: the issue's SF10 target, 2 x 4 GiB;
               past the limit's fractions a worker spills, pauses, and at 95% is restarted)
    dask      dask.dataframe, threads scheduler
    duckdb    DuckDB on the SQL text (the reference answers)
    polars    polars.SQLContext on the SQL text

graphflow and dask run the same query functions (``QUERIES`` of the three query modules), DuckDB
and Polars the same ``SQL``; every answer is checked against DuckDB's (`benchmarks.tpch.check`). The
data comes from `benchmarks.tpch.data` (generated once per scale factor into the cache). The report
is a table of seconds per query and engine (the best of ``--repeat`` runs), the ratios gf/dask and
gf/duckdb, a total row (the queries every engine answered) and each engine's peak RSS (for the
cluster: the largest worker's).  For gf-cluster every query also has its peak RSS per worker (each
worker's high-water mark, VmHWM, reset before the query through /proc/<pid>/clear_refs) and the
driver's (the engine process, which holds the client and gathers the answer).  Progress goes to
stderr.  Exit status 1 when a graphflow answer is wrong or failed, 2 for bad arguments.
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
DEFAULT_WORKER_MEMORY = "4GiB"  # per gf-cluster worker: the SF10 target is 2 workers x 4 GiB
_GRAPHFLOW = ("gf", "gf-cluster")
_MODULE = {"gf": "graphflow", "gf-cluster": "graphflow", "dask": "dask", "duckdb": "duckdb", "polars": "polars"}


# ------------------------------------------------------------------ the engines (in their child processes)


class _Engine:
    """One engine in its child process: ``answer(n)`` runs query ``n`` and gives the pandas answer."""

    def __init__(self, name: str, paths: dict, threads: int, worker_memory=None):
        self.name, self.threads = name, threads
        self.queries, self.sql = engines.all_queries()
        self.client = None
        if name == "gf":
            import graphflow.dataframe as gdd

            self.tables = engines.load_tables(gdd, paths)
        elif name == "gf-cluster":
            import graphflow as gf
            import graphflow.dataframe as gdd

            self.client = gf.Client(n_workers=2, threads_per_worker=1, memory_limit=worker_memory)
            self.tables = engines.load_tables(gdd, paths)
            self.worker_pids = self.client.run(os.getpid)
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

    def reset_peaks(self):
        """gf-cluster: reset the workers' and this process's RSS high-water marks, so `query_peaks` covers one
        query (this also resets ``ru_maxrss``: `peak_rss` is then the largest of the queries' peaks)."""
        if self.client is None:
            return
        self.peak_so_far = max([getattr(self, "peak_so_far", 0)] + self._worker_peaks())
        for pid in self.worker_pids.values():
            reset_high_water(pid)
        reset_high_water(os.getpid())

    def _worker_peaks(self):
        return [b for b in (high_water(pid) for pid in self.worker_pids.values()) if b is not None]

    def query_peaks(self):
        """gf-cluster: ``{"workers": [bytes per worker], "driver": bytes}`` since `reset_peaks`; else None."""
        if self.client is None:
            return None
        return {"workers": [high_water(pid) for pid in self.worker_pids.values()], "driver": high_water(os.getpid())}

    def peak_rss(self) -> int:
        """Bytes: this process's peak RSS, or for the cluster its largest worker's."""
        if self.client is not None:
            return max([getattr(self, "peak_so_far", 0)] + self._worker_peaks())
        return _own_peak_rss()

    def close(self):
        if self.client is not None:
            self.client.close()


def _own_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def reset_high_water(pid: int) -> None:
    """Set process ``pid``'s peak RSS (VmHWM) back to its current RSS (Linux >= 4.0; a no-op elsewhere)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def high_water(pid: int) -> int | None:
    """Bytes: process ``pid``'s peak RSS since it started or since `reset_high_water` (None: unknown)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _serve(name, paths, threads, worker_memory, conn):
    """Child process: build the engine, then answer ("run", n) with (seconds, answer, error, peaks) until
    "stop" (peaks: `_Engine.query_peaks`)."""
    if name == "polars":
        os.environ.setdefault("POLARS_MAX_THREADS", str(threads))  # read when polars is imported
    try:
        engine = _Engine(name, paths, threads, worker_memory)
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
            engine.reset_peaks()
            start = time.perf_counter()
            try:
                got = engine.answer(msg[1])
                took, error = time.perf_counter() - start, None
            except Exception as exc:
                took, got, error = time.perf_counter() - start, None, f"{type(exc).__name__}: {exc}"
            conn.send((took, got, error, engine.query_peaks()))
    finally:
        engine.close()


class _Child:
    """The parent's handle on one engine's process."""

    def __init__(self, name, paths, threads, timeout, worker_memory=None):
        ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no engine's imports or threads
        self.name, self.timeout = name, timeout
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(name, paths, threads, worker_memory, child_conn), daemon=False,
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
        """(seconds, answer, error, peaks) for query ``n``; a timeout or a crash ends this engine."""
        if self.failed:
            return None, None, self.failed, None
        self.conn.send(("run", n))
        reply = self._recv(self.timeout)
        if reply[0] in ("timeout", "died"):
            self.failed = f"q{n}: {reply[1]}"
            self.kill()
            return None, None, self.failed, None
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
        log=print, worker_memory=DEFAULT_WORKER_MEMORY, paths: dict | None = None) -> dict:
    """Run ``queries`` on the engines ``names`` (duckdb always, as the reference); see the module note.

    ``worker_memory``: each gf-cluster worker's memory limit (a size, or None for none); ``paths``:
    the tables (default: `data.generate(sf)`).  Returns ``{"seconds": {(engine, n): best}, "errors":
    {(engine, n): text}, "rss": {engine: bytes}, "missing": {engine: reason}, "peaks": {n: {"workers":
    [bytes per worker], "driver": bytes}}}`` (peaks: gf-cluster's, the largest over the repeats).
    """
    paths = paths or data.generate(sf)
    names = ["duckdb"] + [n for n in names if n != "duckdb"]
    missing = missing_engines(names)
    if "duckdb" in missing:
        raise RuntimeError("duckdb is not installed: it gives the reference answers (pip install duckdb)")
    log(f"starting {', '.join(n for n in names if n not in missing)}")
    children = {name: _Child(name, paths, threads, timeout, worker_memory) for name in names if name not in missing}
    for child in children.values():
        child.wait_ready()
    seconds, errors, peaks = {}, {}, {}
    try:
        for n in queries:
            want = None
            for r in range(repeat):
                turn = names[r % len(names):] + names[:r % len(names)]  # engines alternate; who goes first rotates
                for name in (e for e in turn if e in children):
                    took, got, error, mem = children[name].run(n)
                    if mem is not None:
                        peaks[n] = _larger_peaks(peaks.get(n), mem)
                    if error is None and name == "duckdb":
                        want = got if want is None else want
                    elif error is None:
                        error = _check(got, want, n)
                    if error is not None:
                        errors[(name, n)] = error
                        log(f"q{n} {name}: {error.splitlines()[0][:300]}")
                        continue
                    seconds[(name, n)] = min(took, seconds.get((name, n), float("inf")))
            mem = f" (gf-cluster peak RSS: workers {', '.join(_mib(b) for b in peaks[n]['workers'])}, driver " \
                  f"{_mib(peaks[n]['driver'])})" if n in peaks else ""
            log(f"q{n}: " + ", ".join(f"{e} {seconds[(e, n)]:.2f}s" for e in names if (e, n) in seconds) + mem)
    finally:
        rss = {name: child.stop() for name, child in children.items()}
    return {"seconds": seconds, "errors": errors, "rss": rss, "missing": missing, "peaks": peaks,
            "worker_memory": worker_memory}


def _larger_peaks(old, new):
    if old is None:
        return new
    bigger = lambda a, b: b if a is None else a if b is None else max(a, b)  # noqa: E731
    return {"workers": [bigger(a, b) for a, b in zip(old["workers"], new["workers"])],
            "driver": bigger(old["driver"], new["driver"])}


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
    peaks = result.get("peaks", {})
    gf = "gf" if "gf" in names or "gf-cluster" not in names else "gf-cluster"  # whose ratios: threads, else cluster
    head = ["query"] + names + [f"{gf}/dask", f"{gf}/duckdb"]
    head += ["cluster RSS/worker (MiB)", "driver"] if peaks else []
    rows = []
    for n in queries:
        cells = [f"q{n}"]
        for e in names:
            cells.append(_cell(seconds.get((e, n)), errors.get((e, n)), missing.get(e)))
        cells += [_ratio(seconds.get((gf, n)), seconds.get(("dask", n))),
                  _ratio(seconds.get((gf, n)), seconds.get(("duckdb", n)))]
        if peaks:
            mem = peaks.get(n)
            cells += ["/".join(_mib(b, unit="") for b in mem["workers"]), _mib(mem["driver"])] if mem else ["-", "-"]
        rows.append(cells)
    complete = [n for n in queries if all((e, n) in seconds for e in names if e not in missing)]
    totals = {e: sum(seconds[(e, n)] for n in complete) for e in names if e not in missing}
    rows.append([f"total ({len(complete)}/{len(queries)})"]
                + [f"{totals[e]:.2f}" if e in totals else "-" for e in names]
                + [_ratio(totals.get(gf), totals.get("dask")), _ratio(totals.get(gf), totals.get("duckdb"))]
                + ["", ""] * bool(peaks))
    rows.append(["peak RSS"] + [_mib(result["rss"].get(e)) for e in names] + ["", ""] + ["", ""] * bool(peaks))
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = [f"TPC-H SF {sf:g}: seconds (best of the runs), answers checked against DuckDB's"]
    lines += ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in [head] + rows]
    lines.append("peak RSS: each engine's process; gf-cluster: its largest worker")
    if peaks:
        lines.append(f"cluster RSS/worker: each gf-cluster worker's peak RSS during the query (limit "
                     f"{result.get('worker_memory') or 'none'}); driver: the process holding the client")
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


def _mib(nbytes, unit=" MiB"):
    return "-" if nbytes is None else f"{nbytes / 2**20:.0f}{unit}"


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
    p.add_argument("--worker-memory", default=DEFAULT_WORKER_MEMORY,
                   help=f"memory limit of each gf-cluster worker, e.g. 4GiB or 'none' (default "
                        f"{DEFAULT_WORKER_MEMORY}: SF10 must finish on 2 workers of 4 GiB)")
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

    worker_memory = None if args.worker_memory.lower() in ("none", "0") else args.worker_memory
    if worker_memory is not None:
        from graphflow.errors import ConfigError
        from graphflow.units import parse_bytes

        try:
            parse_bytes(worker_memory)
        except ConfigError:
            parser.error(f"--worker-memory takes a size like 4GiB or 'none' (got {args.worker_memory!r})")
    result = run(args.sf, queries, names, repeat=args.repeat, threads=args.threads, timeout=args.timeout, log=log,
                 worker_memory=worker_memory)
    print(format_report(result, queries, names, args.sf))
    bad = [k for k in result["errors"] if k[0] in _GRAPHFLOW]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
