"""The ``graphflow`` command: ``scheduler``, ``worker``, ``demo``, ``--version``.

``python -m graphflow ...`` is the same command.  A cluster across machines::

    host-a$ graphflow scheduler --port 8786
    host-b$ graphflow worker tcp://host-a:8786 --nworkers 2 --nthreads 1 --memory-limit 4GiB
    python> gf.Client("tcp://host-a:8786")

The cluster token comes from ``GRAPHFLOW_TOKEN``, else ``--token-file``, else
``~/.graphflow/token`` (the scheduler creates it when missing), so on one host
no flags are needed; see `graphflow.comm.security`.  The scheduler listens on
127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    from .comm.options import add_comm_options
    from .worker.lifetime import add_lifetime_options
    from .worker.options import add_memory_options

    parser = argparse.ArgumentParser(prog="graphflow", description="A lazy task-graph compute engine.")
    parser.add_argument("--version", action="version", version=f"graphflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="build a real graph, optimize it and compute it on every local scheduler")
    demo.add_argument("--tasks", type=int, default=20_000, help="number of leaf tasks (default 20000)")
    demo.add_argument("--output", default="demo-graph.svg",
                      help="where to draw the small example graph (.dot/.svg/.png; default demo-graph.svg)")

    sched = sub.add_parser("scheduler", help="run a scheduler")
    sched.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    sched.add_argument("--port", type=int, default=8786, help="port to listen on (0: any free port; default 8786)")
    sched.add_argument("--token-file", default=None, help="file holding the cluster token")
    sched.add_argument("--address-file", default=None, help="write the address here once listening")
    sched.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                       help="how much the scheduler logs to stderr (default info)")
    sched.add_argument("--heartbeat-timeout", type=float, default=5.0,
                       help="seconds without a heartbeat after which a worker is logged as unresponsive (default "
                            "5); a worker is declared dead when its connection closes, or after 300 s of silence (the "
                            "setting scheduler.wedged_after)")
    sched.add_argument("--allowed-failures", type=_positive_int, default=None, metavar="N",
                       help="workers that may die running one task before it fails with KilledWorkerError "
                            "(default: the setting scheduler.allowed_failures, 3)")
    sched.add_argument("--dashboard-address", default=":8787", metavar="HOST:PORT",
                       help="where the dashboard listens (default :8787, i.e. 127.0.0.1:8787; a taken port is "
                            "replaced by a free one; any host but loopback asks for the cluster token)")
    sched.add_argument("--no-dashboard", dest="dashboard_address", action="store_const", const=None,
                       help="run without the dashboard")
    add_comm_options(sched)

    worker = sub.add_parser("worker", help="run worker processes for a scheduler")
    worker.add_argument("scheduler", help="the scheduler's address, e.g. tcp://127.0.0.1:8786")
    worker.add_argument("--nworkers", type=int, default=1, help="worker processes to run (default 1)")
    worker.add_argument("--nthreads", type=int, default=1, help="threads per worker process (default 1)")
    worker.add_argument("--memory-limit", default=None, help="memory per worker process, e.g. 4GiB")
    worker.add_argument("--host", default="127.0.0.1", help="interface the workers listen on for peers")
    worker.add_argument("--token-file", default=None, help="file holding the cluster token")
    worker.add_argument("--name", default="worker", help="prefix of the workers' names (the scheduler suffixes a "
                        "name a connected worker already has: worker-0, worker-0-2)")
    worker.add_argument("--resources", default=None, metavar='"NAME=AMOUNT,..."',
                        help='what each worker offers to tasks that ask for it, e.g. "GPU=2,MEM=8e9"')
    add_memory_options(worker)
    add_lifetime_options(worker)
    add_comm_options(worker)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number of at least 1, not {text!r}")
    return value


def main(argv=None) -> int:
    """Entry point of the ``graphflow`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(n_tasks=args.tasks, drawing=args.output)
    if args.command in ("scheduler", "worker"):
        level = getattr(args, "log_level", "warning").upper()
        logging.basicConfig(level=getattr(logging, level),
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        return _run_scheduler(args) if args.command == "scheduler" else _run_workers(args)
    _parser().print_help()
    return 2


def _token(args, create: bool) -> bytes:
    """The cluster token (exit 2 with the reason if there is none); warns if it is weak for ``--host``."""
    from .errors import ConfigError
    from .comm.security import exposure_warnings, load_token, token_file_in_use

    try:
        token = load_token(args.token_file, create=create)
    except ConfigError as exc:
        print(f"graphflow {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    for warning in exposure_warnings(token, args.host, token_file_in_use(args.token_file)):
        logging.getLogger("graphflow.security").warning("graphflow %s: %s", args.command, warning)
    return token


def _comm_settings(args) -> dict:
    """``--encrypt`` and ``--max-message-size``, now in force in this process (and returned for children)."""
    from . import config
    from .comm.options import comm_settings

    settings = comm_settings(args)
    config.set(settings)
    return settings


def _run_scheduler(args) -> int:
    from .deploy.scheduler_process import run_scheduler

    token = _token(args, create=True)
    _comm_settings(args)
    return run_scheduler(f"tcp://{args.host}:{args.port}", token, address_file=args.address_file,
                         heartbeat_timeout=args.heartbeat_timeout, dashboard_address=args.dashboard_address,
                         allowed_failures=args.allowed_failures)


def _run_workers(args) -> int:
    """Supervise ``--nworkers`` worker processes: restart one that dies, stop when the scheduler is gone."""
    from .deploy.process import Supervisor
    from .units import parse_bytes
    from .worker.lifetime import lifetime_argv, lifetime_kwargs
    from .worker.options import memory_argv, worker_memory_kwargs
    from .comm.options import comm_argv
    from .utils.resources import parse_resources
    from .worker.server import EXIT_AUTH_FAILED, EXIT_SCHEDULER_GONE

    if args.resources:
        try:
            parse_resources(args.resources)
        except (TypeError, ValueError) as exc:
            raise SystemExit(f"graphflow worker: --resources: {exc}") from None
    _token(args, create=False)  # fail here, with a clear message, rather than in every child
    comm = comm_argv(_comm_settings(args))
    final = (0, EXIT_SCHEDULER_GONE, EXIT_AUTH_FAILED)  # not restarted: a new process would fare no better
    if args.memory_limit:
        parse_bytes(args.memory_limit)
    supervisor = Supervisor()
    for i in range(args.nworkers):
        argv = [sys.executable, "-m", "graphflow.deploy.worker_process", args.scheduler,
                "--nthreads", str(args.nthreads),
                "--listen", f"tcp://{args.host}:0", "--name", f"{args.name}-{i}"]
        if args.memory_limit:
            argv += ["--memory-limit", args.memory_limit]
        if args.token_file:
            argv += ["--token-file", args.token_file]
        if args.resources:
            argv += ["--resources", args.resources]
        argv += memory_argv(worker_memory_kwargs(args)) + lifetime_argv(lifetime_kwargs(args)) + comm
        supervisor.start(f"{args.name}-{i}", argv, restart=True, final_codes=final)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    code = 0
    while not stopping:
        time.sleep(0.2)
        children = list(supervisor.children.values())
        if children and all(c.popen.poll() is not None and c.popen.returncode in final for c in children):
            codes = {c.popen.returncode for c in children}
            code = EXIT_AUTH_FAILED if EXIT_AUTH_FAILED in codes else max(codes)
            if code == EXIT_AUTH_FAILED:
                print(f"graphflow worker: authentication failed: the scheduler at {args.scheduler} refused the "
                      f"workers (the error above says why). Give them the scheduler's token (GRAPHFLOW_TOKEN, "
                      f"--token-file, or a copy of its ~/.graphflow/token) and its --encrypt setting; exiting",
                      file=sys.stderr)
            elif code == EXIT_SCHEDULER_GONE:
                print(f"graphflow worker: the scheduler at {args.scheduler} is gone; exiting", file=sys.stderr)
            break
    supervisor.close()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
