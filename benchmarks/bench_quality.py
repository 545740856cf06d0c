"""Quality on real music: do the nearest tracks come from the query's own soundtrack?

A catalog of four free game soundtracks from Debian's archive (tests/real_data.py: four composers, 93
tracks; the soundtrack is the label, as a folder of a real library is). For each system, leave-one-out over
every track: precision@10 and MAP@10 by label (chance: about 0.24), and the skewness of the 5-occurrence
(how often each track turns up in the others' five nearest: hubs make it large). Every model goes through
the real indexer (`indexer build`) and the product's search (storage.search.service, with and without CSLS), beside
two real peers on the same files in the same run: bliss (bliss-audio, bliss-rs's 23 features, Euclidean)
and Musly (pymusly, libmusly's timbre model with mutual proximity). Then, for MusiCNN, which vector: the
`penultimate` layer (after ReLU and batch norm) or the dense layer before its ReLU, each with raw or centred
cosines. MULE runs with random weights (the real ones cannot be downloaded here): its row is the floor.

    pip install -e '.[bench]'   # bliss-audio, pymusly
    python benchmarks/bench_quality.py [--excerpt 0] [--skip-mule] [--skip-peers]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.audio import decode  # noqa: E402
from indexer.build import BuildOptions, build_catalog  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.request import SearchRequest  # noqa: E402
from storage.search.service import SearchService  # noqa: E402
from tests import real_data  # noqa: E402

K = 10


def catalog_folder(root: Path, excerpt: float) -> tuple[list[Path], np.ndarray]:
    """The soundtracks linked (or, with `excerpt`, cut) into `root/<soundtrack>/`; files and labels."""
    import soundfile as sf

    files, labels = [], []
    for package, found in real_data.soundtracks(real_data.BENCH_SOUNDTRACKS).items():
        for i, path in enumerate(found):
            target = root / package / f"{i:03d}{path.suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if excerpt:
                wave = decode(path, 22050)
                start = max(0, (wave.size - int(excerpt * 22050)) // 2)
                target = target.with_suffix(".flac")
                sf.write(target, wave[start : start + int(excerpt * 22050)], 22050)
            else:
                target.symlink_to(path)
            files.append(target)
            labels.append(package)
    return files, np.array(labels)


def scores(neighbours: list[list[int]], labels: np.ndarray) -> tuple[float, float, float]:
    """(precision@10, MAP@10, skewness of the 5-occurrence) of each query's ranked neighbours (row numbers)."""
    precision, average = [], []
    occurrence = np.zeros(len(labels))
    for query, found in enumerate(neighbours):
        relevant = labels[found[:K]] == labels[query]
        total = int((labels == labels[query]).sum()) - 1
        precision.append(relevant.mean() if len(relevant) else 0.0)
        hits = np.cumsum(relevant) / np.arange(1, len(relevant) + 1)
        average.append(float((hits * relevant).sum() / max(1, min(total, K))))
        occurrence[found[:5]] += 1
    centred = occurrence - occurrence.mean()
    skew = float((centred**3).mean() / max(1e-12, occurrence.std() ** 3))
    return float(np.mean(precision)), float(np.mean(average)), skew


def ranked(distance: np.ndarray) -> list[list[int]]:
    """Each row's other rows, nearest first (a distance matrix: smaller is nearer)."""
    d = distance.astype(np.float64).copy()
    np.fill_diagonal(d, np.inf)
    return [list(np.argsort(row, kind="stable")[:K]) for row in d]


def model_rows(data: Path, files: list[Path], labels: np.ndarray, model: str) -> list[tuple[str, tuple, float]]:
    """The product's answers for every track, plain and with CSLS."""
    catalog = Catalog.open(data, model)
    service = SearchService(catalog)
    root = files[0].parents[1]
    track_ids = [catalog.resolve(f.relative_to(root).as_posix()).id for f in files]
    row_of = {track_id: row for row, track_id in enumerate(track_ids)}
    out = []
    for rerank in (None, "csls"):
        started = time.perf_counter()
        request = SearchRequest(K, rerank=rerank, passages=False)
        lists = [[row_of[n.track.id] for n in service.by_track(t, request).neighbours] for t in track_ids]
        out.append((rerank or "-", scores(lists, labels), time.perf_counter() - started))
    return out


def build(files: list[Path], data: Path, model: str, weights: str | None, **options: str) -> float:
    started = time.perf_counter()
    opts = BuildOptions(model=model, weights=weights, model_options=options, progress=False, workers=2)
    report = build_catalog(files[0].parents[1], data, opts)
    assert report.indexed == len(files), report.failed
    return report.audio_seconds / (time.perf_counter() - started)


def decoded_copies(files: list[Path]) -> list[Path]:
    """Each file decoded by our decoder into a 22.05 kHz mono FLAC outside the catalog (what bliss analyses):
    bliss-audio 0.2.0's bundled FFmpeg cannot open every file here (one of hyperrogue's ogg files), and both
    sides should hear the same audio."""
    import soundfile as sf

    copies = []
    for f in files:
        copy = f.parents[2] / "peer-copies" / f.parent.name / f"{f.stem}.flac"
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            sf.write(copy, decode(f, 22050), 22050)
        copies.append(copy)
    return copies


def peers(files: list[Path], labels: np.ndarray) -> list[tuple[str, tuple, float]]:
    rows = []
    try:
        import bliss_audio
    except ImportError:
        print("  bliss: not installed (pip install -e '.[bench]')")
    else:
        started = time.perf_counter()
        features = np.array([bliss_audio.Song(str(f)).analysis for f in decoded_copies(files)], np.float64)
        seconds = time.perf_counter() - started
        distance = np.linalg.norm(features[:, None] - features[None], axis=2)
        rows.append(("bliss (23 features, Euclidean)", scores(ranked(distance), labels), seconds))
    try:
        import pymusly
    except ImportError:
        print("  Musly: not installed (pip install -e '.[bench]')")
    else:
        started = time.perf_counter()
        box = pymusly.MuslyJukebox("timbre")
        tracks = [box.track_from_audiodata(decode(f, 22050).tolist()) for f in files]
        box.set_style(tracks)
        box.add_tracks(list(enumerate(tracks)))
        distance = np.array([box.compute_similarity((i, t), list(enumerate(tracks))) for i, t in enumerate(tracks)])
        seconds = time.perf_counter() - started
        rows.append(("Musly (timbre, mutual proximity)", scores(ranked(distance), labels), seconds))
    return rows


def musicnn_layers(files: list[Path], labels: np.ndarray, wheel: Path) -> list[tuple[str, tuple, float]]:
    """Which 200-d vector: `penultimate` or the dense layer before its ReLU; raw or centred cosines."""
    from indexer.models import load_embedder

    rows = []
    for variant in ("msd", "mtt"):
        embedder = load_embedder("musicnn", str(wheel), device="cpu", variant=variant, loudness="none")
        captured: list[np.ndarray] = []
        hook = embedder.network.dense.register_forward_hook(
            lambda m, i, o, out=captured: out.append(o.detach().numpy())
        )
        penultimate, bias_add = [], []
        for f in files:
            captured.clear()
            done = embedder.embed([decode(f, 16000)])[0]
            penultimate.append(done.vector)
            bias_add.append(np.concatenate(captured).mean(0))
        hook.remove()
        for name, vectors in (("penultimate", penultimate), ("dense before ReLU", bias_add)):
            for centre in (False, True):
                v = np.array(vectors, np.float64)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                if centre:
                    v -= v.mean(0)
                    v /= np.linalg.norm(v, axis=1, keepdims=True)
                cos = v @ v.T
                label = f"MusiCNN {variant.upper()} {name}, {'centred' if centre else 'raw'} cosine"
                rows.append((label, scores(ranked(-cos), labels), 0.0))
    return rows


def show(rows: list[tuple[str, tuple, float]], width: int = 52) -> None:
    for name, (p10, map10, skew), seconds in rows:
        timing = f"  {seconds:7.1f} s" if seconds else ""
        print(f"  {name:{width}s} P@10 {p10:.3f}  MAP@10 {map10:.3f}  skew(N5) {skew:5.2f}{timing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--excerpt", type=float, default=0.0, help="seconds from the middle of each track (0: all)")
    parser.add_argument("--skip-mule", action="store_true", help="leave out random-weight MULE (slowest)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-models", action="store_true", help="only the peers and MusiCNN's layers")
    parser.add_argument("--skip-layers", action="store_true", help="leave out the comparison of MusiCNN's layers")
    args = parser.parse_args()
    wheel = real_data.musicnn_wheel()
    with tempfile.TemporaryDirectory(prefix="soundalike-quality-") as tmp:
        files, labels = catalog_folder(Path(tmp) / "catalog", args.excerpt)
        counts = {str(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True), strict=True)}
        chance = float(np.mean([(counts[label] - 1) / (len(labels) - 1) for label in labels]))
        print(f"{len(files)} tracks of {len(counts)} soundtracks {counts}; chance precision {chance:.3f}")
        systems: list[tuple[str, str, str | None, dict[str, str]]] = [
            ("MusiCNN MSD", "musicnn", str(wheel), {"variant": "msd"}),
            ("MusiCNN MTT", "musicnn", str(wheel), {"variant": "mtt"}),
            ("MusiCNN MSD loudness-normalised", "musicnn", str(wheel), {"variant": "msd", "loudness": "r128"}),
            ("MusiCNN MTT loudness-normalised", "musicnn", str(wheel), {"variant": "mtt", "loudness": "r128"}),
        ]
        if args.skip_models:
            systems = []
        elif not args.skip_mule:
            from indexer.models.mule.testing import write_random_mule

            systems.append(("MULE, random weights", "mule", str(write_random_mule(Path(tmp) / "mule")), {}))
        for name, model, weights, options in systems:
            data = Path(tmp) / f"data-{name.replace(' ', '-').replace(',', '')}"
            speed = build(files, data, model, weights, **options)
            print(f"{name} (indexer build: {speed:.0f}x real time)")
            show([(f"  rerank {r}", s, t) for r, s, t in model_rows(data, files, labels, model)], 50)
        if not args.skip_peers:
            print("peers on the same files")
            show(peers(files, labels))
        if not args.skip_layers:
            print("MusiCNN: which vector (the embedder alone; cosines over every pair)")
            show(musicnn_layers(files, labels, wheel))


if __name__ == "__main__":
    main()
