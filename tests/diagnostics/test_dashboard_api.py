"""The dashboard's HTTP API, with plain HTTP (urllib).

The first tests serve a tiny stand-in source (the two methods the app may
call) to check the HTTP layer alone: routes, ``?after=``, ``?since=``, the
token.  The rest run the real thing: ``graphflow scheduler`` from the command
line, and a LocalCluster whose dashboard listens on 0.0.0.0 (so it asks for the
cluster token).
"""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import graphflow as gf
from graphflow.diagnostics.dashboard import DashboardServer, parse_address
from graphflow.comm.addresses import host_header_is_loopback, is_loopback
from graphflow.diagnostics.dashboard.server import link_for_client
from graphflow.errors import ConfigError
from graphflow.testing.wait import wait_for


class FakeSource:
    """Stands in for ``scheduler.diagnostics`` in the HTTP-layer tests only."""

    def __init__(self):
        self.snap = {
            "time": 100.0, "scheduler": "tcp://127.0.0.1:1",
            "workers": [{"address": "tcp://127.0.0.1:2", "name": "w", "nthreads": 1, "pid": 1, "processing": 0,
                         "executing": 0, "cpu": 1.5, "paused": False,
                         "memory": {"managed": 10, "spilled": 0, "shared": 0, "unmanaged": 5, "rss": 15,
                                    "limit": None}}],
            "progress": [{"prefix": "inc", "total": 2, "waiting": 0, "processing": 0, "memory": 2, "erred": 0,
                          "released": 0, "done": 2}],
            "graph": {"nodes": [{"key": "inc-1", "prefix": "inc", "state": "memory"}], "edges": [],
                      "truncated": False},
            "counts": {"tasks": 2, "workers": 1, "clients": 1},
        }
        self.stream_calls = []

    def snapshot(self):
        return self.snap

    def task_stream(self, since=None, count=None, sample=None):
        self.stream_calls.append((since, count))
        return [{"key": "inc-1", "prefix": "inc", "worker": "tcp://127.0.0.1:2", "thread": 0, "start": 99.0,
                 "stop": 99.5, "nbytes": 28, "status": "finished"}]


def get(url, opener=None, headers=None):
    """(status, body bytes) of a GET; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def served():
    source = FakeSource()
    server = DashboardServer(source, ":0").start()
    yield source, f"http://127.0.0.1:{server.port}"
    server.close()


def test_parse_address():
    assert parse_address(":8787") == ("127.0.0.1", 8787)
    assert parse_address("8787") == ("127.0.0.1", 8787)
    assert parse_address("0.0.0.0:0") == ("0.0.0.0", 0)
    assert parse_address("http://localhost:9000/") == ("localhost", 9000)
    for bad in ("nonsense", ":99999", "host:"):
        with pytest.raises(ConfigError, match="dashboard address"):
            parse_address(bad)


def test_link_for_client_uses_the_schedulers_host_when_remote():
    assert link_for_client(None, "tcp://127.0.0.1:1") is None
    assert link_for_client("http://127.0.0.1:8787/status", "tcp://10.1.2.3:8786") == "http://10.1.2.3:8787/status"
    assert link_for_client("http://10.9.9.9:8787/status", "tcp://10.1.2.3:8786") == "http://10.9.9.9:8787/status"
    assert link_for_client("http://127.0.0.1:8787/status", "tcp://[fd00::5]:8786") == "http://[fd00::5]:8787/status"
    # a scheduler host that only looks like loopback is a remote host: the link must point there
    assert (link_for_client("http://127.0.0.1:8787/status", "tcp://127.0.0.1.nip.io:8786")
            == "http://127.0.0.1.nip.io:8787/status")
    assert (link_for_client("http://127.0.0.1:8787/status", "tcp://0.0.0.0:8786", token=b"a/b")
            == "http://127.0.0.1:8787/status?token=a%2Fb")


LOOKALIKES = ["127.attacker.example", "127.0.0.1.nip.io", "localhost.example.com", "::1234:5678",
              "[::1234:5678]", "localhost..", "127.1", "0.0.0.0", "::", "", "evil.example", "[::1", "::2"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost", "LOCALHOST.",
                                  "LocalHost", "::ffff:127.0.0.1"])
def test_is_loopback_accepts_exactly_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", LOOKALIKES)
def test_is_loopback_refuses_lookalikes(host):
    """Names anyone can point at 127.0.0.1 (DNS rebinding) and routable IPv6 addresses are not loopback."""
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["localhost.example.com", "127.0.0.1.nip.io", "::1234:5678", "0.0.0.0", "::"])
def test_a_dashboard_bound_to_a_lookalike_asks_for_the_token(host):
    address = f"[{host}]:0" if ":" in host else f"{host}:0"
    server = DashboardServer(FakeSource(), address, token=b"s3cret")  # not started: the decision alone
    assert server.require_token
    for host in ("127.0.0.1", "localhost", "::1"):
        address = f"[{host}]:0" if ":" in host else f"{host}:0"
        assert not DashboardServer(FakeSource(), address, token=b"s3cret").require_token


def test_snapshot_parts(served):
    source, base = served
    status, body = get(base + "/api/v1/snapshot")
    assert status == 200 and json.loads(body) == source.snap
    assert json.loads(get(base + "/api/v1/workers")[1]) == source.snap["workers"]
    tasks = json.loads(get(base + "/api/v1/tasks")[1])
    assert set(tasks) == {"progress", "graph", "counts"} and tasks["progress"][0]["done"] == 2
    assert json.loads(get(base + "/api/v1/memory")[1]) == {"tcp://127.0.0.1:2": source.snap["workers"][0]["memory"]}


def test_after_answers_204_until_a_newer_snapshot(served):
    source, base = served
    assert get(base + "/api/v1/snapshot?after=100.0") == (204, b"")
    assert get(base + "/api/v1/snapshot?after=99.0")[0] == 200
    source.snap = dict(source.snap, time=101.0, counts={"tasks": 7, "workers": 1, "clients": 1})
    status, body = get(base + "/api/v1/tasks?after=100.0")
    assert status == 200 and json.loads(body)["counts"]["tasks"] == 7  # not the cached encoding of the old one
    assert get(base + "/api/v1/snapshot?after=abc")[0] == 400


def test_task_stream_passes_since_and_count(served):
    source, base = served
    status, body = get(base + "/api/v1/task_stream?since=99.25&count=10")
    assert status == 200 and json.loads(body)[0]["key"] == "inc-1"
    get(base + "/api/v1/task_stream")
    assert source.stream_calls[0] == (99.25, 10)
    assert source.stream_calls[1][0] is None and source.stream_calls[1][1] > 0
    assert get(base + "/api/v1/task_stream?since=x")[0] == 400


def test_task_stream_sample_keeps_an_even_spread(served):
    from graphflow.scheduler.taskstream import TaskStream
    from graphflow.testing.events import finished

    source, base = served
    ring = TaskStream(maxlen=1000)
    for i in range(100):
        ev = finished("tcp://127.0.0.1:2", f"inc-{i}", duration=0.5)
        ev.start, ev.stop = float(i), i + 0.5
        ring.add(ev)
    source.task_stream = ring.records  # the real ring samples before it formats
    keys = [r["key"] for r in json.loads(get(base + "/api/v1/task_stream?sample=10")[1])]
    assert keys == [f"inc-{i}" for i in range(0, 100, 10)]
    assert len(json.loads(get(base + "/api/v1/task_stream?sample=1000")[1])) == 100
    newest = json.loads(get(base + "/api/v1/task_stream?count=20&sample=5")[1])
    assert [r["key"] for r in newest] == [f"inc-{i}" for i in range(80, 100, 4)]
    since = json.loads(get(base + "/api/v1/task_stream?since=95")[1])
    assert [r["key"] for r in since] == [f"inc-{i}" for i in range(95, 100)]


def test_summary_and_graph_split_the_snapshot(served):
    source, base = served
    summary = json.loads(get(base + "/api/v1/summary")[1])
    assert "graph" not in summary and summary["counts"] == source.snap["counts"]
    assert json.loads(get(base + "/api/v1/graph")[1]) == source.snap["graph"]


def test_summary_brings_the_records_that_ran_since_the_stream_count_the_page_has(served):
    source, base = served
    source.snap = dict(source.snap, counts=dict(source.snap["counts"], stream=40))
    plain = json.loads(get(base + "/api/v1/summary")[1])
    assert "stream" not in plain and not source.stream_calls
    assert json.loads(get(base + "/api/v1/summary?stream_after=40")[1])["stream"] == []  # none ran
    assert not source.stream_calls  # ... and the source was not asked
    summary = json.loads(get(base + "/api/v1/summary?stream_after=32&sample=5")[1])
    assert summary["stream"][0]["key"] == "inc-1" and summary["counts"] == source.snap["counts"]
    assert source.stream_calls == [(None, 10)]  # the 8 new ones and a quarter more
    get(base + "/api/v1/summary?stream_after=-1")  # a page's first round: the newest
    assert source.stream_calls[-1] == (None, 2000)
    assert json.loads(get(base + "/api/v1/summary")[1]) == plain  # the cached body is left as it was


def test_long_poll_answers_when_a_newer_snapshot_is_published(served):
    source, base = served
    import threading

    threading.Timer(0.3, lambda: setattr(source, "snap", dict(source.snap, time=200.0))).start()
    t0 = time.monotonic()
    status, body = get(base + "/api/v1/summary?after=100.0&wait=5")
    assert status == 200 and json.loads(body)["time"] == 200.0
    assert 0.2 < time.monotonic() - t0 < 4
    t0 = time.monotonic()
    assert get(base + "/api/v1/summary?after=200.0&wait=0.3")[0] == 204
    assert time.monotonic() - t0 >= 0.25


class TimedSource(FakeSource):
    """Publishes a snapshot every ``interval`` seconds (as the scheduler's timer does) and counts reads."""

    interval = 0.5

    def __init__(self):
        super().__init__()
        self.reads = 0
        self.snap = dict(self.snap, time=time.time())

    def snapshot(self):
        self.reads += 1
        if time.time() >= self.snap["time"] + self.interval:
            self.snap = dict(self.snap, time=time.time())
        return self.snap


def test_a_long_poll_looks_again_when_the_next_snapshot_is_due_not_every_step():
    source = TimedSource()
    server = DashboardServer(source, ":0").start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        for _ in range(4):  # each answers with the next snapshot, ~0.5 s later
            after = source.snap["time"]
            status, body = get(base + f"/api/v1/summary?after={after!r}&wait=5")
            assert status == 200 and json.loads(body)["time"] > after
        # Stepping every 0.05 s reads ~10 times per snapshot; waking when one is due, ~2 (more on a loaded host).
        assert source.reads <= 4 * 5
    finally:
        server.close()


def test_page_and_static_files(served):
    _, base = served
    for path in ("/", "/status"):
        status, body = get(base + path)
        assert status == 200 and b'id="chart-task-stream"' in body
    assert b"GFCharts" in get(base + "/static/charts.js")[1]
    assert get(base + "/static/vendor/chart-4.6.1.umd.min.js")[0] == 200
    assert get(base + "/api/v1/nothing")[0] == 404


def test_loopback_dashboard_refuses_other_host_names(served):
    """A page on another domain re-pointed at 127.0.0.1 (DNS rebinding) must not read the dashboard.

    The browser sends the page's own host name, so every look-alike of a loopback name is refused,
    over the real tornado server; the real loopback names, with or without a port, are served.
    """
    _, base = served
    port = base.rsplit(":", 1)[1]
    refused = ["evil.example:80", f"127.attacker.example:{port}", "127.attacker.example",
               f"127.0.0.1.nip.io:{port}", "127.0.0.1.nip.io", f"localhost.example.com:{port}",
               f"[::1234:5678]:{port}", f"localhost..:{port}", f"127.0.0.1:{port}x", "[::1"]
    for host in refused:
        assert get(base + "/api/v1/workers", headers={"Host": host})[0] == 403, host
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost", "LOCALHOST.",
                 f"LOCALHOST.:{port}", "127.0.0.1", "[::1]"):
        assert get(base + "/api/v1/workers", headers={"Host": host})[0] == 200, host


def test_host_header_parsing():
    assert host_header_is_loopback("127.0.0.1:8787") and host_header_is_loopback("[::1]:8787")
    assert host_header_is_loopback("localhost") and host_header_is_loopback("LOCALHOST.")
    for header in ("127.0.0.1:0", "127.0.0.1:99999", "[::1]x", "::1:8787", "127.0.0.1.nip.io:8787", ""):
        assert not host_header_is_loopback(header), header


def test_a_taken_port_falls_back_to_a_free_one():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = DashboardServer(FakeSource(), f"127.0.0.1:{port}").start()
        try:
            assert server.port not in (None, port)
            assert get(f"http://127.0.0.1:{server.port}/api/v1/workers")[0] == 200
        finally:
            server.close()


def test_token_required_beyond_loopback():
    server = DashboardServer(FakeSource(), "0.0.0.0:0", token=b"s3cret").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert server.require_token
        assert get(base + "/api/v1/workers")[0] == 403
        assert get(base + "/status")[0] == 403
        assert get(base + "/static/charts.js")[0] == 403
        assert get(base + "/api/v1/workers?token=wrong")[0] == 403
        assert get(base + "/api/v1/workers", headers={"Authorization": "Bearer s3cret"})[0] == 200
        # ?token= once, then the cookie it set (which is not the token itself)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        assert get(base + "/status?token=s3cret", opener)[0] == 200
        assert [c.value for c in jar] and all("s3cret" not in c.value for c in jar)
        assert get(base + "/api/v1/snapshot", opener)[0] == 200
        # the link a person is given opens as it is, on this machine too
        assert server.link == f"http://127.0.0.1:{server.port}/status?token=s3cret"
        assert get(server.link)[0] == 200 and get(server.url)[0] == 403
    finally:
        server.close()


def test_a_loopback_link_carries_no_token(served):
    source, _ = served
    server = DashboardServer(source, "localhost:0", token=b"s3cret").start()
    try:
        assert not server.require_token and server.link == server.url == f"http://localhost:{server.port}/status"
        assert get(server.link)[0] == 200
    finally:
        server.close()


# ---------------------------------------------------------------------- the real scheduler


def inc(x):
    return x + 1


def test_cli_dashboard_address_and_port_fallback(tmp_path):
    """``graphflow scheduler --dashboard-address`` serves the API; a taken port is replaced and logged."""
    env = dict(os.environ, GRAPHFLOW_TOKEN="cli-test-token")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0",
                                 "--dashboard-address", f"127.0.0.1:{port}", "--log-level", "warning"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            lines = [proc.stdout.readline() for _ in range(2)]
            assert lines[0].startswith("graphflow scheduler at tcp://"), lines
            assert lines[1].startswith("graphflow dashboard at http://127.0.0.1:"), lines
            url = lines[1].split(" at ", 1)[1].strip()
            assert f":{port}/" not in url and "token" not in url  # loopback: no token asked, none printed
            status, body = get(url.replace("/status", "/api/v1/snapshot"))
            assert status == 200 and json.loads(body)["scheduler"] == lines[0].split(" at ", 1)[1].strip()
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=20)
    assert f"port {port} is in use" in err


def test_cli_dashboard_beyond_loopback_prints_a_link_that_opens():
    """Bound to every interface, the dashboard asks for the token: the printed link carries it, so the
    person who started the scheduler can open it as printed (it answered 403 when it carried none)."""
    env = dict(os.environ, GRAPHFLOW_TOKEN="cli-test-token")
    proc = subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--host", "127.0.0.1", "--port", "0",
                             "--dashboard-address", "0.0.0.0:0", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        link = lines[1].split(" at ", 1)[1].strip()
        assert link.startswith("http://127.0.0.1:") and link.endswith("/status?token=cli-test-token"), lines
        status, body = get(link)
        assert status == 200 and b"chart-task-stream" in body
        assert get(link.split("?")[0])[0] == 403
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_cli_no_dashboard():
    env = dict(os.environ, GRAPHFLOW_TOKEN="cli-test-token")
    proc = subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0", "--no-dashboard"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout.readline().startswith("graphflow scheduler at")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "dashboard" not in out


@pytest.fixture(scope="module")
def public_client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address="0.0.0.0:0") as c:
        yield c


def test_cluster_dashboard_needs_the_cluster_token(public_client):
    token = public_client.token.decode()
    link = public_client.dashboard_link
    assert link.startswith("http://127.0.0.1:") and link.endswith(f"/status?token={token}")
    assert public_client.cluster.dashboard_link == link
    info = public_client.scheduler_info()
    url = info["dashboard"]
    assert info["dashboard_token"] and token not in url  # the scheduler never sends the token itself
    assert link.split("?")[0] == url
    base = url.rsplit("/", 1)[0]
    assert get(url)[0] == 403
    assert get(base + "/api/v1/workers")[0] == 403
    status, body = get(link)
    assert status == 200 and b"chart-task-stream" in body


def test_cluster_api_shows_workers_progress_and_task_stream(public_client):
    c = public_client
    base = c.scheduler_info()["dashboard"].rsplit("/", 1)[0]
    auth = {"Authorization": f"Bearer {c.token.decode()}"}

    def api(path):
        status, body = get(base + "/api/v1/" + path, headers=auth)
        assert status == 200, (path, status, body)
        return json.loads(body)

    t0 = time.time()
    futures = c.map(inc, range(40))
    assert c.gather(futures) == list(range(1, 41))
    workers = api("workers")
    assert sorted(w["address"] for w in workers) == sorted(c.scheduler_info()["workers"])
    assert all(w["nthreads"] == 1 and w["memory"]["limit"] == 2 ** 30 for w in workers)
    memory = wait_for(lambda: (lambda m: m if all(v["rss"] > 0 for v in m.values()) else None)(api("memory")),
                      timeout=20)
    assert set(memory) == {w["address"] for w in workers}

    def inc_done():
        rows = [p for p in api("tasks")["progress"] if p["prefix"] == "inc"]
        return rows and rows[0]["done"] == rows[0]["total"] == 40

    wait_for(inc_done, timeout=20)
    records = api(f"task_stream?since={t0}")
    assert len([r for r in records if r["prefix"] == "inc"]) == 40
    assert {r["worker"] for r in records} <= {w["address"] for w in workers}
    assert all(r["start"] <= r["stop"] for r in records)
    snap = api("snapshot")
    assert snap["counts"]["workers"] == 2 and len(snap["graph"]["nodes"]) >= 40
    assert get(f"{base}/api/v1/snapshot?after={snap['time']}", headers=auth)[0] in (200, 204)


def test_no_dashboard_means_no_link():
    with gf.Client(n_workers=0, dashboard_address=None) as c:
        assert c.dashboard_link is None
        assert c.scheduler_info()["dashboard"] is None
