"""Should audio be loudness-normalised before embedding? Measured per model (issue 29, part 3).

On excerpts of real soundtracks (tests.real_data): each excerpt and a copy 6 dB quieter are embedded as
they are and after normalising both to NORMALISED_LUFS (EBU R128 integrated loudness, indexer/loudness.py:
what `--loudness r128` does). Prints, per model, the cosine between a track and its quieter copy (1.0: the
gain changes nothing) with and without normalising; for MusiCNN (real weights) also leave-one-out
precision@5 by soundtrack with and without (what normalising costs in similarity quality;
benchmarks/bench_quality.py measures it on whole tracks too, both ways). The other models run on
random-weight checkpoints in their published formats: only their input path's sensitivity to gain can be
read from them.

    python benchmarks/bench_loudness.py [--per-soundtrack 12] [--models musicnn,mule,maest,mert-95m,musicfm-msd]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_models import write_checkpoint  # noqa: E402
from indexer.audio import decode  # noqa: E402
from indexer.models import load_embedder, model_spec  # noqa: E402
from indexer.models.base import Embedder  # noqa: E402
from storage.index.vectors import normalise  # noqa: E402
from tests import real_data  # noqa: E402

NORMALISED_LUFS = -23.0
SECONDS = 30.0
SENSITIVITY_SECONDS = 10.0  # random-weight models: their input path's gain sensitivity needs no more
PAIRS = 8


def loudness_normalised(wave: np.ndarray, rate: int) -> np.ndarray:
    from indexer.loudness import normalised

    return normalised(wave, rate, NORMALISED_LUFS)  # what `--loudness r128` does


def vectors(embedder: Embedder, waves: list[np.ndarray], centred: bool) -> np.ndarray:
    unit = normalise(np.stack([embedder.embed([w])[0].vector for w in waves]))
    if centred:  # as the index compares them (MusiCNN's spec asks for it)
        unit = normalise(unit - normalise(unit.mean(0, keepdims=True)))
    return unit


def precision_at(unit: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1)[:, :k]
    return float(np.mean(labels[order] == labels[:, None]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-soundtrack", type=int, default=12)
    parser.add_argument("--models", default="musicnn,mule,maest,mert-95m,musicfm-msd")
    args = parser.parse_args()
    sources = real_data.soundtracks(real_data.BENCH_SOUNDTRACKS)
    files, labels = [], []
    for package, found in sources.items():
        import soundfile as sf

        kept = [f for f in found if sf.info(f).duration >= SECONDS + 15][: args.per_soundtrack]
        files += kept
        labels += [package] * len(kept)
    label_array = np.array(labels)
    print(f"{len(files)} excerpts of {SECONDS:.0f} s from {len(sources)} soundtracks")
    for model in args.models.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            weights = str(real_data.musicnn_wheel()) if model == "musicnn" else str(write_checkpoint(model, Path(tmp)))
            as_decoded = {"loudness": "none"} if model == "musicnn" else {}  # the bench normalises, not the model
            embedder = load_embedder(model, weights, "cpu", **as_decoded)
            rate = embedder.sample_rate
            waves = []
            for f in files:
                wave = decode(f, rate)
                start = int(10 * rate)
                waves.append(wave[start : start + int(SECONDS * rate)])
            quiet = [w * 10 ** (-6 / 20) for w in waves]
            centred = model_spec(model).centred
            clip = len(waves[0]) if model == "musicnn" else int(SENSITIVITY_SECONDS * rate)
            ways = (("as decoded", lambda w: w), ("normalised", lambda w, r=rate: loudness_normalised(w, r)))
            for name, prepare in ways:
                raw = normalise(np.stack([embedder.embed([prepare(w[:clip])])[0].vector for w in quiet[:PAIRS]]))
                plain = normalise(np.stack([embedder.embed([prepare(w[:clip])])[0].vector for w in waves[:PAIRS]]))
                cos = np.sum(raw * plain, axis=1)
                line = f"{model:12s} {name:10s}: cosine to its -6 dB copy {cos.min():.4f}-{cos.max():.4f}"
                if model == "musicnn":  # real weights: what normalising does to similarity itself
                    base = vectors(embedder, [prepare(w) for w in waves], centred)
                    line += f"; precision@5 by soundtrack {precision_at(base, label_array):.3f}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
