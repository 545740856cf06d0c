"""A data directory opened for reading, for one model: its tracks, styles, vectors and indexes.

Every read runs in the session `reading()` holds: inside a `with catalog.reading():` block (the search
service opens one per question) all reads share one database session, outside it each read opens its
own. The search itself is storage.search.service; row reads are storage.db.reads; loaded indexes
storage.read.index_state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from storage.core.errors import ModelMismatchError, UsageError
from storage.core.passages import Timeline
from storage.core.paths import DEFAULT_MODEL, chosen_weights, database_url, resolve_data_dir
from storage.core.timelines import TimelineCodec
from storage.core.tracks import TrackInfo
from storage.db import reads
from storage.db.engine import open_database
from storage.index.segments import SegmentIndex
from storage.index.vectors import VectorIndex
from storage.listeners import answers as answer_rows
from storage.listeners import metrics as learned
from storage.listeners.metrics import MetricInfo
from storage.read.index_state import LoadedIndexes
from storage.recordings.duplicate_listing import DuplicateEntry, duplicate_entries
from storage.recordings.other_versions import VersionRule

# The session of the `reading()` block this thread (or task) is in, per database.
_reading: ContextVar[dict[int, Session] | None] = ContextVar("soundalike_reading", default=None)


class Catalog:
    """Tracks and their indexes for one model, read from a data directory."""

    def __init__(
        self,
        data_dir: Path,
        sessions: sessionmaker[Session],
        model: str,
        gpu: bool = False,
        loaded: dict[str, LoadedIndexes] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.sessions = sessions
        self.model = model
        self.gpu = gpu
        self._loaded = {} if loaded is None else loaded  # shared by every model's Catalog of this directory
        self.metric: MetricInfo | None = None  # a listener's learned metric searched with (with_metric)

    @classmethod
    def open(cls, data_dir: str | Path | None = None, model: str | None = None, gpu: bool = False) -> Catalog:
        directory = resolve_data_dir(data_dir)
        sessions = open_database(database_url(directory), create=False, data_dir=directory)
        catalog = cls(directory, sessions, model or DEFAULT_MODEL, gpu)
        if model is None:
            models = catalog.models()
            catalog.model = DEFAULT_MODEL if DEFAULT_MODEL in models or not models else models[0]
        return catalog

    def for_model(self, model: str) -> Catalog:
        """The same data directory, read for another model (its indexes loaded once for both)."""
        return Catalog(self.data_dir, self.sessions, model, self.gpu, self._loaded)

    def with_metric(self, listener: str | None = None) -> Catalog:
        """The same catalog searched by a listener's learned metric (storage.listeners.metrics.whose says which listener
        when none is named). A metric that keeps the plain cosine searches the model's own index."""
        name = learned.whose(self.data_dir, self.model, listener)
        found = learned.latest(self.data_dir, self.model, name)
        if found is None:
            raise UsageError(
                f'no learned metric of {name} for {self.model}: answer in the page\'s "Teach it your ears", '
                f"then `indexer learn --listener '{name}'`"
            )
        if found.info.revision != self.indexes.index().meta.revision:
            raise UsageError(
                f"{name}'s learned metric for {self.model} was fitted on other weights: "
                f"`indexer learn --listener '{name}'`"
            )
        mine = Catalog(self.data_dir, self.sessions, self.model, self.gpu, self._loaded)
        mine.metric = found.info
        return mine

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One database session for every read inside the block (reentrant: an inner block joins it)."""
        key = id(self.sessions)
        open_now = _reading.get() or {}
        if key in open_now:
            yield open_now[key]
            return
        with self.sessions() as session:
            token = _reading.set({**open_now, key: session})
            try:
                yield session
            finally:
                _reading.reset(token)

    @property
    def indexes(self) -> LoadedIndexes:
        key, index_dir = self.model, None
        if self.metric is not None and self.metric.learned:
            index_dir = learned.listener_dir(self.data_dir, self.model, self.metric.listener) / learned.INDEX
            key = f"{self.model}\n{index_dir.parent.name}"
        if key not in self._loaded:
            self._loaded[key] = LoadedIndexes(self.data_dir, self.model, self.gpu, index_dir)
        return self._loaded[key]

    @property
    def index_dir(self) -> Path:
        return self.indexes.index_dir

    # -- the data directory --------------------------------------------------------------------------

    def models(self) -> list[str]:
        """Every model with vectors in this data directory."""
        with self.reading() as s:
            return reads.models_with_vectors(s)

    def known_models(self) -> list[str]:
        """Every model ever built into this data directory (with vectors or not, e.g. all failed)."""
        with self.reading() as s:
            return reads.known_models(s)

    def folders(self) -> list[Path]:
        return [path for path, _ in self.folder_counts()]

    def folder_counts(self) -> list[tuple[Path, int]]:
        """Each catalog folder with its number of tracks."""
        with self.reading() as s:
            return [(path, n) for _, path, n in reads.folder_rows(s)]

    def model_settings(self, weights: str | None = None) -> tuple[str | None, dict[str, str]]:
        """(weights, options) to embed outside audio as the build did: the build's options, the weights by
        the one rule (storage.core.paths.chosen_weights: the flag, $SOUNDALIKE_WEIGHTS, the build's)."""
        with self.reading() as s:
            remembered, options = reads.remembered_settings(s, self.model)
        return chosen_weights(weights, remembered), {str(k): str(v) for k, v in json.loads(options).items()}

    # -- tracks ------------------------------------------------------------------------------------------

    def track(self, track_id: int) -> TrackInfo:
        with self.reading() as s:
            return reads.track(s, track_id)

    def tracks(self, track_ids: list[int]) -> dict[int, TrackInfo]:
        """Several tracks by id in one query (ids not found are left out)."""
        with self.reading() as s:
            return reads.tracks(s, track_ids)

    def resolve(self, ref: str | int) -> TrackInfo:
        """A track by numeric id, by absolute path, or by path relative to its catalog folder."""
        with self.reading() as s:
            return reads.resolve(s, ref, self.data_dir)

    def search_tracks(self, text: str, limit: int = 50) -> list[TrackInfo]:
        """Tracks with this model's vector whose tags or path hold every word of `text` (the search box)."""
        with self.reading() as s:
            return reads.search_tracks(s, self.model, text, limit)

    def all_tracks(self) -> list[TrackInfo]:
        """Every track of the data directory (with a vector or not)."""
        with self.reading() as s:
            return [TrackInfo.from_row(row, folder) for row, folder in s.execute(reads.with_folder())]

    def count_tracks(self) -> dict[str, int]:
        """This model's tracks by state: indexed (has a vector), failed, pending (neither)."""
        with self.reading() as s:
            return reads.count_tracks(s, self.model)

    def failed_tracks(self) -> list[tuple[TrackInfo, str]]:
        """Tracks this model could not embed, with the reason."""
        with self.reading() as s:
            return reads.failed_tracks(s, self.model)

    def answers(self, listener: str | None = None) -> list[answer_rows.Judgement]:
        """The listeners' answers (of one listener), oldest first (storage.listeners.answers)."""
        with self.reading() as s:
            return answer_rows.judgements(s, listener)

    def listeners(self) -> list[tuple[str, int]]:
        with self.reading() as s:
            return answer_rows.listeners(s)

    def asked(self, listener: str) -> set[frozenset[int]]:
        """The triplets `listener` was asked already (never asked twice)."""
        with self.reading() as s:
            return answer_rows.asked(s, listener)

    def duplicates(self) -> list[DuplicateEntry]:
        """Recordings held by more than one file (storage.recordings.duplicate_listing)."""
        with self.reading() as s:
            return duplicate_entries(s)

    def version_rule(self) -> VersionRule:
        """This model's threshold for other versions on this catalog (storage.recordings.other_versions)."""
        with self.reading() as s:
            return self.indexes.version_rule(s, self.index())

    def ids_sharing(self, artists: list[str], albums: list[str]) -> set[int]:
        """Tracks by any of `artists` or on any of `albums` (case-insensitive)."""
        with self.reading() as s:
            return reads.ids_sharing(s, artists, albums)

    # -- style tags (models that tag: MAEST) -----------------------------------------------------------

    def styles(self, track_ids: list[int]) -> dict[int, dict[str, float]]:
        """Each track's stored styles for this model, most probable first."""
        with self.reading() as s:
            return reads.styles(s, self.model, track_ids)

    def style_counts(self) -> list[tuple[str, int]]:
        with self.reading() as s:
            return reads.style_counts(s, self.model)

    def tracks_with_styles(self, styles: list[str]) -> set[int]:
        with self.reading() as s:
            return reads.tracks_with_styles(s, self.model, styles)

    def tags_styles(self) -> bool:
        """Whether this model's tracks carry style tags."""
        with self.reading() as s:
            return reads.tags_styles(s, self.model)

    # -- vectors, timelines, indexes ---------------------------------------------------------------------

    def vector(self, track: TrackInfo | int) -> np.ndarray:
        with self.reading() as s:
            return reads.vector(s, self.model, track if isinstance(track, int) else track.id)

    def codec(self) -> TimelineCodec | None:
        """This model's timeline basis (storage.core.timelines), None until it has one."""
        with self.reading() as s:
            return self.indexes.codec(s)

    def timelines(self, track_ids: list[int]) -> dict[int, Timeline]:
        """Each track's timeline in the space passages compare; tracks without a vector left out."""
        with self.reading() as s:
            return reads.timelines(s, self.model, track_ids, self.indexes.codec(s))

    def timeline(self, track: TrackInfo | int) -> Timeline:
        """A catalog track's timeline for this model (the query side of its passages)."""
        track_id = track if isinstance(track, int) else track.id
        return self.timelines([track_id])[track_id]

    def comparable(self, timeline: Timeline) -> Timeline:
        """An outside timeline (full precision, e.g. an upload's) in the space stored ones are compared in."""
        codec = self.codec()
        if timeline.compared or codec is None:
            return timeline
        if timeline.vectors.shape[1] != codec.dim:
            raise ModelMismatchError(f"query timeline has {timeline.vectors.shape[1]} dims, {self.model} {codec.dim}")
        return replace(timeline, vectors=codec.project(timeline.vectors), compared=True)

    def timeline_formats(self) -> dict[str, int]:
        with self.reading() as s:
            return reads.timeline_formats(s, self.model)

    def index(self) -> VectorIndex:
        """The index in force, reloaded when a newer build has been swapped in."""
        return self.indexes.index()

    def stale_by(self, index: VectorIndex) -> int:
        """How many vector changes the database has that the index lacks (0: fresh)."""
        with self.reading() as s:
            return self.indexes.stale_by(s, index)

    def segments(self, allow_stale: bool = False) -> SegmentIndex:
        """The segment index in force (search by passage)."""
        with self.reading() as s:
            return self.indexes.segments(s, allow_stale)
