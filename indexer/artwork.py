"""Cover art of an audio file: the picture embedded in its tags (mutagen), else an image beside it."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Looked for beside the file, case-insensitively, in this order (the names players and rippers write).
FOLDER_IMAGES = ("cover", "folder", "front", "album", "albumart", "albumartsmall")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
FRONT_COVER = 3  # the picture type ID3, FLAC and Vorbis give a front cover


def cover_art(path: Path) -> bytes | None:
    """The image bytes of `path`'s cover: embedded (front cover first), else cover/folder/front.jpg (or
    .png, .webp) in its folder; None when there is none. Unreadable tags count as no picture."""
    return embedded_picture(path) or folder_picture(path)


def embedded_picture(path: Path) -> bytes | None:
    try:
        import mutagen

        audio = mutagen.File(str(path))
    except Exception as exc:  # noqa: BLE001 -- mutagen raises many kinds on damaged tags
        log.debug("no tags read from %s: %s", path, exc)
        return None
    if audio is None:
        return None
    pictures = _pictures(audio)
    pictures.sort(key=lambda p: p[0] != FRONT_COVER)  # the front cover first, then as stored
    return pictures[0][1] if pictures else None


def _pictures(audio: Any) -> list[tuple[int, bytes]]:  # mutagen's file types are untyped
    """(picture type, bytes) of every picture mutagen finds, whatever the tag format."""
    found: list[tuple[int, bytes]] = []
    found += [(p.type, p.data) for p in getattr(audio, "pictures", [])]  # FLAC
    tags = audio.tags
    if tags is None:
        return found
    if hasattr(tags, "getall"):  # ID3: mp3, aiff, wav
        found += [(frame.type, frame.data) for frame in tags.getall("APIC")]
    if hasattr(tags, "get"):
        found += [(FRONT_COVER, bytes(cover)) for cover in tags.get("covr", []) or []]  # MP4
        for encoded in tags.get("metadata_block_picture", []) or []:  # Ogg Vorbis and Opus
            found += _vorbis_picture(encoded)
    return found


def _vorbis_picture(encoded: str) -> list[tuple[int, bytes]]:
    from mutagen.flac import Picture

    try:
        picture = Picture(base64.b64decode(encoded))
    except Exception:  # noqa: BLE001 -- a damaged block is no picture
        return []
    return [(picture.type, picture.data)]


def folder_picture(path: Path) -> bytes | None:
    try:
        names = {p.name.lower(): p for p in path.parent.iterdir() if p.is_file()}
    except OSError:
        return None
    for stem in FOLDER_IMAGES:
        for suffix in IMAGE_SUFFIXES:
            image = names.get(stem + suffix)
            if image is not None:
                try:
                    return image.read_bytes()
                except OSError:
                    continue
    return None
