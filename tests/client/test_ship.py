"""Tasks whose code only the client has: a named error without ``ship_modules``, the answer with it.

The scheduler and a worker are started from the command line, as a user
starts them on another host; their ``sys.path`` lacks the folder the client
imports its own module from (the usual state of ``mymod.py`` next to a
notebook).  Every test writes a module of a fresh name into its own folder
and puts that folder on this process's ``sys.path`` only::

    client  (imports usermod, usermod_helper)  --SubmitGraph-->  scheduler (has neither)
                                                                    |  RunTasks
                                                                  worker (has neither)
"""

import collections
import contextlib
import functools
import operator
import os
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga
from graphflow import delayed
from graphflow.errors import SerializationError
from graphflow.testing.wait import wait_for

MODULE = """
    import {helper}


    class Point:
        def __init__(self, x):
            self.x = x


    def double(x):
        return 2 * x


    def helped(x):
        return {helper}.triple(x)


    def make_point(x):
        return Point(x)


    class Oops(ValueError):
        pass


    def fail(x):
        raise Oops(f"bad value {{x}}")


    class Counter:
        def __init__(self):
            self.n = 0

        def add(self, k):
            self.n += k
            return {helper}.triple(self.n)
"""

HELPER = """
    def triple(x):
        return 3 * x
"""


# The workers cannot import this test module, so the function that must run there comes from the stdlib.
inc = functools.partial(operator.add, 1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, token)`` of a CLI scheduler with one CLI worker, neither of which can import the test modules."""
    home = tmp_path_factory.mktemp("cli-home")
    token = uuid.uuid4().hex
    env = dict(os.environ, HOME=str(home), GRAPHFLOW_TOKEN=token)
    # As on a CI clone, the checkout is not on their path (the tests could be imported from it): only the graphflow
    # under test is, through a folder of its own (an editable install may point at another checkout).
    only_graphflow = tmp_path_factory.mktemp("graphflow-only")
    (only_graphflow / "graphflow").symlink_to(os.path.dirname(gf.__file__), target_is_directory=True)
    env["PYTHONPATH"] = str(only_graphflow)
    address_file = home / "address"
    procs = [subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0", "--no-dashboard",
                               "--address-file", str(address_file)], env=env, cwd=home)]
    try:
        wait_for(lambda: address_file.exists() and address_file.read_text().strip() or procs[0].poll() is not None,
                 timeout=60, what="the scheduler writing its address")
        assert procs[0].poll() is None, "the scheduler exited"
        address = address_file.read_text().strip()
        procs.append(subprocess.Popen([sys.executable, "-m", "graphflow", "worker", address], env=env, cwd=home))
        with gf.Client(address, token=token, timeout=30, set_as_default=False) as client:
            wait_for(lambda: client.scheduler_info()["workers"], timeout=60, what="the worker joining")
        yield address, token, env
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def usermod(tmp_path, monkeypatch):
    """A fresh module (importing a fresh helper module) only this process can import."""
    name = f"gf_usermod_{uuid.uuid4().hex[:8]}"
    helper = f"{name}_helper"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE.format(helper=helper)))
    (tmp_path / f"{helper}.py").write_text(textwrap.dedent(HELPER))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    yield module
    for mod in (name, helper):
        sys.modules.pop(mod, None)


def client_for(cluster, **kwargs):
    address, token, _ = cluster
    return gf.Client(address, token=token, timeout=30, set_as_default=False, **kwargs)


@contextlib.contextmanager
def worker_with(cluster, client, folder):
    """Another CLI worker joining ``cluster``, which can also import the modules in ``folder``; its address."""
    address, _, env = cluster
    before = set(client.scheduler_info()["workers"])
    env = dict(env, PYTHONPATH=os.pathsep.join([env["PYTHONPATH"], str(folder)]))
    proc = subprocess.Popen([sys.executable, "-m", "graphflow", "worker", address], env=env, cwd=env["HOME"])
    try:
        wait_for(lambda: set(client.scheduler_info()["workers"]) - before or proc.poll() is not None, timeout=60,
                 what="the worker joining")
        assert proc.poll() is None, "the worker exited"
        (joined,) = set(client.scheduler_info()["workers"]) - before
        yield joined
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        wait_for(lambda: set(client.scheduler_info()["workers"]) == before, timeout=60, what="the worker leaving")


def missing(info, usermod) -> SerializationError:
    err = info.value
    assert err.module == usermod.__name__
    assert f"no module named {usermod.__name__!r}" in str(err)
    assert "install" in str(err).lower() and "ship_modules=True" in str(err)
    return err


def test_a_function_the_workers_lack_errs_every_task_with_the_module_named(cluster, usermod):
    """One message carries five tasks of usermod.double: each errs, none waits; other work goes on."""
    with client_for(cluster) as client:
        started = time.monotonic()
        futures = client.map(usermod.double, range(5))
        for future in futures:
            with pytest.raises(SerializationError) as info:
                future.result(timeout=30)
            err = missing(info, usermod)
            assert err.key == future.key and err.__graphflow_key__ == future.key
            assert str(usermod.__file__) in str(err)  # where the client has it from
        assert time.monotonic() - started < 20  # an answer, not the caller's timeout
        reader = client.submit(inc, futures[0])
        with pytest.raises(SerializationError) as info:
            reader.result(timeout=30)
        assert missing(info, usermod).__graphflow_key__ == futures[0].key
        assert client.submit(inc, 1).result(timeout=30) == 2


def test_a_value_or_argument_the_workers_cannot_load_errs_its_task(cluster, usermod):
    with client_for(cluster) as client:
        arg = client.submit(getattr, usermod.Point(3), "x")  # an installed function, the user's object
        with pytest.raises(SerializationError) as info:
            arg.result(timeout=30)
        assert missing(info, usermod).key == arg.key
        value = delayed(usermod.Point(4))  # a value in the graph
        bad, good = client.compute([delayed(getattr)(value, "x"), delayed(inc)(41)])
        with pytest.raises(SerializationError) as info:
            bad.result(timeout=30)
        missing(info, usermod)
        assert good.result(timeout=30) == 42  # the rest of the same graph ran
        blocks = ga.from_array(np.arange(6), chunks=3).map_blocks(usermod.double)  # a function as an argument
        with pytest.raises(SerializationError) as info:
            client.compute(blocks.sum()).result(timeout=30)
        missing(info, usermod)


def test_an_actor_the_workers_cannot_load_errs_its_creation_and_each_call(cluster, usermod):
    """The actor's class and arguments go by name to the worker, which lacks them: the creation errs naming
    the module, at once.  Before: the scheduler imported the class to read the SubmitGraph, could not, dropped
    the message, and ``client.actor`` waited 60 s for an answer that never came."""
    with client_for(cluster) as client:
        started = time.monotonic()
        with pytest.raises(SerializationError) as info:
            client.actor(usermod.Counter)
        missing(info, usermod)
        assert "actor class" in str(info.value) and str(usermod.__file__) in str(info.value)
        with pytest.raises(SerializationError) as info:  # a class every process has, an argument of the user's
            client.actor(collections.deque, [usermod.Point(1)])
        missing(info, usermod)
        queue = client.actor(collections.deque)  # a call whose argument its worker cannot load fails alone
        bad = queue.append(usermod.Point(2))
        with pytest.raises(SerializationError) as info:
            bad.result(timeout=30)
        missing(info, usermod)
        assert "call #1 (append)" in str(info.value)
        queue.append(5)
        assert queue.pop().result(timeout=30) == 5  # the calls after it run, in order
        lazy = gf.actor(usermod.Counter)()  # a lazy actor: its creation and every call on it err
        calls = client.compute([lazy.add(1), lazy.add(2), lazy.n])
        for call in calls:
            with pytest.raises(SerializationError) as info:
                call.result(timeout=30)
            missing(info, usermod)
        assert time.monotonic() - started < 30  # answers, not the callers' timeouts
        assert client.submit(inc, 1).result(timeout=30) == 2


def test_scattering_an_object_the_worker_cannot_load_errs_at_once(cluster, usermod):
    """The worker cannot load the PutData: it answers that it could not, naming the module.  Before: it dropped
    the message, and ``scatter`` waited for the client's timeout (30 s here)."""
    with client_for(cluster) as client:
        started = time.monotonic()
        with pytest.raises(SerializationError) as info:
            client.scatter(usermod.Point(1))
        err = missing(info, usermod)
        assert "PutData" in str(err) and err.key is not None
        with pytest.raises(SerializationError) as info:  # several values, one of them the user's
            client.scatter([1, usermod.Point(2), 3])
        missing(info, usermod)
        assert time.monotonic() - started < 15
        assert client.submit(inc, client.scatter(41)).result(timeout=30) == 42  # the worker goes on


def test_a_result_the_scheduler_cannot_load_still_reaches_the_client(cluster, usermod, tmp_path):
    """A worker that has the user's module reports results and errors of its classes; the scheduler lacks it.
    A value it cannot load goes on without its inline copy (the client fetches it from the worker), an error
    as a SerializationError saying what the task raised.  Before: the scheduler dropped the worker's whole
    report, and the futures waited forever."""
    with client_for(cluster) as client, worker_with(cluster, client, tmp_path) as worker:
        started = time.monotonic()
        point = client.submit(usermod.make_point, 5, workers=[worker])
        plain = client.submit(operator.mul, 6, 7, workers=[worker])
        assert plain.result(timeout=30) == 42
        value = point.result(timeout=30)
        assert isinstance(value, usermod.Point) and value.x == 5
        # many at once: the worker folds their reports into one TasksDone, which goes on without those values
        points = client.map(usermod.make_point, range(40), workers=[worker], pure=False)
        assert [p.result(timeout=30).x for p in points] == list(range(40))
        failed = client.submit(usermod.fail, 3, workers=[worker])
        with pytest.raises(SerializationError) as info:
            failed.result(timeout=30)
        err = missing(info, usermod)
        assert err.key == failed.key and f"{usermod.__name__}.Oops('bad value 3')" in str(err)
        assert "bad value 3" in str(err.__cause__)  # the worker's traceback, as text
        assert time.monotonic() - started < 30


def test_a_result_the_client_cannot_load_errs_its_future(cluster, tmp_path):
    """A module only a worker has (a library installed there alone): the task's value cannot be loaded by the
    scheduler nor by the client; ``result()`` raises naming the module."""
    name = f"gf_workermod_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("class Thing:\n    def __init__(self, x):\n        self.x = x\n")
    with client_for(cluster) as client, worker_with(cluster, client, tmp_path) as worker:
        future = client.submit(eval, f"__import__({name!r}).Thing(1)", workers=[worker])
        with pytest.raises(SerializationError) as info:
            future.result(timeout=30)
        assert info.value.module == name and info.value.key == future.key
        assert "ship_modules=True" in str(info.value)
        assert client.submit(inc, 1, workers=[worker]).result(timeout=30) == 2


def test_ship_modules_sends_the_clients_own_modules_by_value(cluster, usermod):
    import cloudpickle

    with client_for(cluster, ship_modules=True) as client:
        assert client.submit(usermod.double, 21).result(timeout=30) == 42
        assert client.submit(usermod.helped, 2).result(timeout=30) == 6  # its own imports go along
        assert client.gather(client.map(usermod.double, range(4))) == [0, 2, 4, 6]
        assert client.submit(getattr, usermod.Point(3), "x").result(timeout=30) == 3
        point = client.submit(usermod.make_point, 5).result(timeout=30)
        assert isinstance(point, usermod.Point) and point.x == 5  # the client's own class comes back
        assert client.compute(delayed(usermod.double)(delayed(usermod.Point(4)).x)).result(timeout=30) == 8
        blocks = ga.from_array(np.arange(6), chunks=3).map_blocks(usermod.double)
        assert client.compute(blocks.sum()).result(timeout=30) == 30
        counter = client.actor(usermod.Counter)  # an actor's class goes by value too
        assert counter.add(1).result(timeout=30) == 3 and counter.add(2).result(timeout=30) == 9
        queue = client.actor(collections.deque, [usermod.Point(1)])  # and its arguments
        assert queue.pop().result(timeout=30).x == 1
        lazy = gf.actor(usermod.Counter)()
        assert client.gather(client.compute([lazy.add(1), lazy.add(1)])) == [3, 6]
        assert usermod.__name__ in cloudpickle.list_registry_pickle_by_value()
    assert usermod.__name__ not in cloudpickle.list_registry_pickle_by_value()  # undone on close
