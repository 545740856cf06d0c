"""Radio: an endless, varied stream from one or several seed tracks.

Each next track is drawn from the tracks nearest to a point that starts at the seeds' centre
(storage.search.request.seed_centre) and drifts halfway towards each track played, so the stream wanders without
leaving the seeds' sound. Never a track or a recording twice (a recording's other files count as
played), no artist again within `artist_window` tracks (relaxed only when nothing else is near), and
with `variety` > 0 a seeded random pick among the nearest few instead of the nearest: the same seeds and
settings give the same stream, so a client can page through it. Every step is a question to the search
service (storage.search.service).

`RadioStream` keeps that state for a listener who plays as it goes (MPD, app.mpd_radio): a track the
listener chose themselves (`heard`) becomes a seed, so the radio follows what has been playing, and
tracks queued by hand are `exclude`d so it never repeats them.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from storage.core.tracks import TrackInfo
from storage.index.vectors import normalise
from storage.search.caps import Caps, artist_key
from storage.search.request import SearchRequest, VectorQuery, seed_centre

if TYPE_CHECKING:
    from storage.search.service import SearchService

CANDIDATES = 30
DRIFT = 0.5
HEARD_SEEDS = 3  # a listener's own last choices that make the stream's centre


class RadioStream:
    """One radio's state: its centre and drifting point, what it has played, the recent artists."""

    def __init__(
        self,
        service: SearchService,
        seeds: list[TrackInfo],
        artist_window: int = 5,
        variety: float = 0.3,
        caps: Caps | None = None,
    ) -> None:
        if not seeds:
            raise ValueError("a radio needs at least one seed track")
        self.service, self.variety, self.caps = service, variety, caps or Caps()
        self.artist_window = artist_window
        self.seeds = list(seeds)
        self.centre = self._centre()
        self.point = self.centre
        self.rng = np.random.default_rng(zlib.crc32(",".join(str(s.id) for s in seeds).encode()))
        self.played: set[int] = set()
        self.picked: set[int] = set()  # what the stream chose itself
        self.exclude(seeds)
        self.recent: deque[str | None] = deque((artist_key(s) for s in seeds), maxlen=max(1, artist_window))

    def exclude(self, tracks: Iterable[TrackInfo]) -> None:
        """Never play these (nor their recordings' other files): already played, or queued by hand."""
        with self.service.catalog.reading():
            for track in tracks:
                if track.id not in self.played:
                    self.played |= {track.id, *(t.id for t in self.service.copies(track))}

    def heard(self, track: TrackInfo) -> None:
        """A track is playing. One the stream did not pick (the listener's own) joins the seeds, so the
        centre follows what has been playing; every one pulls the point toward it."""
        with self.service.catalog.reading():
            if track.id not in self.picked and all(track.id != seed.id for seed in self.seeds):
                self.seeds = [*self.seeds, track][-HEARD_SEEDS:]
                self.centre = self._centre()
                self.exclude([track])
                self.recent.append(artist_key(track))
            self._toward(track)

    def next(self) -> TrackInfo | None:
        """The stream's next track (None: the catalog has nothing left it may play)."""
        request = SearchRequest(
            CANDIDATES, exclude_ids=tuple(sorted(self.played)), caps=self.caps, allow_stale=True, passages=False
        )
        with self.service.catalog.reading():
            fresh = self.service.by_vector(VectorQuery(self.point), request).neighbours
            if not fresh:
                return None
            window = self.artist_window
            varied = [n for n in fresh if window == 0 or artist_key(n.track) not in self.recent] or fresh
            choices = max(1, round(self.variety * min(len(varied), 10)))
            pick = varied[int(self.rng.integers(0, choices))].track
            self.exclude([pick])
            self.picked.add(pick.id)
            self.recent.append(artist_key(pick))
            self._toward(pick)
        return pick

    def take(self, count: int) -> list[TrackInfo]:
        """The next `count` tracks (fewer when the catalog runs out)."""
        stream: list[TrackInfo] = []
        while len(stream) < count and (pick := self.next()) is not None:
            stream.append(pick)
        return stream

    def _centre(self) -> np.ndarray:
        """The point the seeds share (storage.search.request.seed_centre)."""
        with self.service.catalog.reading():
            return seed_centre(np.stack([self.service.catalog.vector(s) for s in self.seeds]))

    def _toward(self, track: TrackInfo) -> None:
        toward = normalise(self.service.catalog.vector(track)[None])[0]
        self.point = normalise(((1 - DRIFT) * self.centre + DRIFT * toward)[None])[0]


def radio(
    service: SearchService, seeds: list[TrackInfo], length: int, artist_window: int = 5, variety: float = 0.3
) -> list[TrackInfo]:
    """The first `length` tracks of the seeds' radio."""
    with service.catalog.reading():
        return RadioStream(service, seeds, artist_window, variety).take(length)
