"""Starting and sizing clusters: `Cluster` (the base class launchers extend), `LocalCluster`,
`Adaptive` (scale with the work), and the `Supervisor` that keeps their processes alive.
"""

from .cluster import Cluster, LocalCluster

__all__ = ["Cluster", "LocalCluster"]
