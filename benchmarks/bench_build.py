"""`indexer build` end to end vs the naive loop a user would write, same catalog, same run; and the
MusiCNN build against the MULE build on the same files (decode included).

Baseline: for each file, librosa.load(sr=16000, mono=True), then mule-torch on it.
Both use the same random-weight checkpoint in the published format. The catalog is
generated: mixed formats (wav, flac, ogg, mp3, aiff), lengths spread over --min/--max seconds.
MusiCNN runs with random weights in the wheel's layout (its speed does not depend on the values).

    python benchmarks/bench_build.py [--tracks 12] [--min 30] [--max 120] [--device auto] [--skip-naive]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.build import BuildOptions, build_catalog  # noqa: E402
from indexer.models.mule.embedder import MuleEmbedder  # noqa: E402
from indexer.models.mule.testing import write_random_mule as write_random_checkpoint  # noqa: E402
from tests.audio_files import SOUNDFILE_FORMATS, write_audio  # noqa: E402

# Formats librosa reads without an ffmpeg binary, so the baseline can load every file.
FORMATS = list(SOUNDFILE_FORMATS)


def make_catalog(root: Path, n: int, low: float, high: float) -> float:
    lengths = np.linspace(low, high, n)
    for i, seconds in enumerate(lengths):
        write_audio(root / f"track {i:03d}{FORMATS[i % len(FORMATS)]}", float(seconds), seed=i)
    return float(lengths.sum())


def naive_loop(root: Path, ckpt: Path, device: torch.device) -> int:
    import librosa
    from mule_torch import MuleModel

    model = MuleModel.from_pretrained(model_dir=ckpt).to(device)
    done = 0
    with torch.inference_mode():
        for path in sorted(root.iterdir()):
            wave, _ = librosa.load(str(path), sr=16000, mono=True)
            model(torch.from_numpy(wave * 0.5)[None].to(device))
            done += 1
    return done


def musicnn_build(tmp_path: Path, options: BuildOptions, device: str, tracks: int) -> float:
    """Seconds for `indexer build --model musicnn` of the same catalog into its own data directory."""
    from dataclasses import replace

    from indexer.models.musicnn.testing import write_random_musicnn

    weights = write_random_musicnn(tmp_path / "musicnn")
    musicnn = replace(options, model="musicnn", weights=str(weights), device=device)
    start = time.perf_counter()
    report = build_catalog(tmp_path / "catalog", tmp_path / "data-musicnn", musicnn)
    elapsed = time.perf_counter() - start
    assert report.indexed == tracks, report
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=12)
    parser.add_argument("--min", type=float, default=30.0)
    parser.add_argument("--max", type=float, default=120.0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--skip-naive", action="store_true", help="only MULE against MusiCNN")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        audio = make_catalog(tmp_path / "catalog", args.tracks, args.min, args.max)
        ckpt = write_random_checkpoint(tmp_path / "ckpt")
        embedder = MuleEmbedder.from_weights(str(ckpt), device=args.device)
        print(
            f"{args.tracks} tracks, {audio / 60:.1f} min of audio, device {embedder.device}, "
            f"{torch.get_num_threads()} threads"
        )
        options = BuildOptions(progress=False)
        if args.workers:
            options.workers = args.workers
        start = time.perf_counter()
        report = build_catalog(tmp_path / "catalog", tmp_path / "data", options, embedder)
        ours = time.perf_counter() - start
        assert report.indexed == args.tracks, report
        print(f"indexer build     : {args.tracks / ours:.3f} tracks/s, {audio / ours:6.1f}x real-time ({ours:.1f} s)")
        musicnn = musicnn_build(tmp_path, options, args.device, args.tracks)
        print(
            f"indexer build --model musicnn: {audio / musicnn:6.1f}x real-time ({musicnn:.1f} s), "
            f"{ours / musicnn:.2f}x the MULE build's throughput"
        )
        if args.skip_naive:
            return
        start = time.perf_counter()
        naive_loop(tmp_path / "catalog", ckpt, embedder.device)
        base = time.perf_counter() - start
        print(f"naive librosa loop: {args.tracks / base:.3f} tracks/s, {audio / base:6.1f}x real-time ({base:.1f} s)")
        print(f"ratio indexer build / naive loop: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
