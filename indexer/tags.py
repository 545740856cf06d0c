"""Track tags via mutagen, with the file name as the fallback title."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    year: int | None = None
    genre: str | None = None
    track_number: int | None = None
    duration: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _first(tags: Any, *keys: str) -> str | None:  # mutagen's tag mappings are untyped
    for key in keys:
        try:
            values = tags.get(key)
        except (KeyError, ValueError):
            continue
        if values:
            text = str(values[0] if isinstance(values, list) else values).strip()
            if text:
                return text
    return None


def _leading_int(text: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", text or "")
    return int(match.group(1)) if match else None


# ID3 frames by easy name: wav and aiff carry ID3 tags that mutagen has no "easy" class for.
ID3_FRAMES = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "albumartist": "TPE2",
    "date": "TDRC",
    "originaldate": "TDOR",
    "genre": "TCON",
    "tracknumber": "TRCK",
}


def _easy_view(tags: Any) -> Any:
    """`tags` as easy-style keys; raw ID3 frames are mapped by ID3_FRAMES."""
    from mutagen.id3 import ID3

    if not isinstance(tags, ID3):
        return tags
    return {name: [str(t) for t in tags[frame].text] for name, frame in ID3_FRAMES.items() if frame in tags}


def read_tags(path: Path) -> Tags:
    """Tags of `path`: mutagen's, any field it lacks from FFmpeg's reading of the container (RIFF INFO in
    WAV, AIFF text chunks, ...); missing or unreadable tags give a title taken from the file name."""
    found = _mutagen_tags(path)
    if None in (found.get("title"), found.get("artist"), found.get("album")):
        found = {**_ffmpeg_tags(path), **{k: v for k, v in found.items() if v is not None}}
    return Tags(
        title=found.get("title") or path.stem,
        artist=found.get("artist"),
        album=found.get("album"),
        album_artist=found.get("album_artist"),
        year=_leading_int(found.get("date")),
        genre=found.get("genre"),
        track_number=_leading_int(found.get("track")),
        duration=found.get("duration"),
    )


def _mutagen_tags(path: Path) -> dict[str, Any]:
    try:
        import mutagen

        audio = mutagen.File(str(path), easy=True)
    except Exception as exc:  # noqa: BLE001 - a broken tag block must not fail the track
        log.debug("no tags for %s: %s", path, exc)
        return {}
    if audio is None:
        return {}
    tags = _easy_view(audio.tags) if audio.tags is not None else {}
    duration = getattr(getattr(audio, "info", None), "length", None)
    return {
        "title": _first(tags, "title"),
        "artist": _first(tags, "artist"),
        "album": _first(tags, "album"),
        "album_artist": _first(tags, "albumartist", "album artist"),
        "date": _first(tags, "date", "year", "originaldate"),
        "genre": _first(tags, "genre"),
        "track": _first(tags, "tracknumber"),
        "duration": float(duration) if duration else None,
    }


# FFmpeg's generic metadata keys (it maps RIFF INFO INAM/IART/IPRD/ICRD/IGNR/IPRT and the like to them).
FFMPEG_KEYS = {
    "title": ("title",),
    "artist": ("artist", "author"),
    "album": ("album",),
    "album_artist": ("album_artist",),
    "date": ("date", "year"),
    "genre": ("genre",),
    "track": ("track",),
}


def _ffmpeg_tags(path: Path) -> dict[str, Any]:
    try:
        import av

        with av.open(str(path)) as container:
            metadata = {k.lower(): v for k, v in container.metadata.items()}
            for stream in container.streams.audio[:1]:
                metadata = {**{k.lower(): v for k, v in stream.metadata.items()}, **metadata}
    except Exception as exc:  # noqa: BLE001 - no container tags is no tags
        log.debug("no container tags for %s: %s", path, exc)
        return {}
    found = {
        field: next((metadata[k].strip() for k in keys if metadata.get(k, "").strip()), None)
        for field, keys in FFMPEG_KEYS.items()
    }
    return {k: v for k, v in found.items() if v}
