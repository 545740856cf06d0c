"""Radio: an endless, varied stream from one or several seed tracks.

Each next track is drawn from the tracks nearest to a point that starts at the seeds' centre and drifts
halfway towards each track played, so the stream wanders without leaving the seeds' sound. Never a track
or a recording twice (a recording's other files count as played), no artist again within
`artist_window` tracks (relaxed only when nothing else is near), and with `variety` > 0 a seeded random
pick among the nearest few instead of the nearest: the same seeds and settings give the same stream,
so a client can page through it.
"""

from __future__ import annotations

import zlib
from collections import deque

import numpy as np

from storage.caps import artist_key
from storage.catalog import Catalog, TrackInfo
from storage.vectors import normalise

CANDIDATES = 30
DRIFT = 0.5


def radio(
    catalog: Catalog, seeds: list[TrackInfo], length: int, artist_window: int = 5, variety: float = 0.3
) -> list[TrackInfo]:
    """The first `length` tracks of the seeds' radio."""
    centre = normalise(normalise(np.stack([catalog.vector(s) for s in seeds])).mean(0)[None])[0]
    rng = np.random.default_rng(zlib.crc32(",".join(str(s.id) for s in seeds).encode()))
    played: set[int] = set()
    for track in seeds:
        played |= {track.id, *(t.id for t in _copies(catalog, track))}
    recent: deque[str | None] = deque((artist_key(s) for s in seeds), maxlen=max(1, artist_window))
    point, stream = centre, list[TrackInfo]()
    while len(stream) < length:
        fresh = catalog.similar_to_vector(point, CANDIDATES, exclude_ids=sorted(played), allow_stale=True)
        if not fresh:
            break
        varied = [n for n in fresh if artist_window == 0 or artist_key(n.track) not in recent] or fresh
        choices = max(1, round(variety * min(len(varied), 10)))
        pick = varied[int(rng.integers(0, choices))]
        stream.append(pick.track)
        played |= {pick.track.id, *(t.id for t in _copies(catalog, pick.track))}
        recent.append(artist_key(pick.track))
        point = normalise(((1 - DRIFT) * centre + DRIFT * normalise(catalog.vector(pick.track)[None])[0])[None])[0]
    return stream


def _copies(catalog: Catalog, track: TrackInfo) -> list[TrackInfo]:
    """The catalog's other files of `track`'s recording (storage.duplicates)."""
    return catalog.same_recordings(catalog.vector(track), track.duration, track.content_hash)
