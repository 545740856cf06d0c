"""A bounded load test on loopback: concurrent clients against a real server for a few seconds, zero errors.
(The 100k-track, 50-client, 30-s run is benchmarks/bench_api.py.)"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import numpy as np
import uvicorn

from app.api import api
from app.media import catalog_for
from tests.storage.conftest import clustered_vectors, fill_store

CLIENTS = 20
SECONDS = 3.0


def test_concurrent_clients_get_no_errors(tmp_path, monkeypatch):
    fill_store(tmp_path / "data", clustered_vectors(2000, 32, seed=9))
    monkeypatch.setenv("SOUNDALIKE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("SOUNDALIKE_API_KEY", raising=False)
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    catalog_for.cache_clear()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    latencies: list[float] = []
    failures: list[str] = []
    stop = time.monotonic() + SECONDS

    def client(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while time.monotonic() < stop:
            url = f"http://127.0.0.1:{port}/v1/similar?ids={int(rng.integers(1, 2001))}&k=10"
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as reply:
                    found = json.loads(reply.read())
            except OSError as exc:  # HTTPError included
                failures.append(str(exc))
                continue
            latencies.append(time.perf_counter() - started)
            if len(found) != 10:
                failures.append(f"{len(found)} results")

    workers = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    server.should_exit = True
    thread.join(timeout=10)
    assert not failures, failures[:3]
    assert len(latencies) >= CLIENTS
    print(f"{len(latencies)} requests, p99 {np.percentile(latencies, 99) * 1000:.0f} ms")
