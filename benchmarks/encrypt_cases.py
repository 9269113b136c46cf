"""What encryption costs: the 10k-task sum on an encrypted cluster and on a plain one (graphflow only).

``dist10k-encrypt`` (kind ``encrypt_overhead``)
    the ``dist10k`` work (`benchmarks.futures_cases.delayed_sum`: 10k
    ``delayed`` inc(i) summed by a fan-in-8 tree, one compute) on two clusters
    of 2 workers x 1 thread that live side by side for the whole run: one with
    ``encrypt=True`` (zmq CURVE on every connection, client included:
    ``total``), one without (``plain``).  Each sample runs both, the order
    alternating between samples, so machine noise falls on both alike.
    Target (issue 17): encrypted at most 1.3x plain.

Both clusters authenticate every message (the MAC); the difference is only
CURVE's encryption and its per-message boxes.
"""

from __future__ import annotations

import itertools

from . import futures_cases, sessions
from .overhead_rows import overhead_row

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES"]

NAME = "graphflow"
SESSION = "encrypt"
_samples = itertools.count()


def _client(params, encrypt: bool):
    import graphflow as gf

    def start():
        return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                         dashboard_address=None, encrypt=encrypt)

    key = (SESSION, encrypt, params["workers"], params["threads_per_worker"])
    return sessions.shared(key, start, lambda c: c.close())


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def encrypt_overhead(params) -> dict:
    """dist10k on the encrypted cluster (``total``) and on the plain one (``plain``)."""
    import graphflow as gf

    order = (True, False) if next(_samples) % 2 else (False, True)
    phases = {}
    for encrypt in order:
        client = _client(params, encrypt)
        assert (client.cluster.curve_secret is not None) is encrypt
        phases[encrypt] = futures_cases.delayed_sum(client, params, _ran, NAME, gf.delayed, gf.compute)
    return {"total": phases[True]["total"], "plain": phases[False]["total"], "counts": phases[True]["counts"]}


GRAPHFLOW_CASES = {"encrypt_overhead": encrypt_overhead}

WORKLOADS = [
    overhead_row(
        "dist10k-encrypt",
        "dist10k on a cluster with encrypt=True (zmq CURVE) vs one without, side by side",
        "encrypt_overhead", SESSION, 0.3, ("encrypted", "plain"),
    ),
]

GROUP = [w.name for w in WORKLOADS]
