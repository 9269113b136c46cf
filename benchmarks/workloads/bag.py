"""Bag workloads (issue 21): JSON lines and word counts, graphflow.bag beside dask.bag, both on processes.

    kind          query                                                           result
    bag_json      read_text(*.jsonl).map(json.loads).foldby(name, sum of amount)  1000 (name, total) pairs
    bag_words     read_text(*.txt).map(str.split).flatten().frequencies()         the 10 most frequent words
                  .topk(10, key=1)

Both engines run the same code on their process-based scheduler (``scheduler="processes"``: dask's
multiprocessing pool, as Dask defaults bags to; graphflow's local process pool, its bags' default),
with the default number of workers (one per core).  The inputs are files written once per process into
a temporary directory (removed at exit): ``bag_json`` 1 GB of JSON lines in 32 files (``mb``
configurable; ``--quick`` writes 8 MB), ``bag_words`` 10M words in 16 files, 10 a line.  Each file is a
partition for both engines (``blocksize=None``).  Answers are checked against the generator's own
totals (the records repeat one block of known sums), not only timed.  graphflow's ``map(json.loads)``
parses with msgspec when it is installed (the ``bench`` extra has it, as a user's ``fast-json`` extra
does; same values as ``json.loads``), dask's with ``json.loads``.

    python -m benchmarks bag                      # both kinds vs dask, medians of 3
    python -m benchmarks.workloads.bag --quick    # side by side, small inputs
"""

from __future__ import annotations

import atexit
import functools
import json
import operator
import os
import random
import shutil
import statistics
import tempfile

from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most

__all__ = ["WORKLOADS", "CASES", "DASK_CASES"]

JSON_PARAMS = {"mb": 1024, "files": 32, "names": 1000}
JSON_QUICK = {"mb": 8, "files": 4, "names": 1000}
WORDS_PARAMS = {"words": 10_000_000, "files": 16, "vocabulary": 50_000}
WORDS_QUICK = {"words": 200_000, "files": 4, "vocabulary": 50_000}

_BLOCK_RECORDS = 20_000  # one block of records, repeated to fill the files: generation stays fast


def _records_block(names: int):
    """``(text of _BLOCK_RECORDS JSON lines, {name: total amount})``: what every repetition holds."""
    rng = random.Random(0)
    lines, totals = [], {}
    for i in range(_BLOCK_RECORDS):
        name = f"user{rng.randrange(names):05d}"
        amount = rng.randrange(1000)
        totals[name] = totals.get(name, 0) + amount
        rec = {"id": i, "name": name, "amount": amount, "status": rng.choice([200, 200, 200, 404, 500]),
               "tags": [rng.choice("abcdef") for _ in range(3)], "msg": "x" * rng.randrange(10, 40)}
        lines.append(json.dumps(rec))
    return "\n".join(lines) + "\n", totals


@functools.lru_cache(maxsize=2)
def json_dir(mb: int, files: int, names: int):
    """``(directory, {name: expected total})``: ``mb`` megabytes of JSON lines in ``files`` files."""
    block, totals = _records_block(names)
    data = block.encode()
    per_file = max(1, (mb * 2**20 // files) // len(data))
    path = tempfile.mkdtemp(prefix="gf-bench-bag-json-")
    atexit.register(shutil.rmtree, path, True)  # a gigabyte: never leave it behind
    for f in range(files):
        with open(os.path.join(path, f"part-{f:03d}.jsonl"), "wb") as out:
            for _ in range(per_file):
                out.write(data)
    reps = per_file * files
    return path, {k: v * reps for k, v in totals.items()}


@functools.lru_cache(maxsize=2)
def words_dir(words: int, files: int, vocabulary: int):
    """``(directory, top 10 (word, count))``: ``words`` words drawn Zipf-like, 10 a line, in ``files`` files."""
    import numpy as np
    from collections import Counter

    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(vocabulary)])
    ranks = np.minimum(rng.zipf(1.3, size=words) - 1, vocabulary - 1)
    drawn = vocab[ranks]
    counts = Counter(drawn.tolist())
    path = tempfile.mkdtemp(prefix="gf-bench-bag-words-")
    atexit.register(shutil.rmtree, path, True)
    per_file = -(-words // files)
    for f in range(files):
        chunk = drawn[f * per_file:(f + 1) * per_file]
        lines = [" ".join(chunk[i:i + 10]) for i in range(0, len(chunk), 10)]
        with open(os.path.join(path, f"part-{f:03d}.txt"), "w") as out:
            out.write("\n".join(lines) + "\n")
    return path, counts.most_common(10)


def add_amount(total, record):
    """foldby's binop: a running total of the ``amount`` field (a plain function, as a user writes)."""
    return total + record["amount"]


def _query(kind, db, params):
    if kind == "bag_json":
        path, _ = json_dir(params["mb"], params["files"], params["names"])
        records = db.read_text(os.path.join(path, "*.jsonl")).map(json.loads)
        return records.foldby("name", add_amount, 0, operator.add, 0)
    path, _ = words_dir(params["words"], params["files"], params["vocabulary"])
    return db.read_text(os.path.join(path, "*.txt")).map(str.split).flatten().frequencies().topk(10, key=1)


def _check(kind, params, out) -> None:
    if kind == "bag_json":
        expected = json_dir(params["mb"], params["files"], params["names"])[1]
        if dict(out) != expected or len(out) != len(expected):
            raise AssertionError("bag_json: the per-name totals differ from the generator's")
    else:
        expected = words_dir(params["words"], params["files"], params["vocabulary"])[1]
        if sorted(c for _, c in out) != sorted(c for _, c in expected) or dict(out) != dict(expected):
            raise AssertionError(f"bag_words: top 10 {out} != {expected}")


def _prepare(kind, params):
    if kind == "bag_json":
        json_dir(params["mb"], params["files"], params["names"])
    else:
        words_dir(params["words"], params["files"], params["vocabulary"])


def _run(kind, db, params) -> dict:
    _prepare(kind, params)  # writing the inputs is not timed
    watch = Stopwatch()
    query = _query(kind, db, params)
    watch.lap("build")
    out = query.compute(scheduler="processes")
    watch.lap("compute")
    phases = watch.phases()
    _check(kind, params, out)
    return phases


def graphflow_case(kind, params) -> dict:
    """graphflow.bag on its local process pool."""
    import graphflow.bag as db

    return _run(kind, db, params)


def dask_case(kind, params) -> dict:
    """dask.bag on dask's multiprocessing scheduler."""
    import dask.bag as db

    return _run(kind, db, params)


KINDS = {
    "bag_json": ("bag-json", "read_text + map(json.loads) + foldby over JSON lines", JSON_PARAMS, JSON_QUICK),
    "bag_words": ("bag-words", "frequencies().topk(10) of 10M words (read_text, str.split, flatten)",
                  WORDS_PARAMS, WORDS_QUICK),
}

CASES = {kind: functools.partial(graphflow_case, kind) for kind in KINDS}
DASK_CASES = {kind: functools.partial(dask_case, kind) for kind in KINDS}

WORKLOADS = [
    Workload(name=name, summary=f"bag, processes scheduler: {summary}", kind=kind, params=params,
             quick_params=quick, repeat=3, target=ratio_at_most(0.5, "dask"), anchors=("dask",))
    for kind, (name, summary, params, quick) in KINDS.items()
]


def compare(quick: bool = False, repeat: int = 3, kinds=None) -> dict:
    """``{kind: {engine: median seconds}}`` for graphflow and dask, after a warm-up each; prints the ratios."""
    out = {}
    for kind in kinds or KINDS:
        params = KINDS[kind][3] if quick else KINDS[kind][2]
        row = {}
        for engine, cases in (("graphflow", CASES), ("dask", DASK_CASES)):
            cases[kind](params)
            row[engine] = statistics.median(cases[kind](params)["total"] for _ in range(repeat))
        out[kind] = row
        print(f"{kind:10s} graphflow {row['graphflow']:.3f}s  dask {row['dask']:.3f}s  "
              f"gf/dask {row['graphflow'] / row['dask']:.2f}", flush=True)
    return out


if __name__ == "__main__":
    import sys

    compare("--quick" in sys.argv, kinds=[a for a in sys.argv[1:] if a in KINDS] or None)
