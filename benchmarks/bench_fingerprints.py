"""Duplicates, other versions and passage edges on real music with MusiCNN's real weights (issue 29).

The catalog of tests/real_variants.py (soundtrack excerpts, FFmpeg variants, remasters, planted passages;
larger here), built by the real indexer with --model musicnn. Prints:
- duplicates: recall over the variants (each grouped with its original), pairs of different tracks grouped
  (precision), remasters labelled other version; the embedding cosine of each variant kind to its original
  (why no embedding threshold can do this);
- passages: edge and offset errors on the planted pairs for the fixed 30-s window (the commit before),
  the embedding alignment alone, and the alignment with fingerprint edges (what queries use);
- speed: fingerprinting's share of a build (same files, with and without), duplicate lookup at --tracks
  synthetic fingerprints, passage alignment for 10 results against the fixed window, in the same run.

    python benchmarks/bench_fingerprints.py [--work /tmp/bench-fingerprints] [--tracks 100000]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.build import BuildOptions, build_catalog  # noqa: E402
from storage.core.passages import Passage, Timeline, best_passage, cosines  # noqa: E402
from storage.index.vectors import normalise  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.recordings.fingerprints import Fingerprint, FingerprintIndex, compare  # noqa: E402
from storage.recordings.groups import group_of, read_fingerprints  # noqa: E402
from storage.recordings.passage_edges import refine  # noqa: E402
from storage.search.request import SearchRequest
from storage.search.service import SearchService  # noqa: E402
from tests import real_data  # noqa: E402
from tests.real_variants import VARIANTS, VariantCatalog, make_catalog  # noqa: E402


def fixed_window(query: Timeline, other: Timeline, seconds: float = 30.0) -> Passage:
    """The matched passage before alignment (commit 638ea07): the best run of a fixed 30 s."""
    similarity = cosines(query.vectors, other.vectors)
    n, m = similarity.shape
    length = min(max(1, int(round(seconds / query.hop))), n, m)
    contrast = similarity - similarity.mean(1, keepdims=True) - similarity.mean(0, keepdims=True)
    runs = np.zeros((n - length + 1, m - length + 1), np.float32)
    for step in range(length):
        runs += contrast[step : n - length + 1 + step, step : m - length + 1 + step]
    i, j = np.unravel_index(int(np.argmax(runs)), runs.shape)
    end_q = min(float(query.starts[i + length - 1]) + query.hop, query.duration or 1e9)
    end_o = min(float(other.starts[j + length - 1]) + other.hop, other.duration or 1e9)
    return Passage(float(query.starts[i]), end_q, float(other.starts[j]), end_o, 0.0)


def build(work: Path, originals: int, mixes: int) -> tuple[Catalog, VariantCatalog]:
    wheel = real_data.musicnn_wheel()
    made = make_catalog(real_data.soundtracks(), work / "music", originals=originals, mixes=mixes)
    options = BuildOptions(model="musicnn", weights=str(wheel), workers=2, progress=False)
    report = build_catalog(work / "music", work / "data", options)
    print(f"built {report.indexed} tracks in {report.elapsed:.1f} s ({report.audio_seconds / 60:.0f} min of audio)")
    return Catalog.open(work / "data", "musicnn"), made


def duplicates(catalog: Catalog, made: VariantCatalog) -> None:
    paths = [*made.originals, *made.variants, *made.remasters, *(p.mix for p in made.planted)]
    ids = {p: catalog.resolve(p).id for p in paths}
    with catalog.reading() as s:
        groups = group_of(s, list(ids.values()))
    copy = {p: groups[i][1] for p, i in ids.items()}
    recording = {p: groups[i][0] for p, i in ids.items()}
    grouped = sum(copy[v] == copy[o] for v, o in made.variants.items())
    distinct = [*made.originals, *made.remasters, *(p.mix for p in made.planted)]
    merged = sum(copy[a] == copy[b] for a, b in itertools.combinations(distinct, 2))
    versions = sum(recording[r] == recording[o] and copy[r] != copy[o] for r, o in made.remasters.items())
    print(f"duplicates: {grouped}/{len(made.variants)} variants grouped with their original (recall)")
    print(f"            {merged} of {len(distinct) * (len(distinct) - 1) // 2} pairs of different tracks grouped")
    print(f"            {versions}/{len(made.remasters)} remasters: the same recording on another master")
    with catalog.reading() as s:
        prints = read_fingerprints(s, list(ids.values()))
    for kind in [*VARIANTS, "remaster"]:
        pairs = [(v, o) for v, o in {**made.variants, **made.remasters}.items() if kind in v]
        errors = [b.error for v, o in pairs for b in compare(prints[ids[o]], prints[ids[v]]).blocks]
        print(f"  matched blocks' bit error rate, {kind:12s} {min(errors):.3f}-{max(errors):.3f}")
    audio = {o: o for o in made.originals} | made.remasters | {p.mix: p.donor for p in made.planted}  # whose
    unrelated = [(a, b) for a, b in itertools.combinations(distinct, 2) if audio[a] != audio[b]]
    stray = [x.error for a, b in unrelated for x in compare(prints[ids[a]], prints[ids[b]]).blocks]
    shown = ", ".join(f"{e:.3f}" for e in sorted(stray))
    print(f"  blocks matched between tracks that share no audio: {len(stray)} in {len(unrelated)} pairs ({shown})")
    index = catalog.index()
    unit = {p: normalise(catalog.vector(ids[p])[None])[0] for p in paths}
    for kind in [*VARIANTS, "remaster"]:
        pairs = [(v, o) for v, o in {**made.variants, **made.remasters}.items() if kind in v]
        cos = [float(unit[v] @ unit[o]) for v, o in pairs]
        print(f"  cosine to the original, {kind:12s} {min(cos):.3f}-{max(cos):.3f} (raw MusiCNN vectors)")
    index_unit = {p: index.prepare(catalog.vector(ids[p])[None])[0] for p in paths}  # the index's own space
    service = SearchService(catalog)
    for name, pairs in (("copies", made.variants), ("remasters", made.remasters)):
        near = service.closeness([float(index_unit[v] @ index_unit[o]) for v, o in pairs.items()])
        shown = [c for c in near if c is not None]
        print(f"  closeness to the original, {name}: {min(shown):.1f}-{max(shown):.1f}% of pairs further apart")
    different = [float(unit[a] @ unit[b]) for a, b in itertools.combinations(made.originals, 2)]
    print(f"  cosine between different originals: up to {max(different):.3f}; index centred: {index.meta.params}")


def passages(catalog: Catalog, made: VariantCatalog) -> None:
    service = SearchService(catalog)
    signed_errors: list[tuple[float, float]] = []
    errors: dict[str, list[tuple[float, float]]] = {"fixed 30-s window": [], "alignment": [], "with fingerprints": []}
    for planted in made.planted:
        donor, mix = catalog.resolve(planted.donor), catalog.resolve(planted.mix)
        query = catalog.comparable(catalog.timeline(donor))
        other = catalog.timelines([mix.id])[mix.id]
        with catalog.reading() as s:
            prints = read_fingerprints(s, [donor.id, mix.id])
        aligned = best_passage(query, other)
        found = {
            "fixed 30-s window": fixed_window(query, other),
            "alignment": aligned,
            "with fingerprints": refine(aligned, prints.get(donor.id), prints.get(mix.id)),
        }
        truth = (planted.query_start, planted.query_end, planted.start, planted.end)
        for name, p in found.items():
            edge = max(abs(a - b) for a, b in zip((p.query_start, p.query_end, p.start, p.end), truth, strict=True))
            errors[name].append((edge, abs(p.offset - (planted.start - planted.query_start))))
            if name == "with fingerprints":
                signed_errors.append((p.query_start - planted.query_start, p.query_end - planted.query_end))
    signed = np.array(signed_errors)
    print(f"fingerprint edges, mean signed error: start {signed[:, 0].mean():+.2f} s, end {signed[:, 1].mean():+.2f} s")
    for name, pairs in errors.items():
        hits = sum(e <= 2.0 and o <= 1.0 for e, o in pairs)
        edges = sorted(e for e, _ in pairs)
        print(
            f"passages, {name:18s}: {hits}/{len(pairs)} within the issue's tolerances; worst edge error median "
            f"{statistics.median(edges):.1f} s, max {edges[-1]:.1f} s; offset error median "
            f"{statistics.median(o for _, o in pairs):.2f} s"
        )
    firsts = 0
    for p in made.planted:
        found = service.by_passage(catalog.resolve(p.donor), p.query_start, p.query_end, SearchRequest(3))
        firsts += found.neighbours[0].track.path == p.mix
        if found.neighbours[0].track.path != p.mix:
            shown = [(n.track.path, round(n.score, 3)) for n in found.neighbours]
            print(f"  {p.donor} {p.query_start:.1f}-{p.query_end:.1f} s -> {shown}, not {p.mix}")
    print(f"search by passage: the mix first for {firsts}/{len(made.planted)} planted regions")


def speed_build(work: Path) -> None:
    """The same files built with and without fingerprints (fresh data directories), same run."""
    import indexer.build as build_module
    import indexer.engine_steps as steps

    wheel = real_data.musicnn_wheel()
    music = work / "music" / "originals"
    options = BuildOptions(model="musicnn", weights=str(wheel), workers=2, progress=False)
    times = {}
    real_print, real_available = steps.fingerprint, build_module.chromaprint_available
    for attempt in range(2):
        for name in ("without", "with"):
            data = work / f"speed-{name}-{attempt}"
            shutil.rmtree(data, ignore_errors=True)  # a fresh data directory: the whole build, every time
            if name == "without":
                steps.fingerprint = lambda wave, rate: None  # type: ignore[assignment]
                build_module.chromaprint_available = lambda: False  # type: ignore[assignment]
            started = time.perf_counter()
            build_catalog(music, data, options)
            times.setdefault(name, []).append(time.perf_counter() - started)
            steps.fingerprint, build_module.chromaprint_available = real_print, real_available
    with_, without = min(times["with"]), min(times["without"])
    share = 100 * (with_ / without - 1)
    print(f"build (musicnn, {music}): with fingerprints {with_:.1f} s, without {without:.1f} s: {share:+.1f}%")


def speed_lookup(catalog: Catalog, made: VariantCatalog, tracks: int) -> None:
    """Duplicate lookup for an outside file among `tracks` random 4-min fingerprints and the catalog's real
    ones: the index's candidates, then each compared in full (what storage.recordings.groups.matches does,
    less reading the candidates' rows: one query). Files with one copy in the catalog, and with seven."""
    with catalog.reading() as s:
        ids = {t.path: t.id for t in catalog.all_tracks()}
        real = read_fingerprints(s, list(ids.values()))
    rng = np.random.default_rng(0)
    items = {i: rng.integers(0, 2**32, 1940, dtype=np.uint64).astype(np.uint32) for i in range(10**6, 10**6 + tracks)}
    items.update({i: f.items for i, f in real.items()})
    started = time.perf_counter()
    index = FingerprintIndex({i: Fingerprint(v, np.zeros(0, np.float32)).keys() for i, v in items.items()})
    print(f"fingerprint index of {len(items):,} tracks built in memory in {time.perf_counter() - started:.1f} s")
    with_copies = set(made.variants.values()) | set(made.variants)
    groups = {
        "one copy in the catalog": [
            ids[p] for p in made.originals if p not in with_copies and p not in made.remasters.values()
        ],
        "seven copies in the catalog": [ids[p] for p in made.variants],
    }
    for name, queries in groups.items():
        times, found = [], []
        for track in queries * 5:
            query = real[track]
            started = time.perf_counter()
            hits = [c for c in index.candidates(query.keys(), 20) if compare(query, items[c]).same_recording]
            times.append(time.perf_counter() - started)
            found.append(len(hits))
        p50, p90 = 1000 * statistics.median(times), 1000 * float(np.quantile(times, 0.9))
        shown = f"p50 {p50:.2f} ms, p90 {p90:.2f} ms (found {statistics.median(found):.0f})"
        print(f"duplicate lookup among {len(items):,} fingerprints, {name}: {shown}")


def speed_passages(catalog: Catalog) -> None:
    """Passages for 10 results: the alignment (with fingerprint edges) against the fixed window, same pairs."""
    tracks = [t.id for t in catalog.all_tracks()]
    timelines = catalog.timelines(tracks)
    with catalog.reading() as s:
        prints = read_fingerprints(s, tracks)
    query_ids = tracks[:20]
    for name in ("fixed 30-s window", "alignment", "alignment + fingerprint edges"):
        times = []
        for q in query_ids:
            query = catalog.comparable(timelines[q])
            others = [t for t in tracks if t != q][:10]
            started = time.perf_counter()
            for o in others:
                if name.startswith("fixed"):
                    fixed_window(query, timelines[o])
                elif name == "alignment":
                    best_passage(query, timelines[o])
                else:
                    refine(best_passage(query, timelines[o]), prints.get(q), prints.get(o))
            times.append(time.perf_counter() - started)
        print(f"passages for 10 results in memory, {name}: p50 {1000 * statistics.median(times):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-fingerprints"))
    parser.add_argument("--originals", type=int, default=10, help="per soundtrack")
    parser.add_argument("--mixes", type=int, default=20)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--skip-build-speed", action="store_true")
    args = parser.parse_args()
    if (args.work / "data").exists():
        catalog = Catalog.open(args.work / "data", "musicnn")
        made = make_catalog(real_data.soundtracks(), args.work / "music", originals=args.originals, mixes=args.mixes)
    else:
        catalog, made = build(args.work, args.originals, args.mixes)
    duplicates(catalog, made)
    passages(catalog, made)
    speed_passages(catalog)
    speed_lookup(catalog, made, args.tracks)
    if not args.skip_build_speed:
        speed_build(args.work)


if __name__ == "__main__":
    main()
