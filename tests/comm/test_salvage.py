"""Batches that pass authentication but name a module the receiver lacks: delivered in part, answered for the rest.

Every test makes a module of a fresh name that exists while messages are pickled (as on the sender) and is
gone when they are loaded (as on a receiver without it).
"""

import asyncio
import sys
import types
import uuid

import pytest

from graphflow.comm import messages as wire
from graphflow.comm.salvage import Missing, describe, missing_in, salvage, task_exception
from graphflow.comm.serialize import SerializedValue, dumps
from graphflow.comm.transport import Connection, Listener
from graphflow.errors import SerializationError
from graphflow.testing.wait import wait_for_async

TOKEN = b"salvage test token"


@pytest.fixture
def gone():
    """``(module, forget)``: a module with a class ``Thing`` and an exception ``Oops``, until ``forget()``."""
    name = f"gf_gone_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    exec("class Thing:\n    def __init__(self, x):\n        self.x = x\n\n"
         "class Oops(ValueError):\n    pass\n", module.__dict__)
    sys.modules[name] = module
    yield module, lambda: sys.modules.pop(name, None)
    sys.modules.pop(name, None)


def test_clean_messages_are_delivered_and_spoiled_ones_reported(gone):
    module, forget = gone
    batch = [wire.GetData(1, ["a"]), wire.PutData(2, {"b": module.Thing(1), "c": 3}), wire.DropKeys("s", ["d"]),
             wire.ActorCalls("actor-1", "caller", 0, SerializedValue(dumps([(5, "add", "call", (module.Thing(2),),
                                                                             None)])))]
    frames = dumps(batch)
    forget()
    deliver, unreadable = salvage(frames, None, "to tcp://10.0.0.1:1234")
    assert deliver == [batch[0], batch[2]]
    (put, calls) = unreadable.messages
    kind, request_id, keys, error, missing = put
    assert (kind, request_id, keys, missing) == ("PutData", 2, ["b", "c"], module.__name__)
    assert error.startswith(f"{module.__name__}.Thing in a PutData message to tcp://10.0.0.1:1234 cannot be loaded")
    assert f"no module named {module.__name__!r}" in error and "ship_modules=True" in error
    assert calls[:3] == ("ActorCalls", None, [("actor-1", 5)])  # read through the value sent unopened


def test_the_receiver_may_repair_what_it_can_act_on(gone):
    module, forget = gone
    done = wire.TaskDone("s", "k", 8, "Thing", inline=module.Thing(1))
    failed = wire.TaskFailed("s", "j", module.Oops("bad", 3), "Traceback ...")
    frames = dumps([done, failed])
    forget()

    def repair(msg, error):
        if type(msg) is wire.TaskDone:
            msg.inline = None
            return msg
        msg.exception = task_exception(msg.key, msg.exception)
        return msg

    (done, failed), unreadable = salvage(frames, repair, "from tcp://10.0.0.1:1234")
    assert unreadable is None and done.inline is None
    err = failed.exception
    assert isinstance(err, SerializationError) and err.key == "j" and err.module == module.__name__
    assert str(err).startswith(f"task 'j' raised {module.__name__}.Oops('bad', 3), and ")


def test_stand_ins_are_found_and_described(gone):
    module, forget = gone
    frames = dumps({"x": [module.Thing(1)], "t": module.Thing})
    forget()
    _, unreadable = salvage(frames, None, "to here")
    (kind, _, _, _, missing), = unreadable.messages
    assert kind == "dict" and missing == module.__name__
    from graphflow.comm.salvage import _load

    loaded = _load(*frames)
    assert [cls.missing for cls in missing_in(loaded)] == [f"{module.__name__}.Thing"] * 2
    assert isinstance(loaded["x"][0], Missing) and describe(loaded["x"][0]) == f"{module.__name__}.Thing()"
    assert missing_in({"plain": [1, 2.0, "x", b"y"]}) == []


def test_a_batch_that_cannot_be_read_at_all_is_still_answered():
    frames = [b"not a pickle"]
    deliver, unreadable = salvage(frames, None, "to here")
    assert deliver == [] and unreadable.messages[0][:3] == ("?", None, [])
    assert "cannot be loaded" in unreadable.messages[0][3]


def test_over_real_sockets_the_sender_hears_which_request_could_not_be_read(gone):
    """A client sends a scatter the worker cannot load, and a request it can, in one wire message."""
    module, forget = gone

    async def main():
        seen, replies = [], []
        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: seen.append(msg))
        conn = Connection(listener.address, TOKEN, replies.append)
        try:
            frames_made = conn._pack([wire.PutData(7, {"x": module.Thing(1)}), wire.GetData(8, ["y"])])
            forget()  # the listener, in this same process, now lacks the module
            conn._send_frames(frames_made)
            await wait_for_async(lambda: replies and seen)
            assert [type(m) for m in seen] == [wire.GetData]
            (reply,) = replies
            assert type(reply) is wire.Unreadable
            (kind, request_id, keys, error, missing), = reply.messages
            assert (kind, request_id, keys, missing) == ("PutData", 7, ["x"], module.__name__)
            assert f"to {listener.address}" in error
        finally:
            conn.close()
            listener.close()

    asyncio.run(asyncio.wait_for(main(), 30))
