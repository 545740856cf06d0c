"""A Ray cluster on loopback for tests: a head and a second node, started with `ray start` and stopped
by the process group this module started (never `ray stop`, which ends every Ray process by name)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str]) -> subprocess.Popen:
    # Its own session: every process `ray start` launches (GCS, raylet, workers) shares its session id;
    # the daemons also share its process group, which stopping signals (workers exit with their raylet).
    return subprocess.Popen(
        [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats", *args],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)


COUNT_NODES = """
import sys, ray
ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False)
print(len([n for n in ray.nodes() if n["Alive"]]))
"""


def alive_nodes(address: str) -> int:
    """Counted by a client process of its own: Ray fixes a process's auth mode at its first connection."""
    out = subprocess.run([sys.executable, "-c", COUNT_NODES, address], capture_output=True, text=True, timeout=60)
    return int(out.stdout.strip() or 0)


@contextmanager
def _auth_token() -> Iterator[None]:
    """Ray's token authentication with a token of this cluster's own, for its nodes and every client
    (subprocesses inherit it), as a real cluster propagates its token."""
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Cluster:
    address: str
    groups: list[int]  # sessions (and process groups) of the nodes: every process of this cluster, only those

    def processes(self, marker: bytes) -> list[int]:
        """Process ids of this cluster whose command line holds `marker` (an actor's class name)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                ours = entry.name.isdigit() and os.getsid(int(entry.name)) in self.groups
                if ours and marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found


@contextmanager
def two_node_cluster(cpus_per_node: int = 1) -> Iterator[Cluster]:
    """A running head + worker node on 127.0.0.1; both stopped on exit."""
    with _auth_token(), _nodes(cpus_per_node) as cluster:
        yield cluster


@contextmanager
def _nodes(cpus_per_node: int) -> Iterator[Cluster]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    started = [
        _start(["--head", "--port", str(port), "--num-cpus", str(cpus_per_node), "--include-dashboard", "false"])
    ]
    try:
        time.sleep(3)
        started.append(_start(["--address", address, "--num-cpus", str(cpus_per_node)]))
        deadline = time.monotonic() + 90
        while alive_nodes(address) < 2:
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                raise RuntimeError("the test's Ray cluster did not come up")
            time.sleep(1)
        yield Cluster(address, [p.pid for p in started])
    finally:
        for proc in reversed(started):
            _stop(proc)
        current = Path("/tmp/ray/ray_current_cluster")  # what `ray stop` would remove: ours, now dead
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
