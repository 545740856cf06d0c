"""A folder's scan, as the store applies it: new, changed, moved, gone and unreadable files.

The indexer decides what changed (it reads the files); these plain records carry the decision,
and `apply_changes` writes it in the caller's transaction. Only the folder in question is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from storage.db.counters import bump_versions
from storage.db.schema import Embedding, Failure, Track, TrackFingerprint, TrackStyle, utcnow


@dataclass(frozen=True)
class KnownTrack:
    """A track as the store has it, for comparison with a scan."""

    id: int
    path: str
    size: int
    mtime: float
    content_hash: str | None


@dataclass(frozen=True)
class FileState:
    path: str
    size: int
    mtime: float
    content_hash: str | None = None


@dataclass(frozen=True)
class Unreadable:
    file: FileState
    reason: str
    track_id: int | None = None  # None: a file the store does not know yet


@dataclass
class FolderChanges:
    new: list[FileState] = field(default_factory=list)
    changed: list[tuple[int, FileState]] = field(default_factory=list)  # other audio: every model re-embeds
    touched: list[tuple[int, FileState]] = field(default_factory=list)  # same audio, new size/mtime
    moved: list[tuple[int, FileState]] = field(default_factory=list)  # same audio, new path: id and vectors kept
    gone: list[int] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def known_tracks(session: Session, folder_id: int) -> dict[str, KnownTrack]:
    rows = session.execute(
        select(Track.id, Track.path, Track.size, Track.mtime, Track.content_hash).where(Track.folder_id == folder_id)
    )
    return {r.path: KnownTrack(r.id, r.path, r.size, r.mtime, r.content_hash) for r in rows}


def _set_file(session: Session, track_id: int, file: FileState) -> None:
    values = {"path": file.path, "size": file.size, "mtime": file.mtime, "updated_at": utcnow()}
    if file.content_hash is not None:
        values["content_hash"] = file.content_hash
    session.execute(update(Track).where(Track.id == track_id).values(**values))


def _new_track(session: Session, folder_id: int, file: FileState) -> int:
    track = Track(
        folder_id=folder_id,
        path=file.path,
        size=file.size,
        mtime=file.mtime,
        content_hash=file.content_hash,
        title=file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0],
    )
    session.add(track)
    session.flush()
    return track.id


def forget_audio(session: Session, track_ids: list[int]) -> None:
    """The audio of these tracks changed: every model's vectors, styles and failures go (and versions move)."""
    if not track_ids:
        return
    models = session.execute(select(Embedding.model).where(Embedding.track_id.in_(track_ids)).distinct()).scalars()
    bump_versions(session, list(models))
    for table in (Embedding, TrackStyle, Failure, TrackFingerprint):
        session.execute(delete(table).where(table.track_id.in_(track_ids)))


def delete_tracks(session: Session, track_ids: list[int]) -> int:
    """Remove tracks with all they own, bumping the versions of the models that had vectors of them."""
    for first in range(0, len(track_ids), 1000):  # bounded IN lists
        part = track_ids[first : first + 1000]
        forget_audio(session, part)
        session.execute(delete(Track).where(Track.id.in_(part)))
    return len(track_ids)


def record_failure(session: Session, track_id: int, model: str, reason: str) -> None:
    """`model` could not embed this track: its vector (if any) goes, other models' stay."""
    deleted = session.execute(delete(Embedding).where(Embedding.track_id == track_id, Embedding.model == model))
    had_vector = cast(CursorResult[Any], deleted).rowcount
    session.execute(delete(TrackStyle).where(TrackStyle.track_id == track_id, TrackStyle.model == model))
    session.merge(Failure(track_id=track_id, model=model, reason=reason, failed_at=utcnow()))
    if had_vector:
        bump_versions(session, [model])


def apply_changes(session: Session, folder_id: int, changes: FolderChanges, model: str) -> None:
    """Write a folder's scan (inside the caller's transaction); unreadable files fail for `model`."""
    for track_id, file in changes.touched + changes.moved + changes.changed:
        _set_file(session, track_id, file)
    forget_audio(session, [track_id for track_id, _ in changes.changed])
    delete_tracks(session, changes.gone)
    for file in changes.new:
        _new_track(session, folder_id, file)
    for problem in changes.unreadable:
        if problem.track_id is None:
            track_id = _new_track(session, folder_id, problem.file)
        else:
            track_id = problem.track_id
            _set_file(session, track_id, problem.file)
        record_failure(session, track_id, model, problem.reason)
