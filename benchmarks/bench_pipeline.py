"""Where the time of a build goes, on real music: each stage timed alone, the decode stage against FFmpeg's own
decode + resample of the same files, and `indexer build` end to end with its stage clock, in one run.

1. decode + resample, one core: indexer.audio.decode(file, model rate) for each file in this process, against
   `ffmpeg -threads 1 -i FILE -f f32le -ar RATE -ac 1 -` (the named baseline; its output read and discarded)
   run one file at a time. Printed: both times, the ratio (target <= 1.3), x real time per core.
2. the rest of a decode worker's job, one core: tags (mutagen) and the Chromaprint fingerprint.
3. embed alone: the model on the decoded audio (batched across tracks, as the build does), on --device.
4. `indexer build` end to end on the same files (--workers decode processes), wall time and x real time, and its
   stage clock (indexer.stage_clock): scan, the main process's wait for decoded audio, embed, write, fingerprints,
   index. The stage that bounds the build is the largest share of the wall time; a long "decode wait" means the
   workers do not keep up with the model.

Music: Debian's game soundtracks that the tests fetch (tests/real_data.py), or --music DIR; --generate HOURS
writes generated audio instead (12 distinct 5-min files in flac, ogg and mp3, hard-linked under other names up
to HOURS: the GPU check's 20 h). Model: MULE with a random-weight checkpoint in the published layout (speed does
not depend on the values), or --model musicnn with its real weights (the wheel, offline once fetched).

    python benchmarks/bench_pipeline.py                       # the soundtracks, MULE on the CPU
    python benchmarks/bench_pipeline.py --generate 20 --device cuda --workers 16 --decode-files 24   # GPU check
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.audio import decode  # noqa: E402
from indexer.build import BuildOptions, build_catalog  # noqa: E402
from indexer.fingerprint import fingerprint  # noqa: E402
from indexer.tags import read_tags  # noqa: E402

FORMATS = (".flac", ".ogg", ".mp3")
AUDIO = {".ogg", ".mp3", ".flac", ".opus", ".wav", ".m4a"}
GENERATED_MINUTES = 5
GENERATED_DISTINCT = 12


def music_files(args: argparse.Namespace, tmp: Path) -> list[Path]:
    if args.generate:
        return generated(tmp / "music", args.generate)
    if args.music:
        return sorted(p for p in args.music.rglob("*") if p.suffix.lower() in AUDIO)
    from tests.real_data import soundtracks

    return [f for files in soundtracks().values() for f in files]


def generated(root: Path, hours: float) -> list[Path]:
    from tests.audio_files import write_audio

    distinct = [
        write_audio(root / "distinct" / f"piece {i:02d}{FORMATS[i % len(FORMATS)]}", GENERATED_MINUTES * 60.0, seed=i)
        for i in range(GENERATED_DISTINCT)
    ]
    files = []
    for n in range(int(np.ceil(hours * 60 / GENERATED_MINUTES))):
        source = distinct[n % len(distinct)]
        link = root / "catalog" / f"{n // len(distinct):03d}" / f"track {n:04d}{source.suffix}"
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, link)
        files.append(link)
    return files


def linked(files: list[Path], root: Path) -> Path:
    """A catalog folder holding exactly `files` (hard links, copies across file systems)."""
    for i, path in enumerate(files):
        target = root / f"{i:04d} {path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return root


def ffmpeg_decode(path: Path, rate: int) -> float:
    started = time.perf_counter()
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", str(path), "-f", "f32le", "-ar", str(rate)]
    subprocess.run([*cmd, "-ac", "1", "-"], check=True, stdout=subprocess.PIPE)
    return time.perf_counter() - started


def decode_stage(files: list[Path], rate: int) -> tuple[list[np.ndarray], float, float, float]:
    """(waves, our seconds, FFmpeg's seconds, seconds of the worker's other jobs), one core."""
    ours = theirs = extras = 0.0
    waves = []
    for path in files:
        started = time.perf_counter()
        wave = decode(path, rate)
        ours += time.perf_counter() - started
        theirs += ffmpeg_decode(path, rate)
        started = time.perf_counter()
        read_tags(path)
        fingerprint(wave, rate)
        extras += time.perf_counter() - started
        waves.append(wave)
    return waves, ours, theirs, extras


def embed_stage(embedder, waves: list[np.ndarray]) -> float:
    started = time.perf_counter()
    done = sum(1 for _ in embedder.embed_stream(enumerate(waves)))
    assert done == len(waves)
    return time.perf_counter() - started


def load(args: argparse.Namespace, tmp: Path):
    from indexer.models import load_embedder

    if args.model == "musicnn":
        return load_embedder("musicnn", None, device=args.device), None
    from indexer.models.mule.testing import write_random_mule

    weights = str(write_random_mule(tmp / "mule"))
    return load_embedder("mule", weights, device=args.device), weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--music", type=Path, help="a folder of audio (default: the tests' soundtracks)")
    parser.add_argument("--generate", type=float, help="generated audio instead, this many hours")
    parser.add_argument("--model", choices=["mule", "musicnn"], default="mule")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decode processes of the build")
    parser.add_argument("--decode-files", type=int, help="time steps 1-3 on the first N distinct files (default all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        files = music_files(args, tmp)
        embedder, weights = load(args, tmp)
        rate = embedder.sample_rate
        distinct = list(dict.fromkeys(os.path.realpath(f) for f in files))  # generated links: each source once
        alone = [Path(f) for f in distinct[: args.decode_files]]
        waves, ours, theirs, extras = decode_stage(alone, rate)
        audio = sum(len(w) for w in waves) / rate
        print(f"{len(alone)} files, {audio / 60:.1f} min of audio, decoded to {rate} Hz mono, one core:")
        print(
            f"  decode + resample: soundalike {ours:6.1f} s ({audio / ours:5.0f}x real time), FFmpeg {theirs:6.1f} s "
            f"({audio / theirs:5.0f}x): ratio {ours / theirs:.2f} (target <= 1.3)"
        )
        print(f"  tags + fingerprint (the rest of a worker's job): {extras:6.1f} s ({audio / extras:5.0f}x)")
        embedded = embed_stage(embedder, waves)
        print(f"  embed alone ({args.model}, {embedder.device}): {embedded:6.1f} s ({audio / embedded:5.0f}x)")

        catalog = files[0].parents[1] if args.generate else linked(files, tmp / "catalog")
        options = BuildOptions(
            model=args.model, weights=weights, device=args.device, workers=args.workers, progress=False
        )
        started = time.perf_counter()
        report = build_catalog(catalog, tmp / "data", options, embedder)
        wall = time.perf_counter() - started
        total = report.audio_seconds
        print(
            f"indexer build: {report.indexed} files, {total / 3600:.2f} h of audio, {args.workers} decode workers: "
            f"{wall:.1f} s ({total / wall:.0f}x real time)"
        )
        for stage, seconds in sorted(report.stages.seconds.items(), key=lambda item: -item[1]):
            print(f"  {stage:12} {seconds:7.1f} s  {100 * seconds / wall:5.1f}% of the build")
        decode_capacity = args.workers * audio / (ours + extras)
        print(
            f"  decode capacity of {args.workers} workers (from step 1-2): {decode_capacity:.0f}x real time; "
            f"the model alone: {audio / embedded:.0f}x"
        )


if __name__ == "__main__":
    main()
