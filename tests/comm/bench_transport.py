"""Micro-benchmarks of graphflow.comm (not collected by pytest; run by hand).

    python -m tests.comm.bench_transport            # everything
    python -m tests.comm.bench_transport latency    # or: rate, throughput, mac

Every measurement runs the two ends in separate processes, as in a cluster:

- latency: round trip of a tiny message (median and p90 of 5000), for our
  Listener/Connection, for the same protocol on pyzmq's ZMQStream, and for
  blocking pyzmq calls (a floor: no event loop at all);
- rate: one-way tiny messages per second, sent one ``send`` at a time and in
  ``send_many`` batches of 100;
- throughput: a 400 MB numpy array (and a 400 MB Arrow table) sent as one
  message over tcp loopback and ipc, timed from ``send`` until the receiver's
  acknowledgement (the receiver has the array by then, as a zero-copy view over
  the received frame); with blocking zmq and a plain TCP socket as ceilings;
- mac: what `protocol.pack` and `protocol.verify` add for a tiny message and for
  a 100 MB buffer (the MAC covers every byte), against `serialize.dumps` alone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

TOKEN = b"benchmark token"
N_LATENCY = 5000
N_RATE = 50_000
ARRAY_BYTES = 400 * 2**20


def _serve(kind: str, address: str, queue) -> None:
    """Run one server process: an echo server (latency), a counter (rate) or a sink (throughput)."""
    if kind == "raw":
        return _serve_raw(address, queue)
    if kind == "raw-sink":
        return _serve_raw_sink(address, queue)
    if kind == "socket-sink":
        return _serve_socket_sink(queue)
    asyncio.run(_serve_loop(kind, address, queue))


async def _serve_loop(kind, address, queue):
    from graphflow.comm.transport import Listener

    if kind == "stream":
        return await _serve_stream(address, queue)
    count = [0]

    def handle(peer, msg):
        if kind == "echo":
            listener.send(peer, msg)
        elif kind == "count":
            count[0] += 1
            if msg == "done":
                listener.send(peer, count[0])
                count[0] = 0
        else:  # sink: msg is {"x": array}; acknowledging it proves we hold it
            listener.send(peer, msg["x"].nbytes)

    listener = Listener(address, TOKEN, handle)
    queue.put(listener.address)
    await asyncio.Event().wait()


async def _serve_stream(address, queue):
    import zmq
    from zmq.eventloop.zmqstream import ZMQStream

    from graphflow.comm.protocol import pack, unpack

    sock = zmq.Context.instance().socket(zmq.ROUTER)
    sock.bind(address)
    stream = ZMQStream(sock)

    def on_recv(frames):
        msgs = unpack(frames[1:], TOKEN)
        stream.send_multipart([frames[0].bytes, *pack(msgs, TOKEN)], copy=False)

    stream.on_recv(on_recv, copy=False)
    queue.put(sock.getsockopt_string(zmq.LAST_ENDPOINT))
    await asyncio.Event().wait()


def _serve_raw(address, queue):
    import zmq

    from graphflow.comm.protocol import pack, unpack

    sock = zmq.Context.instance().socket(zmq.ROUTER)
    sock.bind(address)
    queue.put(sock.getsockopt_string(zmq.LAST_ENDPOINT))
    while True:
        frames = sock.recv_multipart(copy=False)
        sock.send_multipart([frames[0].bytes, *pack(unpack(frames[1:], TOKEN), TOKEN)], copy=False)


def _serve_raw_sink(address, queue):
    import zmq

    sock = zmq.Context.instance().socket(zmq.PAIR)
    sock.bind(address)
    queue.put(sock.getsockopt_string(zmq.LAST_ENDPOINT))
    while True:
        sock.recv(copy=False)
        sock.send(b"k")


def _serve_socket_sink(queue):
    import socket

    import numpy as np

    server = socket.create_server(("127.0.0.1", 0))
    queue.put(server.getsockname()[1])
    conn, _ = server.accept()
    while True:
        # Fresh memory per message, as a receiver that keeps the data needs
        # (reusing one buffer would skip ~100k page faults per 400 MB).
        buf = memoryview(np.empty(ARRAY_BYTES, dtype=np.uint8))
        got = 0
        while got < ARRAY_BYTES:
            got += conn.recv_into(buf[got:], ARRAY_BYTES - got)
        conn.sendall(b"k")


def _baseline_times(kind, address, x, repeat):
    """Blocking pyzmq PAIR without our protocol, or a plain TCP socket: ceilings for comparison."""
    import socket

    import zmq

    times = []
    with _Server(kind, address) as server:
        if kind == "raw-sink":
            sock = zmq.Context.instance().socket(zmq.PAIR)
            sock.connect(server.address)
            send, recv = (lambda: sock.send(x, copy=False)), sock.recv
        else:
            sock = socket.create_connection(("127.0.0.1", server.address))
            send, recv = (lambda: sock.sendall(memoryview(x).cast("B"))), (lambda: sock.recv(1))
        for _ in range(repeat):
            t = time.perf_counter()
            send()
            recv()
            times.append(time.perf_counter() - t)
        sock.close()
    return times


class _Server:
    """A server process for the duration of a ``with`` block; ``.address`` to connect to."""

    def __init__(self, kind: str, address: str = "tcp://127.0.0.1:0"):
        ctx = multiprocessing.get_context("spawn")
        self._queue = ctx.Queue()
        self._proc = ctx.Process(target=_serve, args=(kind, address, self._queue), daemon=True)

    def __enter__(self):
        self._proc.start()
        self.address = self._queue.get(timeout=60)
        return self

    def __exit__(self, *exc):
        self._proc.terminate()
        self._proc.join()


def _percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples) * 1e6, samples[int(len(samples) * 0.9)] * 1e6


async def _loop_pingpong(address, n, use_stream=False):
    """Round-trip times of ``n`` sequential pings from a client on an event loop."""
    times, done, state = [], asyncio.Event(), {}

    def on_reply(msg):
        times.append(time.perf_counter() - state["t"])
        if len(times) >= n:
            done.set()
        else:
            state["t"] = time.perf_counter()
            send({"op": "ping", "key": ("x", len(times))})

    if use_stream:
        import zmq
        from zmq.eventloop.zmqstream import ZMQStream

        from graphflow.comm.protocol import pack, unpack

        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.connect(address)
        stream = ZMQStream(sock)
        stream.on_recv(lambda frames: [on_reply(m) for m in unpack(frames, TOKEN)], copy=False)

        def send(msg):
            stream.send_multipart(pack([msg], TOKEN), copy=False)
    else:
        from graphflow.comm.transport import Connection

        conn = Connection(address, TOKEN, on_reply)
        send = conn.send
    state["t"] = time.perf_counter()
    send({"op": "ping", "key": ("x", 0)})
    await done.wait()
    return times[100:]


def _raw_pingpong(address, n):
    import zmq

    from graphflow.comm.protocol import pack, unpack

    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.connect(address)
    times = []
    for i in range(n):
        t = time.perf_counter()
        sock.send_multipart(pack([{"op": "ping", "key": ("x", i)}], TOKEN))
        unpack(sock.recv_multipart(copy=False), TOKEN)
        times.append(time.perf_counter() - t)
    sock.close(linger=0)
    return times[100:]


def _latency_in_threads() -> list:
    """Round trips between two IOLoops in two threads of this process."""
    import queue
    import threading

    addresses: queue.Queue = queue.Queue()
    stop = threading.Event()

    async def serve():
        from graphflow.comm.transport import Listener

        listener = Listener("tcp://127.0.0.1:0", TOKEN, lambda peer, msg: listener.send(peer, msg))
        addresses.put(listener.address)
        while not stop.is_set():
            await asyncio.sleep(0.05)
        listener.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    try:
        return asyncio.run(_loop_pingpong(addresses.get(timeout=10), N_LATENCY))
    finally:
        stop.set()
        thread.join()


def bench_latency() -> None:
    """Tiny-message round trips over tcp loopback."""
    print(f"round trip of a tiny message, tcp loopback, {N_LATENCY} pings (median / p90, us):")
    med, p90 = _percentiles(_latency_in_threads())
    print(f"  {'graphflow, two loops in two threads':36s} {med:7.1f} / {p90:7.1f}")
    print("  client and server in separate processes:")
    cases = [
        ("graphflow Listener <-> Connection", "echo", lambda a: asyncio.run(_loop_pingpong(a, N_LATENCY))),
        ("same protocol on ZMQStream", "stream", lambda a: asyncio.run(_loop_pingpong(a, N_LATENCY, True))),
        ("blocking pyzmq, no event loop", "raw", lambda a: _raw_pingpong(a, N_LATENCY)),
    ]
    for label, kind, client in cases:
        with _Server(kind) as server:
            med, p90 = _percentiles(client(server.address))
        print(f"  {label:36s} {med:7.1f} / {p90:7.1f}")


async def _send_burst(address, n, batch):
    from graphflow.comm.transport import Connection

    done = asyncio.Event()
    result = {}

    def on_reply(msg):
        result["count"] = msg
        done.set()

    conn = Connection(address, TOKEN, on_reply)
    msg = {"op": "task-finished", "key": ("x", 1), "nbytes": 8000, "stimulus_id": "s-1"}
    t = time.perf_counter()
    if batch == 1:
        for _ in range(n):
            conn.send(msg)
    else:
        for _ in range(n // batch):
            conn.send_many([msg] * batch)
    conn.send("done")
    await done.wait()
    elapsed = time.perf_counter() - t
    conn.close()
    assert result["count"] == n + 1, result
    return n / elapsed


def bench_rate() -> None:
    """One-way small-message rate, sender and counter in separate processes."""
    print(f"one-way rate of small messages, tcp loopback, {N_RATE} messages:")
    with _Server("count") as server:
        for batch in (1, 100):
            rate = asyncio.run(_send_burst(server.address, N_RATE, batch))
            how = "one send() each" if batch == 1 else f"send_many() of {batch}"
            print(f"  {how:20s} {rate / 1e3:8.0f} k messages/s")


async def _send_array(address, x, repeat):
    from graphflow.comm.transport import Connection

    replies: asyncio.Queue = asyncio.Queue()
    conn = Connection(address, TOKEN, replies.put_nowait)
    conn.send({"x": x.slice(0, 10) if hasattr(x, "slice") else x[:10]})  # connect and warm up
    await replies.get()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        conn.send({"x": x})
        assert await replies.get() == x.nbytes, "the receiver got something else"
        times.append(time.perf_counter() - t)
    conn.close()
    return times


def bench_throughput(repeat: int = 5) -> None:
    """A 400 MB array as one message, over tcp loopback and ipc, between two processes."""
    import numpy as np
    import pyarrow as pa

    x = np.random.default_rng(0).random(ARRAY_BYTES // 8)
    table = pa.table({"x": x})
    print(f"one {x.nbytes / 2**20:.0f} MiB payload per message, send -> receiver holds it (GB/s, best / median):")

    def show(label, times):
        best, med = x.nbytes / min(times) / 1e9, x.nbytes / statistics.median(times) / 1e9
        print(f"  {label:44s} {best:5.2f} / {med:5.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        for transport, address in [("tcp loopback", "tcp://127.0.0.1:0"), ("ipc", f"ipc://{tmp}/bench")]:
            with _Server("sink", address) as server:
                show(f"numpy array, {transport}", asyncio.run(_send_array(server.address, x, repeat)))
            with _Server("sink", address) as server:
                show(f"Arrow table (IPC stream), {transport}", asyncio.run(_send_array(server.address, table, repeat)))
            show(f"blocking zmq PAIR, no protocol, {transport}", _baseline_times("raw-sink", address, x, repeat))
    show("plain TCP socket, sendall / recv_into", _baseline_times("socket-sink", None, x, repeat))


def bench_mac(repeat: int = 9) -> None:
    """The MAC's cost, in this process: a tiny message and a 100 MB buffer, pack and verify."""
    import hashlib
    import timeit

    import numpy as np

    from graphflow.comm import protocol
    from graphflow.comm.serialize import dumps

    tiny = [{"op": "ping", "key": ("x", 1)}]
    n = 100_000
    base = min(timeit.repeat(lambda: dumps(tiny), number=n, repeat=5)) / n
    packed = min(timeit.repeat(lambda: protocol.pack(tiny, TOKEN), number=n, repeat=5)) / n
    frames = protocol.pack(tiny, TOKEN)
    check = min(timeit.repeat(lambda: protocol.verify(frames, TOKEN), number=n, repeat=5)) / n
    print(f"tiny message ({len(frames[0])} bytes): dumps {base * 1e6:.2f} us, pack {packed * 1e6:.2f} us "
          f"(MAC {max(packed - base, 0) * 1e6:.2f} us), verify {check * 1e6:.2f} us")
    x = np.random.default_rng(0).integers(0, 255, 100 * 2**20, dtype=np.uint8)
    big = protocol.pack([{"x": x}], TOKEN)

    def median(fn):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times), min(times)

    for label, fn in [("verify (threads as configured)", lambda: protocol.verify(big, TOKEN)),
                      ("SHA-256 in one thread", lambda: hashlib.sha256(big[1]).digest()),
                      ("keyed BLAKE2b in one thread", lambda: hashlib.blake2b(big[1], key=TOKEN).digest())]:
        med, best = median(fn)
        print(f"100 MiB buffer, {label:32s} median {med * 1e3:6.1f} ms, best {best * 1e3:6.1f} ms "
              f"({x.nbytes / best / 1e9:.2f} GB/s)")


def main(argv) -> None:
    """Run the benchmarks named in ``argv`` (all by default)."""
    names = argv or ["latency", "rate", "throughput", "mac"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name in names:
        globals()[f"bench_{name}"]()


if __name__ == "__main__":
    main(sys.argv[1:])
