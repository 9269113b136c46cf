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
raises `CommClosedError` within seconds.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import threading
import time
import uuid
import weakref

from .. import config
from ..comm import messages as wire
from ..errors import AuthenticationError, CommClosedError, GraphflowError, annotate_task_error
from .queries import ClusterQueries
from .futures import Future, KeyState
from .loop import LoopThread
from .remote import wrap_functions
from ..scheduler import events as ev
from ..optimize import optimize_collections
from ..spec import DataNode, Ref, Task, TaskGraph, tokenize
from ..spec.collections import flatten_keys, is_collection
from ..utils.importing import import_object
from ..spec.nodes import funcname

logger = logging.getLogger("graphflow.client")

__all__ = ["Client", "default_client"]

_current: list = []
RELEASE_INTERVAL = 0.05  # seconds between batches of "no longer wanted" keys sent to the scheduler


def default_client() -> "Client":
    """The most recently opened client that is still open."""
    if not _current:
        raise GraphflowError("no graphflow Client is open; start one with gf.Client()")
    return _current[-1]


class Client(ClusterQueries):
    """Connect to a cluster, or start a `LocalCluster` when no address is given.

    ``Client()``, ``Client(n_workers=2, threads_per_worker=1, memory_limit="2GiB")``,
    ``Client("tcp://host:8786", timeout=10)`` or ``Client(cluster)``.  While it
    is open it is the default scheduler of ``.compute()``; `close` (or leaving
    a ``with`` block) undoes that and shuts down a cluster it started.
    """

    def __init__(self, address=None, *, timeout: float = 10.0, token: bytes | str | None = None,
                 set_as_default: bool = True, ping_interval: float = 1.0, curve_secret=None, **cluster_kwargs):
        self.cluster = None
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
        if token is None:
            from ..comm.security import load_token

            token = load_token()
        self.token = token.encode() if isinstance(token, str) else token
        self.curve_secret = curve_secret  # None: GRAPHFLOW_CURVE_SECRET if set, else no encryption
        self.scheduler_address = address
        self.id = f"client-{uuid.uuid4().hex[:12]}"
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.status = "connecting"
        self._states: dict = {}
        self._refcount: dict = {}
        self._ref_lock = threading.RLock()
        self._to_release: list = []
        self._requests: dict = {}
        self._request_ids = itertools.count(1)
        self._peers: dict = {}
        self._peer_requests: dict = {}  # request id -> worker address, for requests sent to workers
        self._actor_callers = weakref.WeakValueDictionary()  # actor key -> ActorCaller (graphflow.client.actors)
        self._no_vmcopy: set = set()  # workers whose memory this process cannot read
        self._generation = itertools.count()
        self._closed_error: BaseException | None = None
        self._welcome = threading.Event()
        self._last_ack = time.monotonic()
        self._default_token = None
        self._io = LoopThread(f"graphflow-client-{self.id}")
        try:
            self._io.call(self._connect)
            self._await_welcome()
        except BaseException:
            self._teardown()
            raise
        self.status = "running"
        _current.append(self)
        if set_as_default:
            self._default_token = config.set(scheduler=self)

    # ------------------------------------------------------------------ connection

    def _connect(self) -> None:
        from tornado.ioloop import PeriodicCallback

        from ..comm.transport import Connection

        self._conn = Connection(self.scheduler_address, self.token, self._on_message, loop=self._io.loop,
                                on_close=self._on_lost, curve_secret=self.curve_secret)
        self._conn.send(wire.RegisterClient(self.id))
        self._pinger = PeriodicCallback(self._ping, self.ping_interval * 1000)
        self._pinger.start()
        self._releaser = PeriodicCallback(self._flush_releases, RELEASE_INTERVAL * 1000)
        self._releaser.start()

    def _await_welcome(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._welcome.wait(0.05):
            if self._closed_error is not None:
                raise self._closed_error
            if time.monotonic() > deadline:
                raise CommClosedError(
                    f"could not reach a graphflow scheduler at {self.scheduler_address} within {self.timeout} s; "
                    f"is it running, and is the address right?")

    def _ping(self) -> None:
        silent = time.monotonic() - self._last_ack
        if self._welcome.is_set() and silent > max(5.0, 5 * self.ping_interval):
            return self._on_lost(f"no answer for {silent:.1f} s")
        self._conn.send(wire.Ping(time.time()))

    def _on_lost(self, exc=None) -> None:
        if isinstance(exc, AuthenticationError):
            error = AuthenticationError(f"the scheduler at {self.scheduler_address} refused this client: the "
                                        f"cluster token does not match (set GRAPHFLOW_TOKEN or ~/.graphflow/token)")
        else:
            error = CommClosedError(f"lost the scheduler at {self.scheduler_address}: {exc}; its results are gone "
                                    f"- start a new cluster and Client")
        self._fail_everything(error)

    def _fail_everything(self, error: BaseException) -> None:
        if self._closed_error is not None:
            return
        self._closed_error = error
        self.status = "closed"
        for state in list(self._states.values()):
            if state.status == "pending":
                state.fail(error)
        for request in list(self._requests.values()):
            if not request.done():
                request.set_exception(error)
        for caller in list(self._actor_callers.values()):
            caller.fail_all(error)

    def _on_message(self, msg) -> None:
        if type(msg) is wire.ActorResults:  # answers from an actor's worker (graphflow.client.actors)
            caller = self._actor_callers.get(msg.actor)
            if caller is not None:
                caller.on_results(msg)
        elif isinstance(msg, ev.KeyReport):
            self._on_report(msg)
        elif isinstance(msg, wire.RpcReply):
            request = self._requests.pop(msg.request_id, None)
            if request is not None and not request.done():
                if msg.error is not None:
                    request.set_exception(msg.error)
                else:
                    request.set_result(msg.value)
        elif isinstance(msg, wire.DataReply):
            self._peer_requests.pop(msg.request_id, None)
            request = self._requests.pop(msg.request_id, None)
            if request is not None and not request.done():
                request.set_result(msg)
        elif isinstance(msg, wire.HeartbeatAck):
            self._last_ack = time.monotonic()
        elif isinstance(msg, wire.Welcome):
            self._last_ack = time.monotonic()
            self._welcome.set()
        elif isinstance(msg, wire.SchedulerClosing):
            self._fail_everything(CommClosedError(f"the scheduler at {self.scheduler_address} closed: {msg.reason}"))
        else:
            logger.warning("client: unexpected %s from the scheduler", type(msg).__name__)

    def _on_report(self, msg: ev.KeyReport) -> None:
        if self._actor_callers:
            caller = self._actor_callers.get(msg.key)
            if caller is not None:
                caller.on_report(msg)
        state = self._states.get(msg.key)
        if state is None:
            return
        if msg.state == "memory":
            if state.status == "cancelled":
                return  # cancelled here while the report was on its way
            if state.status == "finished" and state.has_value:  # new holders (a worker retired): keep the value
                state.who_has = list(msg.who_has)
                return
            state.finish(msg.inline, msg.inline is not None, msg.who_has, msg.nbytes, msg.type_name)
        elif msg.state == "erred":
            state.fail(msg.exception, msg.traceback)
        elif msg.state == "lost":
            state.lose()
        elif msg.state == "cancelled":
            state.cancel()

    def _check_open(self) -> None:
        if self._closed_error is not None:
            raise self._closed_error
        if self.status != "running":
            raise CommClosedError(f"this Client is {self.status}; open a new one")

    def _send(self, msg) -> None:
        """Serialize here, in the caller's thread (so a SerializationError reaches the caller), send on the loop."""
        self._check_open()
        self._conn.send_threadsafe(msg)

    def _rpc(self, op: str, timeout: float | None = None, **kwargs):
        """Call ``op`` on the scheduler and wait for its answer."""
        self._check_open()
        request: concurrent.futures.Future = concurrent.futures.Future()
        request_id = next(self._request_ids)
        self._requests[request_id] = request
        self._io.loop.add_callback(self._conn.send, wire.Rpc(request_id, op, kwargs))
        try:
            return request.result(self.timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            self._requests.pop(request_id, None)
            raise CommClosedError(f"the scheduler at {self.scheduler_address} did not answer {op!r} "
                                  f"within {self.timeout} s") from None

    # ------------------------------------------------------------------ futures bookkeeping

    def _key_state(self, key) -> KeyState:
        with self._ref_lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = KeyState(key)
            return state

    def _inc_ref(self, key) -> None:
        with self._ref_lock:
            self._refcount[key] = self._refcount.get(key, 0) + 1

    def _dec_ref(self, key) -> None:
        with self._ref_lock:
            n = self._refcount.get(key, 0) - 1
            if n > 0:
                self._refcount[key] = n
                return
            self._refcount.pop(key, None)
            self._states.pop(key, None)
            # Sent by the release timer on the I/O thread: no wake-up per dropped future.
            self._to_release.append(key)

    def _flush_releases(self) -> None:
        if not self._to_release:
            return
        with self._ref_lock:
            keys, self._to_release = self._to_release, []
        if keys and self._closed_error is None:
            self._conn.send(ev.ClientReleasesKeys("client-release", self.id, keys))

    # ------------------------------------------------------------------ submitting work

    def _update_graph(self, specs: dict, wanted: list, priorities=None, retries=None, restrictions=None) -> dict:
        """Send tasks; returns {key: Future} for ``wanted``."""
        self._check_open()
        futures = {k: Future(k, self) for k in wanted}
        # Session-only functions go as bytes pickled once, so every message stays on the fast pickle path.
        specs = {k: wrap_functions(node) for k, node in specs.items()}
        dependencies = {k: node.dependencies for k, node in specs.items()}
        msg = ev.UpdateGraph(f"update-graph-{next(self._generation)}", self.id, specs, dependencies,
                             priorities or {}, list(wanted), retries or {}, restrictions or {})
        self._send(msg)
        return futures

    def submit(self, func, *args, key=None, pure: bool = True, workers=None, retries: int = 0, **kwargs) -> Future:
        """Run ``func(*args, **kwargs)`` on the cluster; returns a `Future` at once.

        ``pure=True`` (default) names the task by a token of the function and
        its arguments, so the same call gives the same key (computed once);
        ``pure=False`` makes a fresh key (for random or I/O functions).
        Futures among the arguments are replaced by their values on the worker.
        ``workers=[address, ...]`` restricts where it may run; ``retries=n``
        reruns it up to n times if it raises.
        """
        if not callable(func):
            raise TypeError(f"client.submit needs a callable as its first argument, not {func!r}")
        if key is None:
            key = _key_for(func, args, kwargs, pure)
        return self._submit_tasks([(key, func, args, kwargs)], workers, retries)[0]

    def map(self, func, *iterables, key=None, pure: bool = True, workers=None, retries: int = 0,
            **kwargs) -> list:
        """``submit(func, *items)`` for each tuple of items from ``iterables``, sent in one message.

        ``key`` may be a list of keys, one per call, or a prefix for generated keys.
        """
        if not callable(func):
            raise TypeError(f"client.map needs a callable as its first argument, not {func!r}")
        calls = list(zip(*iterables))
        if isinstance(key, (list, tuple)):
            if len(key) != len(calls):
                raise ValueError(f"client.map got {len(key)} keys for {len(calls)} calls")
            keys = list(key)
        else:
            keys = [_key_for(func, args, kwargs, pure, prefix=key) for args in calls]
        return self._submit_tasks([(k, func, args, kwargs) for k, args in zip(keys, calls)], workers, retries)

    def _submit_tasks(self, calls: list, workers, retries: int) -> list:
        specs = {}
        for key, func, args, kwargs in calls:
            args, kwargs = _futures_to_refs(args, self), _futures_to_refs(kwargs, self)
            specs[key] = Task.from_call(key, func, args, kwargs)
        keys = list(specs)
        restrictions = {k: set(_as_list(workers)) for k in keys} if workers else None
        futures = self._update_graph(specs, keys, {k: i for i, k in enumerate(keys)},
                                     {k: retries for k in keys} if retries else None, restrictions)
        return [futures[k] for k in (c[0] for c in calls)]

    def _graph_specs(self, graph: TaskGraph) -> tuple:
        """Nodes to send and priorities; persisted keys (DataNodes holding this client's Futures) stay out."""
        idx = graph.index
        order = graph.priorities
        specs, priorities = {}, {}
        for i, (key, node) in enumerate(zip(idx.keys, idx.nodes)):
            if type(node) is DataNode and isinstance(node.value, Future):
                if node.value.key != key:
                    specs[key] = Task(key, _identity, Ref(node.value.key))
                continue
            specs[key] = node
            priorities[key] = order[i] if order is not None else i
        return specs, priorities

    def get(self, graph, keys: list, **options) -> list:
        """Run ``graph`` on the cluster and return the values of ``keys`` (the ``.compute()`` entry point)."""
        unknown = set(options) - {"num_workers", "workers", "retries"}
        if unknown:
            raise TypeError(f"Client.get got unexpected options {sorted(unknown)}")
        graph = graph if isinstance(graph, TaskGraph) else TaskGraph(graph)
        specs, priorities = self._graph_specs(graph)
        retries = options.get("retries") or 0
        futures = self._update_graph(specs, list(keys), priorities, {k: retries for k in specs} if retries else None,
                                     {k: set(_as_list(options["workers"])) for k in specs}
                                     if options.get("workers") else None)
        return self.gather([futures[k] for k in keys])

    def compute(self, collections, sync: bool = False, optimize_graph: bool = True):
        """Start computing collections; returns one Future per collection (its final value), or values if ``sync``."""
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        found = [c for c in items if is_collection(c)]
        futures = {}
        if found:
            graph, _ = optimize_collections(found, optimize_graph)
            specs, priorities = self._graph_specs(graph)
            finals = {}
            for c in found:
                func, extra = c.__graphflow_finalize__()
                fkey = f"finalize-{tokenize(c.__graphflow_keys__(), func, extra)}"
                specs[fkey] = Task(fkey, _finalize_call, _nested_refs(c.__graphflow_keys__()), func, *extra)
                finals[id(c)] = fkey
            sent = self._update_graph(specs, list(finals.values()), priorities)
            futures = {cid: sent[fkey] for cid, fkey in finals.items()}
        out = [futures.get(id(c), c) for c in items]
        if sync:
            out = [self.gather(f) if isinstance(f, Future) else f for f in out]
        return out[0] if single else out

    def persist(self, collections, optimize_graph: bool = True):
        """Start computing collections and return copies backed by the results held on the cluster."""
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        found = [c for c in items if is_collection(c)]
        if not found:
            return collections
        graph, keys = optimize_collections(found, optimize_graph)
        specs, priorities = self._graph_specs(graph)
        futures = self._update_graph(specs, keys, priorities)
        rebuilt = {}
        for c in found:
            own = flatten_keys(c.__graphflow_keys__(), [])
            rebuilt[id(c)] = c.__graphflow_rebuild__(TaskGraph._from_dict({k: DataNode(k, futures[k]) for k in own}))
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
        flat: list = []
        _collect_futures(futures, flat)
        values = self._gather_flat(flat, errors)
        return _fill(futures, values)

    def _gather_flat(self, futures: list, errors: str) -> dict:
        values: dict = {}
        pending = list(dict.fromkeys(futures))
        while pending:
            for f in pending:
                f._wait(None)
            fetch = []
            for f in pending:
                state = f._state
                if state.status == "finished":
                    if state.has_value:
                        values[f.key] = state.value
                    else:
                        fetch.append(f)
                elif errors == "skip":
                    values[f.key] = _SKIP
                else:
                    f._raise()
            got = self._fetch([f._state for f in fetch], None) if fetch else []
            if got is None:  # something was lost on the way: wait for it again
                time.sleep(0.05)
                pending = fetch
                continue
            values.update(zip((f.key for f in fetch), got))
            pending = []
        return values

    def _fetch(self, states: list, deadline) -> list | None:
        """Fetch values from the workers holding them; None if one was lost (the caller waits again)."""
        by_worker: dict = {}
        for s in states:
            if not s.who_has:
                return None
            by_worker.setdefault(s.who_has[0], []).append(s.key)
        requests = {w: self._io.call(self._request_data, w, keys) for w, keys in by_worker.items()}
        found: dict = {}
        for worker, request in requests.items():
            try:
                reply = self._await_reply(request, states, deadline)
            except (CommClosedError, concurrent.futures.CancelledError):
                if self._closed_error is not None:
                    raise self._closed_error
                return None
            except concurrent.futures.TimeoutError:
                raise TimeoutError(f"fetching results from worker {worker} took longer than the timeout") from None
            if reply.errors:
                key, error = next(iter(reply.errors.items()))
                raise annotate_task_error(error, key)
            if reply.lent:
                from ..comm.vmcopy import borrow_all

                conn = self._peers[worker]
                give_back = lambda lease: self._io.loop.add_callback(conn.send, wire.ReturnLease(lease))  # noqa: E731
                if borrow_all(reply.lent, found, give_back):
                    self._no_vmcopy.add(worker)
                    return None  # asked again, over the socket this time
            if reply.shared or reply.on_disk:
                from ..store import shm

                try:
                    refs = {**reply.shared, **reply.on_disk}
                    found.update({key: shm.open_ref(ref) for key, ref in refs.items()})
                except OSError:  # released by its worker meanwhile: ask again
                    return None
            if reply.missing:
                return None
            found.update(reply.data)
        return [found[s.key] for s in states]

    def _await_reply(self, request: concurrent.futures.Future, states: list, deadline):
        """The reply to a data request; CancelledError if a key was lost meanwhile (ask again later)."""
        while True:
            timeout = 0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic()))
            try:
                return request.result(timeout)
            except concurrent.futures.TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                if any(s.status != "finished" for s in states):
                    raise concurrent.futures.CancelledError() from None

    def _request_data(self, worker: str, keys: list) -> concurrent.futures.Future:
        from ..comm.vmcopy import host_id

        host = "" if worker in self._no_vmcopy else host_id()
        return self._peer_request(worker, lambda request_id: wire.GetData(request_id, keys, host))

    def _peer_request(self, worker: str, make_message) -> concurrent.futures.Future:
        """Send ``make_message(request_id)`` to ``worker``; the future resolves with its `DataReply`."""
        from ..comm.transport import Connection

        request: concurrent.futures.Future = concurrent.futures.Future()
        request_id = next(self._request_ids)
        self._requests[request_id] = request
        self._peer_requests[request_id] = worker
        conn = self._peers.get(worker)
        if conn is None:
            conn = self._peers[worker] = Connection(worker, self.token, self._on_message, loop=self._io.loop,
                                                    on_close=lambda exc, w=worker: self._peer_lost(w, exc),
                                                    curve_secret=self.curve_secret, fail_if_unreachable=True)
        conn.send(make_message(request_id))
        return request

    def _peer_lost(self, worker: str, exc) -> None:
        conn = self._peers.pop(worker, None)
        if conn is not None:
            conn.close()
        for request_id, w in list(self._peer_requests.items()):
            if w == worker:
                del self._peer_requests[request_id]
                request = self._requests.pop(request_id, None)
                if request is not None and not request.done():
                    request.set_exception(CommClosedError(f"lost worker {worker}: {exc}"))

    # ------------------------------------------------------------------ scatter, cancel, introspection

    def actor(self, cls, *args, workers=None, **kwargs):
        """Create an actor of ``cls`` on a worker (the least loaded, or one of ``workers``); returns its handle.

        Each method call on the handle returns a Future at once; calls run on
        that worker one at a time, in the order they were made.  See
        `graphflow.client.actors`.
        """
        from .actors import create_actor

        return create_actor(self, cls, args, kwargs, workers)

    def scatter(self, data, workers=None, hash: bool = True):
        """Put local data on the cluster; returns Futures in the shape of ``data`` (one object, list or dict)."""
        from ..store.spill import nbytes_of

        if isinstance(data, dict):
            items = dict(data)
        elif isinstance(data, (list, tuple)):
            items = {_scatter_key(x, hash): x for x in data}
        else:
            items = {_scatter_key(data, hash): data}
        nbytes = sum(nbytes_of(v) for v in items.values())
        chosen = self._rpc("choose_workers", nbytes=nbytes, workers=_as_list(workers) if workers else None)
        if not chosen:
            raise GraphflowError("no worker is connected to scatter to; wait for workers to join")
        worker = chosen[0]
        states = [self._key_state(k) for k in items]
        futures = {k: Future(k, self, s) for k, s in zip(items, states)}
        request = self._io.call(self._put_data, worker, items)
        reply = request.result(self.timeout + nbytes / 1e8)
        self._rpc("scattered", worker=worker, nbytes=dict(reply.nbytes))
        for k, s in zip(items, states):
            if s.status == "pending":
                s.finish(None, False, [worker], reply.nbytes.get(k, 0), type(items[k]).__name__)
        if isinstance(data, dict):
            return futures
        if isinstance(data, (list, tuple)):
            return type(data)(futures[k] for k in items) if isinstance(data, list) else tuple(futures.values())
        return next(iter(futures.values()))

    def _put_data(self, worker: str, data: dict) -> concurrent.futures.Future:
        return self._peer_request(worker, lambda request_id: wire.PutData(request_id, data))

    def cancel(self, futures) -> None:
        """Cancel ``futures``: their tasks (and what depends on them) stop; ``result()`` raises."""
        flat: list = []
        _collect_futures(futures, flat)
        keys = list(dict.fromkeys(f.key for f in flat))
        for f in flat:
            f._state.cancel()
        if keys:
            self._send(ev.ClientCancelsKeys("client-cancel", self.id, keys))

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Release everything, disconnect, and shut down the cluster this client started."""
        if self.status == "closed" and self._io is None:
            return
        if self._default_token is not None:
            self._default_token.restore()
            self._default_token = None
        if self in _current:
            _current.remove(self)
        if self._closed_error is None and self.status == "running":
            try:
                self._io.call(self._say_goodbye, timeout=2)
            except Exception:
                pass
        self.status = "closed"
        for caller in list(self._actor_callers.values()):
            caller.fail_all(CommClosedError("the Client was closed while actor calls were pending"))
        self._teardown()

    def _say_goodbye(self) -> None:
        self._conn.send(wire.Goodbye("client closed"))  # the scheduler releases everything we wanted

    def _teardown(self) -> None:
        io, self._io = self._io, None
        if io is not None:
            try:
                io.call(self._close_sockets, timeout=2)
            except Exception:
                pass
            io.stop()
        if self._own_cluster and self.cluster is not None:
            self.cluster.close()

    def _close_sockets(self) -> None:
        if getattr(self, "_pinger", None) is not None:
            self._pinger.stop()
            self._releaser.stop()
        for conn in self._peers.values():
            conn.close()
        if getattr(self, "_conn", None) is not None:
            self._conn.close()

    def shutdown(self) -> None:
        """Stop the scheduler and its workers (any cluster, not only one this client started), then close."""
        try:
            self._rpc("shutdown", timeout=5)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        if getattr(self, "status", "closed") == "running":
            try:
                self.close()
            except Exception:
                pass

    def __repr__(self):
        workers = len(self.cluster.workers) if self.cluster is not None else "?"
        return f"<Client: scheduler={self.scheduler_address!r}, workers={workers}, status={self.status}>"


# ---------------------------------------------------------------------- helpers

_SKIP = object()


def _default_cluster():
    """The cluster class ``Client()`` starts: ``config["client.default_cluster"]`` (LocalCluster)."""
    factory = config.get("client.default_cluster")
    return import_object(factory) if isinstance(factory, str) else factory


def _identity(x):
    return x


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


def _as_list(x) -> list:
    return [x] if isinstance(x, str) else list(x)


def _futures_to_refs(obj, client):
    """``obj`` with every Future replaced by a Ref to its key (containers rebuilt only when needed)."""
    t = type(obj)
    if t is Future:
        if obj.client is not client:
            raise GraphflowError(f"the future {obj.key!r} belongs to another client; gather it first")
        return Ref(obj.key)
    if t in (list, tuple, set, frozenset):
        items = [_futures_to_refs(x, client) for x in obj]
        return t(items) if any(a is not b for a, b in zip(items, obj)) else obj
    if t is dict:
        items = {k: _futures_to_refs(v, client) for k, v in obj.items()}
        return items if any(items[k] is not obj[k] for k in obj) else obj
    return obj


def _collect_futures(obj, out: list) -> None:
    if isinstance(obj, Future):
        out.append(obj)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for x in obj:
            _collect_futures(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            _collect_futures(x, out)


def _fill(obj, values: dict):
    if isinstance(obj, Future):
        return values[obj.key]
    if isinstance(obj, (list, tuple)):
        items = [_fill(x, values) for x in obj]
        return type(obj)(x for x in items if x is not _SKIP) if isinstance(obj, list) else \
            tuple(x for x in items if x is not _SKIP)
    if isinstance(obj, dict):
        return {k: v for k, v in ((k, _fill(x, values)) for k, x in obj.items()) if v is not _SKIP}
    return obj
