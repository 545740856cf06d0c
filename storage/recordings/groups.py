"""Rows of fingerprints in and out (the store's write side and the readers' lookups), and the grouping of
new fingerprints into recordings and copies (storage.recordings.fingerprints says what matches)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.db.schema import TrackFingerprint
from storage.recordings.fingerprints import Fingerprint, FingerprintIndex, compare, groups, same_master

if TYPE_CHECKING:
    from storage.index.vectors import VectorIndex

log = logging.getLogger(__name__)

CANDIDATES = 20  # most-voted tracks compared in full with each new fingerprint


def fingerprint_row(track_id: int, fingerprint: Fingerprint) -> TrackFingerprint:
    return TrackFingerprint(
        track_id=track_id,
        items=np.asarray(fingerprint.items, "<u4").tobytes(),
        keys=np.asarray(fingerprint.keys(), "<u2").tobytes(),
        profile=np.asarray(fingerprint.profile, "<f4").tobytes(),
    )


def read_fingerprints(session: Session, track_ids: list[int]) -> dict[int, Fingerprint]:
    found: dict[int, Fingerprint] = {}
    for first in range(0, len(track_ids), 1000):
        part = track_ids[first : first + 1000]
        rows = session.execute(
            select(TrackFingerprint.track_id, TrackFingerprint.items, TrackFingerprint.profile).where(
                TrackFingerprint.track_id.in_(part)
            )
        )
        for track_id, items, profile in rows:
            found[track_id] = Fingerprint(np.frombuffer(items, "<u4"), np.frombuffer(profile, "<f4"))
    return found


def fingerprint_index(session: Session) -> FingerprintIndex:
    rows = session.execute(select(TrackFingerprint.track_id, TrackFingerprint.keys))
    return FingerprintIndex({track_id: np.frombuffer(keys, "<u2") for track_id, keys in rows})


def index_stamp(session: Session) -> tuple[int, int]:
    """Changes when fingerprints come or go (what a reader's cached index is checked against)."""
    count, last = session.execute(select(func.count(), func.max(TrackFingerprint.track_id))).one()
    return int(count or 0), int(last or 0)


def matches(
    session: Session, index: FingerprintIndex, query: Fingerprint, limit: int = CANDIDATES
) -> dict[int, Fingerprint]:
    """Catalog tracks whose fingerprint matches `query` (the same recording, any master), with their
    fingerprints, most voted first."""
    ids = index.candidates(query.keys(), limit)
    stored = read_fingerprints(session, ids)
    return {i: stored[i] for i in ids if i in stored and compare(query, stored[i]).same_recording}


def group_new(session: Session) -> int:
    """Give every fingerprint not grouped yet its recording and copy groups (merging groups it joins);
    returns how many tracks' groups changed."""
    rows = session.execute(select(TrackFingerprint.track_id, TrackFingerprint.recording, TrackFingerprint.copy)).all()
    new = [track_id for track_id, recording, _ in rows if recording is None]
    if not new:
        return 0
    index = fingerprint_index(session)
    recording_pairs = [(t, r) for t, r, _ in rows if r is not None]
    copy_pairs = [(t, c) for t, _, c in rows if c is not None]
    for first in range(0, len(new), 256):
        part = new[first : first + 256]
        mine = read_fingerprints(session, part)
        found = {t: index.candidates(fp.keys(), CANDIDATES) for t, fp in mine.items()}
        others = read_fingerprints(session, sorted({c for ids in found.values() for c in ids} - set(mine)))
        others.update(mine)
        for track_id, candidates in found.items():
            for other in candidates:
                if other == track_id or other not in others:
                    continue
                if compare(mine[track_id], others[other]).same_recording:
                    recording_pairs.append((track_id, other))
                    if same_master(mine[track_id], others[other]):
                        copy_pairs.append((track_id, other))
    members = [t for t, _, _ in rows]
    recordings, copies = groups(recording_pairs, members), groups(copy_pairs, members)
    changed = 0
    for track_id, recording, copy in rows:
        if (recording, copy) != (recordings[track_id], copies[track_id]):
            session.execute(
                update(TrackFingerprint)
                .where(TrackFingerprint.track_id == track_id)
                .values(recording=recordings[track_id], copy=copies[track_id])
            )
            changed += 1
    log.info("fingerprints: %d new, %d tracks regrouped", len(new), changed)
    return changed


def group_of(session: Session, track_ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
    """(recording, copy) of each track that has a fingerprint."""
    found: dict[int, tuple[int | None, int | None]] = {}
    for first in range(0, len(track_ids), 1000):
        part = track_ids[first : first + 1000]
        rows = session.execute(
            select(TrackFingerprint.track_id, TrackFingerprint.recording, TrackFingerprint.copy).where(
                TrackFingerprint.track_id.in_(part)
            )
        )
        found.update({t: (r, c) for t, r, c in rows})
    return found


def members(session: Session, column: str, groups_: list[int]) -> dict[int, list[int]]:
    """The tracks of each group (by `column`: "recording" or "copy"), smallest id first."""
    field = getattr(TrackFingerprint, column)
    rows = session.execute(
        select(field, TrackFingerprint.track_id).where(field.in_(groups_)).order_by(TrackFingerprint.track_id)
    )
    found: dict[int, list[int]] = {}
    for group, track_id in rows:
        found.setdefault(group, []).append(track_id)
    return found


def shared_groups(session: Session, column: str) -> list[int]:
    """Groups (by `column`) with more than one track."""
    field = getattr(TrackFingerprint, column)
    query = select(field).where(field.is_not(None)).group_by(field).having(func.count() > 1).order_by(field)
    return list(session.execute(query).scalars())


def copy_cosines(session: Session, index: VectorIndex, groups_limit: int = 500, per_group: int = 4) -> np.ndarray:
    """Cosines, in the index's space, between fingerprint-confirmed copies (pairs within each copy group:
    up to `per_group` tracks of each of the first `groups_limit` groups)."""
    found = members(session, "copy", shared_groups(session, "copy")[:groups_limit])
    out: list[float] = []
    for ids in found.values():
        rows = index.rows(np.array(ids[:per_group], np.int64))
        vectors = np.asarray(index.vectors[rows[rows >= 0]], np.float32)
        if len(vectors) > 1:
            sims = vectors @ vectors.T
            out += sims[np.triu_indices(len(vectors), 1)].tolist()
    return np.array(out, np.float32)
