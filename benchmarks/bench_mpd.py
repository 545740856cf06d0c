"""MPD radio at catalog size: the time from "the queue ran low" to "the tracks are appended", against a real
MPD (Debian's `mpd`, null output) over a synthetic catalog of --tracks clustered 1728-d tracks whose files
are symlinks to one short FLAC (MPD indexes them all). Each round the listener clears the queue, queues one
track and plays it; the clock runs from that `play` until MPD's queue holds --keep tracks after it. Beside
it, in the same run, the baseline: --keep plain nearest-neighbour searches (SearchService.by_vector), the
least any radio must do per top-up.

    python benchmarks/bench_mpd.py [--tracks 100000] [--keep 5] [--rounds 20]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import clustered, fill_store  # noqa: E402

from app.mpd_radio import MpdAddress, MpdRadio, TrackMap  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.request import SearchRequest, VectorQuery
from storage.search.service import SearchService  # noqa: E402
from tests.mpd_server import MpdServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--keep", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("mpd") is None:
        sys.exit("needs MPD: apt-get install mpd")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp) / "music"
        data = music / "data"
        music.mkdir()
        started = time.perf_counter()
        fill_store(data, clustered(args.tracks))  # files music/a{i % 5000}/t{i}.flac
        import soundfile as sf

        clip = Path(tmp) / "clip.flac"
        sf.write(clip, 0.1 * np.sin(np.linspace(0, 2000, 2 * 22050)).astype(np.float32), 22050)
        for i in range(args.tracks):
            link = music / f"a{i % 5000}" / f"t{i}.flac"
            link.parent.mkdir(exist_ok=True)
            os.symlink(clip, link)
        print(f"{args.tracks} tracks stored and linked in {time.perf_counter() - started:.0f} s")

        server = MpdServer(music, Path(tmp) / "mpd")
        server.start()
        try:
            c = server.client()
            started = time.perf_counter()
            c.update()
            while "updating_db" in c.status():
                time.sleep(0.5)
            print(f"MPD indexed {c.stats()['songs']} songs in {time.perf_counter() - started:.0f} s")

            catalog = Catalog.open(data)
            address = MpdAddress("127.0.0.1", server.port)
            radio = MpdRadio(catalog, address, TrackMap(catalog, music), keep=args.keep)
            runner = threading.Thread(target=radio.run, daemon=True)
            runner.start()
            rng = np.random.default_rng(0)
            latencies = []
            for _ in range(args.rounds + 1):
                c.clear()
                i = int(rng.integers(0, args.tracks))
                c.add(f"a{i % 5000}/t{i}.flac")
                time.sleep(0.3)  # the radio sees a fresh queue of one
                started = time.perf_counter()
                c.play(0)
                c.pause(1)
                while len(c.playlistinfo()) < 1 + args.keep:
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - started)
            latencies = latencies[1:]  # the first round loads the catalog's file names
            radio.stop.set()
            runner.join(10)

            service = SearchService(catalog)
            searches = []
            for track_id in rng.integers(1, args.tracks + 1, args.rounds).tolist():
                vector = catalog.vector(track_id)
                started = time.perf_counter()
                for _ in range(args.keep):
                    service.by_vector(VectorQuery(vector), SearchRequest(30, allow_stale=True, passages=False))
                searches.append(time.perf_counter() - started)
        finally:
            server.stop()
    p50, worst = statistics.median(latencies), max(latencies)
    base = statistics.median(searches)
    print(f"{args.rounds} rounds, --keep {args.keep}, {os.cpu_count()} cores")
    print(f"queue ran low -> {args.keep} tracks appended: p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms "
          f"(target <= 1000 ms)")  # fmt: skip
    print(f"{args.keep} plain searches of 30 (baseline, same run): p50 {base * 1000:.0f} ms; ratio {p50 / base:.2f}x")


if __name__ == "__main__":
    main()
