"""Search by words at catalog size: a description's query latency at --tracks synthetic 512-d CLAP tracks (the
text tower of larger_clap_general's published size, random weights: the same work as the real ones), split
into the text tower and the search; a cold `storage.query --text` (a new process: imports, model load, query);
and the text tower's peak memory (a process that loads CLAP and embeds one text, beside one that only
imports what it needs). Baseline in the same run: the same search by a stored track's vector
(SearchService.by_track, what a click on the page asks).

    python benchmarks/bench_words.py [--tracks 100000] [--queries 50]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TEXTS = [
    f"{mood} {genre} with {instrument}"
    for mood in ("calm", "energetic", "sad", "dreamy", "dark")
    for genre in ("jazz", "techno", "folk", "ambient", "rock")
    for instrument in ("piano", "strings")
]


def fill(data: Path, count: int, revision: str) -> None:
    """A real data directory of `count` tracks with clustered unit 512-d CLAP vectors (benchmarks/synthetic.py)."""
    from synthetic import SyntheticCatalog

    from storage.write.store import Store
    from storage.write.sync import FileState, FolderChanges

    store = Store(data)
    folder = store.add_folder(data.parent)
    files = [FileState(f"a{i % 5000}/t{i}.flac", 1, 0.0, f"h{i}") for i in range(count)]
    store.apply_changes(folder, FolderChanges(new=files), "clap")
    row = 0
    for chunk in SyntheticCatalog(count, 512).chunks():
        for v in chunk:
            row += 1
            tags = {"title": f"Song {row}", "artist": f"Artist {row % 5000}"}
            store.save_embedding(row, "clap", revision, tags, v, v[None], np.zeros(1))
    store.rebuild_index("clap")


def percentiles(times: list[float]) -> str:
    return f"p50 {np.percentile(times, 50) * 1e3:6.1f} ms, p99 {np.percentile(times, 99) * 1e3:6.1f} ms"


def peak_mb(load: bool, weights: str) -> float:
    """Peak RSS (MB) of a fresh process that imports the query path and, with `load`, embeds one text. Read
    from /proc's VmHWM, which starts afresh at exec (ru_maxrss keeps the forking parent's peak on Linux)."""
    code = (
        "import re, sys; sys.path.insert(0, sys.argv[1]); import torch, transformers; "
        "from indexer.models import load_embedder\n"
        "if sys.argv[2] == '1': load_embedder('clap', sys.argv[3], device='cpu').embed_texts(['calm piano'])\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), "1" if load else "0", weights], capture_output=True)
    return float(out.stdout.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    from indexer.models.clap.testing import write_random_clap
    from indexer.query_audio import shared_embedder
    from indexer.query_text import text_query
    from storage.read.catalog import Catalog
    from storage.search.request import SearchRequest
    from storage.search.service import SearchService

    with tempfile.TemporaryDirectory() as tmp:
        # A vocabulary in which each of the descriptions' words is one token, as RoBERTa's real one has them.
        words = sorted({w for text in TEXTS for w in text.split()})
        weights = write_random_clap(Path(tmp) / "clap", "base", merges=2000, vocabulary=words)
        embedder = shared_embedder("clap", str(weights), {}, "cpu")
        started = time.perf_counter()
        fill(Path(tmp) / "data", args.tracks, embedder.revision)
        print(
            f"{args.tracks:,} tracks of 512-d CLAP vectors written and indexed in {time.perf_counter() - started:.0f} s"
        )
        catalog = Catalog.open(Path(tmp) / "data", "clap")
        os.environ["SOUNDALIKE_WEIGHTS"] = str(weights)
        service, request = SearchService(catalog), SearchRequest(10, allow_stale=True)
        texts = (TEXTS * (args.queries // len(TEXTS) + 1))[: args.queries]
        text_query(catalog, texts[0], device="cpu")  # warm: the model is loaded once per process
        tower, search, whole, moments, tracks, model = [], [], [], [], [], []
        rng = np.random.default_rng(0)
        for text in texts:
            t = time.perf_counter()
            embedder.embed_texts([text])
            model.append(time.perf_counter() - t)
            t0 = time.perf_counter()
            query = text_query(catalog, text, device="cpu")
            t1 = time.perf_counter()
            service.by_text(query, request)
            t2 = time.perf_counter()
            service.moments(query, request)
            t3 = time.perf_counter()
            service.by_track(int(rng.integers(1, args.tracks + 1)), request)
            t4 = time.perf_counter()
            tower.append(t1 - t0)
            search.append(t2 - t1)
            whole.append(t2 - t0)
            moments.append(t3 - t2)
            tracks.append(t4 - t3)
        tokens = np.mean([embedder.tokenize([t])["input_ids"].shape[1] for t in texts])
        print(
            f"text query ({args.queries} descriptions of {tokens:.0f} tokens, model loaded, "
            f"CPU, {os.cpu_count()} cores):"
        )
        print(f"  whole (words -> 10 tracks)  {percentiles(whole)}   (target: p50 <= 50 ms)")
        print(f"  words -> vector             {percentiles(tower)}")
        print(f"    of which the model        {percentiles(model)}")
        print(f"  search alone                {percentiles(search)}")
        print(f"  moments (after the tower)   {percentiles(moments)}")
        print(f"  baseline: by_track          {percentiles(tracks)}")
        env = {**os.environ, "SOUNDALIKE_DATA": str(Path(tmp) / "data")}
        command = [sys.executable, "-m", "storage.query", "--text", "calm piano with rain", "--json"]
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=ROOT)  # page cache warm
        started = time.perf_counter()
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=ROOT)
        cold = time.perf_counter() - started
        assert len(json.loads(out.stdout)["neighbours"]) == 10
        print(f"cold storage.query --text (new process: imports, model load, query): {cold:.2f} s (target <= 5 s)")
        loaded, bare = peak_mb(True, str(weights)), peak_mb(False, str(weights))
        params = sum(p.numel() for p in embedder.model.text_model.parameters())
        params += sum(p.numel() for p in embedder.model.text_projection.parameters())
        print(
            f"memory: a process with CLAP loaded and one text embedded peaks at {loaded:.0f} MB RSS, "
            f"{loaded - bare:.0f} MB above torch + transformers alone ({bare:.0f} MB); "
            f"the text tower is {params / 1e6:.0f}M parameters ({params * 4 / 2**20:.0f} MB fp32)"
        )
        print(f"(this process: peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
