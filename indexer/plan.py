"""Compare a scan with the database: what is new, changed, moved, gone, or unchanged.

Size and mtime decide "unchanged" cheaply; otherwise the content hash decides. A new
path whose content matches a track whose path vanished is a move: the track keeps
its id and vector.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.scan import FoundFile
from storage.schema import Embedding, Track

log = logging.getLogger(__name__)


def content_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass
class Plan:
    to_embed: list[int] = field(default_factory=list)  # track ids
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    failed_unchanged: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def apply_scan(session: Session, root: Path, files: list[FoundFile], model: str, writer) -> Plan:  # type: ignore[no-untyped-def]
    """Bring the tracks table in line with the scan (inside the caller's transaction)."""
    plan = Plan()
    tracks = {t.path: t for t in session.execute(select(Track)).scalars()}
    embedded = set(session.execute(select(Embedding.track_id).where(Embedding.model == model)).scalars())
    scanned = {f.path for f in files}
    vanished = {t.content_hash: t for p, t in tracks.items() if p not in scanned and t.content_hash}
    moved_ids: set[int] = set()
    for found in files:
        track = tracks.get(found.path)
        if track is not None and track.size == found.size and track.mtime == found.mtime:
            _keep(track, embedded, plan)
            continue
        try:
            digest = content_hash(root / found.path)
        except OSError as exc:
            reason = f"cannot read file: {exc.strerror or exc}"
            plan.unreadable.append((found.path, reason))
            _mark_failed(track or _new_track(session, found, None), found, reason)
            continue
        if track is not None:
            same = track.content_hash == digest
            track.size, track.mtime, track.content_hash = found.size, found.mtime, digest
            if same:
                _keep(track, embedded, plan)
            else:
                track.state, track.error = "pending", None
                writer.drop_track_vectors(session, track.id)  # every model's: the audio they describe is gone
                plan.to_embed.append(track.id)
            continue
        moved = vanished.pop(digest, None)
        if moved is not None:
            log.info("moved: %s -> %s", moved.path, found.path)
            moved.path, moved.size, moved.mtime = found.path, found.size, found.mtime
            moved_ids.add(moved.id)
            plan.moved += 1
            _keep(moved, embedded, plan)
            continue
        track = _new_track(session, found, digest)
        plan.to_embed.append(track.id)
    session.flush()
    gone = [t.id for p, t in tracks.items() if p not in scanned and t.id not in moved_ids]
    plan.removed = writer.delete_tracks(session, gone)
    return plan


def _keep(track: Track, embedded: set[int], plan: Plan) -> None:
    if track.state == "failed":
        plan.failed_unchanged += 1
    elif track.state == "indexed" and track.id in embedded:
        plan.unchanged += 1
    else:
        track.state = "pending"
        plan.to_embed.append(track.id)


def _new_track(session: Session, found: FoundFile, digest: str | None) -> Track:
    track = Track(path=found.path, size=found.size, mtime=found.mtime, content_hash=digest, state="pending")
    track.title = Path(found.path).stem
    session.add(track)
    session.flush()
    return track


def _mark_failed(track: Track, found: FoundFile, reason: str) -> None:
    track.size, track.mtime, track.state, track.error = found.size, found.mtime, "failed", reason
