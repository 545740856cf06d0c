"""The page's limits and names, in one place (docs/cli.md's configuration table lists them)."""

from __future__ import annotations

import os

AUDIO_ROUTE = "/soundalike/audio"  # + /{track_id}; served beside Streamlit by app/server.py
COVER_ROUTE = "/soundalike/cover"  # + /{track_id}: cover art (or a placeholder), by the same rules
MAX_UPLOAD_MB = 100  # also Streamlit's server.maxUploadSize (.streamlit/config.toml)
MAX_UPLOAD_MINUTES = float(os.environ.get("SOUNDALIKE_MAX_UPLOAD_MINUTES", "20"))
SEARCH_LIMIT = 50  # matches offered by the search box
DEFAULT_K = 10
MAX_K = 100
DEFAULT_PER_ARTIST = 3  # caps the page starts with: no list flooded by one artist or the query's album
DEFAULT_PER_ALBUM = 2


def audio_url(track_id: int) -> str:
    return f"{AUDIO_ROUTE}/{track_id}"


def cover_url(track_id: int) -> str:
    return f"{COVER_ROUTE}/{track_id}"
