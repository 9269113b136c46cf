"""A worker process of the local process pool (the child side of `graphflow.local.pool`).

Started as ``python -m graphflow.local.child FD`` with one end of a socket pair
as file descriptor ``FD``.  The first message is ``{"sys_path": [...]}``; every
later one is a batch ``[(i, node, {dep_key: value}), ...]``, answered with
``(seconds_taken, [(i, ok, value_or_error), ...])``:

* ``ok=True``: the task's result;
* ``ok=False``: ``("exception", exc, traceback_text)``, or ``("opaque", text,
  traceback_text)`` when the exception itself would not pickle, or
  ``("serialize", message, None)`` when the result would not pickle.

The process ignores SIGINT (Ctrl-C is the parent's to handle) and exits when
the parent closes its end.
"""

from __future__ import annotations

import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection

from ..utils.pickling import describe_unpicklable, dumps, loads


def serve(conn: Connection) -> None:
    """Run batches until the parent closes the connection."""
    hello = loads(conn.recv_bytes())
    sys.path[:] = hello["sys_path"]
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        start = time.perf_counter()
        out = [_run_one(i, node, inputs) for i, node, inputs in loads(message)]
        elapsed = time.perf_counter() - start
        del message
        conn.send_bytes(_pack_results(elapsed, out))


def _run_one(i, node, inputs) -> tuple:
    try:
        return (i, True, node(inputs))
    except BaseException as exc:
        return (i, False, ("exception", exc, traceback.format_exc()))


def _pack_results(elapsed: float, out) -> bytes:
    try:
        return dumps((elapsed, out))
    except Exception:
        fixed = []
        for i, ok, value in out:
            try:
                dumps(value)
            except Exception as exc:
                if ok:
                    value = ("serialize", f"the result cannot be pickled to return it to the parent "
                             f"process: {describe_unpicklable(value)} ({type(exc).__name__}: {exc})",
                             None)
                else:  # an exception that will not pickle: send its text instead
                    _, err, tb = value
                    value = ("opaque", f"{type(err).__name__}: {err}", tb)
                ok = False
            fixed.append((i, ok, value))
        return dumps((elapsed, fixed))


def main(argv=None) -> None:
    """Entry point: serve the socket whose file descriptor is the first argument."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int((argv or sys.argv[1:])[0])
    try:
        serve(Connection(fd))
    except (EOFError, OSError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
