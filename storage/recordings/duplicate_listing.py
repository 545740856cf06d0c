"""`indexer duplicates`: the catalog's recordings held by more than one file, for a librarian to clean up.

One entry per recording (a fingerprint group, storage.recordings.fingerprints) and per identical file content: its
files, each with its master (the copy group: files of one master differ only by codec, gain or trims).
An entry whose files are all one master lists copies; one with several masters lists other versions too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.core.tracks import TrackInfo
from storage.db import reads
from storage.db.schema import Track
from storage.recordings.groups import group_of, members, shared_groups


@dataclass(frozen=True)
class DuplicateEntry:
    tracks: tuple[TrackInfo, ...]  # by id
    masters: tuple[int, ...]  # per track: its master (copy group; the track's own id when unknown)

    @property
    def versions(self) -> bool:
        """More than one master: the same performance in other versions, not only copies."""
        return len(set(self.masters)) > 1

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": "versions" if self.versions else "copies",
            "tracks": [
                {"id": t.id, "path": t.path, "folder": t.folder, "title": t.title, "duration": t.duration, "master": m}
                for t, m in zip(self.tracks, self.masters, strict=True)
            ],
        }


def duplicate_entries(session: Session) -> list[DuplicateEntry]:
    """Every recording with more than one file (by fingerprint, and by identical content), first track first."""
    sets = [set(ids) for ids in members(session, "recording", shared_groups(session, "recording")).values()]
    hashes = select(Track.content_hash).where(Track.content_hash.is_not(None)).group_by(Track.content_hash)
    for content_hash in session.execute(hashes.having(func.count() > 1)).scalars():
        sets.append({t.id for t in reads.tracks_with_hash(session, str(content_hash))})
    merged: list[set[int]] = []
    for ids in sets:  # a file copied byte for byte joins its recording's entry
        touching = [m for m in merged if m & ids]
        merged = [m for m in merged if not m & ids] + [ids.union(*touching)]
    found = reads.tracks(session, sorted({i for m in merged for i in m}))
    groups = group_of(session, list(found))
    entries = []
    for ids in sorted(merged, key=min):
        tracks = tuple(found[i] for i in sorted(ids) if i in found)
        masters = tuple(_master(t, groups.get(t.id), tracks) for t in tracks)
        entries.append(DuplicateEntry(tracks, masters))
    return entries


def _master(track: TrackInfo, group: tuple[int | None, int | None] | None, tracks: tuple[TrackInfo, ...]) -> int:
    if group is not None and group[1] is not None:
        return group[1]
    same_file = [t.id for t in tracks if track.content_hash and t.content_hash == track.content_hash]
    return min(same_file or [track.id])
