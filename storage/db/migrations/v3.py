"""Schema v2 -> v3: several folders, per-(track, model) state, remembered model settings, text search.

Nothing is re-embedded and nothing is lost: ids, vectors, timelines and styles stay where they are;
the v2 catalog root becomes folder 1; a v2 track that failed becomes a failure of every model the
data directory knew; each model's remembered weights and options and its vectors version move from
`meta` into `models`. Runs inside the caller's transaction (on SQLite with foreign keys off, so
rebuilding `tracks` cascades nowhere).
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db.fts import create_search
from storage.db.schema import Embedding, Failure, Folder, Model, Track, table

TAG_COLUMNS = "path, content_hash, size, mtime, title, artist, album, album_artist, year, genre, track_number, duration"


def upgrade(conn: Connection) -> None:
    for created in (table(Folder), table(Model), table(Failure)):
        created.create(conn, checkfirst=True)
    meta: dict[str, str] = {str(k): str(v) for k, v in conn.execute(text("SELECT key, value FROM meta")).all()}
    folder_id = _first_folder(conn, meta.get("catalog_root"))
    if conn.dialect.name == "sqlite":
        _rebuild_tracks_sqlite(conn, folder_id)
    else:
        _alter_tracks(conn, folder_id)
    models = _known_models(conn, meta)
    _move_failures(conn, models)
    _drop_state_columns(conn)
    for name in sorted(models):
        hint = json.loads(meta.get(f"query_hint:{name}") or "{}")
        conn.execute(
            table(Model)
            .insert()
            .values(
                name=name,
                weights=hint.get("weights"),
                options=json.dumps(hint.get("options") or {}),
                vectors_version=int(meta.get(f"vectors_version:{name}") or 0),
            )
        )
    conn.execute(
        text("DELETE FROM meta WHERE key = 'catalog_root' OR key LIKE 'query_hint:%' OR key LIKE 'vectors_version:%'")
    )
    conn.exec_driver_sql("DROP TABLE IF EXISTS vector_indexes")  # written, never read
    for index in table(Embedding).indexes:
        if index.name == "ix_embeddings_model":  # v3's own; later ones come with their columns (v6)
            index.create(conn, checkfirst=True)
    create_search(conn)


def _first_folder(conn: Connection, root: str | None) -> int | None:
    if conn.execute(text("SELECT count(*) FROM tracks")).scalar() == 0:
        return None
    result = conn.execute(table(Folder).insert().values(path=root or "/unknown-catalog"))
    key = result.inserted_primary_key
    assert key is not None  # an insert of one row
    return int(key[0])


def _rebuild_tracks_sqlite(conn: Connection, folder_id: int | None) -> None:
    # legacy_alter_table keeps the children's "REFERENCES tracks" pointing at the name, i.e. the new table.
    conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    conn.exec_driver_sql("ALTER TABLE tracks RENAME TO tracks_v2")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tracks_content_hash")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tracks_state")
    table(Track).create(conn)
    columns = f"id, {TAG_COLUMNS}, created_at, updated_at"
    conn.execute(
        text(f"INSERT INTO tracks (folder_id, {columns}) SELECT :folder, {columns} FROM tracks_v2"),
        {"folder": folder_id},
    )
    conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")


def _alter_tracks(conn: Connection, folder_id: int | None) -> None:
    conn.exec_driver_sql("ALTER TABLE tracks ADD COLUMN folder_id INTEGER REFERENCES folders(id) ON DELETE CASCADE")
    conn.execute(text("UPDATE tracks SET folder_id = :folder"), {"folder": folder_id})
    conn.exec_driver_sql("ALTER TABLE tracks ALTER COLUMN folder_id SET NOT NULL")
    conn.exec_driver_sql("ALTER TABLE tracks DROP CONSTRAINT IF EXISTS tracks_path_key")
    conn.exec_driver_sql("ALTER TABLE tracks ADD CONSTRAINT uq_tracks_folder_path UNIQUE (folder_id, path)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_tracks_folder_id ON tracks (folder_id)")


def _known_models(conn: Connection, meta: dict[str, str]) -> set[str]:
    models = {key.split(":", 1)[1] for key in meta if key.startswith(("query_hint:", "vectors_version:"))}
    models |= set(conn.execute(text("SELECT DISTINCT model FROM embeddings")).scalars())
    return models or {"mule"}


def _move_failures(conn: Connection, models: set[str]) -> None:
    source = "tracks_v2" if conn.dialect.name == "sqlite" else "tracks"
    failed = conn.execute(text(f"SELECT id, error FROM {source} WHERE state = 'failed'")).all()
    rows = [{"track_id": i, "model": m, "reason": error or "failed"} for i, error in failed for m in sorted(models)]
    if rows:
        conn.execute(table(Failure).insert(), rows)


def _drop_state_columns(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TABLE tracks_v2")
    else:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tracks_state")
        conn.exec_driver_sql("ALTER TABLE tracks DROP COLUMN state, DROP COLUMN error")
