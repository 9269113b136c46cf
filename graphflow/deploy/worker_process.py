"""One worker process: the `Worker` shell on this process's IOLoop, wired to the client's actor handles.

``python -m graphflow.deploy.worker_process SCHEDULER --nthreads 1 ...`` is
what ``graphflow worker`` (`graphflow.cli`) and a `LocalCluster` start for
each worker.  The worker package cannot import the client package (the layers
point the other way), yet an actor created on a worker must hand its callers
a client-side `graphflow.client.actors.ActorHandle`: this module, which sits
above both, gives the worker that class.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from tornado.ioloop import IOLoop

from .. import config
from ..client.actors import ActorHandle
from ..comm.options import add_comm_options, comm_settings
from ..comm.security import load_token
from ..units import parse_bytes
from ..utils.gcpolicy import for_task_runners
from ..utils.processes import die_with_parent
from ..worker.lifetime import add_lifetime_options, lifetime_kwargs
from ..worker.logs import install as install_log_capture
from ..worker.monitor import malloc_threshold, return_freed_memory_promptly
from ..worker.options import add_memory_options, worker_memory_kwargs
from ..worker.server import Worker

from ..utils.resources import parse_resources

__all__ = ["run_worker", "main"]


def run_worker(scheduler_address: str, token: bytes | None, *, nthreads: int = 1, memory_limit=None,
               listen: str = "tcp://127.0.0.1:0", name: str = "", **options) -> int:
    """Run one worker in this process until it is closed or the scheduler goes; returns the exit code.

    ``options``: more `Worker` keyword arguments (``local_directory``, ``max_spill``, ``memory``).
    """
    die_with_parent(only_if_supervised=True)
    install_log_capture()  # a ring of log records and task prints, for client.get_worker_logs()
    if memory_limit:
        return_freed_memory_promptly(malloc_threshold(memory_limit))
    loop = IOLoop.current()
    exit_code = []

    def on_exit(code, reason):
        exit_code.append(code)
        loop.add_callback(loop.stop)

    worker = Worker(scheduler_address, token, nthreads=nthreads, memory_limit=memory_limit, listen=listen,
                    name=name, loop=loop, on_exit=on_exit, actor_handle=ActorHandle, **options).start()

    def stop(*_):
        loop.add_callback_from_signal(worker.close, "signal", 0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for_task_runners()  # rarer collector passes (10-15% of the CPU of tiny tasks)
    loop.start()
    return exit_code[0] if exit_code else 0


def main(argv=None) -> int:
    """``python -m graphflow.deploy.worker_process SCHEDULER [--nthreads N] [--memory-limit M] ...``: one worker."""
    parser = argparse.ArgumentParser(prog="python -m graphflow.deploy.worker_process")
    parser.add_argument("scheduler")
    parser.add_argument("--nthreads", type=int, default=1)
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--listen", default="tcp://127.0.0.1:0")
    parser.add_argument("--name", default="")
    parser.add_argument("--resources", default=None, help='what it offers to tasks that ask, e.g. "GPU=2,MEM=8e9"')
    parser.add_argument("--token-file", default=None)
    parser.add_argument("--no-token", action="store_true")
    add_memory_options(parser)
    add_lifetime_options(parser)
    add_comm_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config.set(comm_settings(args))
    token = None if args.no_token else load_token(args.token_file)
    memory_limit = parse_bytes(args.memory_limit) if args.memory_limit else None
    return run_worker(args.scheduler, token, nthreads=args.nthreads, memory_limit=memory_limit,
                      listen=args.listen, name=args.name, resources=parse_resources(args.resources),
                      **worker_memory_kwargs(args), **lifetime_kwargs(args))


if __name__ == "__main__":
    sys.exit(main())
