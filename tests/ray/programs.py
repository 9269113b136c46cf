"""Ray Core programs in Ray's documented style, each a function of the ``ray`` module it runs on.

Every program takes the module as its argument -- ``import ray`` or ``import
graphflow.ray as ray`` -- and returns its answer; `tests.ray.test_programs`
runs each under both and compares, and ``benchmarks/workloads/ray_programs.py``
times them.  Functions and classes are defined inside each program so that
both runtimes ship them by value.  A session (``ray.init(num_cpus=2,
resources={"accel": 1})``) is already open when a program runs.
"""

from __future__ import annotations

__all__ = ["PROGRAMS", "parallel_map", "parameter_server", "async_parameter_server", "actor_pipeline",
           "nested_tasks", "tree_reduce", "wait_reduce", "resource_limits"]


def parallel_map(ray, n: int = 200):
    """Map a function over a list in parallel, then gather: Ray's first example."""
    @ray.remote
    def square(x):
        return x * x

    refs = [square.remote(i) for i in range(n)]
    return sum(ray.get(refs))


def parameter_server(ray, n_workers: int = 2, steps: int = 10, dim: int = 8):
    """Synchronous parameter server: each step the workers compute gradients from the current parameters
    (an actor call's result passed to tasks) and the server applies their sum."""
    import numpy as np

    @ray.remote
    class ParameterServer:
        def __init__(self, dim):
            self.params = np.zeros(dim)

        def apply_gradients(self, *gradients):
            self.params = self.params - 0.25 * np.sum(gradients, axis=0)
            return self.params

        def get_params(self):
            return self.params

    @ray.remote
    def compute_gradient(params, worker):
        target = np.arange(len(params), dtype=float) + worker
        return params - target

    ps = ParameterServer.remote(dim)
    params = ps.get_params.remote()
    for _ in range(steps):
        gradients = [compute_gradient.remote(params, w) for w in range(n_workers)]
        params = ps.apply_gradients.remote(*gradients)
    return [round(float(x), 6) for x in ray.get(params)]


def async_parameter_server(ray, n_workers: int = 2, steps: int = 5):
    """Asynchronous parameter server: workers hold the server's actor handle and push updates themselves."""
    @ray.remote
    class ParameterServer:
        def __init__(self):
            self.total = 0
            self.updates = 0

        def push(self, delta):
            self.total += delta
            self.updates += 1
            return self.updates

        def pull(self):
            return self.total

    @ray.remote
    def worker(ps, w, steps):
        for s in range(steps):
            ray.get(ps.pull.remote())  # read the current parameters, as a worker would
            ps.push.remote(w * 10 + s)
        return ray.get(ps.pull.remote()) >= 0

    ps = ParameterServer.remote()
    assert all(ray.get([worker.remote(ps, w, steps) for w in range(n_workers)]))
    return ray.get(ps.pull.remote()), ray.get(ps.push.remote(0)) - 1


def actor_pipeline(ray, items: int = 30):
    """A pipeline of three stateful actors: each item flows through every stage; refs pass between them."""
    @ray.remote
    class Stage:
        def __init__(self, factor):
            self.factor = factor
            self.seen = 0

        def process(self, x):
            self.seen += 1
            return x * self.factor + 1

        def count(self):
            return self.seen

    stages = [Stage.remote(f) for f in (2, 3, 5)]
    results = []
    for i in range(items):
        ref = i
        for stage in stages:
            ref = stage.process.remote(ref)
        results.append(ref)
    return ray.get(results), ray.get([s.count.remote() for s in stages])


def nested_tasks(ray, parents: int = 8, children: int = 4, fib_n: int = 8):
    """Tasks that launch tasks and wait for them (more parents than CPUs), and a recursive fib."""
    @ray.remote
    def child(i):
        return i * i

    @ray.remote
    def parent(p, n):
        return p + sum(ray.get([child.remote(i) for i in range(n)]))

    @ray.remote
    def fib(n):
        if n < 2:
            return n
        return sum(ray.get([fib.remote(n - 1), fib.remote(n - 2)]))

    return ray.get([parent.remote(p, children) for p in range(parents)]), ray.get(fib.remote(fib_n))


def tree_reduce(ray, leaves: int = 64):
    """Sum by a tree of tasks whose inputs are ObjectRefs of earlier tasks (and of ray.put values)."""
    @ray.remote
    def add(a, b):
        return a + b

    @ray.remote
    def total(parts):
        # Refs nested in a list arrive as refs (Ray resolves only top-level arguments).
        return sum(ray.get(parts))

    refs = [ray.put(i) if i % 2 else add.remote(i, 0) for i in range(leaves)]
    while len(refs) > 1:
        paired = [add.remote(refs[i], refs[i + 1]) for i in range(0, len(refs) - 1, 2)]
        refs = paired + (refs[-1:] if len(refs) % 2 else [])
    return ray.get(refs[0]), ray.get(total.remote([ray.put(i) for i in range(10)]))


def wait_reduce(ray, n: int = 24):
    """Reduce results as they finish with ray.wait (Ray's pattern for uneven tasks)."""
    import time

    @ray.remote
    def work(i):
        time.sleep(0.002 * (i % 4))
        return i

    @ray.remote
    def add(a, b):
        return a + b

    refs = [work.remote(i) for i in range(n)]
    while len(refs) > 1:
        ready, refs = ray.wait(refs, num_returns=2)
        refs.append(add.remote(*ready))
    first, rest = ray.wait([work.remote(1), work.remote(2)], num_returns=2, timeout=30)
    return ray.get(refs[0]), len(first), len(rest)


def resource_limits(ray, n: int = 6):
    """A job whose tasks ask for CPUs and a custom resource: the node (2 CPUs, one "accel") lets only one of
    each kind run at a time.  Each task reports when it ran (the machine's monotonic clock, shared by its
    processes); the answer is the most that overlapped.  (The tasks do not block in ``ray.get``: Ray lends a
    blocked task's CPUs to others, which graphflow does not do for tasks holding resources.)"""
    import time

    def job(i):
        start = time.monotonic()
        time.sleep(0.05)
        return i, start, time.monotonic()

    def most_at_once(spans):
        events = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans])
        running = peak = 0
        for _, step in events:
            running += step
            peak = max(peak, running)
        return peak

    whole_node = ray.remote(num_cpus=2)(job)
    accelerated = ray.remote(num_cpus=1, resources={"accel": 1})(job)
    whole = ray.get([whole_node.remote(i) for i in range(n)])
    accel = ray.get([accelerated.remote(i) for i in range(n)])
    done = sorted(i for i, _, _ in whole + accel)
    return done, {"whole": most_at_once(whole), "accel": most_at_once(accel)}


PROGRAMS = {f.__name__: f for f in (
    parallel_map, parameter_server, async_parameter_server, actor_pipeline, nested_tasks, tree_reduce, wait_reduce,
    resource_limits,
)}
