"""Where the data lives: one data directory for the database and the index files."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SOUNDALIKE_DATA"
DB_URL_ENV = "SOUNDALIKE_DB_URL"
WEIGHTS_ENV = "SOUNDALIKE_WEIGHTS"  # read by the indexer and by lookups of outside audio
DB_FILE = "soundalike.db"
INDEX_DIR = "index"
DEFAULT_MODEL = "mule"  # the model every command, the page and the API use unless told otherwise


def default_data_dir() -> Path:
    """$SOUNDALIKE_DATA, else $XDG_DATA_HOME/soundalike, else ~/.local/share/soundalike."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "soundalike"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit).expanduser() if explicit else default_data_dir()


def file_place(path: str | os.PathLike[str]) -> Path:
    """Where a file is, for telling files apart: absolute, its folders' symlinks resolved but not the file's
    own (a library of symlinks, or one clip linked many times, names each link, as the indexer does)."""
    absolute = Path(os.path.abspath(Path(path).expanduser()))
    return absolute.parent.resolve() / absolute.name


def database_url(data_dir: Path) -> str:
    """$SOUNDALIKE_DB_URL (any SQLAlchemy URL, e.g. PostgreSQL), else SQLite in the data directory."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{(data_dir / DB_FILE).resolve()}"


def chosen_weights(flag: str | None, remembered: str | None = None) -> str | None:
    """The one precedence rule for a model's weights, used by the build, the page, the API and the CLI:
    the flag, then $SOUNDALIKE_WEIGHTS, then what the model's last build used; None: the model's default
    (its Hub repo). A folder is named by its absolute path, so a build remembers it from anywhere."""
    given = flag or os.environ.get(WEIGHTS_ENV)
    if not given:
        return remembered
    folder = Path(given).expanduser()
    return str(folder.resolve()) if folder.is_dir() else given
