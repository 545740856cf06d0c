"""The HTTP API under load: similar-by-id through /api/v1/similar from concurrent clients on loopback,
against `indexer serve` with 1 worker and with --workers (default 2) in the same run, beside the in-process
library call (SearchService.by_track with passages, what the endpoint runs); and a 25-track song path.

--tracks synthetic clustered 1728-d tracks (as bench_search.py) in a real data directory. The clients are
threads of this process, so on a small machine they take a share of the cores the servers use.

    python benchmarks/bench_api.py [--tracks 100000] [--clients 50] [--seconds 30] [--workers 2] [--index ivf]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
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

from storage.read.catalog import Catalog  # noqa: E402
from storage.search.request import SearchRequest
from storage.search.service import SearchService  # noqa: E402
from storage.search.song_path import song_path  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(url: str, tracks: int, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    """Latencies (ms, sorted) and errors of `clients` threads asking for 10 neighbours for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        local = np.random.default_rng(seed)
        while time.monotonic() < stop:
            ask = f"{url}/api/v1/similar?ids={int(local.integers(1, tracks + 1))}&k=10"
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(ask, timeout=60) as reply:
                    json.loads(reply.read())
                latencies.append((time.perf_counter() - started) * 1000)
            except OSError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), errors


def served(data: Path, workers: int, args: argparse.Namespace) -> tuple[float, float, float, int]:
    """(answers/s, p50 ms, p99 ms, errors) of `indexer serve --workers N`, warmed first."""
    port = free_port()
    command = [sys.executable, "-m", "indexer.commands.main", "serve", "--data-dir", str(data), "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        load(url, args.tracks, args.clients, 5.0)  # every worker opens its indexes
        latencies, errors = load(url, args.tracks, args.clients, args.seconds)
    finally:
        process.terminate()
        process.wait(30)
    p50, p99 = statistics.median(latencies), latencies[int(0.99 * len(latencies))]
    return len(latencies) / args.seconds, p50, p99, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--index", choices=["auto", "ivf"], default="auto", help="ivf: the IVF index even below its size (exact)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        fill_store(data, clustered(args.tracks))
        if args.index == "ivf":
            from storage.write.store import Store

            Store(data).rebuild_index("mule", exact_max=0)
        os.environ["SOUNDALIKE_DATA"] = str(data)
        catalog = Catalog.open(data)
        service = SearchService(catalog)
        rng = np.random.default_rng(0)
        library = []
        for track_id in rng.integers(1, args.tracks + 1, 200).tolist() * 2:
            started = time.perf_counter()
            service.by_track(track_id, SearchRequest(10, allow_stale=True))  # with passages, as the endpoint
            library.append((time.perf_counter() - started) * 1000)
        library = library[200:]
        paths = []
        for start, end in rng.integers(1, args.tracks + 1, (20, 2)).tolist():
            started = time.perf_counter()
            song_path(catalog, catalog.track(start), catalog.track(end), 25)
            paths.append((time.perf_counter() - started) * 1000)

        print(f"{args.tracks} tracks x 1728-d; {args.clients} clients for {args.seconds:.0f} s on loopback, "
              f"{os.cpu_count()} cores")  # fmt: skip
        print(f"{catalog.index().meta.kind} index; in-process library call: p50 {statistics.median(library):.1f} ms")
        one = served(data, 1, args)
        many = served(data, args.workers, args)
        for workers, (rate, p50, p99, errors) in ((1, one), (args.workers, many)):
            print(
                f"indexer serve --workers {workers}: {rate:.1f} answers/s, {errors} errors, "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
            )
        print(f"--workers {args.workers} vs 1 worker (baseline, same run): {many[0] / one[0]:.2f}x answers/s")
        print(f"song path of 25 tracks (library): p50 {statistics.median(paths):.1f} ms, max {max(paths):.1f} ms")


if __name__ == "__main__":
    main()
