"""Row reads of the read side: tracks, styles, vectors and timelines, each one query in a session the
caller holds (storage.read.catalog opens it, so a whole search shares one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from storage.core.errors import UnknownTrackError, UsageError
from storage.core.passages import Timeline
from storage.core.timelines import TimelineCodec, comparable
from storage.core.tracks import TrackInfo
from storage.db.fts import text_match
from storage.db.schema import Embedding, Failure, Folder, Model, Track, TrackFingerprint, TrackStyle
from storage.db.schema import TimelineCodec as CodecRow

MAX_ID = 2**63  # no database integer holds more: such an id is unknown, not an overflow


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


def load_codec(session: Session, model: str) -> TimelineCodec | None:
    row = session.get(CodecRow, model)
    if row is None:
        return None
    return TimelineCodec(
        np.frombuffer(row.mean, np.float32),
        np.frombuffer(row.components, np.float32).reshape(row.dims, row.dim),
        row.rest,
    )


def codec_stamp(session: Session, model: str) -> object:
    """When `model`'s timeline basis was made (None: none yet): a cached basis is reloaded when it changes."""
    return session.execute(select(CodecRow.created_at).where(CodecRow.model == model)).scalar()


# -- models ---------------------------------------------------------------------------------------------


def models_with_vectors(session: Session) -> list[str]:
    has_vectors = select(Embedding.track_id).where(Embedding.model == Model.name).exists()
    return sorted(session.execute(select(Model.name).where(has_vectors)).scalars())


def known_models(session: Session) -> list[str]:
    return sorted(session.execute(select(Model.name)).scalars())


def remembered_settings(session: Session, model: str) -> tuple[str | None, str]:
    """The weights and options (JSON) `model`'s last build used."""
    row = session.get(Model, model)
    return (row.weights, row.options or "{}") if row is not None else (None, "{}")


# -- tracks ---------------------------------------------------------------------------------------------


def track(session: Session, track_id: int) -> TrackInfo:
    row = session.execute(with_folder().where(Track.id == track_id)).first() if 0 < track_id < MAX_ID else None
    if row is None:
        raise UnknownTrackError(f"no track with id {track_id}")
    return TrackInfo.from_row(*row)


def tracks(session: Session, track_ids: list[int]) -> dict[int, TrackInfo]:
    """Several tracks by id in one query (ids not found are left out)."""
    rows = session.execute(with_folder().where(Track.id.in_(track_ids))).all()
    return {row.id: TrackInfo.from_row(row, folder) for row, folder in rows}


def tracks_with_hash(session: Session, content_hash: str) -> list[TrackInfo]:
    """Catalog tracks whose file has this content hash (the same file)."""
    rows = session.execute(with_folder().where(Track.content_hash == content_hash).order_by(Track.id)).all()
    return [TrackInfo.from_row(row, folder) for row, folder in rows]


def copies(session: Session, info: TrackInfo) -> list[TrackInfo]:
    """`info` and the catalog's other files of its recording and master: the same file, or the same
    fingerprint copy group (storage.recordings.duplicates)."""
    same = tracks_with_hash(session, info.content_hash) if info.content_hash else []
    group = select(TrackFingerprint.copy).where(TrackFingerprint.track_id == info.id).scalar_subquery()
    joined = with_folder().join(TrackFingerprint, TrackFingerprint.track_id == Track.id)
    rows = session.execute(joined.where(TrackFingerprint.copy == group)).all()
    found = {t.id: t for t in [info, *same, *(TrackInfo.from_row(row, folder) for row, folder in rows)]}
    return sorted(found.values(), key=lambda t: t.id)


def indexed_tracks(session: Session, model: str, track_ids: list[int]) -> dict[int, TrackInfo]:
    """As `tracks`, only those with `model`'s vector (a stale index never shows a removed or changed one)."""
    query = with_folder().join(Embedding, Embedding.track_id == Track.id)
    query = query.where(Track.id.in_(track_ids), Embedding.model == model)
    return {row.id: TrackInfo.from_row(row, folder) for row, folder in session.execute(query)}


def resolve(session: Session, ref: str | int, data_dir: Path) -> TrackInfo:
    """A track by numeric id, by absolute path, or by path relative to its catalog folder."""
    text = str(ref).strip()
    if text.isdigit():
        return track(session, int(text))
    candidate = Path(text).expanduser()
    query = with_folder()
    if candidate.is_absolute():
        folder = _folder_of(session, candidate)
        if folder is None:
            raise UnknownTrackError(f"{text} is not inside a catalog folder of {data_dir}")
        resolved, root = candidate.resolve(), folder.resolve()
        inside = resolved.relative_to(root) if resolved.is_relative_to(root) else candidate.relative_to(folder)
        query = query.where(Folder.path == str(folder), Track.path == inside.as_posix())
    else:
        query = query.where(Track.path == Path(text).as_posix())
    rows = session.execute(query.limit(2)).all()
    if not rows:
        raise UnknownTrackError(f"no track with id or path {text!r}")
    if len(rows) > 1:
        raise UsageError(f"{text!r} is in several catalog folders; give its absolute path or its id")
    return TrackInfo.from_row(*rows[0])


def _folder_of(session: Session, path: Path) -> Path | None:
    resolved = path.resolve()
    folders = [Path(p) for p in session.execute(select(Folder.path)).scalars()]
    inside = [f for f in folders if resolved.is_relative_to(f.resolve()) or path.is_relative_to(f)]
    return max(inside, key=lambda f: len(f.parts), default=None)


def has_vector(model: str) -> ColumnElement[bool]:
    """The tracks with `model`'s vector, as a filter on Track."""
    return select(Embedding.track_id).where(Embedding.track_id == Track.id, Embedding.model == model).exists()


def search_tracks(session: Session, model: str, text: str, limit: int = 50) -> list[TrackInfo]:
    """Tracks with `model`'s vector whose title, artist, album or path hold every word of `text`
    (word prefixes on SQLite, substrings on PostgreSQL), sorted by artist, album, number, title."""
    query = with_folder().where(has_vector(model))
    words = text.split()
    if words:
        query = query.where(text_match(session.get_bind().dialect.name, words))
    # The first `limit` matches, sorted here: no database-side sort of every match.
    found = [TrackInfo.from_row(*r) for r in session.execute(query.limit(limit)).all()]
    return sorted(found, key=lambda t: (t.artist or "", t.album or "", t.track_number or 0, t.title or "", t.id))


def ids_sharing(session: Session, artists: list[str], albums: list[str]) -> set[int]:
    """Tracks by any of `artists` or on any of `albums` (case-insensitive)."""
    conditions = [func.lower(Track.artist) == a.lower() for a in artists if a]
    conditions += [func.lower(Track.album) == a.lower() for a in albums if a]
    if not conditions:
        return set()
    return set(session.execute(select(Track.id).where(or_(*conditions))).scalars())


def count_tracks(session: Session, model: str) -> dict[str, int]:
    """`model`'s tracks by state: indexed (has a vector), failed, pending (neither); states with none left out."""
    total = session.execute(select(func.count()).select_from(Track)).scalar() or 0
    indexed = session.execute(select(func.count()).where(Embedding.model == model)).scalar() or 0
    failed = session.execute(select(func.count()).where(Failure.model == model)).scalar() or 0
    counts = {"indexed": indexed, "failed": failed, "pending": total - indexed - failed}
    return {state: n for state, n in counts.items() if n}


def failed_tracks(session: Session, model: str) -> list[tuple[TrackInfo, str]]:
    query = with_folder().add_columns(Failure.reason).join(Failure, Failure.track_id == Track.id)
    rows = session.execute(query.where(Failure.model == model).order_by(Folder.path, Track.path)).all()
    return [(TrackInfo.from_row(row, folder), reason) for row, folder, reason in rows]


# -- style tags (models that tag: MAEST) -----------------------------------------------------------------


def styles(session: Session, model: str, track_ids: list[int]) -> dict[int, dict[str, float]]:
    """Each track's stored styles for `model`, most probable first."""
    query = select(TrackStyle).where(TrackStyle.model == model, TrackStyle.track_id.in_(track_ids))
    out: dict[int, dict[str, float]] = {i: {} for i in track_ids}
    for row in session.execute(query.order_by(TrackStyle.probability.desc())).scalars():
        out[row.track_id][row.label] = row.probability
    return out


def style_counts(session: Session, model: str) -> list[tuple[str, int]]:
    """Every stored style of `model` with its number of tracks, most common first."""
    query = select(TrackStyle.label, func.count()).where(TrackStyle.model == model).group_by(TrackStyle.label)
    counted = [(str(label), int(n)) for label, n in session.execute(query).all()]
    return sorted(counted, key=lambda row: (-row[1], row[0]))


def tracks_with_styles(session: Session, model: str, wanted: list[str]) -> set[int]:
    """Tracks tagged with any of `wanted`: a label as stored (MusiCNN's "piano", MAEST's "Genre---Style"),
    or a genre alone (every "Genre---..." label)."""
    conditions = [or_(TrackStyle.label == s, TrackStyle.label.startswith(f"{s}---", autoescape=True)) for s in wanted]
    query = select(TrackStyle.track_id).where(TrackStyle.model == model, or_(*conditions)).distinct()
    return set(session.execute(query).scalars())


def tags_styles(session: Session, model: str) -> bool:
    """Whether `model`'s tracks carry style tags (a cheap existence check, not a count)."""
    query = select(TrackStyle.track_id).where(TrackStyle.model == model).limit(1)
    return session.execute(query).first() is not None


# -- vectors and timelines ------------------------------------------------------------------------------


def vectors(session: Session, model: str, track_ids: list[int]) -> dict[int, np.ndarray]:
    """Each track's stored `model` vector (tracks without one left out)."""
    query = select(Embedding.track_id, Embedding.vector).where(
        Embedding.model == model, Embedding.track_id.in_(track_ids)
    )
    return {i: np.frombuffer(blob, dtype="<f4") for i, blob in session.execute(query)}


def vector(session: Session, model: str, track_id: int) -> np.ndarray:
    """One track's `model` vector; UsageError saying why when it has none."""
    found = vectors(session, model, [track_id]).get(track_id)
    if found is None:
        failure = session.get(Failure, (track_id, model))
        why = f"failed: {failure.reason}" if failure else "not embedded yet: run `indexer build`"
        raise UsageError(f"track {track_id} has no {model} vector ({why})")
    return found


def timelines(session: Session, model: str, track_ids: list[int], codec: TimelineCodec | None) -> dict[int, Timeline]:
    """Each track's per-slice timeline for `model`, in the space passages compare (the model's basis once it
    has one); tracks without a vector are left out."""
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
        .where(Embedding.model == model, Embedding.track_id.in_(track_ids))
    )
    return {
        i: Timeline(
            comparable(blob, fmt, dim, codec),
            np.frombuffer(starts, dtype="<f4").astype(np.float64),
            duration,
            None if loudness is None else np.frombuffer(loudness, np.int8).astype(np.float32),
            compared=True,
        )
        for i, dim, blob, fmt, starts, loudness, duration in session.execute(query).all()
    }


def timeline_formats(session: Session, model: str) -> dict[str, int]:
    """How many of `model`'s timelines are in each stored format (storage.core.timelines)."""
    query = select(Embedding.timeline_format, func.count()).where(Embedding.model == model)
    return {str(fmt): int(n) for fmt, n in session.execute(query.group_by(Embedding.timeline_format)).all()}


def vector_ids(session: Session, model: str) -> np.ndarray:
    """Sorted ids of the tracks that have `model`'s vector."""
    query = select(Embedding.track_id).where(Embedding.model == model).order_by(Embedding.track_id)
    return np.fromiter(session.execute(query).scalars(), dtype=np.int64)


def vectors_since(session: Session, model: str, version: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(ids, vectors, revisions) of `model`'s vectors written after vectors version `version`, by id."""
    rows = session.execute(
        select(Embedding.track_id, Embedding.vector, Embedding.revision)
        .where(Embedding.model == model, Embedding.version > version)
        .order_by(Embedding.track_id)
    ).all()
    ids = np.array([r[0] for r in rows], np.int64)
    vectors = np.stack([np.frombuffer(r[1], "<f4") for r in rows]) if rows else np.empty((0, 0), np.float32)
    return ids, vectors.astype(np.float32), sorted({r[2] for r in rows})
