"""Cover art served by track id: a small JPEG made once per file version and kept in memory, or a
placeholder. The file is found as the audio route finds it (app.media.catalog_file): by id only."""

from __future__ import annotations

import hashlib
import io
import logging
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response

from app.errors import AudioUnavailableError
from app.media import catalog_file
from indexer.artwork import cover_art
from storage.read.catalog import Catalog

log = logging.getLogger(__name__)

THUMBNAIL_PIXELS = 320  # the page shows covers at most 160 px wide: sharp on 2x screens
CACHE_ENTRIES = 2048  # ~25 kB each: at most ~50 MB
PLACEHOLDER = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" role="img" aria-label="no cover art">
<rect width="100" height="100" fill="#2b2d3a"/>
<circle cx="50" cy="50" r="30" fill="none" stroke="#8a8fa8" stroke-width="3"/>
<circle cx="50" cy="50" r="8" fill="#8a8fa8"/></svg>"""


MAX_PIXELS = 1200  # the most a client may ask for (OpenSubsonic's `size`); covers are never enlarged


def track_cover(catalog: Catalog, track_id: int, pixels: int = THUMBNAIL_PIXELS) -> Response:
    """The cover of catalog track `track_id`, found as its audio is (by id only); the placeholder when its
    file is gone. AudioUnavailableError (404) for a track the catalog does not know."""
    try:
        path: Path | None = catalog_file(catalog, track_id)[1]
    except AudioUnavailableError as exc:
        if exc.status == 404:
            raise
        path = None  # the file is gone: its folder's cover may be too, the placeholder stands in
    return cover_response(path, pixels)


def cover_response(path: Path | None, pixels: int = THUMBNAIL_PIXELS) -> Response:
    """The cover of the audio file at `path` (None: the file is gone) as a JPEG of at most `pixels` square,
    else the placeholder."""
    thumbnail = None
    pixels = max(16, min(pixels, MAX_PIXELS))
    if path is not None:
        try:
            stat = path.stat()
            folder = path.parent.stat()
            thumbnail = cached_thumbnail(str(path), stat.st_mtime_ns, stat.st_size, folder.st_mtime_ns, pixels)
        except OSError:
            thumbnail = None
    if thumbnail is None:
        return Response(PLACEHOLDER, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=300"})
    etag = '"' + hashlib.blake2b(thumbnail, digest_size=12).hexdigest() + '"'
    return Response(thumbnail, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=3600", "ETag": etag})


@lru_cache(maxsize=CACHE_ENTRIES)
def cached_thumbnail(path: str, mtime_ns: int, size: int, folder_mtime_ns: int, pixels: int) -> bytes | None:
    """Keyed by the file's and its folder's versions: a new cover (tag or cover.jpg) is seen at once."""
    data = cover_art(Path(path))
    return thumbnail(data, pixels) if data else None


def thumbnail(data: bytes, pixels: int = THUMBNAIL_PIXELS) -> bytes | None:
    """A JPEG of at most pixels x pixels; None when the bytes are no image Pillow reads."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((pixels, pixels))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=85)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        log.debug("cover art not readable: %s", exc)
        return None
    return out.getvalue()
