"""The indexes a reader searches: one model's track index, segment index and timeline basis, loaded
once, reloaded when a newer build is swapped in, and checked against the database for staleness."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.core.errors import EmptyIndexError, StaleIndexError
from storage.core.paths import INDEX_DIR
from storage.core.timelines import TimelineCodec
from storage.db.counters import vectors_version
from storage.db.reads import codec_stamp, load_codec
from storage.index.segment_rows import basis_key
from storage.index.segments import SEGMENTS_DIR, SegmentIndex
from storage.index.vectors import VectorIndex, current_build
from storage.recordings.fingerprints import FingerprintIndex
from storage.recordings.groups import copy_cosines, fingerprint_index, index_stamp
from storage.recordings.other_versions import VersionRule, fit


def _once(session: Session, key: tuple[str, str], read: Callable[[], Any]) -> Any:
    """`read()` once per session (a question reads the version and the basis stamp once, however many
    steps ask)."""
    if key not in session.info:
        session.info[key] = read()
    return session.info[key]


class LoadedIndexes:
    """One model's derived files in a data directory, as a long-lived reader holds them. `gpu`: search
    on a GPU when faiss has one (the page; a one-shot lookup stays on the CPU)."""

    def __init__(self, data_dir: Path, model: str, gpu: bool = False, index_dir: Path | None = None) -> None:
        """`index_dir`: the track index's folder when not the model's own (a learned metric's:
        storage.listeners.metrics)."""
        self.data_dir, self.model, self.gpu = data_dir, model, gpu
        self._index_dir = index_dir
        self._index: VectorIndex | None = None
        self._segments: SegmentIndex | None = None
        self._codec: TimelineCodec | None = None
        self._codec_stamp: object = None
        self._prints: FingerprintIndex | None = None
        self._prints_stamp: object = None
        self._rule: tuple[object, VersionRule] | None = None
        self._lock = threading.Lock()  # the page and the API search from several threads

    @property
    def index_dir(self) -> Path:
        return self._index_dir or self.data_dir / INDEX_DIR / self.model

    def index(self) -> VectorIndex:
        """The index in force, reloaded when a newer build has been swapped in."""
        name = current_build(self.index_dir)
        if name is None:
            raise EmptyIndexError(
                f"no {self.model} index in {self.data_dir}; build it with `indexer build CATALOG_DIR`"
            )
        with self._lock:
            if self._index is None or self._index.name != name:
                self._index = VectorIndex(self.index_dir / name, self.gpu)
            return self._index

    def stale_by(self, session: Session, index: VectorIndex) -> int:
        """How many vector changes the database has that the index lacks (0: fresh)."""
        return max(0, self._version(session) - index.meta.vectors_version)

    def _version(self, session: Session) -> int:
        return int(_once(session, ("vectors_version", self.model), lambda: vectors_version(session, self.model)))

    def checked_index(self, session: Session, allow_stale: bool) -> VectorIndex:
        """The index in force; StaleIndexError when it lags the database and that is not allowed."""
        index = self.index()
        behind = self.stale_by(session, index)
        if behind and not allow_stale:
            raise StaleIndexError(
                f"the {self.model} index is older than the database ({behind} change(s) since it was built); "
                "run `indexer build CATALOG_DIR` or `python -m storage.query --rebuild-index`, or pass --allow-stale"
            )
        return index

    def codec(self, session: Session) -> TimelineCodec | None:
        """The model's timeline basis (storage.core.timelines), reloaded when it changes (None: none yet)."""
        stamp = _once(session, ("codec_stamp", self.model), lambda: codec_stamp(session, self.model))
        with self._lock:
            if stamp != self._codec_stamp:
                self._codec, self._codec_stamp = load_codec(session, self.model), stamp
            return self._codec

    def fingerprints(self, session: Session) -> FingerprintIndex:
        """The catalog's fingerprint index (model-independent; in memory), reloaded when fingerprints come
        or go."""
        stamp = _once(session, ("fingerprints", ""), lambda: index_stamp(session))
        with self._lock:
            if self._prints is None or stamp != self._prints_stamp:
                self._prints, self._prints_stamp = fingerprint_index(session), stamp
            return self._prints

    def version_rule(self, session: Session, index: VectorIndex) -> VersionRule:
        """The index's threshold for other versions (storage.recordings.other_versions), fitted once per index build and
        set of fingerprints."""
        stamp = (index.name, _once(session, ("fingerprints", ""), lambda: index_stamp(session)))
        with self._lock:
            if self._rule is None or self._rule[0] != stamp:
                cosines = copy_cosines(session, index)
                self._rule = (stamp, fit(index.pairs, cosines, index.meta.count))
            return self._rule[1]

    def segments(self, session: Session, allow_stale: bool = False) -> SegmentIndex:
        """The segment index in force (search by passage), reloaded when a newer one is swapped in."""
        directory = self.data_dir / SEGMENTS_DIR / self.model
        name = current_build(directory)
        if name is None:
            raise EmptyIndexError(f"no {self.model} segment index in {self.data_dir}; run `indexer build`")
        with self._lock:
            if self._segments is None or self._segments.name != name:
                self._segments = SegmentIndex(directory / name)
            segments = self._segments
        if basis_key(session, self.model) != segments.meta.basis:  # another space: its scores would mean nothing
            raise StaleIndexError(f"the {self.model} segment index predates its timeline basis; run `indexer build`")
        behind = self._version(session) - segments.meta.vectors_version
        if behind > 0 and not allow_stale:
            raise StaleIndexError(
                f"the {self.model} segment index is older than the database ({behind} change(s)); "
                "run `indexer build`, or pass --allow-stale"
            )
        return segments
