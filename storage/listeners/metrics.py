"""Listeners' learned metrics on disk, and the indexes searched with them.

Layout: DATA/learned/<model>/<listener key>/metric-NNNN.json and .npz: every fit is a new version (the
newest is in force, the last KEEP are kept), saying what it rests on (answers, held-out agreement before and
after) beside its stretch (storage.listeners.fitting). `index/` beside them: the model's index in force with every
vector moved by the newest metric, an index build like any other (storage.index.vectors: CURRENT, build-*), so a
search with it costs what a plain one does. It is made again whenever the model's own index changes
(Store.refresh_learned), so it is never staler than that. A metric that keeps the plain cosine has no
index of its own: searching with it is searching the model's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from storage.core.errors import CorruptIndexError, EmptyIndexError, UsageError
from storage.index.vectors import CENTRE_FILE, STRETCH_FILES, IndexMeta, VectorIndex, current_build, write_index
from storage.listeners.answers import Judgement
from storage.listeners.fitting import Answers, Stretch, learn, principal_subspace

log = logging.getLogger(__name__)

LEARNED_DIR = "learned"
INDEX = "index"
KEEP = 5  # metric versions kept per listener and model
LISTENER_ENV = "SOUNDALIKE_LISTENER"  # whose ears `--metric mine` means when no --listener is given
METRICS = ("cosine", "mine")
_CHUNK = 65536


@dataclass(frozen=True)
class MetricInfo:
    """What a fitted metric rests on and how it did."""

    version: int
    listener: str
    model: str
    revision: str  # the model weights whose vectors it was fitted on
    triplets: int  # odd-one-out answers used
    thumbs: int  # thumbs used (pairs)
    agreement_before: float  # held-out triplet agreement of the plain cosine
    agreement_after: float  # of the learned metric (nested cross-validation: answers it did not see)
    strength: float  # k: squared distances along the learned directions count 1 + k times (0: plain cosine)
    rank: int  # learned directions (0: plain cosine)
    fitted_at: str
    seconds: float  # fitting time

    @property
    def answers(self) -> int:
        return self.triplets + self.thumbs

    @property
    def learned(self) -> bool:
        return self.rank > 0

    def describe(self) -> str:
        """One line for people: what it rests on and whether it helped."""
        said = (
            f"{self.listener}'s ears for {self.model} (version {self.version}): {self.triplets} odd-one-out "
            f"answer(s), {self.thumbs} thumb(s); held-out agreement {self.agreement_before:.2f} (plain cosine) → "
            f"{self.agreement_after:.2f} (learned)"
        )
        if self.learned:
            return f"{said}; stretched ×{1 + self.strength:g} along {self.rank} direction(s)"
        return f"{said}; kept the plain cosine: the answers do not yet beat it on answers held out"


@dataclass(frozen=True)
class LearnedMetric:
    info: MetricInfo
    stretch: Stretch
    directory: Path  # the listener's folder for this model

    @property
    def index_dir(self) -> Path:
        return self.directory / INDEX


def listener_key(listener: str) -> str:
    """A folder name for a listener: readable, and unique (names differing in case or accents included)."""
    slug = re.sub(r"[^a-z0-9]+", "-", listener.casefold()).strip("-")[:40] or "listener"
    return f"{slug}-{hashlib.sha256(listener.encode()).hexdigest()[:8]}"


def listener_dir(data_dir: Path, model: str, listener: str) -> Path:
    return data_dir / LEARNED_DIR / model / listener_key(listener)


def _versions(directory: Path) -> list[int]:
    found = (re.fullmatch(r"metric-(\d+)\.json", p.name) for p in directory.glob("metric-*.json"))
    return sorted(int(m.group(1)) for m in found if m)


def latest(data_dir: Path, model: str, listener: str) -> LearnedMetric | None:
    """The listener's metric in force for `model` (its newest version); None when never fitted."""
    directory = listener_dir(data_dir, model, listener)
    versions = _versions(directory) if directory.is_dir() else []
    return _load(directory, versions[-1]) if versions else None


def _load(directory: Path, version: int) -> LearnedMetric:
    info = MetricInfo(**json.loads((directory / f"metric-{version:04d}.json").read_text()))
    with np.load(directory / f"metric-{version:04d}.npz") as arrays:
        stretch = Stretch(arrays["basis"], arrays["gain"])
    return LearnedMetric(info, stretch, directory)


def in_force(data_dir: Path, model: str) -> list[LearnedMetric]:
    """Every listener's metric in force for `model` (each one's newest version), by listener name."""
    root = data_dir / LEARNED_DIR / model
    if not root.is_dir():
        return []
    found = [_load(d, v[-1]) for d in sorted(root.iterdir()) if d.is_dir() and (v := _versions(d))]
    return sorted(found, key=lambda metric: metric.info.listener)


def fitted(data_dir: Path, model: str) -> list[MetricInfo]:
    """What every listener's metric in force for `model` rests on, by listener name."""
    return [metric.info for metric in in_force(data_dir, model)]


def whose(data_dir: Path, model: str, listener: str | None) -> str:
    """The listener `--metric mine` means: the one named, else $SOUNDALIKE_LISTENER, else the only listener
    with a learned metric for `model`."""
    named = listener or os.environ.get(LISTENER_ENV)
    if named:
        return " ".join(named.split())
    known = [info.listener for info in fitted(data_dir, model)]
    if len(known) == 1:
        return known[0]
    if not known:
        raise UsageError(
            f'no learned metric for {model} yet: answer in the page\'s "Teach it your ears", then `indexer learn`'
        )
    raise UsageError(
        f"several listeners have learned metrics for {model} ({', '.join(known)}): say whose with --listener"
    )


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with tmp.open("wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def save(data_dir: Path, info: MetricInfo, stretch: Stretch) -> LearnedMetric:
    """Keep a fitted metric as the listener's next version (arrays first: a version is there once its JSON is)."""
    directory = listener_dir(data_dir, info.model, info.listener)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"metric-{info.version:04d}"
    _write_atomically(directory / f"{name}.npz", lambda f: np.savez(f, basis=stretch.basis, gain=stretch.gain))
    _write_atomically(directory / f"{name}.json", lambda f: f.write(json.dumps(asdict(info), indent=1).encode()))
    for old in _versions(directory)[:-KEEP]:
        for suffix in (".json", ".npz"):
            (directory / f"metric-{old:04d}{suffix}").unlink(missing_ok=True)
    return LearnedMetric(info, stretch, directory)


def answers_in(index: VectorIndex, judgements: Sequence[Judgement]) -> Answers:
    """The answers about tracks `index` has, as rows of their vectors (in the index's space); "can't say" and
    answers about tracks without a vector for this model are left out."""
    triplets, thumbs = [], []
    for j in judgements:
        if j.kind == "triplet" and j.odd is not None:
            triplets.append((*(t for t in j.tracks if t != j.odd), j.odd))
        elif j.kind == "thumb" and j.verdict:
            thumbs.append((*j.tracks, j.verdict))
    ids = np.unique(
        np.array([t for row in triplets for t in row] + [t for q, r, _ in thumbs for t in (q, r)], np.int64)
    )
    rows = index.rows(ids) if len(ids) else np.zeros(0, np.int64)
    present = {int(i): n for n, i in enumerate(ids[rows >= 0])}
    vectors = np.asarray(index.vectors[np.sort(rows[rows >= 0])], np.float32) if len(present) else None
    dim = index.meta.dim
    kept_triplets = [[present[t] for t in row] for row in triplets if all(t in present for t in row)]
    pairs = [(present[q], present[r], v) for q, r, v in thumbs if q in present and r in present]
    return Answers(
        vectors if vectors is not None else np.zeros((0, dim), np.float32),
        np.array(kept_triplets, np.int64).reshape(-1, 3),
        np.array([(q, r) for q, r, v in pairs if v > 0], np.int64).reshape(-1, 2),
        np.array([(q, r) for q, r, v in pairs if v < 0], np.int64).reshape(-1, 2),
    )


def fit(data_dir: Path, index: VectorIndex, listener: str, judgements: Sequence[Judgement]) -> LearnedMetric:
    """Fit `listener`'s metric for the index's model from their answers and keep it as a new version."""
    started = time.perf_counter()
    answers = answers_in(index, judgements)
    if not len(answers.triplets) and not (len(answers.alike) + len(answers.unlike)):
        raise UsageError(
            f"no answers of {listener} about tracks with {index.meta.model} vectors: "
            'the page\'s "Teach it your ears" asks for them'
        )
    found = learn(answers, principal_subspace(index.vectors))
    directory = listener_dir(data_dir, index.meta.model, listener)
    versions = _versions(directory) if directory.is_dir() else []
    info = MetricInfo(
        version=(versions[-1] + 1) if versions else 1,
        listener=listener,
        model=index.meta.model,
        revision=index.meta.revision,
        triplets=found.triplets,
        thumbs=found.thumbs,
        agreement_before=round(found.agreement_before, 4),
        agreement_after=round(found.agreement_after, 4),
        strength=found.strength,
        rank=found.stretch.rank,
        fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 3),
    )
    return save(data_dir, info, found.stretch)


def derive_index(metric: LearnedMetric, index: VectorIndex) -> IndexMeta | None:
    """The index searched with `metric`: `index`'s vectors moved by it (None, and no index, when the metric
    keeps the plain cosine)."""
    if not metric.info.learned:
        shutil.rmtree(metric.index_dir, ignore_errors=True)
        return None
    space = {STRETCH_FILES[0]: metric.stretch.basis, STRETCH_FILES[1]: metric.stretch.gain}
    if index.centre is not None:
        space[CENTRE_FILE] = index.centre
    meta = {"model": index.meta.model, "revision": index.meta.revision, "vectors_version": index.meta.vectors_version}
    return write_index(
        metric.index_dir, _moved(index, metric.stretch), len(index.ids), index.meta.dim, meta, space=space
    )


def _moved(index: VectorIndex, stretch: Stretch) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for first in range(0, len(index.ids), _CHUNK):
        last = min(len(index.ids), first + _CHUNK)
        yield np.asarray(index.ids[first:last]), stretch.apply(np.asarray(index.vectors[first:last], np.float32))


def lags(metric: LearnedMetric, index: VectorIndex) -> bool:
    """Whether the metric's index is missing or was made from other vectors than `index`'s, or another version."""
    if not metric.info.learned:
        return current_build(metric.index_dir) is not None
    try:
        mine = VectorIndex.open_current(metric.index_dir)
    except (EmptyIndexError, CorruptIndexError):
        return True
    theirs, ours = index.centre, mine.centre
    same_centre = (ours is None and theirs is None) or (
        ours is not None and theirs is not None and np.array_equal(ours, theirs)
    )
    stretch = mine.stretch
    same_stretch = stretch is not None and np.array_equal(stretch[0], metric.stretch.basis)
    return not (
        same_centre
        and same_stretch
        and mine.meta.vectors_version == index.meta.vectors_version
        and mine.meta.revision == index.meta.revision
        and mine.meta.count == index.meta.count
    )
