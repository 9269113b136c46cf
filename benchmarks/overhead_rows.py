"""The rows that time dist10k's tree on a 2-worker cluster with one feature on and off, side by side.

Dashboard, encryption, progress bars and task resources each ask the same question: how much
longer does the 10k-leaf tree take with the feature than without it, on the same cluster?  Their
rows differ only in name, case and allowed overhead, so they are made here.
"""

from __future__ import annotations

from . import shapes
from .model import Workload
from .targets import Target, overhead_below

CLUSTER = {"workers": 2, "threads_per_worker": 1}
TREE = {"leaves": 10_000, "fan_in": 8}
QUICK_TREE = {"leaves": 64, "fan_in": 8}


def tree_task_count(params: dict) -> int:
    """Tasks in the tree ``params`` describe (its leaves and fan-in)."""
    return shapes.tree_task_count(params["leaves"], params["fan_in"])


def overhead_row(name: str, summary: str, kind: str, session: str, limit: float, labels: tuple[str, str], *,
                 repeat: int = 9, target: Target | None = None) -> Workload:
    """A dist10k row whose case reports the feature-on ``total`` and the feature-off ``plain`` phase.

    ``labels`` names the two sides in the note (on, off); the target is ``total < (1 + limit) x plain``
    unless ``target`` replaces it.
    """
    return Workload(
        name=name,
        summary=summary,
        kind=kind,
        params={**CLUSTER, **TREE},
        quick_params={**CLUSTER, **QUICK_TREE},
        tasks=tree_task_count,
        repeat=repeat,
        warmup="small",
        target=target or overhead_below(limit, "plain", *labels),
        anchors=(),
        session=session,
    )
