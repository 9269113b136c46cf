"""graphflow's benchmarks: the same work on graphflow and on an anchor (dask), side by side.

    python -m benchmarks all --vs dask        # every workload; prints a table of ratios
    python -m benchmarks sum10k chain10k      # some workloads (dask is the default anchor)
    python -m benchmarks all --quick          # tiny sizes, one run: a smoke test in seconds
    python -m benchmarks dist                 # graphflow's cluster vs dask.distributed and ray
    python -m benchmarks --list               # the workloads and what they measure

Layout: `model` (Workload, Engine, Result), `workloads/` (graphflow's case
and the rows of each kind of measurement; `catalog` lists them, the groups
and graphflow's cases), `anchors/` (the same cases for
dask, dask.distributed and ray; a registry for more), `runner` (warm-up,
alternating rounds, medians), `worker` (a process per engine and workload, so
engines cannot slow each other), `sessions` (clusters kept between samples),
`report` (table, phases, JSON), `probe` (fresh-process measurements), `shapes`
(engine-neutral graph shapes and task functions).  See benchmarks/README.md.
"""
