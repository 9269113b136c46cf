"""How actor nodes travel: a process that reads them (the scheduler) never needs the user's module.

Each test writes a module of a fresh name into its own folder, pickles actor nodes while that module is
importable (as the client does), then forgets the module (as the scheduler and a bare worker lack it) and
reads them back.
"""

import pickle
import sys
import textwrap
import uuid

import pytest

from graphflow.comm.serialize import Serialized
from graphflow.errors import SerializationError
from graphflow.spec import Ref
from graphflow.spec.actors import ActorCall, ActorClass, ActorCreate, ActorOptions, ActorRestore, SealedArguments

MODULE = """
    class Counter:
        def __init__(self, start=0):
            self.n = start

        def add(self, k):
            self.n += k
            return self.n


    class Point:
        def __init__(self, x):
            self.x = x
"""


@pytest.fixture
def usermod(tmp_path, monkeypatch):
    """``(module, forget)``: a fresh module importable until ``forget()``."""
    name = f"gf_actormod_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)

    def forget():
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)

    yield module, forget
    sys.modules.pop(name, None)


def test_an_actor_class_is_read_without_its_module_and_loaded_where_it_is_used(usermod):
    module, forget = usermod
    options = ActorOptions(max_restarts=2, checkpoint_every=5)
    blob = pickle.dumps(ActorCreate("counter", ActorClass(module.Counter, options), (10,)))
    forget()
    node = pickle.loads(blob)  # what the scheduler does with a SubmitGraph: no import
    cls = node.actor_class
    assert (cls.name, cls.options.max_restarts, cls.options.checkpoint_every) == ("Counter", 2, 5)
    assert cls.methods == {"add"} and cls.__module__ == module.__name__
    again = pickle.loads(pickle.dumps(node.restore_spec(incarnation=1)))  # passed on, still unloaded
    assert again.actor_class.name == "Counter"
    with pytest.raises(SerializationError) as info:  # what the worker does when it runs the node
        again.rebuild()
    err = info.value
    assert err.module == module.__name__ and "actor class" in str(err) and module.__file__ in str(err)
    assert "ship_modules=True" in str(err)


def test_an_actor_class_sent_by_value_is_unpickled_only_where_it_is_used():
    class Local:  # defined in a function: travels by value
        def ping(self):
            return "pong"

    received = pickle.loads(pickle.dumps(ActorClass(Local)))
    assert received._cls is None and received.name == "Local" and received.methods == {"ping"}
    assert received.cls().ping() == "pong"
    assert pickle.loads(pickle.dumps(received)).cls is received.cls  # unpickled once per process


def test_sealed_arguments_are_opened_where_the_node_runs(usermod):
    module, forget = usermod

    def seal(args, kwargs=None, refs=()):
        return SealedArguments(Serialized.from_object((args, kwargs)), refs)

    create = ActorCreate("q", ActorClass(list), seal(([module.Point(3)],)))
    call = ActorCall("c", "q", "append", "call", seal((module.Point(Ref("x")),), refs=("x",)), None, "before")
    assert create.deps == () and call.deps == ("q", "x", "before")
    ref = create()
    call({"q": ref, "x": 5, "before": None})
    assert [p.x for p in ref.instance()] == [3, Ref("x")]  # a Ref inside an object is not looked into
    blob = pickle.dumps([create, call])
    forget()
    create, call = pickle.loads(blob)  # the scheduler reads them
    assert create.deps == () and call.deps == ("q", "x", "before")
    for node, key in ((create, "q"), (call, "c")):
        with pytest.raises(SerializationError) as info:
            node({"q": ref, "x": 5, "before": None})
        assert info.value.module == module.__name__ and info.value.key == key


def test_checkpointed_results_are_loaded_only_where_the_actor_is_restored(usermod):
    module, forget = usermod
    results = pickle.dumps({("caller", 1): (True, module.Point(1), "")})
    create = ActorCreate("counter", ActorClass(module.Counter), ())
    forget()
    spec = create.restore_spec(state=None, hw={"caller": 1}, replay=[], results=results, incarnation=1)
    moved = pickle.loads(pickle.dumps(spec.restore_spec(results=results, incarnation=2)))  # the scheduler, twice
    assert isinstance(moved, ActorRestore) and moved.incarnation == 2
    with pytest.raises(SerializationError) as info:
        moved.results
    assert info.value.module == module.__name__ and info.value.key == "counter"
