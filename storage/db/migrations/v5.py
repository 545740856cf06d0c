"""Schema v4 -> v5: a table for acoustic fingerprints. Existing tracks get theirs at the next
`indexer build` (a fingerprint pass decodes the tracks that lack one); no vector is touched."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from storage.db.schema import TrackFingerprint, table


def upgrade(conn: Connection) -> None:
    table(TrackFingerprint).create(conn, checkfirst=True)
