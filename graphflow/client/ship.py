"""Where a module comes from -- everywhere, installed, or the client's own -- and shipping the client's own.

A function or class travels *by reference* -- its module's name and its own
-- and the receiving process imports it.  Whether that works there depends
on the module, and `module_kind` sorts modules into three kinds, deliberately
by *where the module's file is* rather than by its name:

* ``"everywhere"``: what every graphflow process has -- the standard library
  (built-in and frozen modules, files under the standard library's folders),
  graphflow itself and the libraries it requires (`EVERYWHERE`: numpy,
  pyarrow, ...);
* ``"installed"``: any other file under a ``site-packages`` /
  ``dist-packages`` folder: a worker has it if its environment matches;
* ``"local"``: any other ``.py`` file -- the current directory, a ``sys.path``
  entry the session added, a project installed in editable mode -- which
  workers started elsewhere usually lack.

Only the first kind may be imported by the scheduler, or by a worker while
it reads a message (`graphflow.client.remote` makes the others wait until a
task runs).  ``__main__`` is none of them: functions defined there always
travel by value (`graphflow.client.remote.by_value`).  Modules with no file,
and extension modules (``.so``) outside site-packages, count as installed:
their code cannot travel by value.

`ModuleShipper` is what ``Client(ship_modules=True)`` uses.  Before each
submission it registers every local module imported so far with
``cloudpickle.register_pickle_by_value``, so cloudpickle writes their
functions and classes into the pickle instead of naming them, and workers
that never had the files run them.  Installed libraries are never shipped:
their code may be compiled, and their size is the environment's business.
Ray's ``runtime_env={"py_modules": ...}`` ships such code as files; sending
the code objects needs no upload step and no shared directory, at the cost
of size (each function carries its bytecode) and of identity (a module's
globals are rebuilt per function on the worker, so module-level state is not
shared between shipped functions).  The registration is global to this
process (cloudpickle keeps one registry), so it lasts while any shipping
client is open; a message naming a registered module goes through
cloudpickle rather than the faster plain pickle.

    >>> import json
    >>> module_kind("json"), module_kind("graphflow.client"), module_kind("numpy")
    ('everywhere', 'everywhere', 'everywhere')
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["EVERYWHERE", "ModuleShipper", "is_local_module", "local_modules", "module_kind"]

#: Top-level modules every graphflow process can import: graphflow and what pyproject.toml requires.
EVERYWHERE = frozenset(["graphflow", "numpy", "pyarrow", "zmq", "tornado", "networkx", "cloudpickle", "tqdm",
                        "pandas"])

_INSTALLED_DIRS = ("site-packages", "dist-packages")
_kinds: dict = {}  # (module name, file) -> kind


def module_kind(name) -> str:
    """``"everywhere"``, ``"installed"`` or ``"local"`` for module ``name`` as imported here (see the notes).

    ``None``, and modules not imported here (nothing we hold can come from
    them), count as everywhere; ``__main__`` as local.
    """
    if not name:
        return "everywhere"
    if name == "__main__":
        return "local"
    if name.partition(".")[0] in EVERYWHERE:
        return "everywhere"
    module = sys.modules.get(name)
    if module is None:
        return "everywhere"
    path = getattr(module, "__file__", None)
    key = (name, path)
    kind = _kinds.get(key)
    if kind is None:
        kind = _kinds[key] = _kind_of(module, path)
    return kind


def _kind_of(module, path) -> str:
    if not path:  # built into the interpreter, frozen, or made at run time (a namespace package, a dynamic module)
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        return "everywhere" if origin in ("built-in", "frozen") else "installed"
    real = os.path.realpath(path)
    installed = any(d in real.split(os.sep) for d in _INSTALLED_DIRS)
    if not installed and any(real.startswith(root) for root in _stdlib_roots()):
        return "everywhere"
    if installed or not path.endswith(".py"):
        return "installed"  # also bytecode-only and extension modules: they cannot travel as source
    return "local"


def is_local_module(name) -> bool:
    """Is module ``name`` (as imported here) the user's own code, which workers may lack?"""
    return name != "__main__" and module_kind(name) == "local"


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
