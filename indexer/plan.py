"""Compare a folder's scan with what the store knows: new, changed, touched, moved, gone, unreadable.

Size and mtime decide "unchanged" cheaply; otherwise the content hash decides. A new path whose
content matches a track whose path vanished is a move: the track keeps its id and vectors. Nothing
is written here: the store applies the result (`Store.apply_changes`).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from indexer.scan import FoundFile
from storage.write.sync import FileState, FolderChanges, KnownTrack, Unreadable

log = logging.getLogger(__name__)


def content_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def plan_folder(
    root: Path,
    files: list[FoundFile],
    known: dict[str, KnownTrack],
    unreadable_dirs: list[str] = (),  # type: ignore[assignment]
) -> FolderChanges:
    """What changed in `root` since the store last saw it. Tracks under folders that could not be
    read are kept as they are (not "gone"): an unreadable folder is not an empty one."""
    changes = FolderChanges()
    scanned = {f.path for f in files}
    vanished = {t.content_hash: t for p, t in known.items() if p not in scanned and t.content_hash}
    moved_ids: set[int] = set()
    for found in files:
        track = known.get(found.path)
        if track is not None and track.size == found.size and track.mtime == found.mtime:
            continue
        try:
            digest = content_hash(root / found.path)
        except OSError as exc:
            state = FileState(found.path, found.size, found.mtime)
            reason = f"cannot read file: {exc.strerror or exc}"
            changes.unreadable.append(Unreadable(state, reason, track.id if track else None))
            continue
        state = FileState(found.path, found.size, found.mtime, digest)
        if track is not None:
            (changes.touched if track.content_hash == digest else changes.changed).append((track.id, state))
            continue
        moved = vanished.pop(digest, None)
        if moved is not None:
            log.info("moved: %s -> %s", moved.path, found.path)
            changes.moved.append((moved.id, state))
            moved_ids.add(moved.id)
            continue
        changes.new.append(state)
    changes.gone = [
        t.id
        for p, t in known.items()
        if p not in scanned and t.id not in moved_ids and not _under(p, list(unreadable_dirs))
    ]
    return changes
