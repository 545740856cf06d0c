"""MULE engine throughput vs the reference (mule-torch 0.2.0), same weights, same process.

Prints seconds of audio embedded per second for each, and their ratio (baseline:
mule-torch, one call per clip, as its README shows). Weights are random, written in
the published format into a temporary folder. On a GPU, or a CPU with AVX512-BF16/AMX, it also
reports bf16 against fp32 in the same run: throughput ratio and cosine of the vectors.

    python benchmarks/bench_mule.py [--device cpu] [--clips 10,30,60,150,300] [--repeat 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from indexer.models.device import cpu_bf16_flags
from indexer.models.mule.embedder import MuleEmbedder
from indexer.models.mule.testing import write_random_mule as write_random_checkpoint


def clips(seconds: list[float]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(0.2 * rng.standard_normal(int(s * 16000))).astype(np.float32) for s in seconds]


def best_time(fn, repeat: int) -> float:
    fn()  # warm-up (allocator, oneDNN primitive cache, cuDNN autotune)
    times = []
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--clips", default="10,30,60,150,300", help="clip lengths in seconds")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-reference", action="store_true", help="only this engine (e.g. large GPU runs)")
    args = parser.parse_args()

    waves = clips([float(s) for s in args.clips.split(",")])
    audio_seconds = sum(w.size for w in waves) / 16000
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = write_random_checkpoint(Path(tmp), seed=0)
        ours = MuleEmbedder.from_weights(str(ckpt), device=args.device, batch_size=args.batch_size)
        print(
            f"device {ours.device}, threads {torch.get_num_threads()}, batch {ours.batch_size}, "
            f"{len(waves)} clips, {audio_seconds:.0f} s of audio"
        )
        t_ours = best_time(lambda: ours.embed(waves), args.repeat)
        print(f"soundalike MULE fp32 : {audio_seconds / t_ours:9.1f} s audio/s  ({t_ours:.2f} s)")
        if not args.skip_reference:
            from mule_torch import MuleModel

            ref = MuleModel.from_pretrained(model_dir=ckpt).to(ours.device)

            def run_reference() -> None:
                with torch.inference_mode():
                    for w in waves:
                        ref(torch.from_numpy(w * 0.5)[None].to(ours.device))

            t_ref = best_time(run_reference, args.repeat)
            print(f"mule-torch 0.2.0 fp32: {audio_seconds / t_ref:9.1f} s audio/s  ({t_ref:.2f} s)")
            print(f"ratio soundalike / mule-torch: {t_ref / t_ours:.2f}x")
        if ours.device.type == "cuda" or cpu_bf16_flags():
            fast = MuleEmbedder.from_weights(
                str(ckpt), device=args.device, precision="bf16", batch_size=args.batch_size
            )
            t_bf16 = best_time(lambda: fast.embed(waves), args.repeat)
            a = np.stack([e.vector for e in ours.embed(waves)])
            b = np.stack([e.vector for e in fast.embed(waves)])
            cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
            print(f"soundalike MULE bf16 : {audio_seconds / t_bf16:9.1f} s audio/s  ({t_bf16:.2f} s)")
            print(
                f"ratio bf16 / fp32: {t_ours / t_bf16:.2f}x; cosine to fp32: min {cos.min():.6f}, mean {cos.mean():.6f}"
            )


if __name__ == "__main__":
    main()
