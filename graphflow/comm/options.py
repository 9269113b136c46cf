"""The wire's command-line options, shared by ``graphflow scheduler``, ``graphflow worker`` and each worker process.

``--encrypt`` turns on zmq CURVE encryption (``comm.encrypt``, under a key
derived from the cluster token: `graphflow.comm.security`) and
``--max-message-size`` caps what a process accepts (``comm.max_message_size``,
`graphflow.comm.limits`).  Flags become settings of this process
(`comm_settings`, given to ``gf.config.set``) and flags again for a child
process (`comm_argv`).

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_comm_options(p)
    >>> settings = comm_settings(p.parse_args(["--encrypt", "--max-message-size", "2GiB"]))
    >>> settings
    {'comm.encrypt': True, 'comm.max_message_size': 2147483648}
    >>> comm_argv(settings)
    ['--encrypt', '--max-message-size', '2147483648']
    >>> comm_settings(p.parse_args([]))
    {}
"""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from ..units import parse_bytes

__all__ = ["add_comm_options", "comm_settings", "comm_argv"]


def _byte_size(text: str) -> int:
    try:
        value = parse_bytes(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"needs a positive size, not {text!r}")
    return value


def add_comm_options(parser) -> None:
    """Add ``--encrypt`` and ``--max-message-size``."""
    parser.add_argument("--encrypt", action="store_true", default=None,
                        help="encrypt every connection (zmq CURVE, key derived from the cluster token); every "
                             "process of the cluster needs it: clients set comm.encrypt or GRAPHFLOW_COMM__ENCRYPT=1 "
                             "(default: the setting comm.encrypt, off)")
    parser.add_argument("--max-message-size", type=_byte_size, default=None, metavar="BYTES",
                        help="largest message accepted, e.g. 8GiB; larger ones are dropped unread "
                             "(default: the setting comm.max_message_size, this host's memory)")


def comm_settings(args) -> dict:
    """The ``comm.*`` settings the flags in ``args`` ask for (only those given)."""
    out = {}
    if args.encrypt:
        out["comm.encrypt"] = True
    if args.max_message_size is not None:
        out["comm.max_message_size"] = args.max_message_size
    return out


def comm_argv(settings: dict) -> list:
    """The flags that give a child process the same ``comm_settings``."""
    argv = []
    if settings.get("comm.encrypt"):
        argv.append("--encrypt")
    if settings.get("comm.max_message_size") is not None:
        argv += ["--max-message-size", str(settings["comm.max_message_size"])]
    return argv
