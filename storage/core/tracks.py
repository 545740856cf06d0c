"""The read side's value types: a catalog track and a search result. Plain data (display text lives in
app.display), so caps, duplicates and the search service share them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.core.passages import Passage
    from storage.db.schema import Track


@dataclass(frozen=True)
class TrackInfo:
    id: int
    folder: str  # the catalog folder the track lies in (absolute)
    path: str  # relative to `folder`
    title: str | None
    artist: str | None
    album: str | None
    album_artist: str | None
    year: int | None
    genre: str | None
    track_number: int | None
    duration: float | None
    content_hash: str | None = None

    @classmethod
    def from_row(cls, row: Track, folder: str) -> TrackInfo:
        fields = {name: getattr(row, name) for name in cls.__dataclass_fields__ if name != "folder"}
        return cls(folder=folder, **fields)

    @property
    def file(self) -> Path:
        return Path(self.folder) / self.path


@dataclass(frozen=True)
class Neighbour:
    """One result of a search: a track, its cosine to the query, and what explains it."""

    track: TrackInfo
    score: float
    styles: dict[str, float] | None = None  # a tagging model's top styles (MAEST), else None
    passage: Passage | None = None  # the best-matching pair of passages with the query
    closeness: float | None = None  # % of the catalog's pairs further apart than this one (None: not known)
    also_in: tuple[str, ...] = ()  # files of the same recording (storage.recordings.duplicates), shown once as this one
    relation: str | None = (
        None  # "other version": the query's recording on another master (storage.recordings.duplicates)
    )
