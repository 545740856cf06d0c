"""Artist and album caps: at most N results by one artist or from one album, the list filled from further
down instead of coming back short."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.core.errors import UsageError

if TYPE_CHECKING:
    from storage.core.tracks import Neighbour, TrackInfo


@dataclass(frozen=True)
class Caps:
    per_artist: int | None = None  # None: no cap; else at least 1 (every front end: the one rule)
    per_album: int | None = None

    def __post_init__(self) -> None:
        if any(cap is not None and cap < 1 for cap in (self.per_artist, self.per_album)):
            raise UsageError("artist and album caps take a number of at least 1 (none: no cap)")

    @property
    def active(self) -> bool:
        return bool(self.per_artist) or bool(self.per_album)


def artist_key(track: TrackInfo) -> str | None:
    """Who a track is by, for caps (case and spacing ignored; unknown artists are never capped)."""
    name = (track.artist or "").strip().casefold()
    return name or None


def album_key(track: TrackInfo) -> tuple[str, str] | None:
    """Which album a track is on: its name and album artist (else artist), so two artists' "Greatest Hits"
    stay apart and a compilation stays one album."""
    album = (track.album or "").strip().casefold()
    owner = (track.album_artist or track.artist or "").strip().casefold()
    return (owner, album) if album else None


def apply_caps(neighbours: Iterable[Neighbour], k: int, caps: Caps) -> list[Neighbour]:
    """The first k neighbours, in order, that keep every artist and album within its cap."""
    kept: list[Neighbour] = []
    artists: Counter[str] = Counter()
    albums: Counter[tuple[str, str]] = Counter()
    for n in neighbours:
        artist, album = artist_key(n.track), album_key(n.track)
        if caps.per_artist and artist is not None and artists[artist] >= caps.per_artist:
            continue
        if caps.per_album and album is not None and albums[album] >= caps.per_album:
            continue
        kept.append(n)
        if artist is not None:
            artists[artist] += 1
        if album is not None:
            albums[album] += 1
        if len(kept) == k:
            break
    return kept
