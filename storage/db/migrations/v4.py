"""Schema v3 -> v4: compact timelines. Each timeline row says its format (existing rows: float16, as
they were) and may carry per-slice loudness; models get a table for their timeline basis. Nothing is
rewritten here: `Store.compact_timelines` (run by every `indexer build`) re-encodes float16 rows once
the model's basis exists, each batch in its own transaction.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db.schema import TimelineCodec, table


def upgrade(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("embeddings")}
    if "timeline_format" not in columns:
        conn.exec_driver_sql("ALTER TABLE embeddings ADD COLUMN timeline_format VARCHAR(16) NOT NULL DEFAULT 'f16'")
    if "loudness" not in columns:
        blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
        conn.exec_driver_sql(f"ALTER TABLE embeddings ADD COLUMN loudness {blob}")
    table(TimelineCodec).create(conn, checkfirst=True)
