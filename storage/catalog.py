"""The read side of the store: tracks, vectors and nearest neighbours, for the CLI and the page."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage.caps import Caps, apply_caps
from storage.db import open_database
from storage.duplicates import Recording, duplicate_distance, group, same_recording
from storage.errors import EmptyIndexError, ModelMismatchError, StaleIndexError, UnknownTrackError, UsageError
from storage.fts import text_match
from storage.hubs import HUBS_MAX, RERANKINGS
from storage.passage_search import search_passages
from storage.passages import Passage, Timeline, best_passage, clock
from storage.paths import INDEX_DIR, WEIGHTS_ENV, database_url, resolve_data_dir
from storage.schema import Embedding, Failure, Folder, Model, Track, TrackStyle
from storage.schema import TimelineCodec as CodecRow
from storage.segment_rows import basis_key
from storage.segments import SEGMENTS_DIR, SegmentIndex
from storage.timelines import TimelineCodec, comparable
from storage.vectors import VectorIndex, current_build, normalise
from storage.versions import vectors_version

log = logging.getLogger(__name__)

DEFAULT_MODEL = "mule"


@dataclass(frozen=True)
class TrackInfo:
    id: int
    folder: str  # the catalog folder the track lies in (absolute)
    path: str  # relative to `folder`
    title: str | None
    artist: str | None
    album: str | None
    album_artist: str | None
    year: int | None
    genre: str | None
    track_number: int | None
    duration: float | None
    content_hash: str | None = None

    @classmethod
    def from_row(cls, row: Track, folder: str) -> TrackInfo:
        fields = {name: getattr(row, name) for name in cls.__dataclass_fields__ if name != "folder"}
        return cls(folder=folder, **fields)

    @property
    def file(self) -> Path:
        return Path(self.folder) / self.path

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


def load_codec(session: Session, model: str) -> TimelineCodec | None:
    row = session.get(CodecRow, model)
    if row is None:
        return None
    return TimelineCodec(
        np.frombuffer(row.mean, np.float32),
        np.frombuffer(row.components, np.float32).reshape(row.dims, row.dim),
        row.rest,
    )


def csls_rerank(index: VectorIndex, ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates re-ordered by 2 cos - r (r: each track's neighbourhood density); the cosines are kept."""
    assert index.hubs is not None
    density = index.hubs.density[index.rows(ids)]
    order = np.argsort(-(2 * scores - density), kind="stable")
    return ids[order], scores[order]


def with_folder() -> Select:
    return select(Track, Folder.path).join(Folder, Folder.id == Track.folder_id)


def folder_rows(session: Session) -> list[tuple[int, Path, int]]:
    """(id, path, number of tracks) of each catalog folder, by path."""
    query = (
        select(Folder.id, Folder.path, func.count(Track.id))
        .outerjoin(Track, Track.folder_id == Folder.id)
        .group_by(Folder.id, Folder.path)
        .order_by(Folder.path)
    )
    return [(i, Path(p), n) for i, p, n in session.execute(query)]


@dataclass(frozen=True)
class Neighbour:
    track: TrackInfo
    score: float
    styles: dict[str, float] | None = None  # a tagging model's top styles (MAEST), else None
    passage: Passage | None = None  # the best-matching pair of passages with the query
    closeness: float | None = None  # % of the catalog's pairs further apart than this one (None: not known)
    also_in: tuple[str, ...] = ()  # files of the same recording (storage.duplicates), shown once as this one

    @property
    def closeness_text(self) -> str:
        """The score as a person reads it: "closer than 99.31% of pairs" (the cosine when that is not known)."""
        if self.closeness is None:
            return f"similarity {self.score:.3f}"
        digits = 2 if self.closeness >= 99 else 1
        return f"closer than {self.closeness:.{digits}f}% of pairs"

    def as_dict(self) -> dict:
        t = self.track
        out = {
            "id": t.id,
            "score": round(float(self.score), 6),
            "folder": t.folder,
            "path": t.path,
            "title": t.title,
            "artist": t.artist,
            "album": t.album,
            "duration": t.duration,
        }
        out |= {"closeness": round(self.closeness, 2)} if self.closeness is not None else {}
        out["also_in"] = list(self.also_in)
        out |= {"styles": self.styles} if self.styles is not None else {}
        return out | ({"passage": self.passage.as_dict()} if self.passage is not None else {})


class Catalog:
    """Tracks and their neighbours for one model, read from a data directory. `gpu`: search on a GPU
    when faiss has one (for long-lived readers such as the page; a one-shot lookup stays on the CPU)."""

    def __init__(self, data_dir: Path, sessions: sessionmaker[Session], model: str, gpu: bool = False) -> None:
        self.data_dir = data_dir
        self.sessions = sessions
        self.model = model
        self.gpu = gpu
        self._index: VectorIndex | None = None
        self._codec: TimelineCodec | None = None
        self._codec_key: object = None
        self._segments: SegmentIndex | None = None

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
        """The same data directory, read for another model."""
        return Catalog(self.data_dir, self.sessions, model, self.gpu)

    def models(self) -> list[str]:
        """Every model with vectors in this data directory."""
        has_vectors = select(Embedding.track_id).where(Embedding.model == Model.name).exists()
        with self.sessions() as s:
            return sorted(s.execute(select(Model.name).where(has_vectors)).scalars())

    def known_models(self) -> list[str]:
        """Every model ever built into this data directory (with vectors or not, e.g. all failed)."""
        with self.sessions() as s:
            return sorted(s.execute(select(Model.name)).scalars())

    @property
    def index_dir(self) -> Path:
        return self.data_dir / INDEX_DIR / self.model

    def folders(self) -> list[Path]:
        with self.sessions() as s:
            return [Path(p) for p in s.execute(select(Folder.path).order_by(Folder.path)).scalars()]

    def folder_counts(self) -> list[tuple[Path, int]]:
        """Each catalog folder with its number of tracks."""
        with self.sessions() as s:
            return [(path, n) for _, path, n in folder_rows(s)]

    def embedder_args(self, weights: str | None = None) -> dict[str, str | int | float | None]:
        """`load_embedder` keywords for outside audio: the build's options; weights from the flag,
        $SOUNDALIKE_WEIGHTS, then those of the build."""
        with self.sessions() as s:
            row = s.get(Model, self.model)
            remembered, options = (row.weights, json.loads(row.options or "{}")) if row else (None, {})
        return {"weights": weights or os.environ.get(WEIGHTS_ENV) or remembered, **options}

    # -- tracks -----------------------------------------------------------------------

    def track(self, track_id: int) -> TrackInfo:
        if not 0 < track_id < 2**63:  # no database integer holds it: unknown, not an overflow
            raise UnknownTrackError(f"no track with id {track_id}")
        with self.sessions() as s:
            row = s.execute(with_folder().where(Track.id == track_id)).first()
        if row is None:
            raise UnknownTrackError(f"no track with id {track_id}")
        return TrackInfo.from_row(*row)

    def tracks(self, track_ids: list[int]) -> dict[int, TrackInfo]:
        """Several tracks by id in one query (ids not found are left out)."""
        with self.sessions() as s:
            rows = s.execute(with_folder().where(Track.id.in_(track_ids))).all()
        return {track.id: TrackInfo.from_row(track, folder) for track, folder in rows}

    def resolve(self, ref: str | int) -> TrackInfo:
        """A track by numeric id, by absolute path, or by path relative to its catalog folder."""
        text = str(ref).strip()
        if text.isdigit():
            return self.track(int(text))
        candidate = Path(text).expanduser()
        query = with_folder()
        if candidate.is_absolute():
            folder = self._folder_of(candidate)
            if folder is None:
                raise UnknownTrackError(f"{text} is not inside a catalog folder of {self.data_dir}")
            resolved, root = candidate.resolve(), folder.resolve()
            inside = resolved.relative_to(root) if resolved.is_relative_to(root) else candidate.relative_to(folder)
            relative = inside.as_posix()
            query = query.where(Folder.path == str(folder), Track.path == relative)
        else:
            query = query.where(Track.path == Path(text).as_posix())
        with self.sessions() as s:
            rows = s.execute(query.limit(2)).all()
        if not rows:
            raise UnknownTrackError(f"no track with id or path {text!r}")
        if len(rows) > 1:
            raise UsageError(f"{text!r} is in several catalog folders; give its absolute path or its id")
        return TrackInfo.from_row(*rows[0])

    def _folder_of(self, path: Path) -> Path | None:
        resolved = path.resolve()
        inside = [f for f in self.folders() if resolved.is_relative_to(f.resolve()) or path.is_relative_to(f)]
        return max(inside, key=lambda f: len(f.parts), default=None)

    def search_tracks(self, text: str, limit: int = 50) -> list[TrackInfo]:
        """Tracks with this model's vector whose title, artist, album or path hold every word of `text`
        (word prefixes on SQLite, substrings on PostgreSQL), sorted by artist, album, number, title."""
        has_vector = select(Embedding.track_id).where(Embedding.track_id == Track.id, Embedding.model == self.model)
        query = with_folder().where(has_vector.exists())
        words = text.split()
        with self.sessions() as s:
            if words:
                query = query.where(text_match(s.get_bind().dialect.name, words))
            # The first `limit` matches, sorted here: no database-side sort of every match.
            rows = s.execute(query.limit(limit)).all()
        tracks = [TrackInfo.from_row(*r) for r in rows]
        return sorted(tracks, key=lambda t: (t.artist or "", t.album or "", t.track_number or 0, t.title or "", t.id))

    def all_tracks(self) -> list[TrackInfo]:
        """Every track of the data directory (with a vector or not)."""
        with self.sessions() as s:
            return [TrackInfo.from_row(track, folder) for track, folder in s.execute(with_folder())]

    def count_tracks(self) -> dict[str, int]:
        """This model's tracks by state: indexed (has a vector), failed, pending (neither)."""
        with self.sessions() as s:
            total = s.execute(select(func.count()).select_from(Track)).scalar() or 0
            indexed = s.execute(select(func.count()).where(Embedding.model == self.model)).scalar() or 0
            failed = s.execute(select(func.count()).where(Failure.model == self.model)).scalar() or 0
        counts = {"indexed": indexed, "failed": failed, "pending": total - indexed - failed}
        return {state: n for state, n in counts.items() if n}

    def failed_tracks(self) -> list[tuple[TrackInfo, str]]:
        """Tracks this model could not embed, with the reason."""
        query = with_folder().add_columns(Failure.reason).join(Failure, Failure.track_id == Track.id)
        with self.sessions() as s:
            rows = s.execute(query.where(Failure.model == self.model).order_by(Folder.path, Track.path)).all()
        return [(TrackInfo.from_row(track, folder), reason) for track, folder, reason in rows]

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
            vector = s.execute(
                select(Embedding.vector).where(Embedding.track_id == track.id, Embedding.model == self.model)
            ).scalar()
            failure = s.get(Failure, (track.id, self.model)) if vector is None else None
        if vector is None:
            why = f"failed: {failure.reason}" if failure else "not embedded yet: run `indexer build`"
            raise UsageError(f"track {track.id} has no {self.model} vector ({why})")
        return np.frombuffer(vector, dtype="<f4")

    def codec(self) -> TimelineCodec | None:
        """This model's timeline basis (storage.timelines), reloaded when it changes (None: none yet)."""
        with self.sessions() as s:
            key = s.execute(select(CodecRow.created_at).where(CodecRow.model == self.model)).scalar()
            if key != self._codec_key:
                self._codec, self._codec_key = load_codec(s, self.model), key
        return self._codec

    def timelines(self, track_ids: list[int]) -> dict[int, Timeline]:
        """Each track's per-slice timeline for this model, in the space passages compare (the model's
        basis once it has one); tracks without a vector are left out."""
        codec = self.codec()
        query = (
            select(
                Embedding.track_id,
                Embedding.dim,
                Embedding.timeline,
                Embedding.timeline_format,
                Embedding.starts,
                Embedding.loudness,
                Track.duration,
            )
            .join(Track, Track.id == Embedding.track_id)
            .where(Embedding.model == self.model, Embedding.track_id.in_(track_ids))
        )
        with self.sessions() as s:
            rows = s.execute(query).all()
        return {
            i: Timeline(
                comparable(blob, fmt, dim, codec),
                np.frombuffer(starts, dtype="<f4").astype(np.float64),
                duration,
                None if loudness is None else np.frombuffer(loudness, np.int8).astype(np.float32),
                compared=True,
            )
            for i, dim, blob, fmt, starts, loudness, duration in rows
        }

    def timeline_formats(self) -> dict[str, int]:
        """How many of this model's timelines are in each stored format (storage.timelines)."""
        query = select(Embedding.timeline_format, func.count()).where(Embedding.model == self.model)
        with self.sessions() as s:
            return dict(s.execute(query.group_by(Embedding.timeline_format)).all())  # type: ignore[arg-type]

    def comparable(self, timeline: Timeline) -> Timeline:
        """An outside timeline (full precision, e.g. an upload's) in the space stored ones are compared in."""
        codec = self.codec()
        if timeline.compared or codec is None:
            return timeline
        if timeline.vectors.shape[1] != codec.dim:
            raise ModelMismatchError(f"query timeline has {timeline.vectors.shape[1]} dims, {self.model} {codec.dim}")
        return replace(timeline, vectors=codec.project(timeline.vectors), compared=True)

    def segments(self, allow_stale: bool = False) -> SegmentIndex:
        """The segment index in force (search by passage), reloaded when a newer one is swapped in."""
        directory = self.data_dir / SEGMENTS_DIR / self.model
        name = current_build(directory)
        if name is None:
            raise EmptyIndexError(f"no {self.model} segment index in {self.data_dir}; run `indexer build`")
        if self._segments is None or self._segments.name != name:
            self._segments = SegmentIndex(directory / name)
        with self.sessions() as s:
            current, basis = vectors_version(s, self.model), basis_key(s, self.model)
        if basis != self._segments.meta.basis:  # another comparison space: its scores would mean nothing
            raise StaleIndexError(f"the {self.model} segment index predates its timeline basis; run `indexer build`")
        behind = current - self._segments.meta.vectors_version
        if behind > 0 and not allow_stale:
            raise StaleIndexError(
                f"the {self.model} segment index is older than the database ({behind} change(s)); "
                "run `indexer build`, or pass --allow-stale"
            )
        return self._segments

    def similar_passages(
        self,
        query: Timeline,
        start: float,
        end: float,
        k: int = 10,
        exclude_ids: list[int] | None = None,
        revision: str | None = None,
        allow_stale: bool = False,
    ) -> list[Neighbour]:
        """The k catalog passages nearest to the query's region [start, end), one per track, each with
        its passage (`score`: the passage's mean cosine). `revision`: the weights an outside query used."""
        if k < 1:
            raise UsageError("k must be at least 1")
        if end <= start:
            raise UsageError(f"the passage must end after it starts ({clock(start)}–{clock(end)})")
        segments = self.segments(allow_stale)
        if revision is not None and revision != segments.meta.revision:
            raise ModelMismatchError(
                f"query comes from {self.model} weights {revision}, the catalog from {segments.meta.revision}; "
                "use the same --weights as the build"
            )
        found = search_passages(segments, self.timelines, self.comparable(query), start, end, k, set(exclude_ids or []))
        passages = dict(found)
        ids = np.array([i for i, _ in found], np.int64)
        scores = np.array([p.score for _, p in found], np.float32)
        return [replace(n, passage=passages[n.track.id]) for n in self._neighbours(ids, scores)]

    def with_passages(self, query: Timeline, neighbours: list[Neighbour]) -> list[Neighbour]:
        """The neighbours, each with its best-matching pair of passages with `query`."""
        timelines = self.timelines([n.track.id for n in neighbours])
        query = self.comparable(query)
        return [
            replace(n, passage=best_passage(query, timelines[n.track.id])) if n.track.id in timelines else n
            for n in neighbours
        ]

    def timeline(self, track: TrackInfo) -> Timeline:
        """A catalog track's timeline for this model (the query side of its passages)."""
        return self.timelines([track.id])[track.id]

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
            current = vectors_version(s, self.model)
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
        caps: Caps | None = None,
        rerank: str | None = None,
    ) -> list[Neighbour]:
        """The k tracks nearest to a catalog track (never the track itself); `styles` keeps only those tagged so;
        `caps` limits results per artist and per album."""
        info = track if isinstance(track, TrackInfo) else self.track(track)
        return self.similar_to_vector(
            self.vector(info),
            k,
            exclude_ids=[info.id],
            exclude_artist=info.artist if exclude_same_artist else None,
            exclude_album=info.album if exclude_same_album else None,
            allow_stale=allow_stale,
            styles=styles,
            caps=caps,
            duration=info.duration,
            content_hash=info.content_hash,
            rerank=rerank,
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
        caps: Caps | None = None,
        duration: float | None = None,
        content_hash: str | None = None,
        rerank: str | None = None,
    ) -> list[Neighbour]:
        """The k tracks nearest to any vector of this model (e.g. an uploaded file's), each recording once
        (storage.duplicates: never the query's own, given its `duration` and file `content_hash`); with
        `caps`, the k nearest that keep each artist and album within its cap. Lists are filled from further
        down, so fewer than k come back only when the catalog has no more. `rerank="csls"`: candidates
        ordered by 2 cos - r (storage.hubs), so tracks near everything stop crowding every list."""
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
        excluded = set(exclude_ids or []) | self.ids_sharing(exclude_artist, exclude_album)
        include = sorted(self.tracks_with_styles(styles)) if styles else None
        if include is not None and not include:
            return []
        if rerank is not None and rerank not in RERANKINGS:
            raise UsageError(f"unknown re-ranking {rerank!r}; available: {', '.join(RERANKINGS)}")
        if rerank is not None and index.hubs is None:
            raise UsageError(
                f"re-ranking needs the {self.model} index's hub statistics: rebuild it "
                f"(`python -m storage.query --rebuild-index`; kept for catalogs up to {HUBS_MAX:,} tracks)"
            )
        query = Recording(normalise(vector[None])[0], duration, content_hash)
        capped = caps is not None and caps.active
        rows = 4 * k if capped else k + 8  # candidates read from the database
        fetch = max(rows, 4 * k) if rerank else rows  # candidates searched (CSLS re-orders a wider set)
        while True:  # widen the search until duplicates and caps leave k results, or the catalog is exhausted
            ids, scores = index.search(vector, fetch, exclude=sorted(excluded), include=include)
            found = len(ids)
            if rerank is not None:
                ids, scores = csls_rerank(index, ids, scores)
            ids, scores = ids[:rows], scores[:rows]
            neighbours = self._grouped(query, self._neighbours(ids, scores, index.closeness(scores)), index)
            kept = apply_caps(neighbours, k, caps) if capped else neighbours[:k]
            if len(kept) == k or found < fetch or fetch >= index.meta.count:
                return kept
            fetch, rows = fetch * 4, rows * 4

    def _recordings(self, neighbours: list[Neighbour], index: VectorIndex) -> list[Recording]:
        rows = index.rows(np.array([n.track.id for n in neighbours], np.int64))
        return [
            Recording(np.asarray(index.vectors[row], np.float32), n.track.duration, n.track.content_hash)
            for n, row in zip(neighbours, rows.tolist(), strict=True)
        ]

    def _grouped(self, query: Recording, neighbours: list[Neighbour], index: VectorIndex) -> list[Neighbour]:
        recordings = self._recordings(neighbours, index)
        distance = duplicate_distance(index.pairs, [query, *recordings])
        return group(query, list(zip(neighbours, recordings, strict=True)), distance)

    def same_recordings(
        self, vector: np.ndarray, duration: float | None = None, content_hash: str | None = None, k: int = 10
    ) -> list[TrackInfo]:
        """Catalog tracks that are the same recording as an outside file (an upload already in the catalog)."""
        index = self.index()
        neighbours = self._neighbours(*index.search(vector, k))
        query = Recording(normalise(vector[None])[0], duration, content_hash)
        recordings = self._recordings(neighbours, index)
        distance = duplicate_distance(index.pairs, [query, *recordings])
        return [n.track for n, r in zip(neighbours, recordings, strict=True) if same_recording(query, r, distance)]

    def ids_sharing(self, artist: str | None, album: str | None) -> set[int]:
        """Tracks by `artist` or on `album` (case-insensitive; None: that condition left out)."""
        conditions = []
        if artist:
            conditions.append(func.lower(Track.artist) == artist.lower())
        if album:
            conditions.append(func.lower(Track.album) == album.lower())
        if not conditions:
            return set()
        with self.sessions() as s:
            return set(s.execute(select(Track.id).where(or_(*conditions))).scalars())

    def _neighbours(self, ids: np.ndarray, scores: np.ndarray, closeness: np.ndarray | None = None) -> list[Neighbour]:
        # Only tracks that still have this model's vector: a stale index never shows a removed or changed one.
        query = with_folder().join(Embedding, Embedding.track_id == Track.id)
        query = query.where(Track.id.in_(ids.tolist()), Embedding.model == self.model)
        with self.sessions() as s:
            rows = {track.id: TrackInfo.from_row(track, folder) for track, folder in s.execute(query)}
        tagged = self.styles(list(rows)) if self.tags_styles() else {}
        closer = [None] * len(ids) if closeness is None else [float(c) for c in closeness]
        return [
            Neighbour(rows[i], float(sc), tagged.get(i), closeness=near)
            for i, sc, near in zip(ids.tolist(), scores, closer, strict=False)
            if i in rows
        ]

    def tags_styles(self) -> bool:
        """Whether this model's tracks carry style tags (a cheap existence check, not a count)."""
        with self.sessions() as s:
            return (
                s.execute(select(TrackStyle.track_id).where(TrackStyle.model == self.model).limit(1)).first()
                is not None
            )
