"""Ray's exception classes and the decorator's checks: no cluster needed."""

import pytest

import graphflow.ray as ray
from graphflow.errors import GraphflowError
from graphflow.ray.exceptions import RayTaskError, as_task_error


class NeedsTwo(Exception):
    def __init__(self, a, b):
        super().__init__(a)
        self.b = b


def test_a_task_error_is_its_own_class_and_rays_keeping_its_fields():
    err = as_task_error(NeedsTwo("x", 7), "f")
    assert isinstance(err, NeedsTwo) and isinstance(err, RayTaskError) and isinstance(err, GraphflowError)
    assert (err.args, err.b, err.function_name) == (("x",), 7, "f")
    assert type(as_task_error(NeedsTwo("y", 1), "g")) is type(err)  # one derived class per cause class
    assert as_task_error(err, "h") is err
    assert isinstance(err.cause, NeedsTwo) and err.__cause__ is err.cause


def test_timeout_and_actor_errors_have_rays_hierarchy():
    assert issubclass(ray.exceptions.GetTimeoutError, TimeoutError)
    assert issubclass(ray.exceptions.ActorDiedError, ray.exceptions.RayActorError)
    assert issubclass(ray.exceptions.RayActorError, ray.exceptions.RayError)


def test_the_decorator_checks_what_it_is_given():
    @ray.remote
    def f():
        return 1

    @ray.remote(num_cpus=1)
    class C:
        pass

    assert isinstance(f, ray.RemoteFunction) and isinstance(C, ray.ActorClass)
    with pytest.raises(TypeError, match="f.remote"):
        f()
    with pytest.raises(TypeError, match="C.remote"):
        C()
    with pytest.raises(TypeError, match="unknown options \\['num_cpu'\\]"):
        ray.remote(num_cpu=1)(lambda: 1)
    with pytest.raises(TypeError, match="keyword options"):
        ray.remote(1, 2)
    with pytest.raises(ValueError, match="num_returns"):
        f.options(num_returns=-1)


def test_outside_a_session_calls_say_to_call_init():
    assert not ray.is_initialized()  # each module's session ends with its module
    with pytest.raises(GraphflowError, match="ray.init"):
        ray.put(1)
