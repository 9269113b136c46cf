"""The four workloads of the fault-injection suite, each checked against a reference computed here.

Each is a function of a `benchmarks.fault_inject.Context` that returns when every answer is right
and raises `WrongAnswer` when one is not; errors from graphflow propagate (the caller classifies
them).  Sizes are small -- a run lasts 1-3 s without faults on two busy cores -- and tasks sleep a
little, so the killer's kills (0.2-2 s after the start) land while work is in flight.

``array``      a 400x400 random array in 100x100 blocks (each block passes through a 40 ms task):
               ``(x + x.T).mean(axis=0)``, ``(x @ x.T).sum(axis=1)``, ``x[::7, 3:].std()`` and
               ``cumsum(x, axis=1)[-1]``, checked against numpy on the same data.
``dataframe``  a 20,000-row table in 12 partitions (each through a 40 ms task): a groupby with three
               aggregations, a filtered sum, a merge with a small table and a sort, checked against pandas.
``actor``      two actors on one worker of a 3-worker cluster: ``Hash`` (``max_restarts=10,
               checkpoint_every=40``, order-sensitive state) takes 600 calls in 30 batches, ``Tally`` (no
               restarts) one call per batch; the killer's first kill is always their host, and lands
               while the calls go on (0.1-1 s after they start; they take over 1.2 s).  Documented behaviour
               (`graphflow.actor`, `graphflow.scheduler.actors`): Hash is recreated from its checkpoint
               on another worker and the calls since are replayed, so every answer equals the fault-free
               sequence; Tally's calls fail from then on with `ActorDiedError` naming it ("not asked to
               survive").  Both are checked, and the run then ends ``named`` with that error.
``elastic``    2 workers under ``adapt(minimum=2, maximum=4)``: 160 squares of 25 ms each (the
               queue scales the cluster up), held while the queue drains (adapt retires workers, whose
               results move), then each plus one and the total; checked against ``sum(i*i + 1)``.
"""

from __future__ import annotations

import time

from .fault_inject import WrongAnswer

__all__ = ["WORKLOADS", "array", "dataframe", "actor", "elastic"]

SLOW = 0.04  # seconds each block / partition task sleeps: work stays in flight when the kills land


def slow_block(block, delay=SLOW):
    time.sleep(delay)
    return block


def slow_square(i, delay=0.025):
    time.sleep(delay)
    return i * i


def plus_one(x):
    return x + 1


def total(xs):
    return sum(xs)


# ------------------------------------------------------------------ array


def array(ctx) -> None:
    """Four array expressions over one random array, against numpy."""
    import numpy as np

    import graphflow.array as ga

    data = np.random.default_rng(ctx.seed).random((400, 400))
    x = ga.from_array(data, chunks=(100, 100)).map_blocks(slow_block)
    exprs = [(x + x.T).mean(axis=0), (x @ x.T).sum(axis=1), x[::7, 3:].std(), ga.cumsum(x, axis=1)[-1]]
    expected = [(data + data.T).mean(axis=0), (data @ data.T).sum(axis=1), data[::7, 3:].std(),
                np.cumsum(data, axis=1)[-1]]
    got = ctx.results(ctx.client.compute(exprs))
    for name, g, e in zip(("(x + x.T).mean(0)", "(x @ x.T).sum(1)", "x[::7, 3:].std()", "cumsum(x, 1)[-1]"),
                          got, expected):
        if np.shape(g) != np.shape(e) or not np.allclose(g, e, rtol=1e-9, atol=1e-9):
            raise WrongAnswer(f"array: {name} differs from numpy (max abs diff "
                              f"{np.max(np.abs(np.asarray(g) - e)) if np.shape(g) == np.shape(e) else 'shape'})")


# ------------------------------------------------------------------ dataframe


def slow_partition(table, delay=SLOW):
    time.sleep(delay)
    return table


def dataframe(ctx) -> None:
    """A groupby, a filtered sum, a merge and a sort, against pandas."""
    import numpy as np
    import pandas as pd

    import graphflow.dataframe as gd

    rng = np.random.default_rng(ctx.seed)
    n = 20_000
    pdf = pd.DataFrame({"k": rng.integers(0, 40, n), "x": rng.normal(size=n), "y": rng.integers(-100, 100, n)})
    right = pd.DataFrame({"k": np.arange(0, 40, 2), "w": rng.normal(size=20)})
    df = gd.from_pandas(pdf, npartitions=12).map_partitions(slow_partition)
    queries = [
        df.groupby("k").agg({"x": "sum", "y": ["max", "count"]}),
        df[df.x > 0.5][["y"]],
        df.merge(gd.from_pandas(right), on="k"),
        df.sort_values("x"),
    ]
    grouped, filtered, merged, ordered = ctx.results(ctx.client.compute(queries))  # pandas, as in Dask

    ref = pdf.groupby("k").agg(x=("x", "sum"), y_max=("y", "max"), y_count=("y", "count")).reset_index()
    got = grouped.sort_index().reset_index()  # the keys are the index, as in pandas
    _same("groupby", got.iloc[:, :4].set_axis(list(ref.columns), axis=1), ref)
    if int(filtered["y"].sum()) != int(pdf[pdf.x > 0.5]["y"].sum()) or len(filtered) != int((pdf.x > 0.5).sum()):
        raise WrongAnswer("dataframe: the filtered rows differ from pandas")
    ref_merge = pdf.merge(right, on="k").sort_values(["x", "k"]).reset_index(drop=True)
    _same("merge", merged.sort_values(["x", "k"]).reset_index(drop=True)[list(ref_merge.columns)], ref_merge)
    _same("sort_values", ordered.reset_index(drop=True), pdf.sort_values("x").reset_index(drop=True))


def _same(what: str, got, expected) -> None:
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError as exc:
        raise WrongAnswer(f"dataframe: {what} differs from pandas: {exc}") from None


# ------------------------------------------------------------------ actors


def _actor_classes():
    """Built on first use, so importing this module does not import graphflow."""
    global _HASH, _TALLY
    if _HASH is None:
        import graphflow as gf

        _HASH = gf.actor(max_restarts=10, checkpoint_every=40)(Hash)
        _TALLY = gf.actor(Tally)
    return _HASH, _TALLY


class Hash:
    """Order-sensitive state: a lost, repeated or reordered call changes every later value."""

    def __init__(self):
        self.h = 0

    def push(self, k):
        time.sleep(0.002)
        self.h = (self.h * 31 + k) % 1_000_003
        return self.h


class Tally:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


_HASH = _TALLY = None


def _fault_free(n: int) -> list:
    h, out = 0, []
    for k in range(n):
        h = (h * 31 + k) % 1_000_003
        out.append(h)
    return out


def _death_of(handle, exc):
    """``exc`` if it is ``handle``'s death; any other actor's death (Hash's) is re-raised."""
    if exc.actor != handle.key:
        raise exc
    return exc


def actor(ctx) -> None:
    """A restartable actor recovers with every answer right; a plain one dies with ActorDiedError."""
    from graphflow.errors import ActorDiedError

    hash_cls, tally_cls = _actor_classes()
    client = ctx.client
    h = client.actor(hash_cls)
    t = client.actor(tally_cls, workers=[h.address])
    workers = client.scheduler_info()["workers"]
    host_pid = workers[h.address]["pid"]
    killed = [False]

    def victim():  # the first kill takes Hash's host; later ones are the plan's pick
        if not killed[0]:
            killed[0] = True
            return host_pid
        return None

    ctx.victims = victim
    ctx.arm()  # the kills are planned from here: both actors exist, the calls are about to start
    batches, per = 30, 20
    expected = _fault_free(batches * per)
    got, tally, died, last_sent = [], [], None, 0.0
    for b in range(batches):
        futures = [h.push(b * per + i) for i in range(per)]
        tally_future = None
        if died is None:
            last_sent = ctx.elapsed()
            try:
                tally_future = t.add(1)
            except ActorDiedError as exc:  # a call made once the client knows the actor is dead fails at once
                died = _death_of(t, exc)
        got += ctx.results(futures)
        if tally_future is not None:
            try:
                tally.append(ctx.result(tally_future))
            except ActorDiedError as exc:
                died = _death_of(t, exc)
    if got != expected:
        first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        raise WrongAnswer(f"actor: Hash's answer #{first} is {got[first]}, fault-free {expected[first]} "
                          f"(incarnation {h.incarnation})")
    if tally != list(range(1, len(tally) + 1)):
        raise WrongAnswer(f"actor: Tally answered {tally[:10]}..., not 1, 2, 3, ...")
    host_kills = [at for at, _, pid in ctx.run.kills if pid == host_pid]
    ctx.note(f"Hash recreated {h.incarnation} times; its first host killed {len(host_kills)} times")
    if host_kills and h.incarnation < 1:
        raise WrongAnswer("actor: Hash's host was killed but Hash was not recreated (incarnation 0)")
    if died is None:
        if host_kills and last_sent > host_kills[0] + 0.1:
            raise WrongAnswer(f"actor: Tally answered a call sent {last_sent - host_kills[0]:.2f} s after its "
                              f"host was killed, instead of ActorDiedError")
        return
    if not host_kills:
        raise WrongAnswer(f"actor: Tally died ({died}) though its host was never killed")
    if died.actor != t.key or "not asked to survive" not in str(died):
        raise WrongAnswer(f"actor: Tally's ActorDiedError does not name it or say why: {died!r}")
    ctx.note(f"Tally died after {len(tally)} calls, as documented (no restarts asked for)")
    raise died


# ------------------------------------------------------------------ elastic


def elastic(ctx) -> None:
    """Squares under adapt(2, 4): scale up, hold the results while adapt retires workers, then sum."""
    client, cluster = ctx.client, ctx.cluster
    adaptive = cluster.adapt(minimum=2, maximum=4, interval="0.2s", wait_count=2, target_duration="0.5s")
    try:
        n = 160
        squares = client.map(slow_square, range(n), pure=False)
        ctx.waiting.extend(squares)
        peak = 0
        while not all(f.done() for f in squares) and time.monotonic() < ctx.deadline:
            peak = max(peak, len(client.scheduler_info()["workers"]))
            time.sleep(0.05)
        ctx.results(squares)
        shrink_by = time.monotonic() + 4
        while len(client.scheduler_info()["workers"]) > 2 and time.monotonic() < shrink_by:
            time.sleep(0.05)  # held results move off the workers adapt retires
        ctx.note(f"{peak} workers at the peak, {len(client.scheduler_info()['workers'])} before the sum")
        answer = ctx.result(client.submit(total, client.map(plus_one, squares, pure=False), pure=False))
    finally:
        adaptive.stop()
    expected = sum(i * i + 1 for i in range(n))
    if answer != expected:
        raise WrongAnswer(f"elastic: sum of squares plus one is {answer}, not {expected}")


array.name = "array"
dataframe.name = "dataframe"
actor.name = "actor"
elastic.name = "elastic"
elastic.n_workers = 2
# When the killer strikes (seconds after the start): within each workload's fault-free run time here.
array.window = (0.2, 1.5)
dataframe.window = (0.2, 2.0)
actor.window = (0.1, 1.0)
actor.arms_killer = True
elastic.window = (0.2, 1.4)

WORKLOADS = {w.name: w for w in (array, dataframe, actor, elastic)}
