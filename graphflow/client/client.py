"""`Client`: the user's handle on a cluster, and the scheduler ``.compute()`` uses while it is open.

The client talks to the scheduler over one zmq DEALER socket, from an I/O
thread running its own tornado IOLoop; user threads hand it messages with
``add_callback`` and wait on per-key events.  Results come back two ways:
small results travel with the scheduler's report (no extra round trip, so
``submit(...).result()`` is four hops), large ones are fetched straight from
the worker that holds them.

    >>> import graphflow as gf
    >>> with gf.Client(n_workers=2, threads_per_worker=1) as client:
    ...     fut = client.submit(pow, 2, 10)
    ...     fut.result()
    1024

``gf.Client()`` starts a `LocalCluster` (a scheduler and worker processes on
127.0.0.1, with a fresh token); ``gf.Client("tcp://host:8786")`` connects to a
running scheduler with the token from ``GRAPHFLOW_TOKEN`` or
``~/.graphflow/token``.  If the scheduler goes away, every waiting call
raises `CommClosedError` at once (one line in the log says so), calls made
while it is away raise it too, and the client reconnects by itself when a
scheduler answers at the same address again (``client.status`` is
``"reconnecting"`` meanwhile); see `graphflow.client.session`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import uuid
import weakref

from .. import config
from ..comm import messages as wire
from ..comm.addresses import with_scheme
from ..comm.batching import unfold_key_status
from ..errors import CommClosedError, CycleError, GraphflowError
from ..optimize import optimize_collections
from ..spec import DataNode, Ref, Task, TaskGraph, tokenize
from ..spec.collections import first, flatten_keys, is_collection
from ..spec.nodes import funcname
from ..utils.cycles import find_cycle
from ..utils.gcpause import no_gc
from ..utils.importing import import_object
from ..utils.traverse import DROP, identity, leaves, rebuild
from . import aio
from .actors import create_actor
from .admin import ClusterAdmin
from .datasets import PublishedDatasets
from .metadata import SchedulerRecords
from .observe import ClusterObservations
from .current import open_clients
from .futures import Future, KeyState, futures_to_refs
from .refs import KeyRefs
from .large_args import LargeArgs, warn_large_values
from .placement import ANNOTATIONS, task_options
from .replicas import rebalance, replicate
from .remote import portable_callable, wrap_nodes
from .unreadable import fail_work
from .ship import ModuleShipper
from .session import SchedulerSession
from .transfer import WorkerData

logger = logging.getLogger("graphflow.client")

__all__ = ["Client"]


class Client(ClusterAdmin, PublishedDatasets, SchedulerRecords, ClusterObservations):
    """Connect to a cluster, or start a `LocalCluster` when no address is given.

    ``Client()``, ``Client(n_workers=2, threads_per_worker=1, memory_limit="2GiB")``,
    ``Client("tcp://host:8786", timeout=10)`` or ``Client(cluster)``.  While it
    is open it is the default scheduler of ``.compute()``; `close` (or leaving
    a ``with`` block) undoes that and shuts down a cluster it started.

    Workers import the functions and classes of a task by name, so they need
    the modules the client's tasks use; a worker without one fails those
    tasks with a `SerializationError` naming the module.  ``ship_modules=True``
    sends the client's own modules -- ``.py`` files outside the standard
    library, site-packages and graphflow, such as ``mymod.py`` next to the
    notebook -- by value with the tasks, so workers need only the installed
    libraries (see `graphflow.client.ship` for what counts as the client's own
    and what shipping costs).

    ``asynchronous=True`` makes a client for an event loop (`graphflow.client.aio`):
    ``client = await gf.Client(..., asynchronous=True)`` (or ``async with``)
    opens it, and ``await future``, ``await client.gather(...)``,
    ``await client.close()`` and ``async for f in gf.as_completed(...)`` wait
    without blocking the loop; ``submit``, ``map`` and ``compute`` return at once
    as always.
    """

    def __init__(self, address=None, *, asynchronous: bool = False, timeout: float = 10.0,
                 token: bytes | str | None = None, set_as_default: bool = True, ping_interval: float = 1.0,
                 curve_secret=None, ship_modules: bool = False, **cluster_kwargs):
        self.asynchronous = asynchronous
        args = (address, timeout, token, set_as_default, ping_interval, curve_secret, ship_modules, cluster_kwargs)
        if asynchronous:  # opened by ``await client`` (graphflow.client.aio), off the caller's event loop
            self.status = "created"
            self.scheduler_address = getattr(address, "scheduler_address", address)
            self._open_args = args
            self._opening = None
            return
        self._open(*args)

    def _open(self, address, timeout, token, set_as_default, ping_interval, curve_secret, ship_modules,
              cluster_kwargs) -> None:
        self.cluster = None
        # The user's own modules travel by value (graphflow.client.ship); set before anything can fail, for close().
        self.shipper = ModuleShipper() if ship_modules else None
        self._own_cluster = False
        if address is None:
            address = _default_cluster()(**cluster_kwargs, timeout=max(timeout, 30.0))
            self._own_cluster = True
        elif cluster_kwargs:
            raise TypeError(f"Client({address!r}) connects to a running scheduler; cluster options "
                            f"{sorted(cluster_kwargs)} apply only when the Client starts its own cluster")
        if hasattr(address, "scheduler_address"):  # a LocalCluster, or any launcher built on deploy.Cluster
            self.cluster = address
            token = address.token if token is None else token
            curve_secret = address.curve_secret if curve_secret is None else curve_secret
            address = address.scheduler_address
        if isinstance(address, str):
            address = with_scheme(address)  # "host:8786" means tcp://host:8786, as in dask.distributed
        if token is None:
            from ..comm.security import load_token

            token = load_token()
        self.token = token.encode() if isinstance(token, str) else token
        self.curve_secret = curve_secret  # None: GRAPHFLOW_CURVE_SECRET if set, else no encryption
        self.scheduler_address = address
        self.id = f"client-{uuid.uuid4().hex[:12]}"
        self.timeout = timeout
        self.status = "connecting"
        self.refs = KeyRefs()  # key states and reference counts of this client's futures
        self.actor_callers = weakref.WeakValueDictionary()  # actor key -> ActorCaller (graphflow.client.actors)
        self._generation = itertools.count()
        self._default_token = None
        self.session = SchedulerSession(address, self.token, client_id=self.id, on_message=self._on_message,
                                        on_fail=self._on_fail, on_reconnect=self._on_reconnect,
                                        periodic=self._send_releases,
                                        curve_secret=curve_secret, timeout=timeout, ping_interval=ping_interval)
        self.transfer = WorkerData(self.session, self.session.dispatch)  # values to and from workers
        self._large = LargeArgs(lambda value: self.scatter(value, hash=False))  # big submit arguments, sent once
        self.session.close_peers = self.transfer.close
        try:
            self.session.start()
        except BaseException:
            self._teardown(say_goodbye=False)
            raise
        self.status = "running"
        self.is_default = set_as_default  # default_client() picks only these
        open_clients.append(self)
        if set_as_default:
            self._default_token = config.set(scheduler=self)

    # ------------------------------------------------------------------ messages

    def _on_fail(self, error: BaseException) -> None:
        """The scheduler is gone (or refused our token): every pending future and actor call fails, once."""
        if self.status != "closed":
            self.status = self.session.status  # "reconnecting", or "closed" for good
        self.refs.fail_all(error)
        for caller in list(self.actor_callers.values()):
            caller.fail_all(error)

    def _on_reconnect(self) -> None:
        """A scheduler answers at our address again: new work can be submitted (old results are gone)."""
        if self.status == "reconnecting":
            self.status = "running"

    def _on_message(self, msg) -> None:
        if type(msg) is wire.ActorResults:  # answers from an actor's worker (graphflow.client.actors)
            caller = self.actor_callers.get(msg.actor)
            if caller is not None:
                caller.on_results(msg)
        elif type(msg) is wire.KeyStatuses:
            self._on_reports(msg)
        elif type(msg) is wire.KeyStatus:
            self._on_report(msg)
        elif type(msg) is wire.Unreadable:  # tasks or actor calls of ours could not be loaded where they went
            fail_work(self, msg)
        else:
            logger.warning("client: unexpected %s from the scheduler", type(msg).__name__)

    def _on_reports(self, msg: wire.KeyStatuses) -> None:
        """A batch of reports in one pass: a pending key that finished is settled here directly (the common
        case, 100k of them after a ``map``); anything else goes the way of a single report."""
        if self.actor_callers:  # an actor's key may be among them: its caller wants the report itself
            for report in unfold_key_status(msg):
                self._on_report(report)
            return
        get = self.refs.get
        inline, errors = msg.inline, msg.errors
        finished: list = []  # settled together (KeyState.finish_many), in order with the other reports
        for i, (key, status, nbytes, type_name, who_has) in enumerate(
                zip(msg.keys, msg.states, msg.nbytes, msg.type_names, msg.who_has)):
            state = get(key)
            if state is None:
                continue
            if status == "memory" and state.status == "pending":
                finished.append((state, inline.get(i) if inline else None, who_has, nbytes, type_name))
                continue
            if finished:
                KeyState.finish_many(finished)
                finished = []
            exception, traceback = errors.get(i, (None, ""))
            state.apply_report(status, inline.get(i), who_has, nbytes, type_name, exception, traceback)
        if finished:
            KeyState.finish_many(finished)

    def _on_report(self, msg: wire.KeyStatus) -> None:
        if self.actor_callers:
            caller = self.actor_callers.get(msg.key)
            if caller is not None:
                caller.on_report(msg)
        state = self.refs.get(msg.key)
        if state is not None:
            state.apply_report(msg.state, msg.inline, msg.who_has, msg.nbytes, msg.type_name, msg.exception,
                               msg.traceback)

    def check_open(self) -> None:
        """Raise if this client can no longer talk to its scheduler (`CommClosedError`, or why it failed)."""
        if self.status == "created":
            raise GraphflowError("this asynchronous Client is not open yet: "
                                 "client = await gf.Client(..., asynchronous=True), or async with")
        self.session.check_open()
        if self.status != "running":
            raise CommClosedError(f"this Client is {self.status}; open a new one")

    def _send_releases(self) -> None:
        """Tell the scheduler which keys no future wants any more (every 50 ms, on the I/O thread).

        The release goes out behind what callers already queued on the loop (`send_threadsafe`), never
        before it: a caller that submitted work using a future and then dropped that future queued the
        submission first, and a release overtaking it made the scheduler forget an input the new task
        needs (MissingDependencyError), when this job had its turn in the loop's round before the send.
        """
        keys = self.refs.take_released()
        io = self.session.io
        if keys and io is not None:  # None: closing, and the goodbye releases every key anyway
            io.loop.add_callback(self._send_drop, keys)

    def _send_drop(self, keys: list) -> None:
        session = self.session
        if session.error is None and session.io is not None:
            session.send(wire.DropKeys("client-release", keys))

    def ask(self, request: wire.Request, timeout: float | None = None):
        """Ask the scheduler ``request`` (a `graphflow.comm.messages.Request`) and return its answer.

        The typed questions the scheduler answers are listed in
        `graphflow.comm.messages`; the methods below (``who_has``,
        ``scheduler_info``, ...) are made of them.
        """
        self.check_open()
        return self.session.ask(request, timeout)

    # ------------------------------------------------------------------ submitting work

    def submit_graph(self, specs: dict, wanted: list, priorities=None, retries=None, restrictions=None,
                     resources=None, loose=None) -> dict:
        """Send tasks (``{key: node}``) to the scheduler; returns ``{key: Future}`` for the keys in ``wanted``.

        The one way work reaches the scheduler: ``submit``, ``map``, ``compute``,
        ``persist`` and actors all end here (those whose tasks cannot form a
        cycle skip the check below).  ``retries`` and ``restrictions``
        map keys to a retry count and to the workers allowed to run them (``loose``: keys for which
        those are only preferred), ``resources`` keys to what they need (`graphflow.client.placement`).
        Raises `CycleError`, naming the keys along it, if the tasks read each
        other in a circle (nothing is sent: the scheduler would refuse them too).
        """
        self.check_open()
        cycle = find_cycle({k: node.dependencies for k, node in specs.items()})
        if cycle is not None:
            raise CycleError.along(cycle)
        return self._send_graph(specs, wanted, priorities, retries, restrictions, resources, loose)

    def _send_graph(self, specs: dict, wanted: list, priorities=None, retries=None, restrictions=None,
                    resources=None, loose=None, user_priority=None) -> dict:
        # submit_graph without the cycle check, for callers whose tasks cannot form one: a toposorted
        # TaskGraph (compute, persist, get), or new tasks reading only existing futures (submit, map).
        self.check_open()
        with no_gc():  # a bulk pass over every task: futures, wrapped nodes, the message
            futures = Future.many(wanted, self)
            # Only the worker that runs a task imports the user's code (graphflow.client.remote).
            ship = self.shipper is not None
            if ship:
                self.shipper.refresh()
            specs = wrap_nodes(specs, ship)
            dependencies = {k: node.dependencies for k, node in specs.items()}
            msg = wire.SubmitGraph(f"update-graph-{next(self._generation)}", specs, dependencies,
                                   priorities or {}, list(wanted), retries or {}, restrictions or {}, resources or {},
                                   loose or frozenset(), user_priority or {})
            self.session.send_threadsafe(msg)
        return futures

    def submit(self, func, *args, key=None, pure: bool = True, workers=None, retries: int | None = None,
               resources=None, allow_other_workers: bool | None = None, priority=None, **kwargs) -> Future:
        """Run ``func(*args, **kwargs)`` on the cluster; returns a `Future` at once.

        ``pure=True`` (default) names the task by a token of the function and
        its arguments, so the same call gives the same key (computed once);
        ``pure=False`` makes a fresh key (for random or I/O functions).
        Futures among the arguments are replaced by their values on the worker.
        ``workers=`` (addresses, worker names or hosts) restricts where it may
        run, ``allow_other_workers=True`` makes that a preference;
        ``resources={"GPU": 1}`` runs it where that much is free (held while
        it runs); ``retries=n`` reruns it up to n times if it raises;
        ``priority=`` (higher first) runs it ahead of other work.  An
        argument larger than 1 MiB is sent to the cluster once and shared by
        every task given it (`graphflow.client.large_args`).
        """
        if not callable(func):
            raise TypeError(f"client.submit needs a callable as its first argument, not {func!r}")
        self.check_open()  # an unopened or closed client says so before anything is shared
        (args, kwargs), = self._large.share([(args, kwargs)])  # big arguments: sent once (client/large_args.py)
        if key is None:
            key = _key_for(func, args, kwargs, pure)
        options = dict(workers=workers, retries=retries, resources=resources, allow_other_workers=allow_other_workers,
                       priority=priority)
        return self._submit_tasks([(key, func, args, kwargs)], options)[0]

    def map(self, func, *iterables, key=None, pure: bool = True, workers=None, retries: int | None = None,
            resources=None, allow_other_workers: bool | None = None, priority=None, **kwargs) -> list:
        """``submit(func, *items)`` for each tuple of items from ``iterables``, sent in one message.

        ``key`` may be a list of keys, one per call, or a prefix for generated keys; the other
        options are `submit`'s, for every call.
        """
        if not callable(func):
            raise TypeError(f"client.map needs a callable as its first argument, not {func!r}")
        self.check_open()
        calls = self._large.share([(args, kwargs) for args in zip(*iterables)])
        if isinstance(key, (list, tuple)):
            if len(key) != len(calls):
                raise ValueError(f"client.map got {len(key)} keys for {len(calls)} calls")
            keys = list(key)
        else:
            keys = [_key_for(func, args, kw, pure, prefix=key) for args, kw in calls]
        options = dict(workers=workers, retries=retries, resources=resources, allow_other_workers=allow_other_workers,
                       priority=priority)
        return self._submit_tasks([(k, func, args, kw) for k, (args, kw) in zip(keys, calls)], options)

    def _submit_tasks(self, calls: list, options: dict) -> list:
        with no_gc():  # 100k calls make ~1M objects: collector passes over them were ~1/3 of the client's CPU
            return self._submit_calls(calls, options)

    def _submit_calls(self, calls: list, options: dict) -> list:
        specs = {}
        sent: dict = {}  # function -> what travels for it, decided once (not once a task in _send_graph)
        ship = self.shipper is not None
        if ship:
            self.shipper.refresh()
        for key, func, args, kwargs in calls:
            args, kwargs = futures_to_refs(args, self), futures_to_refs(kwargs, self)
            try:
                fsent = sent.get(func)
                if fsent is None:
                    fsent = sent[func] = portable_callable(key, func, ship)
            except TypeError:  # an unhashable callable object: wrap_nodes decides for it
                fsent = func
            specs[key] = Task.from_call(key, fsent, args, kwargs)
        keys = list(specs)
        futures = self._send_graph(specs, keys, {k: i for i, k in enumerate(keys)}, **task_options(keys, **options))
        return [futures[k] for k in (c[0] for c in calls)]

    def _graph_specs(self, graph: TaskGraph) -> tuple:
        """Nodes to send and priorities; persisted keys (DataNodes holding this client's Futures) stay out."""
        idx = graph.index
        order = graph.priorities
        keys, nodes = idx.keys, idx.nodes
        specs, priorities = {}, {}
        # Inputs first (CycleError here if no such order exists), so the scheduler's cycle check costs one
        # lookup per edge.  Ordered graphs have their toposort cached.
        for i in graph.toposort_indices():
            key, node = keys[i], nodes[i]
            if type(node) is DataNode and isinstance(node.value, Future):
                if node.value.key != key:
                    specs[key] = Task(key, identity, Ref(node.value.key))
                continue
            specs[key] = node
            priorities[key] = order[i] if order is not None else i
        warn_large_values(specs)
        return specs, priorities

    def get(self, graph, keys: list, **options) -> list:
        """Run ``graph`` on the cluster and return the values of ``keys`` (the ``.compute()`` entry point)."""
        unknown = set(options) - {"num_workers", *ANNOTATIONS}
        if unknown:
            raise TypeError(f"Client.get got unexpected options {sorted(unknown)}")
        options.pop("num_workers", None)
        graph = graph if isinstance(graph, TaskGraph) else TaskGraph(graph)
        specs, priorities = self._graph_specs(graph)
        futures = self._send_graph(specs, list(keys), priorities, **task_options(list(specs), **options))
        return self.gather_sync([futures[k] for k in keys])

    def compute(self, collections, sync: bool = False, optimize_graph: bool = True, **options):
        """Start computing collections; returns one Future per collection (its final value), or values if ``sync``.

        ``options``: ``workers``, ``allow_other_workers``, ``resources``, ``retries``, ``priority`` for every
        task (`submit`); ``priority=`` (higher first) puts this work ahead of (or behind) other work, as in
        dask.distributed.
        """
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        found = [c for c in items if is_collection(c)]
        futures = {}
        if found:
            with no_gc():  # a bulk pass, as in _submit_tasks
                futures = self._compute_found(found, optimize_graph, options)
        out = [futures.get(id(c), c) for c in items]
        if sync:
            out = [self.gather_sync(f) if isinstance(f, Future) else f for f in out]
        return out[0] if single else out

    def _compute_found(self, found: list, optimize_graph: bool, options: dict) -> dict:
        """Send the graph of the collections ``found``; ``{id(collection): Future of its value}``."""
        graph, _ = optimize_collections(found, optimize_graph)
        specs, priorities = self._graph_specs(graph)
        finals = {}
        for c in found:
            func, extra = c.__graphflow_finalize__()
            keys = c.__graphflow_keys__()
            if func is first and not extra and len(keys) == 1 and type(keys[0]) is not list:
                finals[id(c)] = keys[0]  # a Delayed's value is its key's: no finalize task (100k of them
                continue                 # through compute(list) were half the tasks and a tokenize each)
            fkey = f"finalize-{tokenize(keys, func, extra)}"
            specs[fkey] = Task(fkey, _finalize_call, _nested_refs(keys), func, *extra)
            finals[id(c)] = fkey
        sent = self._send_graph(specs, list(finals.values()), priorities, **task_options(list(specs), **options))
        return {cid: sent[fkey] for cid, fkey in finals.items()}

    def persist(self, collections, optimize_graph: bool = True, **options):
        """Start computing collections and return copies backed by the results held on the cluster.

        ``options``: as for `compute`.
        """
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        found = [c for c in items if is_collection(c)]
        if not found:
            return collections
        graph, keys = optimize_collections(found, optimize_graph)
        specs, priorities = self._graph_specs(graph)
        futures = self._send_graph(specs, keys, priorities, **task_options(list(specs), **options))
        rebuilt = {}
        for c in found:
            own = flatten_keys(c.__graphflow_keys__(), [])
            rebuilt[id(c)] = c.__graphflow_rebuild__(TaskGraph.adopt({k: DataNode(k, futures[k]) for k in own}))
        out = [rebuilt.get(id(c), c) for c in items]
        return out[0] if single else out

    def dask_get(self, dsk, keys, optimize_graph: bool = True, **kwargs):
        """A Dask scheduler function running Dask graphs on this cluster.

        ``dask.compute(dask_df.x.sum(), scheduler=client.dask_get)``: the Dask graph
        is converted and optimized as by ``gf.dask_get``, then sent like ``client.get``;
        ``kwargs`` are ``get``'s options (``workers=``, ``retries=``).
        """
        from ..interop.dask import run_dask_graph

        return run_dask_graph(dsk, keys, self.get, optimize_graph, **kwargs)

    def __graphflow_persist__(self, collections, optimize_graph: bool = True) -> list:
        return self.persist(list(collections), optimize_graph=optimize_graph)

    # ------------------------------------------------------------------ results

    def gather(self, futures, errors: str = "raise"):
        """Values of ``futures`` (a Future, or lists/tuples/dicts of them), in the same shape.

        ``errors="skip"`` leaves out failed futures instead of raising.
        """
        if self.asynchronous:
            return aio.gather(self, futures, leaves(futures, _is_future), errors)
        return self.gather_sync(futures, errors)

    def gather_sync(self, futures, errors: str = "raise"):
        """`gather`, blocking, whatever mode the client is in."""
        values = self._gather_flat(leaves(futures, _is_future), errors)
        return rebuild(futures, _is_future, lambda f: values[f.key])

    def _gather_flat(self, futures: list, errors: str) -> dict:
        values: dict = {}
        pending = list(dict.fromkeys(futures))
        while pending:
            for f in pending:
                f.wait_settled(None)
            fetch = []
            for f in pending:
                state = f.key_state
                if state.status == "finished":
                    if state.has_value:
                        values[f.key] = state.value
                    else:
                        fetch.append(f)
                elif errors == "skip":
                    values[f.key] = DROP
                else:
                    f.raise_error()
            got = self.transfer.fetch([f.key_state for f in fetch], None) if fetch else []
            if got is None:  # a key was lost on the way and is being recomputed: wait for it again
                pending = fetch
                continue
            values.update(zip((f.key for f in fetch), got))
            pending = []
        return values

    # ------------------------------------------------------------------ scatter, cancel, introspection

    def actor(self, cls, *args, workers=None, **kwargs):
        """Create an actor of ``cls`` on a worker (the least loaded, or one of ``workers``); returns its handle.

        Each method call on the handle returns a Future at once; calls run on
        that worker one at a time, in the order they were made.  See
        `graphflow.client.actors`.
        """
        return create_actor(self, cls, args, kwargs, workers)

    def scatter(self, data, workers=None, hash: bool = True, broadcast: bool = False):
        """Put local data on the cluster; returns Futures in the shape of ``data`` (one object, list or dict).

        ``broadcast=True`` then copies it to every worker (of ``workers``), worker to worker: `replicate`.
        """
        from ..store.spill import nbytes_of

        if isinstance(data, dict):
            items = dict(data)
        elif isinstance(data, (list, tuple)):
            items = {_scatter_key(x, hash): x for x in data}
        else:
            items = {_scatter_key(data, hash): data}
        nbytes = sum(nbytes_of(v) for v in items.values())
        chosen = self.ask(wire.ChooseWorkersRequest(nbytes, as_list(workers) if workers else None))
        if not chosen:
            raise GraphflowError("no worker is connected to scatter to; wait for workers to join")
        worker = chosen[0]
        states = [self.refs.state(k) for k in items]
        futures = {k: Future(k, self, s) for k, s in zip(items, states)}
        request = self.transfer.put(worker, items)
        reply = request.result(self.timeout + nbytes / 1e8)
        self.ask(wire.ScatteredRequest(worker, dict(reply.nbytes)))
        for k, s in zip(items, states):
            if s.status == "pending":
                s.finish(None, False, [worker], reply.nbytes.get(k, 0), type(items[k]).__name__)
        if broadcast:
            replicate(self, list(futures.values()), None, as_list(workers) if workers else None)
        if isinstance(data, dict):
            return futures
        if isinstance(data, (list, tuple)):
            return type(data)(futures[k] for k in items) if isinstance(data, list) else tuple(futures.values())
        return next(iter(futures.values()))

    def replicate(self, futures, n: int | None = None, workers=None, timeout: float | None = None) -> None:
        """Copy ``futures``' results to ``n`` workers each (None: all, or all of ``workers``); returns once there."""
        replicate(self, futures, n, workers, timeout)

    def rebalance(self, futures=None, workers=None) -> int:
        """Even out the bytes workers hold (of ``futures``, or all); the moves run in the background."""
        return rebalance(self, futures, workers)

    def cancel(self, futures, force: bool = False) -> None:
        """Cancel ``futures``: their tasks (and what depends on them) stop; ``result()`` raises.

        As in dask.distributed, a key another client also wants keeps computing for that client unless
        ``force=True``, which cancels every client's futures for it.
        """
        flat = leaves(futures, _is_future)
        keys = list(dict.fromkeys(f.key for f in flat))
        for f in flat:
            f.key_state.cancel()
        if keys:
            self.check_open()
            self.session.send_threadsafe(wire.CancelKeys("client-cancel", keys, force))

    def retry(self, futures) -> None:
        """Run erred ``futures`` again, with the erred tasks they depend on (dask.distributed's ``retry``)."""
        flat = [f for f in leaves(futures, _is_future) if f.status == "error"]
        if not flat:
            return
        keys = list(dict.fromkeys(f.key for f in flat))
        for f in flat:
            f.key_state.lose()  # pending again: result() waits for the rerun
        self.ask(wire.RetryRequest(keys))

    def keep_until_done(self, keys: list) -> None:
        """Have the scheduler keep ``keys`` computing for nobody until each settles (`fire_and_forget`)."""
        self.ask(wire.KeepKeysRequest(list(keys)))

    # ------------------------------------------------------------------ questions about the cluster

    def who_has(self, futures=None) -> dict:
        """``{key: [worker addresses]}`` for ``futures`` (all of this client's when None)."""
        keys = [f.key for f in leaves(futures, _is_future)] if futures is not None else list(self.refs.states)
        return self.ask(wire.WhoHasRequest(keys))

    def scheduler_info(self) -> dict:
        """The scheduler's address and pid, its workers (threads, memory, tasks) and counters."""
        return self.ask(wire.SchedulerInfoRequest())

    def retire_workers(self, workers, close_anyway: bool = False, timeout: float | None = None) -> list:
        """Retire ``workers`` gracefully; return the addresses that left (unknown ones are skipped).

        Each worker first hands everything over: results only it holds are
        copied to the other workers (within their memory targets; through
        shared memory on one host), tasks it has not started go elsewhere, one
        it is running finishes there, and its actors are recreated on another
        worker from a fresh checkpoint.  Nothing is recomputed and no task
        runs twice; `who_has` names the new holders as soon as this returns.

        Raises `graphflow.errors.RetireError` (the workers keep running) when
        it cannot finish within ``timeout`` seconds (default: config
        ``scheduler.retire_timeout``, 60 s), or when no running worker would
        be left to receive the data -- unless ``close_anyway=True``: then
        such workers are closed anyway and what they held is recomputed.

        >>> a, b = client.scheduler_info()["workers"]                  # doctest: +SKIP
        >>> x = client.submit(make_array, workers=[a])                 # doctest: +SKIP
        >>> client.retire_workers([a]), client.who_has([x])            # doctest: +SKIP
        (['tcp://127.0.0.1:40231'], {'make_array-1f2e...': ['tcp://127.0.0.1:40232']})
        """
        from .. import config

        workers = as_list(workers)
        info = self.scheduler_info()["workers"] if self.cluster is not None else {}
        limit = float(config.get("scheduler.retire_timeout") if timeout is None else timeout)
        # the scheduler answers by its own deadline; ours only guards against a scheduler that is gone
        retired = self.ask(wire.RetireWorkersRequest(workers, close_anyway, timeout),
                           timeout=limit + max(10.0, self.timeout))
        if self.cluster is not None:
            self.cluster.forget_workers({info[a]["pid"] for a in retired if a in info})
        return retired

    def _repr_html_(self):
        from ..cards import client_html

        return client_html(self)

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's URL, ``http://127.0.0.1:8787/status`` by default; None if the scheduler runs without one.

        A dashboard listening beyond loopback asks for the cluster token: then
        the link carries this client's token (``...?token=TOKEN``), so it opens
        as it is.  The scheduler only says whether a token is asked; the token
        added is the one this client already holds.
        """
        from ..comm.addresses import link_for_client

        info = self.ask(wire.SchedulerInfoRequest())
        token = self.token if info.get("dashboard_token") else None
        return link_for_client(info.get("dashboard"), self.scheduler_address, token=token)

    # ------------------------------------------------------------------ closing

    def close(self):
        """Release everything, disconnect, and shut down the cluster this client started.

        An asynchronous client returns an awaitable (``await client.close()``) when called in an event loop.
        """
        if self.asynchronous and _in_event_loop():
            return aio.in_executor(self.close_sync)
        return self.close_sync()

    def close_sync(self) -> None:
        """`close`, blocking, whatever mode the client is in."""
        if self.status == "created":  # an asynchronous client never awaited: nothing was opened
            self.status = "closed"
            return
        if self.status == "closed" and self.session.io is None:
            return
        if self._default_token is not None:
            self._default_token.restore()
            self._default_token = None
        if self in open_clients:
            open_clients.remove(self)
        say_goodbye = self.status == "running"
        self.status = "closed"
        for caller in list(self.actor_callers.values()):
            caller.fail_all(CommClosedError("the Client was closed while actor calls were pending"))
        self._teardown(say_goodbye)

    def _teardown(self, say_goodbye: bool) -> None:
        if self.shipper is not None:
            self.shipper.close()
        self.session.close(say_goodbye)
        if self._own_cluster and self.cluster is not None:
            self.cluster.close()

    def shutdown(self) -> None:
        """Stop the scheduler and its workers (any cluster, not only one this client started), then close."""
        try:
            self.ask(wire.ShutdownRequest(), timeout=5)
        finally:
            self.close_sync()

    def __enter__(self):
        if self.status == "created":
            raise GraphflowError("an asynchronous Client opens with `async with` (or `await`), not `with`")
        return self

    def __exit__(self, *exc_info):
        self.close_sync()

    def __await__(self):
        """``client = await gf.Client(..., asynchronous=True)``: open it without blocking the event loop."""
        return self._open_async().__await__()

    async def _open_async(self):
        if self.status == "created":  # opened once, however many times it is awaited
            if self._opening is None:
                self._opening = asyncio.ensure_future(aio.in_executor(self._open, *self._open_args))
            await asyncio.shield(self._opening)
        return self

    async def __aenter__(self):
        return await self

    async def __aexit__(self, *exc_info):
        await aio.in_executor(self.close_sync)

    def __del__(self):
        if getattr(self, "status", "closed") in ("running", "reconnecting"):
            try:
                self.close_sync()
            except Exception:
                pass

    def __repr__(self):
        # Never raises, never waits long: a repr runs inside log calls and on the I/O thread too.
        workers = "?"
        session = self.session if hasattr(self, "session") else None
        if (self.status == "running" and session is not None and session.io is not None
                and threading.current_thread() is not session.io.thread):
            try:
                workers = len(self.ask(wire.SchedulerInfoRequest(), timeout=2)["workers"])
            except Exception:
                pass
        return f"<Client: scheduler={self.scheduler_address!r}, workers={workers}, status={self.status}>"


# ---------------------------------------------------------------------- helpers

def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _default_cluster():
    """The cluster class ``Client()`` starts: ``config["client.default_cluster"]`` (LocalCluster)."""
    factory = config.get("client.default_cluster")
    return import_object(factory) if isinstance(factory, str) else factory


def _finalize_call(parts, func, *extra):
    return func(parts, *extra)


def _nested_refs(keys):
    return [_nested_refs(k) if type(k) is list else Ref(k) for k in keys]


_unique_prefix = uuid.uuid4().hex[:16]
_unique_counter = itertools.count()


def _key_for(func, args, kwargs, pure: bool, prefix=None) -> str:
    name = prefix or funcname(func)
    if pure:
        return f"{name}-{tokenize(func, args, kwargs)}"
    # Unique without a syscall per key: a random per-process prefix and a counter.
    return f"{name}-{_unique_prefix}{next(_unique_counter):016x}"


def _scatter_key(value, hash: bool) -> str:
    return f"{type(value).__name__}-{tokenize(value) if hash else uuid.uuid4().hex}"


def as_list(x) -> list:
    return [x] if isinstance(x, str) else list(x)


def _is_future(obj) -> bool:
    return isinstance(obj, Future)
