"""Old module paths that still import: ``graphflow.cluster`` is ``graphflow.deploy.cluster`` now.

The package tree was reorganized by layer (see the README's "Layout").  Code
written against the old paths keeps working: importing an old name gives the
module at its new place, the same object, with a `DeprecationWarning` naming
where it lives now.  The table is the one place that knows the old names.

    >>> import sys, warnings
    >>> install()
    >>> _ = sys.modules.pop("graphflow.cluster", None)        # as in a fresh process
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     import graphflow.cluster as old
    >>> import graphflow.deploy.cluster as new
    >>> old is new, "graphflow.deploy.cluster" in str(caught[0].message)
    (True, True)
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings

__all__ = ["MOVED", "install"]

MOVED = {
    "graphflow.cluster": "graphflow.deploy.cluster",
    "graphflow.adaptive": "graphflow.deploy.adaptive",
    "graphflow.process": "graphflow.deploy.process",
    "graphflow.futures": "graphflow.client.futures",
    "graphflow.actor_client": "graphflow.client.actors",
    "graphflow.client_queries": "graphflow.client.client",
    "graphflow.remote_functions": "graphflow.client.remote",
    "graphflow.loopthread": "graphflow.client.loop",
    "graphflow.wire": "graphflow.comm.messages",
    "graphflow.security": "graphflow.comm.security",
    "graphflow.procpool": "graphflow.local.pool",
    "graphflow.procworker": "graphflow.local.child",
    "graphflow.pickling": "graphflow.utils.pickling",
    "graphflow.dispatch": "graphflow.utils.dispatch",
    "graphflow.gcpause": "graphflow.utils.gcpause",
    "graphflow.worker.store": "graphflow.store.spill",
    "graphflow.worker.blocks": "graphflow.store.blocks",
    "graphflow.worker.memory": "graphflow.store.rss",
    "graphflow.comm.shm": "graphflow.store.shm",
    "graphflow.array.blas": "graphflow.local.blas",
    "graphflow.diagnostics.html": "graphflow.cards",
    "graphflow.diagnostics.callbacks": "graphflow.local.callbacks",
    "graphflow.diagnostics.snapshot": "graphflow.scheduler.snapshot",
    "graphflow.diagnostics.taskstream": "graphflow.scheduler.taskstream",
}


class _MovedFinder:
    """Finds an old module name and loads it as the module at its new place (a meta path finder and loader;
    not derived from importlib.abc, whose import would cost every ``import graphflow`` a few ms)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module):
        pass  # already executed under its new name


def install() -> None:
    """Let the old module names import (once per process; called by ``graphflow/__init__.py``)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
