"""More copies of results on more workers: ``client.replicate``, ``client.rebalance``, ``scatter(broadcast=True)``.

The scheduler plans the copies (`graphflow.scheduler.replicate`) and workers
fetch them from each other; the client only asks, then waits on ``who_has``
until the copies are there, so when `replicate` returns every task reading
those keys finds them on its own worker.

    >>> [x] = client.scatter([big_array], broadcast=True)     # doctest: +SKIP
    >>> client.who_has([x])                                  # doctest: +SKIP
    {'ndarray-...': ['tcp://127.0.0.1:40001', 'tcp://127.0.0.1:40002']}
"""

from __future__ import annotations

import time

from ..comm import messages as wire
from ..errors import GraphflowError
from ..utils.traverse import leaves
from .futures import Future

__all__ = ["replicate", "rebalance"]


def _keys(futures) -> list:
    return list(dict.fromkeys(f.key for f in leaves(futures, lambda x: isinstance(x, Future))))


def replicate(client, futures, n=None, workers=None, timeout=None) -> None:
    """Give each future's key ``n`` holders (None: every worker, or each of ``workers``); wait until they have it.

    Raises `GraphflowError` naming the keys still short of copies after ``timeout`` (default: the client's
    timeout plus a second per 100 MB to copy).
    """
    keys = _keys(futures)
    if not keys:
        return
    if n is not None and n < 1:
        raise ValueError(f"replicate needs n >= 1 (or None for every worker), not {n!r}")
    for f in leaves(futures, lambda x: isinstance(x, Future)):
        f.result()  # copies are made of results: wait for them (raises if one failed)
    workers = list(workers) if workers else None
    client.ask(wire.ReplicateRequest(keys, n, workers))
    info = client.scheduler_info()["workers"]
    targets = set(workers or info)
    want = len(targets) if n is None else min(n, len(targets))
    nbytes = sum(info[a].get("nbytes", 0) for a in info) / max(1, len(info))
    deadline = time.monotonic() + (timeout if timeout is not None else client.timeout + nbytes / 1e8)
    delay = 0.005
    while True:
        who_has = client.who_has(futures)
        short = [k for k in keys if len(set(who_has.get(k, ())) & targets) < want]
        if not short:
            return
        if time.monotonic() > deadline:
            raise GraphflowError(f"replicate: keys {short[:5]} still have fewer than {want} copies on "
                                 f"{sorted(targets)} "
                                 f"after the timeout; who_has: { {k: who_has.get(k) for k in short[:5]} }")
        time.sleep(delay)
        delay = min(0.1, delay * 2)


def rebalance(client, futures=None, workers=None) -> int:
    """Move results so that the workers hold about the same bytes; returns how many moves were started.

    The moves run in the background: each copy lands on the receiver before the giver drops its own.
    """
    keys = None if futures is None else _keys(futures)
    return client.ask(wire.RebalanceRequest(keys, list(workers) if workers else None))
