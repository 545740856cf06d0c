"""Engines, sessions and schema versioning (a small numbered migration registry).

A fresh database gets the current schema in one go; an older one runs each newer
migration in order. Migrations only add or reshape: stored vectors always survive,
so an upgrade never forces re-embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.core.errors import NoDataError, StorageError
from storage.db.fts import create_search
from storage.db.migrations import v3 as migrate_v3
from storage.db.migrations import v4 as migrate_v4
from storage.db.migrations import v5 as migrate_v5
from storage.db.migrations import v6 as migrate_v6
from storage.db.migrations import v7 as migrate_v7
from storage.db.schema import Base, Meta, TrackStyle, table

log = logging.getLogger(__name__)

SCHEMA_VERSION_KEY = "schema_version"
BUSY_TIMEOUT_MS = 30_000

# version -> upgrade step from version-1. Add new steps at the end; never edit old ones.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: lambda conn: Base.metadata.create_all(conn),
    2: lambda conn: table(TrackStyle).create(conn, checkfirst=True),  # style tags (MAEST)
    3: migrate_v3.upgrade,  # folders, per-model state, model settings, text search
    4: migrate_v4.upgrade,  # compact timelines (format per row, per-model basis), slice loudness
    5: migrate_v5.upgrade,  # acoustic fingerprints and the recordings they group
    6: migrate_v6.upgrade,  # each vector's version, so indexes update by what changed
    7: migrate_v7.upgrade,  # the listeners' answers (odd one out, thumbs), for a learned similarity
}
LATEST = max(MIGRATIONS)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:  # a DB-API connection (sqlite3's)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses at most the last commit
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def schema_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, Meta.__tablename__):
        return 0
    value = conn.execute(select(Meta.value).where(Meta.key == SCHEMA_VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def migrate(engine: Engine) -> int:
    """Bring the schema to LATEST in one transaction; return the version it was at."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Outside any transaction (it is a no-op inside one): rebuilding a table must cascade nowhere.
            # BEGIN IMMEDIATE: DDL joins the transaction, and a second process waits for the first.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            found = _upgrade(conn)
            if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise StorageError("schema migration left dangling references; nothing was changed")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return found


def _upgrade(conn: Connection) -> int:
    found = schema_version(conn)
    if found > LATEST:
        raise StorageError(f"database schema v{found} is newer than this soundalike (v{LATEST}); upgrade soundalike")
    if found == 0:
        Base.metadata.create_all(conn)
        create_search(conn)
    else:
        for version in range(found + 1, LATEST + 1):
            log.info("migrating database schema to v%d", version)
            MIGRATIONS[version](conn)
    if found != LATEST:
        conn.execute(table(Meta).delete().where(Meta.key == SCHEMA_VERSION_KEY))
        conn.execute(table(Meta).insert().values(key=SCHEMA_VERSION_KEY, value=str(LATEST)))
    return found


def open_database(url: str, create: bool, data_dir: Path | None = None) -> sessionmaker[Session]:
    """A session factory for `url`. Without `create`, a missing SQLite file is NoDataError."""
    if url.startswith("sqlite:///") and not create:
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            where = data_dir or path.parent
            raise NoDataError(f"no soundalike database in {where}; build one with `indexer build CATALOG_DIR`")
    engine = make_engine(url)
    try:
        if create:
            migrate(engine)
        else:
            with engine.connect() as conn:
                found = schema_version(conn)
            if found == 0:
                raise NoDataError(f"database {url} holds no soundalike data; build it with `indexer build CATALOG_DIR`")
            if found != LATEST:
                migrate(engine)
    except SQLAlchemyError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(f"cannot open database {shown}: {reason}") from exc
    return sessionmaker(engine, expire_on_commit=False)
