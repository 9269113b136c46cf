"""Every wire message pickles as ``cls(*fields)`` and comes back equal, field for field."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from graphflow.comm import messages as wire
from graphflow.comm.serialize import dumps, loads

DECLARED = sorted(name for name, cls in inspect.getmembers(wire, inspect.isclass)
                  if dataclasses.is_dataclass(cls) and cls.__module__ == wire.__name__)


def _instance(cls):
    """An instance whose every field holds a value of its own, so a swapped or dropped field shows."""
    values = {f.name: (f.name, [f"{cls.__name__}.{f.name}"], {"n": len(f.name)}) for f in dataclasses.fields(cls)}
    return cls(**values)


@pytest.mark.parametrize("name", DECLARED)
def test_each_message_roundtrips_field_for_field(name):
    msg = _instance(getattr(wire, name))
    for back in (loads(dumps(msg)), pickle.loads(pickle.dumps(msg, protocol=5))):
        assert type(back) is type(msg) and back == msg


def test_subclassed_requests_keep_their_base_fields_in_order():
    req = wire.Rpc(7, wire.WhoHasRequest(["a", ("b", 1)]))
    assert loads(dumps(req)) == req


def test_a_message_pickles_without_its_field_names():
    """The field values travel by position: no ``__getstate__`` dict naming each field of each message."""
    data = pickle.dumps(wire.TaskDone("s", ("inc", 1), 28, "int", 1.0, 2.0, None, 0), protocol=5)
    assert b"type_name" not in data and b"nbytes" not in data
