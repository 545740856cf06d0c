"""MusiCNN's embedder against the authors' TensorFlow code on the same machine, in the same run, on the
same real audio: the log-mel (ours in torch, theirs with librosa) and the network on every patch (ours in
PyTorch in the embedder's batches, theirs musicnn 0.1.0's graph on TensorFlow 2.15 fed every patch of a
track at once as its code does, in the side environment of tests/real_data.py).
Median of --repeat runs each, after one untimed run; both use every core (torch's and TensorFlow's
default thread pools).

    python benchmarks/bench_musicnn.py [--tracks 4] [--repeat 5] [--variant msd]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.audio import decode  # noqa: E402
from indexer.models import load_embedder  # noqa: E402
from indexer.models.musicnn.frontend import patch_count, patches  # noqa: E402
from tests import real_data  # noqa: E402

REFERENCE = ROOT / "tests" / "indexer" / "musicnn_reference.py"


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--variant", default="msd", choices=["msd", "mtt"])
    args = parser.parse_args()
    python, wheel = real_data.tf_reference(), real_data.musicnn_wheel()
    files = real_data.soundtracks()["singularity-music"][: args.tracks]
    embedder = load_embedder("musicnn", str(wheel), device="cpu", variant=args.variant)
    totals = {"our mel": 0.0, "our network": 0.0, "their mel": 0.0, "their network": 0.0}
    audio = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(files):
            wave = decode(path, 16000)
            audio += wave.size / 16000
            np.save(Path(tmp) / "wave.npy", wave)
            model = f"{args.variant.upper()}_musicnn"
            command = [str(python), str(REFERENCE), model, f"{tmp}/ref{i}.npz", "--wave", f"{tmp}/wave.npy"]
            subprocess.run([*command, "--repeat", str(args.repeat)], check=True, capture_output=True)
            with np.load(f"{tmp}/ref{i}.npz") as theirs:
                totals["their mel"] += float(theirs["mel_seconds"])
                totals["their network"] += float(theirs["seconds"])
            samples = torch.from_numpy(wave)
            with torch.inference_mode():
                mel = embedder.log_mel(samples)
                batch = patches(mel, 0, patch_count(mel.shape[0]))
                totals["our mel"] += timed(lambda s=samples: embedder.log_mel(s), args.repeat)
                size = embedder.batch_size  # the embedder's own batches, as a build runs them
                chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
                totals["our network"] += timed(lambda c=chunks: [embedder.network(b) for b in c], args.repeat)
    print(f"{len(files)} real tracks, {audio / 60:.1f} min of audio, {torch.get_num_threads()} threads, {args.variant}")
    for name, seconds in totals.items():
        print(f"  {name:14s} {seconds:7.2f} s  {audio / seconds:7.0f}x real time")
    ours = totals["our mel"] + totals["our network"]
    theirs = totals["their mel"] + totals["their network"]
    print(f"  embedder ours / theirs: {theirs / ours:.2f}x ({audio / ours:.0f}x vs {audio / theirs:.0f}x real time)")
    print(f"  network alone: {totals['their network'] / totals['our network']:.2f}x")


if __name__ == "__main__":
    main()
