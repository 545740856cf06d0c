"""Real weights, real music and the authors' reference, fetched through the package registries (never
committed): the musicnn wheel (pip, by the product's own fetch), freely licensed game soundtracks
(Debian's archive: `apt-get download` + `dpkg -x`) and a side environment with TensorFlow 2.15 and
musicnn 0.1.0 (pip). All are kept in $SOUNDALIKE_TEST_CACHE (default ~/.cache/soundalike-tests) between
runs. `.ci/run` fetches them first (`python -m tests.real_data`); a test that needs one and finds it
missing fails in CI and is skipped elsewhere, once it has tried to fetch it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("SOUNDALIKE_TEST_CACHE", "~/.cache/soundalike-tests")).expanduser()
# Two soundtracks by different composers (licences in each package's copyright file: Drascula's BSD-like
# licence, Singularity's CC BY-SA 3.0), ~88 MB of .deb in all.
SOUNDTRACKS = {
    "drascula-music": "usr/share/scummvm/drascula/audio",
    "singularity-music": "usr/share/games/singularity/music",
}
# benchmarks/bench_quality.py: four soundtracks by four composers (93 tracks, ~280 MB of .deb).
BENCH_SOUNDTRACKS = SOUNDTRACKS | {
    "hyperrogue-music": "usr/share/hyperrogue/music",
    "warzone2100-music": "usr/share/games/warzone2100/music/albums",
}
AUDIO = ("*.ogg", "*.opus", "*.mp3")
TF_REFERENCE = ["tensorflow-cpu==2.15.1", "numpy<2", "librosa==0.10.2.post1"]
# LAION's CLAP package and what it imports (its own pins left out: it asks for wandb, progressbar and more it
# never imports for inference); transformers 4.46 carries the CLAP conversion script that 5 no longer ships.
# No torchvision: no CPU build of it for torch 2.13 is at hand, and laion-clap imports it only for training and
# image code (tests/indexer/clap_reference.py stands in for those imports).
TORCH_CPU = ["--extra-index-url", "https://download.pytorch.org/whl/cpu", "torch==2.13.0"]
CLAP_REFERENCE = [
    "numpy<2",
    "transformers==4.46.3",
    "librosa==0.10.2.post1",
    "torchlibrosa==0.1.0",
    "soundfile",
    "h5py",
    "braceexpand",
    "webdataset",
    "pandas",
    "wget",
    "ftfy",
    "regex",
    "tqdm",
    "pillow",
]
CLAP_PACKAGE = "laion-clap==1.1.7"
SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # Debian's timgm6mb-soundfont: a small General MIDI set


class Missing(Exception):
    pass


def require(what: str, error: str) -> None:
    """Fail in CI, skip elsewhere: `what` could not be had."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: {error}")
    pytest.skip(f"{what} is missing: {error}")


def musicnn_wheel() -> Path:
    """The musicnn 0.1.0 wheel, fetched by the product itself into this cache."""
    from indexer.errors import WeightsError
    from indexer.models.musicnn.weights import CACHE_ENV, fetch_wheel

    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(CACHE / "product")
    try:
        return fetch_wheel()
    except WeightsError as exc:
        raise Missing(str(exc)) from exc
    finally:
        if previous is None:
            del os.environ[CACHE_ENV]
        else:
            os.environ[CACHE_ENV] = previous


def soundtracks(packages: dict[str, str] = SOUNDTRACKS) -> dict[str, list[Path]]:
    """Each soundtrack's audio files, sorted, from Debian's archive."""
    found = {}
    for package, inside in packages.items():
        root = CACHE / "music" / package
        if not (root / ".complete").exists():
            _unpack_deb(package, root)
        files = sorted(p for pattern in AUDIO for p in (root / inside).rglob(pattern))
        if not files:
            raise Missing(f"{package} holds no audio files under {inside}")
        found[package] = files
    return found


def _unpack_deb(package: str, root: Path) -> None:
    downloads = CACHE / "debs"
    downloads.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(["apt-get", "download", "-q", package], cwd=downloads, capture_output=True, text=True)
    debs = sorted(downloads.glob(f"{package}_*.deb"))
    if not debs:
        raise Missing(f"apt-get download {package} failed: {(got.stderr or got.stdout).strip()[-200:]}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True)
    (root / ".complete").touch()


def tf_reference() -> Path:
    """The side environment's python: TensorFlow 2.15, numpy < 2, librosa 0.10 and musicnn 0.1.0 (its pins
    left out: it asks for numpy < 1.17 and TensorFlow 1)."""
    venv = CACHE / "tf-reference"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists() and python.exists():
        return python
    wheel = musicnn_wheel()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for step in (TF_REFERENCE, ["--no-deps", str(wheel)]):
        done = subprocess.run([*pip, *step], capture_output=True, text=True)
        if done.returncode != 0:
            raise Missing(f"pip install {' '.join(step)} failed: {done.stderr.strip()[-300:]}")
    (venv / ".complete").touch()
    return python


def clap_reference() -> Path:
    """The side environment's python: LAION's laion-clap 1.1.7 (numpy < 2) with torch 2.13 (CPU) and
    transformers 4.46 (its CLAP conversion script)."""
    venv = CACHE / "clap-reference"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for step in (TORCH_CPU, CLAP_REFERENCE, ["--no-deps", CLAP_PACKAGE]):
        done = subprocess.run([*pip, *step], capture_output=True, text=True)
        if done.returncode != 0:
            raise Missing(f"pip install {' '.join(step)} failed: {done.stderr.strip()[-300:]}")
    (venv / ".complete").touch()
    return python


def main() -> int:
    """Fetch everything (CI calls this before the tests); one line per item."""
    ok = True
    fetches = (
        ("musicnn wheel", musicnn_wheel),
        ("soundtracks", soundtracks),
        ("TF reference", tf_reference),
        ("CLAP reference", clap_reference),
    )
    for name, fetch in fetches:
        try:
            got = fetch()
            said = got if isinstance(got, Path) else ", ".join(f"{k}: {len(v)} files" for k, v in got.items())
            print(f"{name}: {said}")
        except (Missing, subprocess.CalledProcessError) as exc:
            print(f"{name}: missing ({exc})", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
