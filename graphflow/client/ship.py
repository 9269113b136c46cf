"""The client's own modules: telling them from installed ones, and sending them to the workers by value.

A function or class travels *by reference* -- its module's name and its own
-- and the receiving process imports it.  That works for what is installed
everywhere (the standard library, site-packages, graphflow), and fails on a
worker for the user's own code: ``mymod.py`` in the directory the client was
started from, or in a folder the session put on ``sys.path``.

`is_local_module` draws that line, deliberately by *where the module's file
is*, not by its name:

* installed: graphflow itself, built-in and frozen modules, modules with no
  file, and every file under the standard library or a ``site-packages`` /
  ``dist-packages`` folder (this interpreter's, the user's, or any other on
  ``sys.path``);
* local: any other ``.py`` file -- the current directory, a ``sys.path``
  entry the session added, a project installed in editable mode.

``__main__`` is neither: functions defined there always travel by value
(`graphflow.client.remote.by_value`).  Extension modules (``.so``) outside
site-packages count as installed: their code cannot travel by value.

`ModuleShipper` is what ``Client(ship_modules=True)`` uses.  Before each
submission it registers every local module imported so far with
``cloudpickle.register_pickle_by_value``, so cloudpickle writes their
functions and classes into the pickle instead of naming them, and workers
that never had the files run them.  Ray's ``runtime_env={"py_modules": ...}``
ships such code as files; sending the code objects needs no upload step and
no shared directory, at the cost of size (each function carries its
bytecode) and of identity (a module's globals are rebuilt per function on the
worker, so module-level state is not shared between shipped functions).  The
registration is global to this process (cloudpickle keeps one registry), so
it lasts while any shipping client is open; a message naming a registered
module goes through cloudpickle rather than the faster plain pickle.

    >>> import json
    >>> is_local_module("json"), is_local_module("graphflow.client")
    (False, False)
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["ModuleShipper", "is_local_module", "local_modules"]

_INSTALLED_DIRS = ("site-packages", "dist-packages")
_kinds: dict = {}  # (module name, file) -> True if local


def is_local_module(name) -> bool:
    """Is module ``name`` (as imported here) the user's own code, which workers may lack? See the module notes."""
    if not name or name == "__main__" or name == "graphflow" or name.startswith("graphflow."):
        return False
    module = sys.modules.get(name)
    if module is None:  # not imported here: nothing we hold can come from it
        return False
    path = getattr(module, "__file__", None)
    if not path:
        return False
    key = (name, path)
    local = _kinds.get(key)
    if local is None:
        local = _kinds[key] = _is_local_file(path)
    return local


def _is_local_file(path: str) -> bool:
    if not path.endswith(".py"):
        return False  # bytecode-only or an extension module: it cannot travel as source
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if any(d in parts for d in _INSTALLED_DIRS):
        return False
    return not any(real.startswith(root) for root in _stdlib_roots())


_roots = None


def _stdlib_roots() -> tuple:
    global _roots
    if _roots is None:
        import sysconfig

        paths = sysconfig.get_paths()
        found = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib") if paths.get(k)}
        _roots = tuple(p.rstrip(os.sep) + os.sep for p in found)
    return _roots


def local_modules() -> list:
    """Names of the local modules imported in this process (see `is_local_module`)."""
    return [name for name in list(sys.modules) if is_local_module(name)]


_lock = threading.Lock()
_shipping: dict = {}  # module name -> how many open ModuleShippers registered it


def _outermost_local(name: str) -> str:
    parts = name.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if is_local_module(parent):
            return parent
    return name


class ModuleShipper:
    """Registers the local modules for pickling by value while its client is open (see the module notes)."""

    def __init__(self):
        self.registered: set = set()
        self._seen: set = set()
        self.closed = False

    def refresh(self) -> None:
        """Register the local modules imported since the last call (cheap when none were)."""
        if self.closed:
            return
        new = sys.modules.keys() - self._seen
        if not new:
            return
        self._seen.update(new)
        # A package covers its submodules (cloudpickle looks at parents), and every registered name costs a
        # scan of each outgoing message: register the outermost local package of each local module.
        local = {_outermost_local(name) for name in new if is_local_module(name)} - self.registered
        if not local:
            return
        import cloudpickle

        with _lock:
            for name in local:
                module = sys.modules.get(name)
                if module is None:
                    continue
                if not _shipping.get(name):
                    cloudpickle.register_pickle_by_value(module)
                _shipping[name] = _shipping.get(name, 0) + 1
                self.registered.add(name)

    def close(self) -> None:
        """Undo this shipper's registrations (a module stays registered while another shipper holds it)."""
        self.closed = True
        if not self.registered:
            return
        import cloudpickle

        with _lock:
            for name in self.registered:
                count = _shipping.get(name, 0) - 1
                if count > 0:
                    _shipping[name] = count
                    continue
                _shipping.pop(name, None)
                module = sys.modules.get(name)
                if module is not None:
                    try:
                        cloudpickle.unregister_pickle_by_value(module)
                    except ValueError:  # unregistered by someone else meanwhile
                        pass
        self.registered = set()
