"""How a value leaves this worker for a peer that asked for it (`graphflow.worker.server.Worker._data_reply`):
read without unpickling when it is spilled (`peek`), and lent for a direct memory copy when it is large and
the peer is on this host (`lend_large`, `graphflow.comm.vmcopy`)."""

from __future__ import annotations

from ..store.spill import WorkerStore

__all__ = ["lend_large", "peek"]


def peek(store: WorkerStore, key):
    """``key``'s value for a peer: from memory, or a spilled block's mapped frames, sent without unpickling."""
    if store.is_spilled(key):
        frames = store.frames(key)
        if frames is not None:
            from ..comm.serialize import SerializedValue

            return SerializedValue(frames)
    return store[key]


def lend_large(found: dict, nbytes: dict) -> dict:
    """Move values big enough to be worth it out of ``found`` into leases; returns key -> Lent."""
    from ..comm.vmcopy import MIN_BYTES, lend

    lent = {}
    for key in [k for k, n in nbytes.items() if n >= MIN_BYTES]:
        frames = lend(found[key])
        if frames is not None:
            lent[key] = frames
            del found[key]
    return lent
