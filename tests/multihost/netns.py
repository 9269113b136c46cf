"""Hosts on one kernel: Linux network namespaces joined by a bridge, for the multi-host tests.

Each *host* is a network namespace with one interface, ``eth0``, holding one
address of a private subnet (``10.231.0.0/24``), and its own loopback.  The
other end of each ``eth0`` is a veth port on a bridge that lives in a
namespace of its own, so nothing is added to the machine's own network: no
interface, no route, no address outside these namespaces, and no namespace has
a route anywhere else.  Packets between hosts cross the bridge, so the byte
counters of each ``eth0`` show what really went over "the network".

    hosts = Hosts(["sched", "wa", "wb", "client"]).up()      # 10.231.0.2 .. 10.231.0.5
    proc = hosts.popen("wa", [sys.executable, "-m", "graphflow", "worker", ...], log=path)
    hosts.counters("wb")                                      # {"rx": bytes, "tx": bytes}
    hosts.down()                                              # processes first, then the namespaces

Namespaces are named ``gfmh<pid>-<host>`` after the test process; `up` first
deletes those of test processes that are gone (a run killed with kill -9
cannot clean up after itself).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess

from graphflow.testing.wait import wait_for

__all__ = ["Hosts", "unavailable", "SUBNET"]

SUBNET = "10.231.0"  # /24, only ever inside the namespaces made here
PREFIX = "gfmh"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")


def _ip(*args, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and out.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {out.stderr.strip() or out.stdout.strip()}")
    return out


def unavailable() -> str | None:
    """Why network namespaces cannot be made here (not root, no ``ip``, no permission), or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root (CI runs the tests as root)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    try:
        veth = _ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1", check=False)
        bridge = _ip("-n", probe, "link", "add", "b0", "type", "bridge", check=False)
        for what, out in (("veth", veth), ("bridge", bridge)):
            if out.returncode != 0:
                return f"cannot make a {what} interface in a namespace: {out.stderr.strip()}"
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale() -> None:
    listing = _ip("netns", "list", check=False).stdout.split()
    for name in listing:
        match = _NAME.match(name)
        if match and not _alive(int(match.group(1))):
            _kill_namespace_processes(name)
            _ip("netns", "del", name, check=False)


def _kill_namespace_processes(namespace: str) -> None:
    """SIGKILL what still runs in one of our namespaces (only processes the tests started live there)."""
    pids = _ip("netns", "pids", namespace, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class Hosts:
    """Namespaces ``names`` on one bridge; host ``names[i]`` has address ``SUBNET.{i + 2}``."""

    def __init__(self, names):
        self.names = list(names)
        tag = f"{PREFIX}{os.getpid()}"
        self.namespace = {name: f"{tag}-{name}" for name in self.names}
        self.bridge_ns = f"{tag}-br"
        self.address = {name: f"{SUBNET}.{i + 2}" for i, name in enumerate(self.names)}
        self.procs: list = []
        self._made: list = []

    def up(self) -> "Hosts":
        """Make the bridge namespace and one namespace per host; on any failure undo what was made."""
        _remove_stale()
        try:
            self._add_namespace(self.bridge_ns)
            _ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.bridge_ns, "link", "set", "br0", "up")
            for i, name in enumerate(self.names):
                ns = self.namespace[name]
                self._add_namespace(ns)
                port = f"p{i}"
                _ip("-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
                _ip("-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
                _ip("-n", ns, "addr", "add", f"{self.address[name]}/24", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.down()
            raise
        return self

    def _add_namespace(self, ns: str) -> None:
        _ip("netns", "add", ns)
        self._made.append(ns)

    def popen(self, name: str, argv: list, *, env: dict, log=None, **kwargs) -> subprocess.Popen:
        """Start ``argv`` inside host ``name`` (``ip netns exec``), in a session of its own.

        ``log``: a path; stdout and stderr go there unless ``kwargs`` say otherwise.
        """
        if log is not None:
            handle = open(log, "ab")
            kwargs.setdefault("stdout", handle)
            kwargs.setdefault("stderr", handle)
        proc = subprocess.Popen(["ip", "netns", "exec", self.namespace[name], *argv], env=env,
                                start_new_session=True, **kwargs)
        if log is not None:
            handle.close()  # the child holds its own copy
        self.procs.append(proc)
        return proc

    def counters(self, name: str) -> dict:
        """Bytes received and sent by host ``name``'s ``eth0`` so far: ``{"rx": n, "tx": n}``."""
        out = _ip("-n", self.namespace[name], "-s", "-j", "link", "show", "eth0").stdout
        stats = json.loads(out)[0]["stats64"]
        return {"rx": stats["rx"]["bytes"], "tx": stats["tx"]["bytes"]}

    def stop(self, proc: subprocess.Popen, timeout: float = 10.0) -> None:
        """SIGTERM ``proc``'s session (it and what it started), SIGKILL what is left after ``timeout``."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # children that outlived their leader
        except ProcessLookupError:
            pass
        proc.wait(timeout)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a pipe whose reader is gone
                    pass

    def down(self) -> None:
        """Stop every process started here, then delete the namespaces (their interfaces go with them)."""
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception:  # keep tearing down
                pass
        self.procs.clear()
        for ns in reversed(self._made):
            _kill_namespace_processes(ns)  # anything that left its session: a namespace is freed with its last one
            try:
                wait_for(lambda: not _ip("netns", "pids", ns, check=False).stdout.split(), timeout=10,
                         what=f"the processes in {ns} gone")
            except AssertionError:
                pass  # deleted anyway: the kernel frees it with its last process
            _ip("netns", "del", ns, check=False)
        self._made.clear()

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc_info):
        self.down()
