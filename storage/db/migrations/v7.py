"""Schema v6 -> v7: the listeners' answers (storage.listeners.answers): odd-one-out triplets and thumbs on results,
the judgements a learned similarity is fitted to. A new table; nothing else changes."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from storage.db.schema import Answer, table


def upgrade(conn: Connection) -> None:
    table(Answer).create(conn, checkfirst=True)
