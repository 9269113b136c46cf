"""graphflow's loggers: ``graphflow.*``, level from ``GRAPHFLOW_LOGGING_LEVEL``, set up once on import.

Every module logs to ``logging.getLogger("graphflow.<part>")`` (``graphflow.scheduler``,
``graphflow.worker``, ``graphflow.client`` ...).  `setup_logging` runs when
``graphflow`` is imported, in every process (workers and schedulers too, since
they inherit the environment):

* ``GRAPHFLOW_LOGGING_LEVEL=DEBUG|INFO|WARNING|ERROR|CRITICAL`` (or a number)
  sets the level of the ``graphflow`` logger; unset, the logger keeps its own
  (by default it follows the root logger: WARNING);
* the ``graphflow`` logger gets a stderr handler only if it has none, and that
  handler stays silent while the root logger has handlers of its own -- the
  records then reach the user's handlers by propagation, once.  So
  ``logging.basicConfig(...)`` or a framework's logging setup works as usual,
  and a script that configures nothing still sees graphflow's warnings.

    $ GRAPHFLOW_LOGGING_LEVEL=INFO graphflow scheduler
    2024-05-01 12:00:00,000 graphflow.scheduler INFO graphflow scheduler at tcp://127.0.0.1:8786
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["setup_logging", "LEVEL_VARIABLE"]

LEVEL_VARIABLE = "GRAPHFLOW_LOGGING_LEVEL"
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class _FallbackHandler(logging.StreamHandler):
    """Writes to stderr only while the root logger has no handler (the user configured nothing)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter(FORMAT))

    @property
    def stream(self):
        return sys.stderr  # looked up at each emit: pytest, notebooks and workers swap it

    @stream.setter
    def stream(self, value):
        pass

    def emit(self, record):
        if logging.getLogger().handlers:
            return  # propagation takes the record to the user's own handlers
        super().emit(record)


def parse_level(text: str) -> int:
    """``"info"``, ``"INFO"`` or ``"20"`` -> 20; ValueError naming the choices otherwise."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    level = logging.getLevelName(text.upper())
    if not isinstance(level, int):
        raise ValueError(f"{LEVEL_VARIABLE}={text!r} is not a logging level; use DEBUG, INFO, WARNING, ERROR, "
                         f"CRITICAL or a number")
    return level


def setup_logging(environ=None) -> logging.Logger:
    """Configure the ``graphflow`` logger from the environment (idempotent); returns it."""
    environ = os.environ if environ is None else environ
    logger = logging.getLogger("graphflow")
    if not logger.handlers:
        logger.addHandler(_FallbackHandler())
    value = environ.get(LEVEL_VARIABLE)
    if value:
        try:
            logger.setLevel(parse_level(value))
        except ValueError as exc:
            logger.warning("%s; ignored", exc)
    return logger
