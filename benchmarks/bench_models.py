"""Throughput and peak memory of each embedding model on the same clips, against MULE.

Every model runs in its own process on full-size random-weight checkpoints written in
its published format (no download): seconds of audio embedded per second of wall time
(after one warm-up clip), and the process's peak resident memory. MULE is the named
baseline, measured in the same run.

    python benchmarks/bench_models.py [--models mule,maest,mert-95m,mert-330m,musicfm-msd,clap]
        [--clips 4] [--seconds 30] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_checkpoint(model: str, directory: Path) -> Path:
    if model == "mule":
        from indexer.models.mule.testing import write_random_mule as write_random_checkpoint

        return write_random_checkpoint(directory, seed=0)
    if model.startswith("mert-"):
        from indexer.models.mert.checkpoint import mert_config
        from indexer.models.mert.testing import write_random_mert as write_random_checkpoint

        return write_random_checkpoint(directory, mert_config(model.removeprefix("mert-")))
    if model == "maest":
        from indexer.models.maest.checkpoint import maest_config
        from indexer.models.maest.testing import write_random_maest as write_random_checkpoint

        labels = [f"Genre{i // 40}---Style{i}" for i in range(400)]
        return write_random_checkpoint(directory, maest_config(labels), 1876)
    if model.startswith("musicfm-"):
        from indexer.models.musicfm.config import VARIANTS, conformer_config
        from indexer.models.musicfm.testing import write_random_musicfm as write_random_checkpoint

        files = (VARIANTS[model].weights_file, VARIANTS[model].stats_file)
        return write_random_checkpoint(directory, files, conformer_config())
    if model == "clap":
        from indexer.models.clap.testing import write_random_clap

        return write_random_clap(directory, "base")  # laion/larger_clap_general's sizes
    raise SystemExit(f"no checkpoint writer for {model}")


def run_one(model: str, weights: str, clips: int, seconds: float, device: str) -> dict:
    """In a fresh process: load, warm up, embed; peak memory is this process's (load + embedding)."""
    from indexer.models import load_embedder
    from tests.conftest import tone_mix

    embedder = load_embedder(model, weights, device=device)
    waves = [tone_mix(seconds, seed=i, sr=embedder.sample_rate) for i in range(clips)]
    embedder.embed(waves[:1])  # warm-up
    start = time.perf_counter()
    embedder.embed(waves)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": model, "audio_per_s": clips * seconds / elapsed, "peak_mb": peak_mb, "dim": embedder.dim}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mule,maest,mert-95m,mert-330m,musicfm-msd")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "WEIGHTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, args.clips, args.seconds, args.device)))
        return
    results = {}
    for model in ["mule", *[m for m in args.models.split(",") if m != "mule"]]:
        with tempfile.TemporaryDirectory() as tmp:
            weights = write_checkpoint(model, Path(tmp))
            command = [sys.executable, __file__, "--one", model, str(weights), "--clips", str(args.clips)]
            command += ["--seconds", str(args.seconds), "--device", args.device]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[model] = json.loads(out.strip().splitlines()[-1])
    base = results["mule"]["audio_per_s"]
    print(f"{args.clips} clips x {args.seconds:.0f} s on {args.device}; baseline: mule")
    for model, r in results.items():
        print(
            f"  {model:12s} {r['dim']:5d}-d  {r['audio_per_s']:7.1f} s audio/s  "
            f"({r['audio_per_s'] / base:5.2f}x mule)  peak RSS {r['peak_mb']:6.0f} MB"
        )


if __name__ == "__main__":
    main()
