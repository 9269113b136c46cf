"""The asynchronous Client inside running event loops (asyncio's and tornado's), against a real cluster.

Every wait is bounded (``asyncio.wait_for``), and the loop is shown not to be
blocked while a slow task runs: a ticker coroutine keeps counting meanwhile.
"""

import asyncio
import time

import pytest

import graphflow as gf
from graphflow.errors import GraphflowError


def inc(x):
    return x + 1


def slow(x, delay=0.5):
    time.sleep(delay)
    return x


def boom(x):
    raise ValueError(f"boom {x}")


def big(n):
    return list(range(n))


@pytest.fixture(scope="module")
def cluster():
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=None, dashboard_address=None) as c:
        yield c


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_await_client_futures_gather_and_close(cluster):
    async def main():
        client = await gf.Client(cluster, asynchronous=True, set_as_default=False)
        assert client.status == "running"
        fut = client.submit(inc, 1)
        assert await fut == 2
        futs = client.map(inc, range(10))
        assert await client.gather(futs) == list(range(1, 11))
        assert await client.gather({"a": futs[0], "b": [futs[1]]}) == {"a": 1, "b": [2]}
        large = client.submit(big, 300_000)  # past the inline limit: fetched from its worker
        assert (await large)[-1] == 299_999
        await client.close()
        return client.status

    assert run(main()) == "closed"


def test_async_with_and_errors_raise_in_the_awaiting_coroutine(cluster):
    async def main():
        async with gf.Client(cluster, asynchronous=True, set_as_default=False) as client:
            with pytest.raises(ValueError, match="boom 3"):
                await client.submit(boom, 3)
            with pytest.raises(ValueError, match="boom 4"):
                await client.gather([client.submit(boom, 4)])
            assert await client.gather([client.submit(boom, 5)], errors="skip") == []
        return client.status

    assert run(main()) == "closed"


def test_async_for_as_completed_yields_in_finishing_order(cluster):
    async def main():
        async with gf.Client(cluster, asynchronous=True, set_as_default=False) as client:
            futs = [client.submit(slow, 1, 1.0, pure=False), client.submit(slow, 2, 0.05, pure=False)]
            order = [await f async for f in gf.as_completed(futs)]
            pairs = [(f.key, r) async for f, r in gf.as_completed(client.map(inc, range(4)), with_results=True)]
        return order, sorted(r for _, r in pairs)

    order, results = run(main())
    assert order == [2, 1]
    assert results == [1, 2, 3, 4]


def test_waiting_does_not_block_the_event_loop(cluster):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async with gf.Client(cluster, asynchronous=True, set_as_default=False) as client:
            task = asyncio.ensure_future(ticker())
            assert await client.submit(slow, 7, 0.5, pure=False) == 7
            task.cancel()
        return ticks

    assert run(main()) >= 10  # 0.5 s of waiting: the loop ran the ticker all along


def test_inside_a_running_tornado_loop(cluster):
    from tornado.ioloop import IOLoop

    async def main():
        client = await gf.Client(cluster, asynchronous=True, set_as_default=False)
        try:
            return await client.gather(client.map(inc, range(3)))
        finally:
            await client.close()

    assert IOLoop(make_current=False).run_sync(main, timeout=60) == [1, 2, 3]


def test_an_unopened_asynchronous_client_says_how_to_open_it(cluster):
    client = gf.Client(cluster, asynchronous=True, set_as_default=False)
    with pytest.raises(GraphflowError, match="await"):
        client.submit(inc, 1)
    with pytest.raises(GraphflowError, match="async with"):
        with client:
            pass
    client.close()  # outside a loop: closes at once (nothing was opened)
    assert client.status == "closed"


def test_a_synchronous_client_works_inside_a_running_loop(cluster):
    """A notebook's cell runs inside a loop: the blocking client still works there (its I/O has its own thread)."""
    async def main():
        with gf.Client(cluster, set_as_default=False) as client:
            return client.submit(inc, 41).result(timeout=30)

    assert run(main()) == 42
