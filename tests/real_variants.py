"""A catalog of real music with known duplicates, versions and planted passages, made by FFmpeg from
Debian's game soundtracks (tests.real_data): what tests/indexer/test_duplicates_real.py checks and
benchmarks/bench_fingerprints.py measures, from one recipe.

- originals: excerpts of tracks of two soundtracks;
- variants of some originals, one per VARIANTS entry (codecs, gain, a cut, a tempo change): the same recording;
- remasters (compression and a treble shelf): the same performance on another master;
- mixes: an excerpt of a track not otherwise in the catalog with a region of an original pasted in at a
  non-round offset, another gain and another codec (a planted passage with known edges).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

VARIANTS: dict[str, tuple[list[str], list[str], str]] = {  # name: (input options, output options, suffix)
    "mp3-64k": ([], ["-b:a", "64k"], "mp3"),
    "mp3-192k": ([], ["-b:a", "192k"], "mp3"),
    "opus": ([], ["-c:a", "libopus", "-b:a", "96k"], "opus"),
    "quieter-6dB": ([], ["-af", "volume=-6dB"], "flac"),
    "cut-3s": (["-ss", "3"], [], "flac"),
    "tempo+2pc": ([], ["-af", "atempo=1.02"], "flac"),
}
REMASTER = ["-af", "acompressor=threshold=-20dB:ratio=4:makeup=6,treble=g=6"]
RATE = 44100


@dataclass(frozen=True)
class Planted:
    """Seconds [query_start, query_end) of `donor` lie at [start, end) of `mix`."""

    donor: str
    mix: str
    query_start: float
    query_end: float
    start: float
    end: float


@dataclass
class VariantCatalog:
    root: Path
    originals: list[str] = field(default_factory=list)  # paths relative to root
    variants: dict[str, str] = field(default_factory=dict)  # variant -> its original
    remasters: dict[str, str] = field(default_factory=dict)  # remaster -> its original
    planted: list[Planted] = field(default_factory=list)
    spare: list[Path] = field(default_factory=list)  # more source files, not in the catalog


def ffmpeg(source: Path, out: Path, before: list[str], after: list[str]) -> Path:
    if shutil.which("ffmpeg") is None:
        raise FileNotFoundError("ffmpeg is missing (Debian: apt-get install ffmpeg)")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", *before, "-i", str(source), *after, str(out)]
    subprocess.run(command, check=True, capture_output=True)
    return out


def excerpt(source: Path, start: float, seconds: float) -> np.ndarray:
    """`seconds` of `source` from `start`, mono at RATE."""
    info = sf.info(source)
    wave, rate = sf.read(source, start=int(start * info.samplerate), frames=int(seconds * info.samplerate))
    wave = wave.mean(1) if wave.ndim == 2 else wave
    if rate != RATE:
        import soxr

        wave = soxr.resample(wave, rate, RATE)
    return np.asarray(wave, np.float32)


def make_catalog(
    sources: dict[str, list[Path]],
    root: Path,
    originals: int = 6,
    with_variants: int = 5,
    remasters: int = 2,
    mixes: int = 10,
    seconds: float = 45.0,
    seed: int = 0,
) -> VariantCatalog:
    """`originals` excerpts of each soundtrack, variants of the first `with_variants` originals, remasters of
    the next `remasters`, and `mixes` planted passages (donors: the originals; bases: further tracks)."""
    rng = np.random.default_rng(seed)
    made = VariantCatalog(root)
    long_enough = {k: [f for f in v if sf.info(f).duration >= seconds + 20] for k, v in sources.items()}
    chosen = [f for files in long_enough.values() for f in files[:originals]]
    made.spare = [f for files in long_enough.values() for f in files[originals:]]
    waves: dict[str, np.ndarray] = {}
    for i, source in enumerate(chosen):
        name = f"originals/{i:02d} {source.stem}.flac"
        waves[name] = excerpt(source, 10.0, seconds)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, waves[name], RATE)
        made.originals.append(name)
    for name in made.originals[:with_variants]:
        for variant, (before, after, suffix) in VARIANTS.items():
            out = f"variants/{Path(name).stem} {variant}.{suffix}"
            ffmpeg(root / name, root / out, before, after)
            made.variants[out] = name
    for name in made.originals[with_variants : with_variants + remasters]:
        out = f"remasters/{Path(name).stem} remaster.flac"
        ffmpeg(root / name, root / out, [], REMASTER)
        made.remasters[out] = name
    for k in range(min(mixes, len(made.spare))):  # each mix on its own base: two would share a recording
        made.planted.append(_plant(made, waves, k, rng, seconds))
    return made


def _plant(
    made: VariantCatalog, waves: dict[str, np.ndarray], k: int, rng: np.random.Generator, seconds: float
) -> Planted:
    donor = made.originals[k % len(made.originals)]
    base = excerpt(made.spare[k], 15.0, seconds)
    length = float(rng.uniform(10.0, 20.0))  # under half the donor: the mix is not the donor's recording
    source_start = float(rng.uniform(2.0, seconds - length - 2.0))
    at = float(rng.uniform(3.0, seconds - length - 3.0))
    gain = 10 ** (float(rng.uniform(-5.0, -2.0)) / 20)
    first, count, into = int(source_start * RATE), int(length * RATE), int(at * RATE)
    fade = np.minimum(1.0, np.minimum(np.arange(count), np.arange(count)[::-1]) / (0.02 * RATE))  # 20 ms ramps
    mixed = base.copy()
    mixed[into : into + count] = (
        mixed[into : into + count] * (1 - fade) + gain * waves[donor][first : first + count] * fade
    )
    out = f"mixes/mix {k:02d}.mp3"
    plain = (made.root / out).with_suffix(".wav")
    plain.parent.mkdir(parents=True, exist_ok=True)
    sf.write(plain, mixed, RATE)
    ffmpeg(plain, made.root / out, [], ["-b:a", "128k"])
    plain.unlink()  # only the MP3 is in the catalog
    return Planted(donor, out, source_start, source_start + length, at, at + length)
