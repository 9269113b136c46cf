"""A cluster across four hosts: the scheduler, two workers and the client each in a network namespace.

    host "sched"  10.231.0.2   graphflow scheduler --host 10.231.0.2 (dashboard on 10.231.0.2:8787)
    host "wa"     10.231.0.3   graphflow worker --host 10.231.0.3 --memory-limit 320MiB
    host "wb"     10.231.0.4   graphflow worker --host 10.231.0.4 --memory-limit 320MiB
    host "client" 10.231.0.5   python -m tests.multihost.client_script SCENARIO ...

          sched     wa      wb     client
            |        |       |        |       one veth each, on a bridge in a namespace of its own
          ------------- br0 ------------      (`tests.multihost.netns`): no route leaves 10.231.0.0/24

Every process is real and started as a user would (the ``graphflow`` command,
a client script), with the cluster token in ``GRAPHFLOW_TOKEN``.  Each host is
its own network namespace, so `graphflow.comm.vmcopy.host_id` differs between
them and values between workers cross the bridge: the byte counters of the
hosts' interfaces show it.  The namespaces are made once for the module and
removed afterwards, whatever happens; without root or ``ip`` the module is
skipped, saying why.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading

import pytest

from graphflow.testing.wait import wait_for

from .client_script import SPILL_CHUNK, SPILL_CHUNKS, TRANSFER_BYTES
from .netns import Hosts, unavailable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "multihost-test-token-0123456789abcdef"
MEMORY_LIMIT = 320 * 2 ** 20
HOSTS = ("sched", "wa", "wb", "client")


class Lines:
    """The lines a process prints, read on a thread so a test can wait for one with a deadline."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        try:
            for line in iter(stream.readline, ""):
                self.queue.put(line.rstrip("\n"))
        except (ValueError, OSError):  # closed by the teardown while this read
            pass
        self.queue.put(None)

    def wait(self, prefix: str, timeout: float) -> str:
        """The next line starting with ``prefix``; AssertionError with what was seen after ``timeout``."""
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line starting {prefix!r}; the process printed: {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line


class Cluster:
    """The running hosts and processes, with the logs to show when a test fails."""

    def __init__(self, hosts: Hosts, logs):
        self.hosts = hosts
        self.logs = logs
        self.env = dict(os.environ, PYTHONPATH=ROOT, GRAPHFLOW_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        self.env.pop("GRAPHFLOW_CURVE_SECRET", None)
        self.ip = hosts.address
        self.scheduler = f"tcp://{self.ip['sched']}:8786"
        self.dashboard_line = ""

    def start(self) -> "Cluster":
        ip = self.ip
        sched = self.hosts.popen(
            "sched", [sys.executable, "-m", "graphflow", "scheduler", "--host", ip["sched"], "--port", "8786",
                      "--dashboard-address", f"{ip['sched']}:8787", "--heartbeat-timeout", "3"],
            env=self.env, log=self.logs / "sched.log", stdout=subprocess.PIPE, text=True, cwd=ROOT)
        lines = Lines(sched.stdout)
        assert lines.wait("graphflow scheduler at", 60) == f"graphflow scheduler at {self.scheduler}", self.log_tail()
        self.dashboard_line = lines.wait("graphflow dashboard at", 10)
        for host in ("wa", "wb"):
            self.hosts.popen(host, [sys.executable, "-m", "graphflow", "worker", self.scheduler, "--host", ip[host],
                                    "--nworkers", "1", "--nthreads", "2", "--memory-limit", str(MEMORY_LIMIT),
                                    "--name", host],
                             env=self.env, log=self.logs / f"{host}.log", cwd=ROOT)
        return self

    def log_tail(self, n: int = 30) -> str:
        parts = []
        for name in ("sched", "wa", "wb"):
            path = self.logs / f"{name}.log"
            text = path.read_text(errors="replace").splitlines()[-n:] if path.exists() else []
            parts.append(f"--- {name}.log\n" + "\n".join(text))
        return "\n".join(parts)

    def client(self, scenario: str, token: str = TOKEN) -> subprocess.Popen:
        argv = [sys.executable, "-m", "tests.multihost.client_script", scenario, self.scheduler,
                self.ip["wa"], self.ip["wb"]]
        return self.hosts.popen("client", argv, env=dict(self.env, GRAPHFLOW_TOKEN=token), cwd=ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, scenario: str, token: str = TOKEN, timeout: float = 120) -> dict:
        """Run the client script's ``scenario`` to its end on the client host; its RESULT as a dict."""
        proc = self.client(scenario, token)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.hosts.stop(proc)
            out, err = proc.communicate()
        return self.result(proc, out, err)

    def result(self, proc, out: str, err: str) -> dict:
        found = [line for line in out.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and found, (f"client exited {proc.returncode}\n--- stdout\n{out}\n"
                                                f"--- stderr\n{err[-3000:]}\n{self.log_tail()}")
        return json.loads(found[-1][len("RESULT "):])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = unavailable()
    if reason:
        pytest.skip(f"multi-host tests need Linux network namespaces: {reason}")
    hosts = Hosts(HOSTS).up()
    try:
        yield Cluster(hosts, tmp_path_factory.mktemp("multihost-logs")).start()
    finally:
        hosts.down()


def test_each_host_is_its_own_host_for_shortcuts(cluster):
    """Same kernel, same /dev/shm, but another network namespace: `host_id` differs, so no worker lends its
    memory (process_vm_readv) or shared-memory blocks to one on another host."""
    code = "from graphflow.comm.vmcopy import host_id; print(host_id())"
    ids = {}
    for host in ("wa", "wb"):
        proc = cluster.hosts.popen(host, [sys.executable, "-c", code], env=cluster.env, stdout=subprocess.PIPE,
                                   text=True, cwd=ROOT)
        ids[host] = proc.communicate(timeout=60)[0].strip()
    assert ids["wa"] != ids["wb"]
    assert ids["wa"].split("/")[0] == ids["wb"].split("/")[0]  # one kernel boot: only the namespaces differ
    net = {host: [p for p in ids[host].split(",") if p.startswith("net:")] for host in ids}
    assert net["wa"] != net["wb"] and all(net.values())


def test_worker_to_worker_transfer_crosses_the_network(cluster):
    """make_chunk runs on wa, chunk_sum on wb: wb fetches 24 MiB from wa, and that many bytes cross wb's link
    (not the scheduler's: data goes worker to worker)."""
    before = {host: cluster.hosts.counters(host) for host in HOSTS}
    r = cluster.run("transfer")
    after = {host: cluster.hosts.counters(host) for host in HOSTS}
    moved = {host: {d: after[host][d] - before[host][d] for d in ("rx", "tx")} for host in HOSTS}
    assert r["sum"] == r["expected"]
    assert r["a"].startswith(f"tcp://{cluster.ip['wa']}:") and r["b"].startswith(f"tcp://{cluster.ip['wb']}:")
    assert r["ran_on"] == [r["b"]] and r["a"] in r["holders"]
    assert moved["wb"]["rx"] >= TRANSFER_BYTES, moved
    assert moved["wa"]["tx"] >= TRANSFER_BYTES, moved
    assert moved["sched"]["rx"] < TRANSFER_BYTES // 4 and moved["client"]["rx"] < TRANSFER_BYTES // 4, moved


def test_actor_called_from_the_client_and_from_another_worker(cluster):
    r = cluster.run("actor")
    assert r["address"] == r["b"]
    assert r["values"] == list(range(11, 61))  # in order, none lost or repeated
    assert r["from_a"] == 65 and r["final"] == 65


def test_spill_on_a_worker_with_a_small_memory_limit(cluster):
    r = cluster.run("spill")
    assert r["limit"] == MEMORY_LIMIT
    assert r["spilled"] >= SPILL_CHUNK  # at least one chunk went to disk ...
    assert r["total"] == r["expected"]  # ... and came back intact
    assert SPILL_CHUNKS * SPILL_CHUNK > 0.6 * MEMORY_LIMIT  # the working set really was past the target


def test_dashboard_from_another_host_needs_the_token(cluster):
    """Bound to the scheduler's address (not loopback), the dashboard asks for the token: the link the scheduler
    printed and the client's dashboard_link carry it and open from the client's host; without it, 403."""
    link = f"http://{cluster.ip['sched']}:8787/status?token={TOKEN}"
    assert cluster.dashboard_line == f"graphflow dashboard at {link}"
    r = cluster.run("dashboard")
    assert r["link"] == link
    assert r["page"] == 200 and r["page_is_dashboard"] and r["api"] == 200
    assert r["workers"] == sorted([r["a"], r["b"]])
    assert r["bare"] == 403 and r["api_bare"] == 403


def test_a_client_without_the_token_is_refused(cluster):
    r = cluster.run("refused", token="not-the-cluster-token")
    assert r["error"] == "AuthenticationError", r
    assert "token" in r["message"] and cluster.scheduler in r["message"]
    assert cluster.run("actor")["final"] == 65  # the scheduler serves the others as before


def test_a_worker_killed_mid_graph_is_replaced_and_the_answer_is_right(cluster):
    """kill -9 of a worker while slow tasks run and results sit on it: `graphflow worker` on its host starts a
    new worker process, the scheduler recomputes what was lost, and the client gets the right sum."""
    proc = cluster.client("kill")
    lines = Lines(proc.stdout)
    try:
        pid = int(lines.wait("KILL ", 120).split()[1])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=10, what=f"pid {pid} gone")
        proc.stdin.write("killed\n")
        proc.stdin.flush()
        line = lines.wait("RESULT ", 150)
    except AssertionError as exc:
        cluster.hosts.stop(proc)
        raise AssertionError(f"{exc}\n--- stderr\n{proc.stderr.read()[-3000:]}\n{cluster.log_tail()}") from None
    proc.wait(30)
    r = cluster.result(proc, line, proc.stderr.read())
    assert r["total"] == r["expected"]
    assert r["held"] > 0  # results were lost with it, not only running tasks
    host = r["victim"].split("//")[1].rsplit(":", 1)[0]
    replacements = {address: pid for address, pid in r["workers_after"].items() if address.startswith(f"tcp://{host}:")}
    assert replacements and r["killed_pid"] not in replacements.values()  # a new worker on that host
    assert r["victim"] not in r["workers_after"]


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
