"""Schema v5 -> v6: each stored vector says the model's vectors version it was written at, so an index
update reads only what changed since its build (storage.index.increments). Existing rows are stamped with their
model's current version: an index built before the upgrade is then either current (same version) or older,
and an older one sees every row as changed, which makes the next build a full rebuild, as before."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db.schema import Embedding, table


def upgrade(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("embeddings")}
    if "version" not in columns:
        conn.exec_driver_sql("ALTER TABLE embeddings ADD COLUMN version INTEGER")
    conn.exec_driver_sql(
        "UPDATE embeddings SET version = "
        "(SELECT models.vectors_version FROM models WHERE models.name = embeddings.model) WHERE version IS NULL"
    )
    for index in table(Embedding).indexes:
        if index.name == "ix_embeddings_model_version":
            index.create(conn, checkfirst=True)
