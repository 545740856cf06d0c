"""MusiCNN's weights, straight from the `musicnn` wheel: no TensorFlow, and the package itself is never
installed (it pins numpy < 1.17 and TensorFlow 1).

`--weights` (or $SOUNDALIKE_WEIGHTS) names the wheel file, or a folder holding it unpacked (the folder
with `musicnn/`, `musicnn/` itself, or one variant's checkpoint folder). Without one, the wheel is fetched
on first use with pip's own configuration (`pip download --no-deps musicnn==0.1.0`: whatever index or
proxy pip is set up for), its sha256 checked, and kept in the cache folder ($SOUNDALIKE_CACHE, else
$XDG_CACHE_HOME/soundalike, else ~/.cache/soundalike) for every later build, offline.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import WeightsError
from indexer.models.musicnn.config import (
    DATA_FILE,
    INDEX_FILE,
    LABELS_FILE,
    PACKAGE,
    WHEEL,
    WHEEL_REQUIREMENT,
    WHEEL_SHA256,
    Variant,
)
from storage.core.paths import WEIGHTS_ENV, chosen_weights

log = logging.getLogger(__name__)

CACHE_ENV = "SOUNDALIKE_CACHE"


@dataclass(frozen=True)
class CheckpointFiles:
    """One variant's tensor bundle and tag names, read into memory, and the revision that names them."""

    index: bytes
    data: bytes
    labels: list[str]
    revision: str  # sha256 of the data shard: the same whether read from the wheel or a folder
    source: str


def cache_dir() -> Path:
    """Where fetched weights are kept: $SOUNDALIKE_CACHE, else $XDG_CACHE_HOME/soundalike, else ~/.cache."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "soundalike"


def _how_to_provide() -> str:
    return (
        f"fetch it where pip can reach its index (`pip download --no-deps {WHEEL_REQUIREMENT}`) and pass the wheel "
        f"(or its unpacked folder) with --weights or {WEIGHTS_ENV}, or put it in {cache_dir() / 'wheels'}"
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def fetch_wheel() -> Path:
    """The musicnn wheel from the cache, fetched with pip when it is not there yet (sha256 checked)."""
    target = cache_dir() / "wheels" / WHEEL
    if target.is_file() and _sha256(target) == WHEEL_SHA256:
        return target
    log.warning(
        "fetching the MusiCNN weights: %s (MTG's wheel, ISC licence, 29 MB) with pip, from its configured index",
        WHEEL_REQUIREMENT,
    )
    with tempfile.TemporaryDirectory(prefix="soundalike-wheel-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", tmp]
        done = subprocess.run([*command, WHEEL_REQUIREMENT], capture_output=True, text=True)
        fetched = Path(tmp) / WHEEL
        if done.returncode != 0 or not fetched.is_file():
            reason = (done.stderr.strip().splitlines() or ["pip gave no reason"])[-1][:200]
            raise WeightsError(f"could not fetch {WHEEL_REQUIREMENT} with pip ({reason}); " + _how_to_provide())
        if _sha256(fetched) != WHEEL_SHA256:
            raise WeightsError(f"{WHEEL} from pip's index does not have the expected sha256 ({WHEEL_SHA256[:16]}…)")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(fetched, partial)
        partial.replace(target)  # never a half-written wheel in the cache
    return target


def read_checkpoint(weights: str | None, variant: Variant) -> CheckpointFiles:
    """The variant's checkpoint from `weights` (a wheel, a folder; None: the cached wheel, fetched once)."""
    spec = chosen_weights(weights)
    path = Path(spec) if spec else fetch_wheel()
    if path.is_file() and path.suffix == ".whl":
        return _from_wheel(path, variant)
    if path.is_dir():
        return _from_folder(path, variant)
    raise WeightsError(
        f"MusiCNN weights '{spec}' are neither the musicnn wheel nor its unpacked folder; " + _how_to_provide()
    )


def _from_wheel(path: Path, variant: Variant) -> CheckpointFiles:
    base = f"{PACKAGE}/{variant.folder}/"
    try:
        with zipfile.ZipFile(path) as wheel:
            index = wheel.read(base + INDEX_FILE)
            data = wheel.read(base + DATA_FILE)
            labels_source = wheel.read(f"{PACKAGE}/{LABELS_FILE}").decode()
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise WeightsError(f"{path} is not the musicnn wheel ({problem}); " + _how_to_provide()) from exc
    return CheckpointFiles(index, data, read_labels(labels_source, variant), _revision(data), str(path))


def _from_folder(path: Path, variant: Variant) -> CheckpointFiles:
    """The unpacked wheel: the folder holding `musicnn/`, `musicnn/` itself, or the variant's own folder."""
    layouts = [(path / PACKAGE, path / PACKAGE / variant.folder), (path, path / variant.folder), (path.parent, path)]
    for package, checkpoint in layouts:
        if (checkpoint / INDEX_FILE).is_file() and (package / LABELS_FILE).is_file():
            try:
                index, data = (checkpoint / INDEX_FILE).read_bytes(), (checkpoint / DATA_FILE).read_bytes()
            except OSError as exc:
                raise WeightsError(f"{checkpoint}: {exc.strerror or exc}; " + _how_to_provide()) from exc
            labels = read_labels((package / LABELS_FILE).read_text(), variant)
            return CheckpointFiles(index, data, labels, _revision(data), str(checkpoint))
    raise WeightsError(f"{path} holds no {variant.folder} checkpoint of the musicnn wheel; " + _how_to_provide())


def read_labels(source: str, variant: Variant) -> list[str]:
    """The variant's tag names, read (never run) from the wheel's configuration.py."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variant.labels for t in node.targets):
            labels = ast.literal_eval(node.value)
            if isinstance(labels, list) and all(isinstance(label, str) for label in labels):
                return labels
    raise WeightsError(f"the musicnn wheel's {LABELS_FILE} has no {variant.labels} list")


def _revision(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]
