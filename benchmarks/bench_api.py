"""The HTTP API under load: similar-by-id through /api/v1/similar from concurrent clients on loopback,
against the in-process library call (Catalog.similar + passages, what the endpoint runs) measured in the
same run; and a 25-track song path.

--tracks synthetic clustered 1728-d tracks (as bench_search.py) in a real data directory.

    python benchmarks/bench_api.py [--tracks 100000] [--clients 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import clustered, fill_store  # noqa: E402

from storage.catalog import Catalog  # noqa: E402
from storage.search import SearchRequest, SearchService  # noqa: E402
from storage.song_path import song_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    import os

    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        fill_store(data, clustered(args.tracks))
        os.environ["SOUNDALIKE_DATA"] = str(data)
        from app.api import api

        catalog = Catalog.open(data)
        rng = np.random.default_rng(0)
        library = []
        for track_id in rng.integers(1, args.tracks + 1, 200).tolist() * 2:
            started = time.perf_counter()
            SearchService(catalog).by_track(track_id, SearchRequest(10, allow_stale=True))  # with passages
            library.append((time.perf_counter() - started) * 1000)
        library = library[200:]
        paths = []
        for start, end in rng.integers(1, args.tracks + 1, (20, 2)).tolist():
            started = time.perf_counter()
            song_path(catalog, catalog.track(start), catalog.track(end), 25)
            paths.append((time.perf_counter() - started) * 1000)

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        latencies: list[float] = []
        errors: list[str] = []
        stop = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            local = np.random.default_rng(seed)
            while time.monotonic() < stop:
                url = f"http://127.0.0.1:{port}/v1/similar?ids={int(local.integers(1, args.tracks + 1))}&k=10"
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=60) as reply:
                        json.loads(reply.read())
                    latencies.append((time.perf_counter() - started) * 1000)
                except OSError as exc:
                    errors.append(str(exc))

        workers = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        server.should_exit = True
        latencies.sort()
        print(f"{args.tracks} tracks x 1728-d; {args.clients} clients for {args.seconds:.0f} s on loopback, 2 cores")
        print(f"in-process library call (baseline): p50 {statistics.median(library):.1f} ms")
        p50, p99 = statistics.median(latencies), latencies[int(0.99 * len(latencies))]
        rate = len(latencies) / args.seconds
        print(f"API /v1/similar: {len(latencies)} answers, {len(errors)} errors, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"  {rate:.1f} answers/s")
        print(f"song path of 25 tracks (library): p50 {statistics.median(paths):.1f} ms, max {max(paths):.1f} ms")


if __name__ == "__main__":
    main()
