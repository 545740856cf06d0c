"""`indexer build --engine ray` vs the in-process build, same catalog, same checkpoint, same run.

Baseline: the in-process build (`indexer build`, decoder worker processes + the model in this
process). The Ray build starts a local Ray (its start-up counted), decodes as Ray tasks and embeds
on one actor. Both write SQLite data directories from the same random-weight checkpoint in the
published format; the vectors are compared too.

    python benchmarks/bench_ray.py [--tracks 24] [--min 60] [--max 120]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import make_catalog  # noqa: E402

from indexer.build import BuildOptions, build_catalog  # noqa: E402
from indexer.models.mule.testing import write_random_mule  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402


def timed_build(catalog: Path, data: Path, checkpoint: Path, engine: str) -> float:
    options = BuildOptions(weights=str(checkpoint), device="cpu", progress=False, engine=engine)
    start = time.perf_counter()
    report = build_catalog(catalog, data, options)
    assert not report.failed, report.failed
    return time.perf_counter() - start


def vectors(data: Path) -> np.ndarray:
    index = Catalog.open(data).index()
    return np.asarray(index.vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=24)
    parser.add_argument("--min", type=float, default=60.0)
    parser.add_argument("--max", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        checkpoint = write_random_mule(root / "ckpt", seed=0)
        audio = make_catalog(root / "catalog", args.tracks, args.min, args.max)
        local = timed_build(root / "catalog", root / "local", checkpoint, "local")
        ray = timed_build(root / "catalog", root / "ray", checkpoint, "ray")
        diff = float(np.abs(vectors(root / "local") - vectors(root / "ray")).max())
        print(f"{args.tracks} tracks, {audio / 60:.0f} min of audio")
        print(f"in-process build: {local:.1f} s ({audio / local:.1f}x real time)")
        print(f"Ray build (local Ray, start-up included): {ray:.1f} s ({audio / ray:.1f}x real time)")
        print(f"Ray overhead: {100 * (ray / local - 1):+.1f}%; max abs difference of the vectors {diff:.1e}")


if __name__ == "__main__":
    main()
