"""A bounded load test on loopback: concurrent clients against `indexer serve` with 1 and with 2 workers for
a few seconds, zero errors, and every worker answering. (The 100k-track, 50-client, 30-s run that compares
1 and 2 workers is benchmarks/bench_api.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from tests.app.server_process import free_port
from tests.storage.conftest import clustered_vectors, fill_store

CLIENTS = 20
SECONDS = 3.0


def wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"indexer serve exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_clients_get_no_errors(tmp_path, workers):
    fill_store(tmp_path / "data", clustered_vectors(2000, 32, seed=9))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SOUNDALIKE_API_KEY", "SOUNDALIKE_DB_URL")}
    command = [sys.executable, "-m", "indexer.commands.main", "serve", "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen([*command, "--port", str(port), "--workers", str(workers)], env=env)
    url = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    failures: list[str] = []
    answered_by: set[int] = set()
    try:
        wait_up(url, process)
        stop = time.monotonic() + SECONDS

        def client(seed: int) -> None:
            rng = np.random.default_rng(seed)
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=30) as reply:
                        answered_by.add(json.loads(reply.read())["worker"])
                    ask = f"{url}/api/v1/similar?ids={int(rng.integers(1, 2001))}&k=10"
                    with urllib.request.urlopen(ask, timeout=30) as reply:
                        found = json.loads(reply.read())
                except OSError as exc:  # HTTPError included
                    failures.append(str(exc))
                    continue
                latencies.append(time.perf_counter() - started)
                if len(found) != 10:
                    failures.append(f"{len(found)} results")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not failures, failures[:3]
    assert len(latencies) >= CLIENTS
    if workers == 1:
        assert answered_by == {process.pid}
    else:  # uvicorn's supervisor forks the workers: every one answered
        assert len(answered_by) == workers and process.pid not in answered_by
    print(f"{workers} worker(s): {len(latencies)} requests, p99 {np.percentile(latencies, 99) * 1000:.0f} ms")


def test_the_page_keeps_working_beside_it(built_catalog, tmp_path):
    """`indexer serve --workers 2` and the page's server on one data directory at once: both up, and the
    same question gets the same answer from each."""
    from tests.app.server_process import ROOT, http_get, serve_page

    _, data = built_catalog
    port = free_port()
    env = {**os.environ, "SOUNDALIKE_DATA": str(data), "SOUNDALIKE_DB_URL": ""}
    env.pop("SOUNDALIKE_API_KEY", None)
    command = [sys.executable, "-m", "indexer.commands.main", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_up(f"http://127.0.0.1:{port}", process)
        page = [sys.executable, "-m", "streamlit", "run", "app/server.py"]
        with serve_page(page, {"SOUNDALIKE_DATA": str(data), "SOUNDALIKE_DB_URL": ""}, tmp_path / "page.log") as url:
            status, kind, body = http_get(url + "/")
            assert status == 200 and b'<div id="root"' in body
            answers = [http_get(f"{base}/api/v1/similar?ids=3&k=5") for base in (url, f"http://127.0.0.1:{port}")]
            assert [a[0] for a in answers] == [200, 200]
            assert json.loads(answers[0][2]) == json.loads(answers[1][2])
    finally:
        process.terminate()
        process.wait(timeout=30)
