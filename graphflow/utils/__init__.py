"""Small helpers with no graphflow dependencies, shared by every layer.

`dispatch` (per-type registries with lazy registration), `pickling`
(cloudpickle and naming what cannot be pickled), `gcpause` (no cyclic GC while
big graphs are built), `processes` (die with the parent, sweep dead processes'
directories).
"""
