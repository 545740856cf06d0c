"""The page's lookup of a track's neighbours against an earlier commit, in the same run, on the same data
directory: how fast it is, and what one lookup and one page query cost in database sessions.

A git worktree of `--baseline` (default dcc21d9: the last commit before the layers and the one question type,
issue 41) is made beside this checkout; each code base answers in its own subprocess with the same data
directory (the schema did not change). Sessions are counted by SQLAlchemy's `after_begin` event (a session that
reads anything begins once), during one lookup, during one run of the page script (AppTest) with a track as its
query, and during one run without a query (the landing alone): their difference is what the query costs.

    python benchmarks/bench_redesign.py [--tracks 100000] [--queries 50] [--baseline dcc21d9]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_search import clustered, fill_store  # noqa: E402

# Runs inside each code base (its checkout first on sys.path): prints JSON with its figures.
PROBE = r"""
import json, os, sys, time
import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

begun = [0]
event.listen(Session, "after_begin", lambda *args: begun.__setitem__(0, begun[0] + 1))

try:  # the layers (storage.read, storage.search.service, storage.search.request)
    from storage.read.catalog import Catalog
    from storage.search.request import SearchRequest
    from storage.search.service import SearchService
except ImportError:  # one flat storage package
    from storage.catalog import Catalog
    from storage.search import SearchRequest, SearchService
from app.queries import Query, ask

catalog = Catalog.open(os.environ["SOUNDALIKE_DATA"])
service = SearchService(catalog)
lookup = lambda t: ask(service, Query(track=catalog.track(t)), SearchRequest(10))

picks = [int(i) for i in np.random.default_rng(2).integers(1, int(sys.argv[2]) + 1, int(sys.argv[3]))]
for t in picks:  # warm: the index loaded, the page cache filled
    lookup(t)
times = []
for t in picks:
    start = time.perf_counter()
    lookup(t)
    times.append(time.perf_counter() - start)
begun[0] = 0
lookup(picks[0])
per_lookup = begun[0]

from streamlit.testing.v1 import AppTest

def page_sessions(track):
    at = AppTest.from_file(os.path.join(sys.argv[1], "app", "find_similar.py"), default_timeout=120)
    if track is not None:
        at.session_state["query_track"], at.session_state["query_source"] = track, "track"
    at.run()  # a first run loads what the page caches; the second is what a person's query costs
    begun[0] = 0
    at.run()
    assert not at.exception, at.exception
    return begun[0]

print(json.dumps({
    "p50_ms": float(np.percentile(times, 50) * 1e3),
    "p99_ms": float(np.percentile(times, 99) * 1e3),
    "lookup_sessions": per_lookup,
    "page_with_query": page_sessions(picks[0]),
    "page_without_query": page_sessions(None),
}))
"""


def worktree(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref], check=True,
                   capture_output=True)  # fmt: skip
    return where


def probe(code: Path, data: Path, tracks: int, queries: int) -> dict:
    env = {**os.environ, "SOUNDALIKE_DATA": str(data), "PYTHONPATH": str(code)}
    env.pop("SOUNDALIKE_DB_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(code), str(tracks), str(queries)],
        env=env,
        cwd=code,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--baseline", default="dcc21d9", help="the commit to compare with (before issue 41)")
    parser.add_argument("--keep", type=Path, help="keep the filled data directory here (reused when it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soundalike-redesign-") as tmp:
        data = args.keep or Path(tmp) / "data"
        if not (data / "soundalike.db").exists():
            vectors = clustered(args.tracks)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            fill_store(data, vectors)
        before = worktree(args.baseline, Path(tmp) / "before")
        try:
            rows = {}
            for _ in range(2):  # alternated twice: a noisy machine hits both alike
                for name, code in (("before", before), ("after", ROOT)):
                    found = probe(code, data, args.tracks, args.queries)
                    rows.setdefault(name, []).append(found)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
    best = {name: min(runs, key=lambda r: r["p50_ms"]) for name, runs in rows.items()}
    print(f"{args.tracks:,} tracks, {args.queries} lookups; baseline {args.baseline}")
    for name in ("before", "after"):
        r = best[name]
        query_cost = r["page_with_query"] - r["page_without_query"]
        print(
            f"  {name:6s} neighbours of a track p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; "
            f"sessions: {r['lookup_sessions']} per lookup, page run {r['page_with_query']} with a query "
            f"({query_cost} for the query), {r['page_without_query']} without"
        )
    ratio = best["after"]["p50_ms"] / best["before"]["p50_ms"]
    print(f"  after / before p50: {ratio:.2f}x (below 1: faster)")


if __name__ == "__main__":
    main()
