"""What a client may ask a worker directly, and what every worker sets up: ``client.run``, uploads, plugins.

A client sends a worker an `graphflow.comm.messages.Rpc` on the worker's peer
socket; `WorkerAdmin.answer` answers it on the worker's loop:

- `WorkerLogsRequest`: its recent log (`graphflow.worker.logs`);
- `RunRequest`: run a function here and answer its result (``client.run``; a
  function with a ``dask_worker`` or ``worker`` parameter gets the `Worker`);
- `SetupRequest`: an uploaded file (saved in this worker's directory, which
  is put on ``sys.path``, then imported -- reloaded if it was imported
  already) or a worker plugin (``setup(worker)`` now, ``teardown(worker)``
  when the worker closes, ``transition(key, start, finish)`` when a task of
  this worker ends: ``"executing" -> "memory"`` or ``"executing" -> "error"``).

A worker that joins later gets every upload and plugin in the scheduler's
`Welcome` (``setup``) and applies them with `apply` before it runs tasks.

    >>> admin = WorkerAdmin(worker=None, directory="/tmp/w")            # doctest: +SKIP
    >>> admin.apply(WorkerSetup("upload", "mymod.py", ("mymod.py", b"X = 1")))   # doctest: +SKIP
    >>> import mymod; mymod.X                                             # doctest: +SKIP
    1
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import tempfile

from ..comm import messages as wire
from ..errors import GraphflowError
from .logs import recent, running_keys

logger = logging.getLogger("graphflow.worker")

__all__ = ["WorkerAdmin"]

_UPLOAD_SUFFIXES = (".py", ".zip", ".egg")


class WorkerAdmin:
    """The run/upload/plugin services of one worker."""

    def __init__(self, worker, directory: str | None = None, restart_code: int = 1):
        self.worker = worker
        self.restart_code = restart_code  # an exit code the worker's supervisor restarts it after
        self.directory = os.path.join(directory or tempfile.gettempdir(), f"uploads-{os.getpid()}")
        self.plugins: dict = {}  # name -> plugin

    def answer(self, msg: wire.Rpc) -> wire.RpcReply:
        """The reply to ``msg``: its value, or the error it raised (never raises)."""
        req = msg.request
        try:
            if type(req) is wire.WorkerLogsRequest:
                return wire.RpcReply(msg.request_id, recent(req.n))
            if type(req) is wire.RunRequest:
                return wire.RpcReply(msg.request_id, self.run(req))
            if type(req) is wire.SetupRequest:
                return wire.RpcReply(msg.request_id, self.apply(req.setup))
            raise GraphflowError(f"a worker does not answer {type(req).__name__}; it answers WorkerLogsRequest, "
                                 f"RunRequest and SetupRequest")
        except Exception as exc:
            return wire.RpcReply(msg.request_id, None, _sendable(exc))

    def restart(self) -> None:
        """Exit soon (after this answer is sent) with a code that makes the supervisor start a fresh worker."""
        self.worker.loop.call_later(0.1, self.worker.close, "restarted by a client", self.restart_code)

    def call_stack(self, keys=None) -> dict:
        """``{key: [formatted stack lines]}`` of the tasks running here now (those in ``keys`` if given)."""
        import traceback

        frames = sys._current_frames()
        wanted = None if keys is None else set(keys)
        out = {}
        for tid, key in running_keys().items():
            frame = frames.get(tid)
            if frame is not None and (wanted is None or key in wanted):
                out[key] = traceback.format_stack(frame)
        return out

    def run(self, req: wire.RunRequest):
        from ..utils.pickling import loads

        func = loads(req.function)
        kwargs = dict(req.kwargs)
        params = _parameters(func)
        for name in ("dask_worker", "worker"):
            if name in params:
                kwargs[name] = self.worker
        return func(*req.args, **kwargs)

    def apply(self, setup: wire.WorkerSetup) -> None:
        """Do ``setup`` here: save and import an upload, or start a plugin."""
        if setup.kind == "upload":
            return self._upload(*setup.payload)
        if setup.kind == "plugin":
            return self._plugin(setup.name, setup.payload)
        raise GraphflowError(f"unknown worker setup {setup.kind!r}")

    def _upload(self, filename: str, data: bytes) -> None:
        base = os.path.basename(filename)
        if not base.endswith(_UPLOAD_SUFFIXES):
            raise GraphflowError(f"upload_file takes .py, .zip or .egg files, not {filename!r}")
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, base)
        with open(path, "wb") as f:
            f.write(data)
        where = self.directory if base.endswith(".py") else path  # an archive is itself a path entry
        if where not in sys.path:
            sys.path.insert(0, where)
        importlib.invalidate_caches()
        if base.endswith(".py"):
            name = base[:-3]
            module = sys.modules.get(name)
            if module is not None:
                importlib.reload(module)
            else:
                importlib.import_module(name)

    def _plugin(self, name: str, payload: bytes) -> None:
        from ..utils.pickling import loads

        self.remove(name)
        plugin = loads(payload)
        if plugin is None:  # unregistered
            return
        setup = getattr(plugin, "setup", None)
        if setup is not None:
            setup(self.worker)
        self.plugins[name] = plugin

    def remove(self, name: str) -> None:
        plugin = self.plugins.pop(name, None)
        self._call(name, plugin, "teardown", self.worker)

    def transitions(self, messages: list) -> None:
        """Tell plugins about tasks that ended, from the messages a worker sends its scheduler."""
        if not self.plugins:
            return
        for m in messages:
            t = type(m)
            if t is wire.TaskDone or t is wire.TaskFailed:
                finish = "memory" if t is wire.TaskDone else "error"
                for name, plugin in list(self.plugins.items()):
                    self._call(name, plugin, "transition", m.key, "executing", finish)

    def close(self) -> None:
        for name in list(self.plugins):
            self.remove(name)

    @staticmethod
    def _call(name, plugin, hook: str, *args) -> None:
        method = getattr(plugin, hook, None)
        if method is None:
            return
        try:
            method(*args)
        except Exception:  # a plugin's bug is logged; the worker goes on
            logger.exception("worker plugin %r failed in %s", name, hook)


def _parameters(func) -> set:
    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles, else a GraphflowError with its text (the reply must reach the client)."""
    import pickle

    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return GraphflowError(f"{type(exc).__name__}: {exc}")
