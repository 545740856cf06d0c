"""Radio: an endless, varied stream from one or several seed tracks.

Each next track is drawn from the tracks nearest to a point that starts at the seeds' centre
(storage.search.seed_centre) and drifts halfway towards each track played, so the stream wanders without
leaving the seeds' sound. Never a track or a recording twice (a recording's other files count as
played), no artist again within `artist_window` tracks (relaxed only when nothing else is near), and
with `variety` > 0 a seeded random pick among the nearest few instead of the nearest: the same seeds and
settings give the same stream, so a client can page through it. Every step is a question to the search
service (storage.search), all in one database session.
"""

from __future__ import annotations

import zlib
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from storage.caps import artist_key
from storage.tracks import TrackInfo
from storage.vectors import normalise

if TYPE_CHECKING:
    from storage.search import SearchService

CANDIDATES = 30
DRIFT = 0.5


def radio(
    service: SearchService, seeds: list[TrackInfo], length: int, artist_window: int = 5, variety: float = 0.3
) -> list[TrackInfo]:
    """The first `length` tracks of the seeds' radio."""
    from storage.search import SearchRequest, VectorQuery, seed_centre

    catalog = service.catalog
    with catalog.reading():
        centre = seed_centre(np.stack([catalog.vector(s) for s in seeds]))
        rng = np.random.default_rng(zlib.crc32(",".join(str(s.id) for s in seeds).encode()))
        played: set[int] = set()
        for track in seeds:
            played |= {track.id, *(t.id for t in service.copies(track))}
        recent: deque[str | None] = deque((artist_key(s) for s in seeds), maxlen=max(1, artist_window))
        point, stream = centre, list[TrackInfo]()
        while len(stream) < length:
            request = SearchRequest(CANDIDATES, exclude_ids=tuple(sorted(played)), allow_stale=True)
            fresh = service.by_vector(VectorQuery(point), request).neighbours
            if not fresh:
                break
            varied = [n for n in fresh if artist_window == 0 or artist_key(n.track) not in recent] or fresh
            choices = max(1, round(variety * min(len(varied), 10)))
            pick = varied[int(rng.integers(0, choices))]
            stream.append(pick.track)
            played |= {pick.track.id, *(t.id for t in service.copies(pick.track))}
            recent.append(artist_key(pick.track))
            toward = normalise(catalog.vector(pick.track)[None])[0]
            point = normalise(((1 - DRIFT) * centre + DRIFT * toward)[None])[0]
    return stream
