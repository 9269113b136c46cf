"""Actors on a cluster of 2 worker processes x 1 thread, one caller, beside ray and dask.distributed actors.

Three workloads (the anchors' cases are ``actor_pipelined`` / ``actor_blocking``
in `benchmarks.anchors.ray` and `benchmarks.anchors.distributed`):

``actor-pipelined`` (``actor_pipelined``)
    a counter actor; ``calls`` (10k) calls of ``add(1)`` made at once, every
    Future gathered at the end.  graphflow: ``client.actor(Counter)`` and
    ``client.gather([h.add(1) ...])``; ray: ``ray.get([a.add.remote(1) ...])``;
    dask: ``client.submit(Counter, actor=True)`` and ``[f.result() for f in
    [a.add(1) ...]]``.  The value is the time per sample; the table shows calls/s.
``actor-blocking`` (``actor_blocking``)
    ``calls`` (2k) calls, each waited for before the next is made.
``actor-checkpoint`` (``actor_checkpoint``)
    the pipelined case with ``checkpoint_every=100`` (a small state): its
    ``total`` is the checkpointing run, the ``plain`` phase the same calls on
    an actor that takes no checkpoints, measured in the same sample.  The
    anchors have no checkpoints: graphflow only.

The actor is created before the clock starts; every sample checks the last
value, so no call can go missing.
"""

from __future__ import annotations

import gc
import time

import graphflow as gf

from ..model import Beside, Target, Workload
from ..targets import ratio_at_most
from .cluster import CLUSTER, SESSION, _client

__all__ = ["WORKLOADS", "CASES", "Counter"]

NAME = "graphflow"
ANCHORS = ("ray", "distributed")


class Counter:
    """The actor every engine runs: a number and ``add``."""

    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


Checkpointed = gf.actor(checkpoint_every=100, max_restarts=1)(Counter)


def _pipelined(client, cls, calls: int) -> float:
    h = client.actor(cls)
    h.add(0).result(timeout=60)
    start = time.perf_counter()
    values = client.gather([h.add(1) for _ in range(calls)])
    elapsed = time.perf_counter() - start
    if values[-1] != calls:
        raise AssertionError(f"graphflow: last value {values[-1]}, expected {calls}")
    return elapsed


def actor_pipelined(params) -> dict:
    """``calls`` calls made at once, gathered at the end."""
    return {"total": _pipelined(_client(params), Counter, params["calls"]), "counts": {"ran": params["calls"]}}


def actor_blocking(params) -> dict:
    """``calls`` calls, each waited for."""
    client = _client(params)
    h = client.actor(Counter)
    h.add(0).result(timeout=60)
    start = time.perf_counter()
    for _ in range(params["calls"]):
        value = h.add(1).result(timeout=60)
    elapsed = time.perf_counter() - start
    if value != params["calls"]:
        raise AssertionError(f"graphflow: last value {value}, expected {params['calls']}")
    return {"total": elapsed, "counts": {"ran": params["calls"]}}


def actor_checkpoint(params) -> dict:
    """The pipelined calls on an actor checkpointing every 100 calls (total) and on one that does not (plain)."""
    client = _client(params)
    plain = _pipelined(client, Counter, params["calls"])
    _settle()
    total = _pipelined(client, Checkpointed, params["calls"])
    _settle()
    return {"total": total, "plain": plain, "counts": {"ran": 2 * params["calls"]}}


def _settle(seconds: float = 0.3) -> None:
    """Let the cluster release the run just timed (10k futures, an actor) before the next one starts,
    so neither run pays for the other's clean-up."""
    gc.collect()
    time.sleep(seconds)


CASES = {"actor_pipelined": actor_pipelined, "actor_blocking": actor_blocking, "actor_checkpoint": actor_checkpoint}


def _rate(result, engine) -> str | None:
    value = result.median(engine)
    return f"{result.params['calls'] / value:,.0f} calls/s" if value else None


_RATE = Beside(_rate, "calls per second")


def _checkpoint_cost(result) -> bool | None:
    total, plain = result.median(NAME), result.median(NAME, "plain")
    return None if not total or not plain else total <= 1.10 * plain


def _checkpoint_note(result) -> str | None:
    total, plain = result.median(NAME), result.median(NAME, "plain")
    if not total or not plain:
        return None
    return f"checkpointing costs {100 * (total / plain - 1):+.1f}% of the pipelined time ({plain:.3f} s plain)"


_PARAMS = {**CLUSTER}

WORKLOADS = [
    Workload(
        name="actor-pipelined",
        summary="10k add(1) calls on one actor made at once, gathered at the end (2 workers x 1 thread)",
        kind="actor_pipelined",
        params={**_PARAMS, "calls": 10_000},
        quick_params={**_PARAMS, "calls": 500},
        tasks=lambda params: params["calls"],
        repeat=5,
        target=ratio_at_most(1 / 1.5, "ray"),
        beside=_RATE,
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="actor-blocking",
        summary="2k add(1) calls on one actor, each waited for",
        kind="actor_blocking",
        params={**_PARAMS, "calls": 2_000},
        quick_params={**_PARAMS, "calls": 100},
        tasks=lambda params: params["calls"],
        repeat=5,
        target=ratio_at_most(1 / 1.5, "ray"),
        beside=_RATE,
        anchors=ANCHORS,
        session=SESSION,
    ),
    Workload(
        name="actor-checkpoint",
        summary="10k pipelined calls with checkpoint_every=100 vs none (graphflow only)",
        kind="actor_checkpoint",
        params={**_PARAMS, "calls": 10_000},
        quick_params={**_PARAMS, "calls": 500},
        tasks=lambda params: params["calls"],
        repeat=5,
        target=Target("checkpoints cost < 10%", _checkpoint_cost, _checkpoint_note),
        anchors=(),
        session=SESSION,
    ),
]
