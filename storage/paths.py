"""Where the data lives: one data directory for the database and the index files."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SOUNDALIKE_DATA"
DB_URL_ENV = "SOUNDALIKE_DB_URL"
WEIGHTS_ENV = "SOUNDALIKE_WEIGHTS"  # read by the indexer and by lookups of outside audio
DB_FILE = "soundalike.db"
INDEX_DIR = "index"


def default_data_dir() -> Path:
    """$SOUNDALIKE_DATA, else $XDG_DATA_HOME/soundalike, else ~/.local/share/soundalike."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "soundalike"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit).expanduser() if explicit else default_data_dir()


def database_url(data_dir: Path) -> str:
    """$SOUNDALIKE_DB_URL (any SQLAlchemy URL, e.g. PostgreSQL), else SQLite in the data directory."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{(data_dir / DB_FILE).resolve()}"
