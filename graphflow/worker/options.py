"""The worker's memory and spill command-line options, shared by every way a worker starts.

``graphflow worker`` (the supervisor), ``python -m graphflow.deploy.worker_process``
(one worker process) and `LocalCluster` all take the same flags; this module
declares them once (`add_memory_options`), turns parsed flags into `Worker`
keyword arguments (`worker_memory_kwargs`) and back into argv for a child
process (`memory_argv`).

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_memory_options(p)
    >>> args = p.parse_args(["--memory-target", "0.5", "--max-spill", "10GiB"])
    >>> memory_argv(worker_memory_kwargs(args))
    ['--max-spill', '10737418240', '--memory-target', '0.5']
"""

from __future__ import annotations

from ..units import parse_bytes
from .monitor import THRESHOLDS

__all__ = ["add_memory_options", "worker_memory_kwargs", "memory_argv"]


def _fraction_or_off(text: str):
    if text.lower() in ("false", "off", "none", "0"):
        return False
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"{text!r} is not a fraction in (0, 1]")
    return value


def add_memory_options(parser) -> None:
    """Add ``--local-directory``, ``--max-spill`` and ``--memory-{target,spill,pause,terminate}``."""
    parser.add_argument("--local-directory", default=None,
                        help="where spilled results go (default: the system temp directory)")
    parser.add_argument("--max-spill", default=None, help="most bytes spilled to disk, e.g. 20GiB (default: no cap)")
    for name in THRESHOLDS:
        parser.add_argument(f"--memory-{name}", type=_fraction_or_off, default=None,
                            help=f"the {name} threshold, a fraction of --memory-limit, or 'off' "
                                 f"(default: gf.config worker.memory.{name})")


def worker_memory_kwargs(args) -> dict:
    """``Worker(...)`` keyword arguments from parsed flags: local_directory, max_spill, memory."""
    memory = {name: getattr(args, f"memory_{name}") for name in THRESHOLDS
              if getattr(args, f"memory_{name}") is not None}
    return {"local_directory": args.local_directory,
            "max_spill": parse_bytes(args.max_spill) if args.max_spill else None,
            "memory": memory or None}


def memory_argv(kwargs: dict) -> list:
    """The flags that give a child worker process the same ``worker_memory_kwargs``."""
    argv = []
    if kwargs.get("local_directory"):
        argv += ["--local-directory", str(kwargs["local_directory"])]
    if kwargs.get("max_spill"):
        argv += ["--max-spill", str(parse_bytes(kwargs["max_spill"]))]
    for name, value in sorted((kwargs.get("memory") or {}).items()):
        if name not in THRESHOLDS:
            raise ValueError(f"unknown worker memory threshold {name!r}; known: {', '.join(THRESHOLDS)}")
        argv += [f"--memory-{name}", "off" if value is False else str(value)]
    return argv
