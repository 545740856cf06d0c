"""Start the page as a user does (`streamlit run app/server.py`) on a free localhost port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the page did not come up at {url}")


@contextmanager
def serve_page(command: Sequence[str], env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Run `command` (a `streamlit run` line) on a free port from the repository root; yields the base URL."""
    port = free_port()
    full = [*command, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            full, cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def http_get(url: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.headers["content-type"] or "", reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"] or "", error.read()
