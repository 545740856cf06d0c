"""The read side of the store: tracks, vectors and nearest neighbours, for the CLI and the page."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import open_database
from storage.errors import EmptyIndexError, ModelMismatchError, StaleIndexError, UnknownTrackError, UsageError
from storage.paths import INDEX_DIR, database_url, resolve_data_dir
from storage.schema import Embedding, Meta, Track, TrackStyle
from storage.vectors import VectorIndex, current_build

log = logging.getLogger(__name__)

DEFAULT_MODEL = "mule"
WEIGHTS_ENV = "SOUNDALIKE_WEIGHTS"  # as indexer.models.weights (not imported: it must stay light)
CATALOG_ROOT_KEY = "catalog_root"


def version_key(model: str) -> str:
    return f"vectors_version:{model}"


def query_hint_key(model: str) -> str:
    return f"query_hint:{model}"


def read_meta(session: Session, key: str) -> str | None:
    return session.execute(select(Meta.value).where(Meta.key == key)).scalar()


@dataclass(frozen=True)
class TrackInfo:
    id: int
    path: str
    title: str | None
    artist: str | None
    album: str | None
    album_artist: str | None
    year: int | None
    genre: str | None
    track_number: int | None
    duration: float | None
    state: str
    error: str | None

    @classmethod
    def from_row(cls, row: Track) -> TrackInfo:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @property
    def label(self) -> str:
        title = self.title or Path(self.path).stem
        return f"{self.artist} – {title}" if self.artist else title

    @property
    def duration_text(self) -> str:
        if self.duration is None:
            return "-"
        minutes, seconds = divmod(int(round(self.duration)), 60)
        return f"{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Neighbour:
    track: TrackInfo
    score: float
    styles: dict[str, float] | None = None  # a tagging model's top styles (MAEST), else None

    def as_dict(self) -> dict:
        t = self.track
        out = {
            "id": t.id,
            "score": round(float(self.score), 6),
            "path": t.path,
            "title": t.title,
            "artist": t.artist,
            "album": t.album,
            "duration": t.duration,
        }
        return out | ({"styles": self.styles} if self.styles is not None else {})


class Catalog:
    """Tracks and their neighbours for one model, read from a data directory. `gpu`: search on a GPU
    when faiss has one (for long-lived readers such as the page; a one-shot lookup stays on the CPU)."""

    def __init__(self, data_dir: Path, sessions: sessionmaker[Session], model: str, gpu: bool = False) -> None:
        self.data_dir = data_dir
        self.sessions = sessions
        self.model = model
        self.gpu = gpu
        self._index: VectorIndex | None = None

    @classmethod
    def open(cls, data_dir: str | Path | None = None, model: str | None = None, gpu: bool = False) -> Catalog:
        directory = resolve_data_dir(data_dir)
        sessions = open_database(database_url(directory), create=False, data_dir=directory)
        if model is None:
            with sessions() as s:
                models = s.execute(select(Embedding.model).distinct()).scalars().all()
            model = DEFAULT_MODEL if DEFAULT_MODEL in models or not models else sorted(models)[0]
        return cls(directory, sessions, model, gpu)

    def models(self) -> list[str]:
        """Every model with vectors in this data directory."""
        with self.sessions() as s:
            return sorted(s.execute(select(Embedding.model).distinct()).scalars())

    @property
    def index_dir(self) -> Path:
        return self.data_dir / INDEX_DIR / self.model

    @property
    def root(self) -> Path | None:
        with self.sessions() as s:
            value = read_meta(s, CATALOG_ROOT_KEY)
        return Path(value) if value else None

    def embedder_args(self, weights: str | None = None) -> dict[str, str | int | float | None]:
        """`load_embedder` keywords for outside audio: the build's options; weights from the flag,
        $SOUNDALIKE_WEIGHTS, then those of the build."""
        with self.sessions() as s:
            hint = json.loads(read_meta(s, query_hint_key(self.model)) or "{}")
        chosen = weights or os.environ.get(WEIGHTS_ENV) or hint.get("weights")
        return {"weights": chosen, **hint.get("options", {})}

    def absolute_path(self, track: TrackInfo) -> Path:
        root = self.root
        return (root / track.path) if root else Path(track.path)

    # -- tracks -----------------------------------------------------------------------

    def track(self, track_id: int) -> TrackInfo:
        with self.sessions() as s:
            row = s.get(Track, track_id)
        if row is None:
            raise UnknownTrackError(f"no track with id {track_id}")
        return TrackInfo.from_row(row)

    def resolve(self, ref: str | int) -> TrackInfo:
        """A track by numeric id, catalog-relative path, or absolute path inside the catalog."""
        text = str(ref).strip()
        if text.isdigit():
            return self.track(int(text))
        relative = text
        root = self.root
        candidate = Path(text).expanduser()
        if candidate.is_absolute() and root is not None:
            try:
                relative = candidate.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                raise UnknownTrackError(f"{text} is not inside the catalog {root}") from None
        with self.sessions() as s:
            row = s.execute(select(Track).where(Track.path == Path(relative).as_posix())).scalar()
        if row is None:
            raise UnknownTrackError(f"no track with id or path {text!r}")
        return TrackInfo.from_row(row)

    def search_tracks(self, text: str, limit: int = 50) -> list[TrackInfo]:
        """Indexed tracks whose title, artist, album or path contain every word of `text`."""
        query = select(Track).where(Track.state == "indexed")
        for word in text.split():
            pattern = f"%{word.lower()}%"
            query = query.where(
                or_(*(func.lower(col).like(pattern) for col in (Track.title, Track.artist, Track.album, Track.path)))
            )
        with self.sessions() as s:
            rows = s.execute(query.order_by(Track.artist, Track.album, Track.track_number, Track.title).limit(limit))
            return [TrackInfo.from_row(r) for r in rows.scalars()]

    def count_tracks(self) -> dict[str, int]:
        with self.sessions() as s:
            return dict(s.execute(select(Track.state, func.count()).group_by(Track.state)).all())

    def failed_tracks(self) -> list[TrackInfo]:
        with self.sessions() as s:
            rows = s.execute(select(Track).where(Track.state == "failed").order_by(Track.path)).scalars()
            return [TrackInfo.from_row(r) for r in rows]

    # -- style tags (models that tag: MAEST) -------------------------------------------

    def styles(self, track_ids: list[int]) -> dict[int, dict[str, float]]:
        """Each track's stored styles for this model, most probable first."""
        query = select(TrackStyle).where(TrackStyle.model == self.model, TrackStyle.track_id.in_(track_ids))
        out: dict[int, dict[str, float]] = {i: {} for i in track_ids}
        with self.sessions() as s:
            for row in s.execute(query.order_by(TrackStyle.probability.desc())).scalars():
                out[row.track_id][row.label] = row.probability
        return out

    def style_counts(self) -> list[tuple[str, int]]:
        """Every stored style of this model with its number of tracks, most common first."""
        query = select(TrackStyle.label, func.count()).where(TrackStyle.model == self.model).group_by(TrackStyle.label)
        with self.sessions() as s:
            return sorted(s.execute(query).all(), key=lambda row: (-row[1], row[0]))  # type: ignore[return-value]

    def tracks_with_styles(self, styles: list[str]) -> set[int]:
        """Tracks tagged with any of `styles`: a full "Genre---Style" label, or a genre alone."""
        conditions = [
            TrackStyle.label == style if "---" in style else TrackStyle.label.like(f"{style}---%") for style in styles
        ]
        query = select(TrackStyle.track_id).where(TrackStyle.model == self.model, or_(*conditions)).distinct()
        with self.sessions() as s:
            return set(s.execute(query).scalars())

    # -- vectors and search ----------------------------------------------------------

    def vector(self, track: TrackInfo) -> np.ndarray:
        with self.sessions() as s:
            row = s.get(Embedding, (track.id, self.model))
        if row is None:
            why = f" ({track.state}: {track.error})" if track.error else f" (state: {track.state})"
            raise UsageError(f"track {track.id} has no {self.model} vector{why}")
        return row.vector_array()

    def index(self) -> VectorIndex:
        """The index in force, reloaded when a newer build has been swapped in."""
        name = current_build(self.index_dir)
        if name is None:
            raise EmptyIndexError(
                f"no {self.model} index in {self.data_dir}; build it with `indexer build CATALOG_DIR`"
            )
        if self._index is None or self._index.name != name:
            self._index = VectorIndex(self.index_dir / name, self.gpu)
        return self._index

    def stale_by(self, index: VectorIndex) -> int:
        """How many vector changes the database has that the index lacks (0: fresh)."""
        with self.sessions() as s:
            current = int(read_meta(s, version_key(self.model)) or 0)
        return max(0, current - index.meta.vectors_version)

    def _checked_index(self, allow_stale: bool) -> VectorIndex:
        index = self.index()
        behind = self.stale_by(index)
        if behind and not allow_stale:
            raise StaleIndexError(
                f"the {self.model} index is older than the database ({behind} change(s) since it was built); "
                "run `indexer build CATALOG_DIR` or `python -m storage.query --rebuild-index`, or pass --allow-stale"
            )
        return index

    def similar(
        self,
        track: TrackInfo | int,
        k: int = 10,
        exclude_same_artist: bool = False,
        exclude_same_album: bool = False,
        allow_stale: bool = False,
        styles: list[str] | None = None,
    ) -> list[Neighbour]:
        """The k tracks nearest to a catalog track (never the track itself); `styles` keeps only those tagged so."""
        info = track if isinstance(track, TrackInfo) else self.track(track)
        return self.similar_to_vector(
            self.vector(info),
            k,
            exclude_ids=[info.id],
            exclude_artist=info.artist if exclude_same_artist else None,
            exclude_album=info.album if exclude_same_album else None,
            allow_stale=allow_stale,
            styles=styles,
        )

    def similar_to_vector(
        self,
        vector: np.ndarray,
        k: int = 10,
        exclude_ids: list[int] | None = None,
        exclude_artist: str | None = None,
        exclude_album: str | None = None,
        revision: str | None = None,
        allow_stale: bool = False,
        styles: list[str] | None = None,
    ) -> list[Neighbour]:
        """The k tracks nearest to any vector of this model (e.g. an uploaded file's)."""
        if k < 1:
            raise UsageError("k must be at least 1")
        index = self._checked_index(allow_stale)
        if revision is not None and revision != index.meta.revision:
            raise ModelMismatchError(
                f"query vector comes from {self.model} weights {revision}, the index from {index.meta.revision}; "
                "use the same --weights as the build, or rebuild with `indexer build --rebuild`"
            )
        if vector.shape != (index.meta.dim,):
            raise ModelMismatchError(f"query vector has {vector.shape} dims, the {self.model} index {index.meta.dim}")
        excluded = set(exclude_ids or []) | self._ids_sharing(exclude_artist, exclude_album)
        include = sorted(self.tracks_with_styles(styles)) if styles else None
        if include is not None and not include:
            return []
        ids, scores = index.search(vector, k, exclude=sorted(excluded), include=include)
        return self._neighbours(ids, scores)

    def _ids_sharing(self, artist: str | None, album: str | None) -> set[int]:
        conditions = []
        if artist:
            conditions.append(func.lower(Track.artist) == artist.lower())
        if album:
            conditions.append(func.lower(Track.album) == album.lower())
        if not conditions:
            return set()
        with self.sessions() as s:
            return set(s.execute(select(Track.id).where(or_(*conditions))).scalars())

    def _neighbours(self, ids: np.ndarray, scores: np.ndarray) -> list[Neighbour]:
        with self.sessions() as s:
            rows = {r.id: r for r in s.execute(select(Track).where(Track.id.in_(ids.tolist()))).scalars()}
        tagged = self.styles(list(rows)) if self.tags_styles() else {}
        # An id the database no longer has (removed since the build) is dropped, not shown.
        return [
            Neighbour(TrackInfo.from_row(rows[i]), float(sc), tagged.get(i))
            for i, sc in zip(ids.tolist(), scores, strict=False)
            if i in rows
        ]

    def tags_styles(self) -> bool:
        """Whether this model's tracks carry style tags (a cheap existence check, not a count)."""
        with self.sessions() as s:
            return (
                s.execute(select(TrackStyle.track_id).where(TrackStyle.model == self.model).limit(1)).first()
                is not None
            )
