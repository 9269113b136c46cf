"""The scheduler's services beside task scheduling: what ``client.run``, plugins, datasets and primitives ask.

`Extensions` belongs to one `graphflow.scheduler.server.Scheduler` shell and
answers the requests the shell's own table does not (``ANSWERS`` below):

- `RunRequest`: run a client's function on the scheduler's loop
  (``client.run_on_scheduler``; a function with a ``dask_scheduler`` or
  ``scheduler`` parameter gets the `Scheduler` shell).
- `SetupRequest`: remember uploads and worker plugins; every worker that joins
  later gets them in its `Welcome` (`worker_setup`).
- `SchedulerPluginRequest`: scheduler plugins, told ``start``, ``add_worker``,
  ``remove_worker``, ``add_client``, ``remove_client``, ``transition`` (a task
  reported finished or erred by a worker) and ``close``.
- `DatasetRequest`, `KeepKeysRequest`: keys kept for no connected client.  Such
  keys are wanted by a *pseudo-client* (``"dataset-NAME"``,
  ``"fire-and-forget"``) through the state machine's own events
  (`UpdateGraph` with no tasks, `ClientReleasesKeys`, `ClientLeft`), so the
  state never learns anything new; reports to pseudo-clients come back here
  (`key_report`).
- `PrimitiveRequest`: `graphflow.scheduler.coordination`, with its timeouts on
  this loop.
- `MetadataRequest`, `EventLogRequest`, `KeySizesRequest`: a nested metadata
  dict, per-topic event logs (``client.log_event``), the sizes of results.

Worked example: ``client.publish_dataset(x=fut)`` -> ``DatasetRequest("publish",
"x", pickled, [fut.key])`` -> ``UpdateGraph(client="dataset-'x'", wanted=[key])``:
the key stays in memory after the publishing client leaves, until
``unpublish_dataset("x")`` feeds ``ClientLeft("dataset-'x'")``.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import deque

from ..comm import messages as wire
from . import events as ev
from .coordination import Coordination

logger = logging.getLogger("graphflow.scheduler")

__all__ = ["Extensions", "ANSWERS", "FIRE_AND_FORGET"]

FIRE_AND_FORGET = "fire-and-forget"
EVENTS_KEPT = 10_000  # records per topic of client.log_event
LOGS_KEPT = 10_000  # the scheduler's own log records kept for client.get_scheduler_logs
_SETTLED = ("memory", "erred", "cancelled")


class Extensions:
    """Services of one scheduler shell (see the module docstring)."""

    def __init__(self, scheduler, deferred):
        self.scheduler = scheduler
        self.deferred = deferred  # the shell's Deferred class: answers that come later
        self.coordination = Coordination()
        self.setup: dict = {}  # (kind, name) -> wire.WorkerSetup, in the order given
        self.plugins: dict = {}  # name -> scheduler plugin
        self.datasets: dict = {}  # name -> (pickled value, keys)
        self.metadata: dict = {}  # client.set_metadata's nested dict
        self.topics: dict = {}  # topic -> deque of (time, msg), the last EVENTS_KEPT (client.log_event)
        self.logs = _LogRing(LOGS_KEPT)  # the scheduler's own log records (client.get_scheduler_logs)
        logging.getLogger("graphflow").addHandler(self.logs)

    # ------------------------------------------------------------------ hooks from the shell

    def worker_setup(self) -> list:
        """What a joining worker must do first: every upload and worker plugin so far."""
        return list(self.setup.values())

    def peer_joined(self, role: str, name: str) -> None:
        self._tell_plugins("add_worker" if role == "worker" else "add_client", name)

    def peer_left(self, role: str, name: str) -> None:
        if role == "client":
            self.coordination.client_left(name)
        self._tell_plugins("remove_worker" if role == "worker" else "remove_client", name)

    def task_done(self, key, finish: str) -> None:
        """A worker reported ``key`` finished (``"memory"``) or erred: scheduler plugins' ``transition``."""
        if self.plugins:
            self._tell_plugins("transition", key, "processing", finish)

    def tasks_done(self, keys: list, finish: str) -> None:
        """`task_done` for each of ``keys``."""
        if self.plugins:
            for key in keys:
                self._tell_plugins("transition", key, "processing", finish)

    def key_report(self, cmd) -> None:
        """A report for a pseudo-client: a fire-and-forget key that settled is let go."""
        if cmd.client == FIRE_AND_FORGET and cmd.state in _SETTLED:
            self.scheduler.feed_event(ev.ClientReleasesKeys("fire-and-forget-done", FIRE_AND_FORGET, [cmd.key]))

    def close(self) -> None:
        logging.getLogger("graphflow").removeHandler(self.logs)
        for name in list(self.plugins):
            self._remove_plugin(name)

    def _tell_plugins(self, hook: str, *args) -> None:
        for name, plugin in list(self.plugins.items()):
            method = getattr(plugin, hook, None)
            if method is None:
                continue
            try:
                if hook == "transition":
                    method(*args)
                else:
                    method(self.scheduler, *args)
            except Exception:  # a plugin's bug is logged, never the scheduler's end
                logger.exception("scheduler plugin %r failed in %s", name, hook)

    # ------------------------------------------------------------------ answers

    def answer_run(self, client, req: wire.RunRequest):
        from ..utils.pickling import loads

        func = loads(req.function)
        kwargs = dict(req.kwargs)
        params = _parameters(func)
        for name in ("dask_scheduler", "scheduler"):
            if name in params:
                kwargs[name] = self.scheduler
        return func(*req.args, **kwargs)

    def answer_setup(self, client, req: wire.SetupRequest):
        key = (req.setup.kind, req.setup.name)
        if req.remember:
            self.setup.pop(key, None)
            self.setup[key] = req.setup
        else:
            self.setup.pop(key, None)
        return None

    def answer_scheduler_plugin(self, client, req: wire.SchedulerPluginRequest):
        from ..utils.pickling import loads

        self._remove_plugin(req.name)
        if req.plugin is None:
            return None
        plugin = loads(req.plugin)
        start = getattr(plugin, "start", None)
        if start is not None:
            start(self.scheduler)
        self.plugins[req.name] = plugin
        return None

    def _remove_plugin(self, name) -> None:
        plugin = self.plugins.pop(name, None)
        close = getattr(plugin, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                logger.exception("scheduler plugin %r failed in close", name)

    def answer_processing(self, client, req: wire.ProcessingRequest):
        workers = self.scheduler.state.workers
        names = workers if req.workers is None else [w for w in req.workers if w in workers]
        return {w: [ts.key for ts in workers[w].processing] for w in names}

    def answer_metadata(self, client, req: wire.MetadataRequest):
        keys = list(req.keys) if isinstance(req.keys, (list, tuple)) else [req.keys]
        if not keys:
            raise ValueError("metadata needs a key (or a list of keys: a path into nested dicts)")
        node = self.metadata
        for i, k in enumerate(keys[:-1]):
            if req.set:
                node = node.setdefault(k, {})
            elif isinstance(node, dict) and k in node:
                node = node[k]
            else:
                raise KeyError(f"no metadata at {keys[:i + 1]!r}")
            if not isinstance(node, dict):
                raise KeyError(f"metadata at {keys[:i + 1]!r} is a value, not a dict of further keys")
        if req.set:
            node[keys[-1]] = req.value
            return None
        if keys[-1] not in node:
            raise KeyError(f"no metadata at {keys!r}")
        return node[keys[-1]]

    def answer_event_log(self, client, req: wire.EventLogRequest):
        if req.log:
            topics = req.topic if isinstance(req.topic, (list, tuple)) else [req.topic]
            for topic in topics:
                self.topics.setdefault(topic, deque(maxlen=EVENTS_KEPT)).append((time.time(), req.msg))
            return None
        if req.topic is None:
            return {t: list(q) for t, q in self.topics.items()}
        return list(self.topics.get(req.topic, ()))

    def answer_scheduler_logs(self, client, req: wire.SchedulerLogsRequest):
        records = list(self.logs.records)
        return records if req.n is None else records[-req.n:] if req.n > 0 else []

    def answer_key_sizes(self, client, req: wire.KeySizesRequest):
        tasks = self.scheduler.state.tasks
        keys = tasks if req.keys is None else [k for k in req.keys if k in tasks]
        return {k: tasks[k].nbytes for k in keys if tasks[k].state == "memory"}

    def answer_retry(self, client, req: wire.RetryRequest):
        self.scheduler.feed_event(ev.RetryKeys("client-retry", client, list(req.keys)))
        return None

    def answer_keep(self, client, req: wire.KeepKeysRequest):
        self._want(FIRE_AND_FORGET, req.keys)
        return None

    def answer_dataset(self, client, req: wire.DatasetRequest):
        if req.op == "list":
            return list(self.datasets)
        if req.op == "want":  # the asker made futures for a dataset's keys: it wants them, reports follow
            self._want(client, req.keys)
            return None
        if req.op == "publish":
            if req.name in self.datasets and not req.override:
                raise KeyError(f"a dataset named {req.name!r} is published already; unpublish it first, or "
                               f"publish with override=True")
            self.datasets[req.name] = (req.value, list(req.keys))
            self.scheduler.feed_event(ev.ClientLeft("dataset-replaced", _dataset_client(req.name)))
            self._want(_dataset_client(req.name), req.keys)
            return None
        if req.name not in self.datasets:
            raise KeyError(f"no dataset named {req.name!r} is published (published: {sorted(map(str, self.datasets))})")
        if req.op == "get":
            return self.datasets[req.name]
        if req.op == "delete":
            del self.datasets[req.name]
            self.scheduler.feed_event(ev.ClientLeft("dataset-unpublished", _dataset_client(req.name)))
            return None
        raise ValueError(f"unknown dataset operation {req.op!r}")

    def answer_primitive(self, client, req: wire.PrimitiveRequest):
        answer = self.deferred()

        def reply(value, error=None):
            if isinstance(error, TimeoutError):  # an answer: the client raises it (see PrimitiveTimedOut)
                value, error = wire.PrimitiveTimedOut(str(error)), None
            answer.resolve(value) if error is None else answer.fail(error)

        ident = self.coordination.handle(client, req, reply)
        if ident is not None and req.timeout is not None:
            self.scheduler.loop.call_later(req.timeout, self.coordination.expire, ident)
        return answer

    def _want(self, client: str, keys: list) -> None:
        """``client`` (maybe a pseudo-client) wants ``keys``, through the state machine's own event."""
        self.scheduler.feed_event(ev.UpdateGraph(f"want-{client}", client, {}, {}, {}, list(keys), {}, {}))


class _LogRing(logging.Handler):
    """The last ``size`` records of the ``graphflow`` loggers in this process, as ``(time, level, message)``.

    Its level is the logger's own (``GRAPHFLOW_LOGGING_LEVEL``): it keeps what the log shows."""

    def __init__(self, size: int):
        super().__init__()
        self.records: deque = deque(maxlen=size)

    def emit(self, record) -> None:
        try:
            self.records.append((record.created, record.levelname, record.getMessage()))
        except Exception:  # a record whose message cannot be formatted: keep its template
            self.records.append((record.created, record.levelname, str(record.msg)))


def _dataset_client(name) -> str:
    return f"dataset-{name!r}"


def _parameters(func) -> set:
    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


ANSWERS = {
    wire.RunRequest: Extensions.answer_run,
    wire.SetupRequest: Extensions.answer_setup,
    wire.SchedulerPluginRequest: Extensions.answer_scheduler_plugin,
    wire.ProcessingRequest: Extensions.answer_processing,
    wire.KeepKeysRequest: Extensions.answer_keep,
    wire.RetryRequest: Extensions.answer_retry,
    wire.MetadataRequest: Extensions.answer_metadata,
    wire.EventLogRequest: Extensions.answer_event_log,
    wire.KeySizesRequest: Extensions.answer_key_sizes,
    wire.SchedulerLogsRequest: Extensions.answer_scheduler_logs,
    wire.DatasetRequest: Extensions.answer_dataset,
    wire.PrimitiveRequest: Extensions.answer_primitive,
}
