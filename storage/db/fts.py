"""Full-text search over track tags and paths, on the database's own machinery.

SQLite: an FTS5 table over `tracks` (external content, kept in step by triggers), words matched
as prefixes ("mil blu" finds "Miles ... Blue"). PostgreSQL: a pg_trgm GIN index over the same
text, words matched anywhere inside it. Both stay fast at a million tracks; the LIKE scan they
replace read every row (benchmarks/bench_search_box.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, and_, column, func, literal_column, or_, table, text
from sqlalchemy.engine import Connection

from storage.db.schema import Track

log = logging.getLogger(__name__)

FTS_TABLE = "tracks_fts"
COLUMNS = ("title", "artist", "album", "album_artist", "path")

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({', '.join(COLUMNS)}, content='tracks', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS tracks_fts_insert AFTER INSERT ON tracks BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(COLUMNS)}) VALUES (new.id, {', '.join('new.' + c for c in COLUMNS)}); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS tracks_fts_delete AFTER DELETE ON tracks BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(COLUMNS)}) "
    f"VALUES ('delete', old.id, {', '.join('old.' + c for c in COLUMNS)}); END",
    f"CREATE TRIGGER IF NOT EXISTS tracks_fts_update AFTER UPDATE OF {', '.join(COLUMNS)} ON tracks BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(COLUMNS)}) "
    f"VALUES ('delete', old.id, {', '.join('old.' + c for c in COLUMNS)}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(COLUMNS)}) VALUES (new.id, {', '.join('new.' + c for c in COLUMNS)}); "
    "END",
]


def _pg_text(prefix: str = "") -> str:
    return " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in COLUMNS)


# Queries name the columns `tracks.x` (they join folders); the planner still matches this index.
_PG_INDEX = f"CREATE INDEX IF NOT EXISTS ix_tracks_text_trgm ON tracks USING gin (lower({_pg_text()}) gin_trgm_ops)"


def create_search(conn: Connection) -> None:
    """Create the text search structures for `conn`'s database (idempotent) and fill them."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_DDL:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        try:
            with conn.begin_nested():  # a refused extension must not abort the caller's transaction
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                conn.exec_driver_sql(_PG_INDEX)
        except Exception as exc:  # noqa: BLE001 - search still works, by scanning
            log.warning("no trigram index for track search (%s); searching by scan", str(exc).splitlines()[0])


def _fts_query(words: list[str]) -> str:
    # Each word a quoted phrase (FTS syntax characters lose their meaning) matched as a prefix.
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)


def _literal(word: str) -> ColumnElement[bool]:
    """`word` inside one of the searched columns, character for character (LIKE with its wildcards escaped;
    case-insensitive for ASCII, as SQLite's LIKE is)."""
    return or_(*(getattr(Track, name).contains(word, autoescape=True) for name in COLUMNS))


def text_match(dialect: str, words: list[str]) -> ColumnElement[bool]:
    """A condition on `Track` rows: every word of the search occurs in the track's tags or path. Characters
    that are not letters or digits are matched literally ("100%", "snake_case", "so\"ng"), never as syntax."""
    if dialect == "sqlite":
        # FTS5 finds the words' letters and digits (word prefixes, diacritics folded); its tokenizer drops the
        # rest, so a word with other characters must also occur literally.
        conditions = [_literal(w) for w in words if not w.isalnum()]
        indexed = [w for w in words if any(ch.isalnum() for ch in w)]
        if indexed:
            fts = table(FTS_TABLE, column("rowid"))
            query = literal_column(FTS_TABLE).op("MATCH")(_fts_query(indexed))
            conditions.append(Track.id.in_(fts.select().with_only_columns(fts.c.rowid).where(query)))
        return and_(*conditions)
    haystack = func.lower(text(_pg_text("tracks.")))
    return and_(*(haystack.contains(w.lower(), autoescape=True) for w in words))
