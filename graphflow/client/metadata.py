"""What the scheduler keeps for clients besides tasks: a metadata dict and per-topic event logs.

`SchedulerRecords` is a mixin of `graphflow.client.Client`, as dask.distributed's:

- ``set_metadata(keys, value)`` / ``get_metadata(keys, default=)``: a nested
  dict in the scheduler shared by every client; ``keys`` is a key or a list
  of keys (a path: ``["job", "progress"]``).
- ``log_event(topic, msg)`` / ``get_events(topic=None)``: ``(time, msg)``
  records appended to a topic (the last 10,000 per topic are kept).

    >>> client.set_metadata(["job", "stage"], 3)              # doctest: +SKIP
    >>> other_client.get_metadata(["job"])                    # doctest: +SKIP
    {'stage': 3}
"""

from __future__ import annotations

from ..comm import messages as wire

__all__ = ["SchedulerRecords"]

_NO_DEFAULT = object()


class SchedulerRecords:
    """The metadata and event-log methods of `graphflow.client.Client` (see the module docstring)."""

    def set_metadata(self, keys, value) -> None:
        """Store ``value`` at ``keys`` (a key, or a list of keys into nested dicts) in the scheduler."""
        self.ask(wire.MetadataRequest(_path(keys), value, True))

    def get_metadata(self, keys, default=_NO_DEFAULT):
        """The value at ``keys``; ``default`` if there is none (`KeyError` naming the path without one)."""
        try:
            return self.ask(wire.MetadataRequest(_path(keys)))
        except KeyError:
            if default is _NO_DEFAULT:
                raise
            return default

    def log_event(self, topic, msg) -> None:
        """Append ``(time.time(), msg)`` to ``topic`` (or to each topic of a list) in the scheduler."""
        self.ask(wire.EventLogRequest(topic, msg, True))

    def get_events(self, topic=None):
        """The ``(time, msg)`` records of ``topic``, oldest first; ``{topic: records}`` of all when None."""
        return self.ask(wire.EventLogRequest(topic))


def _path(keys) -> list:
    return list(keys) if isinstance(keys, (list, tuple)) else [keys]
