"""``scheduler="ray"``: run an optimized `TaskGraph` as Ray tasks.  Imports ray.

One Ray remote call per node of the (already optimized, so fused) graph, in
the optimizer's order, with the ObjectRefs of its dependencies as arguments:
Ray resolves them on the worker, so intermediate data stays in Ray's object
store and placement is Ray's.  The driver keeps one ObjectRef per key only
while some node still has to be submitted with it; once its last reader is
submitted the driver drops it, and Ray frees the object after that reader ran.

    node                                 Ray call
    DataNode(k, v)                       ray.put(v)
    Task(k, f, Ref("a"), 2)              _call.remote((k, f, kwargs), ref_a, 2)
    anything else (nested Refs, fused)   _run_node.remote(node, *refs of its dependencies)
    registered kinds (actors)            their own submit function (`register_node_kind`)

Worked example, ``c = add(a, b)`` with ``a`` and ``b`` ready::

    submit a -> ref_a            refs {a, b}
    submit b -> ref_b
    submit c(ref_a, ref_b)       a and b have no reader left to submit: dropped
    ray.get(ref_c)

Ray is started locally with ``ray.init()`` when it is not running; otherwise
the running Ray (``ray.init(address="auto")`` for a cluster) is used.  A
task's exception is re-raised in the caller with its original type and
message, a note naming the graphflow key that raised it, and Ray's remote
traceback as its cause.

Actors: `graphflow.actor`'s nodes map onto Ray actors.  An ``ActorCreate``
becomes one Ray actor (`_ActorBox`, holding the instance; its handle is kept
until the run ends), each ``ActorCall`` a ``box.call.remote(...)``.  Ray runs
the calls one caller makes on one actor in submission order, and submission
follows the graph's order, in which each call comes after the call made before
it on the same handle (its ``after`` edge).  ``max_concurrency`` becomes Ray's
option of the same name; ``max_restarts`` and checkpoints are graphflow
cluster features and do not carry over to Ray.  Other node kinds can plug in
the same way (`register_node_kind`).
"""

from __future__ import annotations


from ..errors import GraphflowError, annotate_task_error, task_error_key
from ..spec import DataNode, Ref, Task, TaskGraph
from ..spec.nodes import find_refs
from . import require

ray = require("ray", "ray", 'scheduler="ray"')

__all__ = ["get_ray", "register_node_kind", "ensure_ray"]


def _call(spec, *args):
    """A plain task on a Ray worker: ``spec`` is ``(key, func, kwargs)``; a failure names the key."""
    key, func, kwargs = spec
    try:
        return func(*args, **kwargs) if kwargs else func(*args)
    except BaseException as exc:
        annotate_task_error(exc, key)
        raise


def _run_node(node, *values):
    """Any graphflow node on a Ray worker, given its dependencies' values in order."""
    try:
        return node(dict(zip(node.dependencies, values)))
    except BaseException as exc:
        annotate_task_error(exc, node.key)
        raise


_call_remote = ray.remote(_call)
_run_node_remote = ray.remote(_run_node)

# node type -> submit(node, dep_values: dict, run: _RayRun) -> ObjectRef (or an actor handle)
_NODE_KINDS: dict = {}
_kinds_loaded = False


def register_node_kind(node_type: type, submit) -> None:
    """Submit nodes of ``node_type`` with ``submit(node, deps, run)`` instead of as plain tasks.

    ``deps`` maps each dependency key to its ObjectRef (or actor handle); ``run``
    is the current `_RayRun`, whose ``keep(obj)`` holds an object (an actor
    handle) until the run ends.
    """
    _NODE_KINDS[node_type] = submit


def _load_node_kinds() -> None:
    """Register graphflow's actor nodes (`graphflow.actor`) as Ray actors, once."""
    global _kinds_loaded
    if _kinds_loaded:
        return
    _kinds_loaded = True
    from ..spec.actors import ActorCall, ActorCreate

    register_node_kind(ActorCreate, _submit_actor_create)
    register_node_kind(ActorCall, _submit_actor_call)


class _ActorBox:
    """The Ray actor holding one graphflow actor instance; its arguments arrive as top-level ObjectRefs."""

    def __init__(self, key, create, dep_keys, *values):
        try:
            self.instance = create.construct(dict(zip(dep_keys, values)))
        except BaseException as exc:
            annotate_task_error(exc, key)
            raise

    def call(self, key, method, kind, args, kwargs, dep_keys, *values):
        from ..spec.actors import invoke
        from ..spec.nodes import substitute

        try:
            if dep_keys:
                data = dict(zip(dep_keys, values))
                args, kwargs = substitute(args, data), (substitute(kwargs, data) if kwargs else None)
            return invoke(self.instance, method, kind, args, kwargs)
        except BaseException as exc:
            annotate_task_error(exc, key)
            raise


_actor_box = None


def _submit_actor_create(node, deps: dict, run):
    """``ActorCreate`` -> a Ray actor (kept alive until the run ends); its handle stands for the instance."""
    global _actor_box
    if _actor_box is None:
        _actor_box = ray.remote(_ActorBox)
    concurrency = node.actor_class.options.max_concurrency
    box = _actor_box.options(max_concurrency=concurrency) if concurrency > 1 else _actor_box
    handle = box.remote(node.key, node, tuple(deps), *deps.values())
    run.keep(handle)
    return handle


def _submit_actor_call(node, deps: dict, run):
    """``ActorCall`` -> ``handle.call.remote(...)``: Ray runs one caller's calls on an actor in submission order,
    and the graph's order submits calls on one actor in the order they were made, so the ordering edge
    (``after``) needs no value passed along."""
    handle = deps[node.actor_key]
    inputs = {k: v for k, v in deps.items() if k != node.actor_key and k != node.after}
    kwargs = node.kwargs or None
    return handle.call.remote(node.key, node.method, node.kind, node.args, kwargs, tuple(inputs), *inputs.values())


def ensure_ray() -> None:
    """Use the running Ray, or start one locally (no dashboard) when none is."""
    if not ray.is_initialized():
        ray.init(include_dashboard=False)


def _only_top_refs(task: Task) -> bool:
    """True when every Ref of ``task`` is a whole positional argument, which Ray resolves itself."""
    for a in task.args:
        if type(a) is not Ref and find_refs(a, {}):
            return False
    return not (task.kwargs and find_refs(task.kwargs, {}))


class _RayRun:
    """One run: submits nodes in order, drops refs after their last reader, gathers the outputs."""

    def __init__(self, graph: TaskGraph, keys: list):
        from ..local.executors import ExecutionPlan

        self.plan = ExecutionPlan(graph, keys)
        self.kept: list = []

    def keep(self, obj) -> None:
        """Hold ``obj`` (an actor handle) until the run ends."""
        self.kept.append(obj)

    def submit(self, node, deps: list):
        t = type(node)
        if t is DataNode:
            return ray.put(node.value)
        if t is Task and _only_top_refs(node):
            if deps:
                by_key = dict(zip(node.dependencies, deps))
                args = [by_key[a.key] if type(a) is Ref else a for a in node.args]
            else:
                args = node.args
            return _call_remote.remote((node.key, node.func, node.kwargs), *args)
        kind = _NODE_KINDS.get(t)
        if kind is not None:
            return kind(node, dict(zip(node.dependencies, deps)), self)
        return _run_node_remote.remote(node, *deps)

    def run(self) -> list:
        plan = self.plan
        nodes, deps, is_output = plan.nodes, plan.deps, plan.is_output
        readers = list(plan.readers)
        refs: list = [None] * len(nodes)
        for i in plan.run_order():
            refs[i] = self.submit(nodes[i], [refs[p] for p in deps[i]])
            for p in deps[i]:
                r = readers[p] - 1
                readers[p] = r
                if r == 0 and not is_output[p]:
                    refs[p] = None  # Ray frees the object once the readers already submitted ran
        wanted = [refs[i] for i in plan.outputs]
        del refs
        try:
            # An actor's create key asked for as an output: its Ray handle is the value.
            values = ray.get([w for w in wanted if isinstance(w, ray.ObjectRef)])
        finally:
            self.kept.clear()
        got = iter(values)
        return [next(got) if isinstance(w, ray.ObjectRef) else w for w in wanted]


def get_ray(graph, keys, num_workers=None, **options) -> list:
    """Run ``graph`` on Ray and return the values of ``keys`` (the ``scheduler="ray"`` entry point).

    ``num_workers`` is accepted and ignored (Ray has its own workers).
    """
    if options:
        raise TypeError(f"the 'ray' scheduler got unexpected option(s) {sorted(options)}; it takes none")
    ensure_ray()
    _load_node_kinds()
    if not isinstance(graph, TaskGraph):
        graph = TaskGraph(graph)
    failure = None
    try:
        return _RayRun(graph, list(keys)).run()
    except ray.exceptions.RayTaskError as err:
        failure = err
    raise _task_error(failure)


def _task_error(err) -> BaseException:
    """The task's own exception (type, message, key note, remote traceback) from Ray's wrapper."""
    cause = getattr(err, "cause", None)
    text = getattr(err, "traceback_str", None) or str(err)
    if not isinstance(cause, BaseException):
        return GraphflowError(f"a task failed on Ray and its exception could not be recovered:\n{text}")
    return annotate_task_error(cause, task_error_key(cause, "?"), text)
