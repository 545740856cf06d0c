"""How far apart the same recording lands from itself, against different tracks: the duplicate threshold.

--tracks generated pieces of music, each also written as duplicates a catalog really holds: MP3 at
128 and 64 kbit/s, the FLAC 6 dB quieter, and the FLAC with its first 3 s cut. Every file is decoded
and embedded as `indexer build` does (MULE: random weights unless --weights gives real ones). Printed:
cosine distances (1 - cos) of each duplicate to its original, and of different tracks to each other,
each as a share of the median distance between different tracks (the scale storage/duplicates.py
uses, so one threshold serves models whose vectors spread differently).

    python benchmarks/bench_duplicates.py [--tracks 8] [--seconds 30] [--weights DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.audio import decode  # noqa: E402
from tests.audio_files import melody, write_audio  # noqa: E402

VARIANTS = ("mp3-128k", "mp3-64k", "gain-6dB", "trim-3s")


def write_variants(folder: Path, index: int, seconds: float) -> dict[str, Path]:
    import soundfile as sf

    sr = 44100
    wave = melody(seconds, seed=100 + index, sr=sr)
    paths = {"original": write_audio(folder / f"{index}.flac", 0, mono=wave, stereo=False)}
    for name, level in (("mp3-128k", 0.5), ("mp3-64k", 0.9)):  # libsndfile's VBR quality: 0 best, 1 worst
        paths[name] = folder / f"{index}-{name}.mp3"
        sf.write(paths[name], wave, sr, format="MP3", compression_level=level)
    paths["gain-6dB"] = write_audio(folder / f"{index}-gain.flac", 0, mono=wave * 0.5, stereo=False)
    paths["trim-3s"] = write_audio(folder / f"{index}-trim.flac", 0, mono=wave[3 * sr :], stereo=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--weights", help="MULE weights folder (default: random weights)")
    args = parser.parse_args()
    from indexer.models import load_embedder
    from indexer.models.mule.testing import write_random_mule

    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or str(write_random_mule(Path(tmp) / "weights"))
        embedder = load_embedder("mule", weights, device="cpu")
        files = [write_variants(Path(tmp) / "music", i, args.seconds) for i in range(args.tracks)]
        vectors = [
            {name: embedder.embed([decode(path, embedder.sample_rate)])[0].vector for name, path in f.items()}
            for f in files
        ]
    unit = {(i, name): v / np.linalg.norm(v) for i, per in enumerate(vectors) for name, v in per.items()}
    originals = np.stack([unit[(i, "original")] for i in range(args.tracks)])
    different = 1 - (originals @ originals.T)[np.triu_indices(args.tracks, 1)]
    scale = float(np.median(different))
    print(f"{args.tracks} tracks of {args.seconds:.0f} s, MULE {'given' if args.weights else 'random'} weights")
    least = different.min()
    print(f"different tracks: distance median {scale:.3g}, least {least:.3g} ({least / scale:.3f} of the median)")
    for name in VARIANTS:
        d = np.array([1 - unit[(i, "original")] @ unit[(i, name)] for i in range(args.tracks)])
        print(f"{name:9s}: distance at most {d.max():.3g} ({d.max() / scale:.4f} of the median)")


if __name__ == "__main__":
    main()
