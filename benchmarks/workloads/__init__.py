"""The workloads, one module per kind of measurement.

Each module here owns one kind of measurement: its graphflow case (a
function ``run(params) -> {phase: value}``) and the `Workload` rows that use
it.  The anchors' cases for the same kinds live in `benchmarks.anchors`.
`benchmarks.catalog` lists them (the order ``all`` runs them in, the groups,
graphflow's cases); this package imports none of its modules, so they may
import each other.
"""
