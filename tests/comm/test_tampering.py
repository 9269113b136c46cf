"""Every frame of every message kind is authenticated: any change, anywhere, is refused before unpickling.

For each message class of `graphflow.comm.messages` a realistic instance is
built -- the big ones carry a pickled function of more than 2 KB (a
`Serialized`, sent unopened), a `SerializedValue` (a pickle that loading the
message unpickles), a numpy array and an Arrow table, so out-of-band buffers
exist -- and packed as the transport packs it: a batch, here with a
`Sentinel` whose unpickling is recorded.  Then each frame is changed in every
way we could think of: a flipped byte in the magic, the MAC length, the MAC,
the pickle and each buffer (first, middle, last byte), a frame truncated,
extended, dropped or duplicated, two buffers swapped, an extra frame.  Every
variant must raise `AuthenticationError`, and nothing may have been unpickled.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import numpy as np
import pyarrow as pa
import pytest

from graphflow.comm import messages as wire
from graphflow.comm.protocol import MAC_SIZE, pack, unpack
from graphflow.comm.serialize import Serialized, SerializedValue, dumps
from graphflow.errors import AuthenticationError
from graphflow.spec.nodes import DataNode, Ref, Task

TOKEN = b"the cluster token, 32 bytes long"

UNPICKLED: list = []


def _record_unpickling(tag):
    UNPICKLED.append(tag)
    return tag


class Sentinel:
    """Unpickling one appends its tag to `UNPICKLED`: a stand-in for a malicious payload."""

    def __init__(self, tag):
        self.tag = tag

    def __reduce__(self):
        return (_record_unpickling, (self.tag,))


@pytest.fixture(autouse=True)
def _clear_record():
    UNPICKLED.clear()


# ------------------------------------------------------------------ realistic messages

_BIG_CONSTANT = "a constant the function closes over, " * 100  # makes its pickle > 2 KB


def _big_function():
    constant = _BIG_CONSTANT
    return lambda x: (x, len(constant))  # cloudpickled by value: code and closure


def big_serialized() -> Serialized:
    """A task function pickled elsewhere and carried unopened (> 2 KB: an out-of-band buffer)."""
    s = Serialized.from_object(_big_function())
    assert s.nbytes > 2048
    return s


def big_value() -> SerializedValue:
    """A spilled result's frames: a pickle (> 2 KB) holding a sentinel, unpickled when the message loads."""
    return SerializedValue(dumps(["a spilled result " * 200, Sentinel("in a buffer")]))


def array(start=0) -> np.ndarray:
    return np.arange(start, start + 128 * 1024, dtype="float64")  # 1 MiB


def table() -> pa.Table:
    return pa.table({"k": np.arange(50_000), "v": np.linspace(0, 1, 50_000)})


def task_spec(i=1):
    key = ("inc", i)
    return wire.TaskSpec(key, Task(key, np.add, Ref("x-1"), array(i)), {"x-1": ["tcp://10.0.0.2:40001"]},
                         {"x-1": 8}, (0, i, 2), inline_result=True)


REQUESTS = {
    "WhoHasRequest": lambda: wire.WhoHasRequest(["x-1", ("y", 0)]),
    "SchedulerInfoRequest": lambda: wire.SchedulerInfoRequest(),
    "MemoryRequest": lambda: wire.MemoryRequest(),
    "ChooseWorkersRequest": lambda: wire.ChooseWorkersRequest(10**9, ["tcp://10.0.0.2:40001"]),
    "ScatteredRequest": lambda: wire.ScatteredRequest("tcp://10.0.0.2:40001", {"x-1": 8}),
    "ReplicateRequest": lambda: wire.ReplicateRequest(["x-1", ("y", 0)], 2, ["tcp://10.0.0.2:40001"]),
    "RebalanceRequest": lambda: wire.RebalanceRequest(["x-1"], ["tcp://10.0.0.2:40001", "worker-1"]),
    "ChooseActorWorkerRequest": lambda: wire.ChooseActorWorkerRequest(None),
    "ActorLocationRequest": lambda: wire.ActorLocationRequest(("Counter", "abc")),
    "RetireWorkersRequest": lambda: wire.RetireWorkersRequest(["tcp://10.0.0.2:40001"], True, 30.0),
    "AdaptiveTargetRequest": lambda: wire.AdaptiveTargetRequest(1, 4, 5.0),
    "ShutdownRequest": lambda: wire.ShutdownRequest(),
    "StoryRequest": lambda: wire.StoryRequest(["x-1"]),
    "ProgressRequest": lambda: wire.ProgressRequest(["x-1"], None, False),
    "TaskStreamRequest": lambda: wire.TaskStreamRequest(0.0, 100),
    "MemoryHistoryRequest": lambda: wire.MemoryHistoryRequest(0.0),
    "SnapshotRequest": lambda: wire.SnapshotRequest(),
    "WorkerLogsRequest": lambda: wire.WorkerLogsRequest(100),
    # issue 19: cluster admin, datasets, primitives (graphflow.scheduler.extensions, graphflow.worker.admin)
    "RunRequest": lambda: wire.RunRequest(b"\x80\x05cloudpickled-function", (1, "a"), {"k": 2}),
    "SetupRequest": lambda: wire.SetupRequest(wire.WorkerSetup("plugin", "p", b"\x80\x05plugin"), True),
    "SchedulerPluginRequest": lambda: wire.SchedulerPluginRequest("p", b"\x80\x05plugin"),
    "ProcessingRequest": lambda: wire.ProcessingRequest(["tcp://10.0.0.2:40000"]),
    "KeepKeysRequest": lambda: wire.KeepKeysRequest(["x-1"]),
    "DatasetRequest": lambda: wire.DatasetRequest("publish", "df", b"\x80\x05value", ["x-1"], False),
    "PrimitiveRequest": lambda: wire.PrimitiveRequest("lock", "L", "acquire", None, 5.0, "holder-1"),
    "MetadataRequest": lambda: wire.MetadataRequest(["job", "stage"], 3, True),
    "EventLogRequest": lambda: wire.EventLogRequest("topic", {"n": 1}, True),
    "SchedulerLogsRequest": lambda: wire.SchedulerLogsRequest(100),
    "KeySizesRequest": lambda: wire.KeySizesRequest(["x-1"]),
    "RetryRequest": lambda: wire.RetryRequest(["x-1"]),
    "MissingDataRequest": lambda: wire.MissingDataRequest({"x-1": "tcp://10.0.0.2:40001", "y-1": ""}),
}

MESSAGES = {
    "WorkerSetup": lambda: wire.WorkerSetup("upload", "mod.py", ("mod.py", b"X = 1\n")),
    "PrimitiveTimedOut": lambda: wire.PrimitiveTimedOut("queue 'q': nothing to get within the timeout"),
    "RegisterWorker": lambda: wire.RegisterWorker("tcp://10.0.0.2:40001", 2, 4 * 2**30, 1234, "worker-0"),
    "RegisterClient": lambda: wire.RegisterClient("client-abc", 4321),
    "Welcome": lambda: wire.Welcome("tcp://10.0.0.1:8786", 0.5, 5.0),
    "Ping": lambda: wire.Ping(1.5),
    "HeartbeatAck": lambda: wire.HeartbeatAck(1.5),
    "StopWorker": lambda: wire.StopWorker("retired"),
    "Goodbye": lambda: wire.Goodbye("memory", (2**30, 2**30)),
    "FreezeActors": lambda: wire.FreezeActors([("Counter", "abc")]),
    "RetireRefused": lambda: wire.RetireRefused("holds the only copy of an actor"),
    "SchedulerClosing": lambda: wire.SchedulerClosing("shutdown"),
    "GetData": lambda: wire.GetData(7, ["x-1", ("y", 0)], "host-id"),
    "PutData": lambda: wire.PutData(7, {"x-1": array(), "t": table()}),
    "DataReply": lambda: wire.DataReply(7, {"x-1": array(), "spilled": big_value(), "t": table()},
                                           {"x-1": 2**20, "spilled": 4000}, ["gone"]),
    "ReturnLease": lambda: wire.ReturnLease(3),
    "Rpc": lambda: wire.Rpc(9, wire.WhoHasRequest(["x-1"])),
    "RpcReply": lambda: wire.RpcReply(9, {"workers": {"tcp://10.0.0.2:40001": {"memory": array()}}}),
    "ActorCalls": lambda: wire.ActorCalls(("Counter", "abc"), "caller-1", 0, big_value(), True, 3),
    "ActorResults": lambda: wire.ActorResults(("Counter", "abc"), "caller-1", [(1, True, array(), "")]),
    "Unreadable": lambda: wire.Unreadable([("PutData", 7, ["x-1"], "mymod.Point in a PutData message cannot be "
                                                                   "loaded ...", "mymod")]),
    "Request": lambda: wire.Request(),
    **REQUESTS,
    "TaskSpec": task_spec,
    "RunTasks": lambda: wire.RunTasks("compute-1", [task_spec(1), task_spec(2)]),
    "ReleaseKeys": lambda: wire.ReleaseKeys("release-1", ["x-1"]),
    "StealAsk": lambda: wire.StealAsk("steal-1", ("inc", 1)),
    "CopyKeys": lambda: wire.CopyKeys("retire-1", {"x-1": ["tcp://10.0.0.2:40001"]}, {"x-1": 2**20}),
    "TaskDone": lambda: wire.TaskDone("done-1", ("inc", 1), 2**20, "ndarray", 1.0, 2.0,
                                      Serialized.from_object(array()), 1),
    "TasksDone": lambda: wire.TasksDone("done-2", [("inc", 1), ("inc", 2)], [2**20, 28], ["ndarray", "int"],
                                        [1.0, 1.5], [1.5, 2.0], [1, 1], {("inc", 1): array(), ("inc", 2): 3}),
    "TaskFailed": lambda: wire.TaskFailed("failed-1", ("inc", 1), Serialized.from_object(ValueError("x" * 3000)),
                                          "Traceback ...", 1.0, 2.0, 1),
    "DepMissing": lambda: wire.DepMissing("missing-1", ("inc", 1), "x-1", "tcp://10.0.0.2:40001"),
    "StealAnswer": lambda: wire.StealAnswer("steal-1", ("inc", 1), True),
    "LongRunning": lambda: wire.LongRunning("secede-1", [("inc", 1), "parent-2"]),
    "WorkerStatus": lambda: wire.WorkerStatus(2**20, 1, 0, 2**28, False, False, 0, 12.5),
    "RetireMe": lambda: wire.RetireMe(),
    "ActorUp": lambda: wire.ActorUp(("Counter", "abc"), 1),
    "ActorCheckpoint": lambda: wire.ActorCheckpoint(("Counter", "abc"), 1, b"state" * 1000, {"caller-1": 3},
                                                    [pickle.dumps({("caller-1", 3): (True, array(), "")})]),
    "SubmitGraph": lambda: wire.SubmitGraph(
        "update-graph-1", {"x-1": DataNode("x-1", array()), "f-1": Task("f-1", _big_function(), Ref("x-1"))},
        {"x-1": (), "f-1": ("x-1",)}, {"x-1": 0, "f-1": 1}, ["f-1"], {"f-1": 2}, {}),
    "DropKeys": lambda: wire.DropKeys("drop-1", ["x-1"]),
    "CancelKeys": lambda: wire.CancelKeys("cancel-1", ["x-1"]),
    "ActorCallLog": lambda: wire.ActorCallLog("log-1", ("Counter", "abc"), "caller-1", 0, big_serialized(), 1, 3),
    "KeyStatus": lambda: wire.KeyStatus(("inc", 1), "memory", 2**20, "ndarray", ["tcp://10.0.0.2:40001"],
                                        Serialized.from_object(table())),
    "KeyStatuses": lambda: wire.KeyStatuses([("inc", 1), ("inc", 2)], ["memory", "erred"], [2**20, 0], ["ndarray", ""],
                                            [["tcp://10.0.0.2:40001"], []], {0: Serialized.from_object(table())},
                                            {1: (Serialized.from_object(ValueError("x" * 3000)), "Traceback ...")}),
}


# Keyed by name, so that a factory may be written before its class lands (each test uses the classes there are).
DECLARED = sorted(name for name, cls in inspect.getmembers(wire, inspect.isclass)
                  if cls.__module__ == wire.__name__ and dataclasses.is_dataclass(cls))


def test_every_message_class_has_a_realistic_instance_here():
    assert set(DECLARED) - set(MESSAGES) == set(), "add the new message classes to MESSAGES"


# ------------------------------------------------------------------ the tamperings


def _positions(n: int) -> list:
    return sorted({0, n // 2, n - 1}) if n else []


def _flip(frame, i: int) -> bytes:
    changed = bytearray(frame)
    changed[i] ^= 0x01
    return bytes(changed)


def tamperings(frames: list):
    """``(name, frames)`` for every change tried on a packed message."""
    head = bytes(frames[0])
    rest = [bytes(b) for b in frames[1:]]
    for i in range(4):
        yield f"header byte {i} (magic / MAC length)", [_flip(head, i), *rest]
    for i in (4, 4 + MAC_SIZE // 2, 4 + MAC_SIZE - 1):
        yield f"MAC byte {i - 4}", [_flip(head, i), *rest]
    pickle_start = 4 + MAC_SIZE
    for i in _positions(len(head) - pickle_start):
        yield f"pickle byte {i}", [_flip(head, pickle_start + i), *rest]
    for j, buf in enumerate(rest):
        for i in _positions(len(buf)):
            yield f"buffer {j} byte {i}", [head, *rest[:j], _flip(buf, i), *rest[j + 1:]]
    for j, frame in enumerate([head, *rest]):
        others = [head, *rest]
        yield f"frame {j} truncated", [*others[:j], frame[:-1], *others[j + 1:]]
        yield f"frame {j} extended", [*others[:j], frame + b"\0", *others[j + 1:]]
        yield f"frame {j} dropped", others[:j] + others[j + 1:]
        yield f"frame {j} duplicated", others[:j + 1] + others[j:]
    if len(rest) >= 2 and rest[0] != rest[1]:
        yield "buffers 0 and 1 swapped", [head, rest[1], rest[0], *rest[2:]]
    yield "an extra frame", [head, *rest, b"\0" * 16]
    yield "an empty extra frame", [head, *rest, b""]
    yield "no MAC (header says 0)", [head[:3] + b"\0" + head[pickle_start:], *rest]
    yield "nothing", []


@pytest.mark.parametrize("name", DECLARED)
def test_every_tampering_of_every_frame_is_refused_before_unpickling(name):
    cls = getattr(wire, name)
    msg = MESSAGES[name]()
    frames = pack([msg, Sentinel("in the pickle")], TOKEN)
    # Control: intact, the message loads and both the pickle's and the buffers' sentinels run.
    loaded = unpack([bytes(f) for f in frames], TOKEN)
    assert type(loaded[0]) is cls and "in the pickle" in UNPICKLED
    UNPICKLED.clear()
    tried = 0
    for name, changed in tamperings(frames):
        with pytest.raises(AuthenticationError):
            unpack(changed, TOKEN)
            pytest.fail(f"{cls.__name__}: {name} was accepted")
        assert UNPICKLED == [], f"{cls.__name__}: {name}: something was unpickled"
        tried += 1
    assert tried >= 18 + 7 * (len(frames) - 1)  # every kind of change was tried on every frame


def test_the_big_messages_really_have_out_of_band_buffers():
    """Otherwise the buffer tamperings above would test nothing."""
    for name in ("PutData", "DataReply", "ActorCalls", "ActorCallLog", "RunTasks", "SubmitGraph", "TaskDone",
                 "TasksDone", "KeyStatus", "KeyStatuses", "ActorResults"):
        frames = pack([MESSAGES[name](), Sentinel("x")], TOKEN)
        assert len(frames) >= 2 and all(memoryview(b).nbytes >= 2048 for b in frames[1:]), name
    # and the sentinel inside a SerializedValue buffer is unpickled when the intact message loads
    unpack(pack([MESSAGES["DataReply"]()], TOKEN), TOKEN)
    assert UNPICKLED == ["in a buffer"]
