"""Ways into a catalog before any search: its size, random and recent picks, artists and albums, the map.

Everything here reads one model's indexed tracks (those with its vector), as search does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Exists, func, select

from storage.core.errors import EmptyIndexError
from storage.core.tracks import TrackInfo
from storage.db.reads import with_folder
from storage.db.schema import Embedding, Track, TrackStyle
from storage.read.catalog import Catalog

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

UNKNOWN_ARTIST = "(unknown artist)"
UNKNOWN_ALBUM = "(no album)"
# Colours of the map: a track's artist, album, genre, folder (first level below its catalog folder)
# or style (its most probable MAEST label).
MAP_COLOURINGS = ("artist", "album", "genre", "folder", "style")


@dataclass(frozen=True)
class Summary:
    tracks: int
    artists: int
    albums: int
    hours: float
    models: list[str]


@dataclass(frozen=True)
class MapPoints:
    """The map of the index in force: row i is track ids[i] at (x[i], y[i]) with its label for hovering."""

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    labels: list[str]
    groups: dict[str, list[str]]  # colouring -> each point's group ("" when unknown)


TAGGING_MODELS = ("maest", "musicnn", "clap")  # models whose tracks carry labels, in the order they are preferred


def tagging_catalog(catalog: Catalog) -> Catalog | None:
    """The catalog whose labels describe tracks: this model's when it tags (MAEST's styles, MusiCNN's tags),
    else the first tagging model built beside it; None when no model tags."""
    if catalog.tags_styles():
        return catalog
    built = catalog.models()
    for model in TAGGING_MODELS:
        if model != catalog.model and model in built and catalog.for_model(model).tags_styles():
            return catalog.for_model(model)
    return None


def _indexed(catalog: Catalog) -> Exists:
    """The tracks with this model's vector, as a filter."""
    has_vector = select(Embedding.track_id).where(Embedding.track_id == Track.id, Embedding.model == catalog.model)
    return has_vector.exists()


def summary(catalog: Catalog) -> Summary:
    """How big the catalog is for this model: tracks, artists, albums, hours of audio."""
    artist = func.coalesce(Track.album_artist, Track.artist)
    query = select(
        func.count(Track.id),
        func.count(func.distinct(artist)),
        func.count(func.distinct(Track.album)),
        func.coalesce(func.sum(Track.duration), 0.0),
    ).where(_indexed(catalog))
    with catalog.reading() as s:
        tracks, artists, albums, seconds = s.execute(query).one()
    return Summary(int(tracks), int(artists), int(albums), float(seconds or 0.0) / 3600, catalog.models())


def random_tracks(catalog: Catalog, n: int, rng: np.random.Generator | None = None) -> list[TrackInfo]:
    """`n` indexed tracks drawn at random (from the index's ids: no table scan at any size)."""
    try:
        ids = catalog.index().ids
    except EmptyIndexError:
        return []
    rng = rng or np.random.default_rng()
    chosen = rng.choice(len(ids), size=min(n, len(ids)), replace=False)
    found = catalog.tracks([int(ids[i]) for i in chosen])
    return [found[int(ids[i])] for i in chosen if int(ids[i]) in found]


def recent_tracks(catalog: Catalog, n: int) -> list[TrackInfo]:
    """The `n` indexed tracks added last (ids grow as tracks are added)."""
    query = with_folder().where(_indexed(catalog)).order_by(Track.id.desc()).limit(n)
    with catalog.reading() as s:
        return [TrackInfo.from_row(track, folder) for track, folder in s.execute(query)]


def artists(catalog: Catalog) -> list[tuple[str, int]]:
    """Every artist (album artist, else track artist) with their number of indexed tracks, by name."""
    artist = func.coalesce(Track.album_artist, Track.artist)
    query = select(artist, func.count()).where(_indexed(catalog)).group_by(artist)
    with catalog.reading() as s:
        rows = s.execute(query).all()
    named = [(name or UNKNOWN_ARTIST, int(n)) for name, n in rows]
    return sorted(named, key=lambda row: (row[0] == UNKNOWN_ARTIST, row[0].casefold()))


def _artist_is(name: str) -> ColumnElement[bool]:
    artist = func.coalesce(Track.album_artist, Track.artist)
    return artist.is_(None) if name == UNKNOWN_ARTIST else artist == name


def albums(catalog: Catalog, artist: str) -> list[tuple[str, int]]:
    """The artist's albums with their number of indexed tracks, by name."""
    query = select(Track.album, func.count()).where(_indexed(catalog), _artist_is(artist)).group_by(Track.album)
    with catalog.reading() as s:
        rows = s.execute(query).all()
    named = [(name or UNKNOWN_ALBUM, int(n)) for name, n in rows]
    return sorted(named, key=lambda row: (row[0] == UNKNOWN_ALBUM, row[0].casefold()))


def album_tracks(catalog: Catalog, artist: str, album: str) -> list[TrackInfo]:
    """The album's indexed tracks in album order (track number, then title)."""
    same_album = Track.album.is_(None) if album == UNKNOWN_ALBUM else Track.album == album
    query = with_folder().where(_indexed(catalog), _artist_is(artist), same_album)
    with catalog.reading() as s:
        tracks = [TrackInfo.from_row(track, folder) for track, folder in s.execute(query)]
    return sorted(tracks, key=lambda t: (t.track_number or 0, t.title or t.path, t.id))


def map_points(catalog: Catalog, styles: Catalog | None = None) -> MapPoints | None:
    """The map stored with the index in force, with each point's label and groups; None when that index was
    built without one (before maps existed). `styles`: the catalog whose style tags colour by style."""
    index = catalog.index()
    coords = index.map
    if coords is None:
        return None
    ids = np.asarray(index.ids)
    rows = _map_rows(catalog)
    top_style = _top_styles(styles) if styles is not None else {}
    labels: list[str] = []
    groups: dict[str, list[str]] = {name: [] for name in MAP_COLOURINGS}
    for track_id in ids.tolist():
        title, artist, album, genre, path = rows.get(track_id, (None, None, None, None, ""))
        labels.append(f"{artist} – {title}" if artist and title else title or PurePosixPath(path).stem)
        groups["artist"].append(artist or "")
        groups["album"].append(album or "")
        groups["genre"].append(genre or "")
        groups["folder"].append(PurePosixPath(path).parts[0] if "/" in path else "")
        groups["style"].append(top_style.get(track_id, ""))
    return MapPoints(ids, coords[:, 0], coords[:, 1], labels, groups)


def _map_rows(catalog: Catalog) -> dict[int, tuple]:
    artist = func.coalesce(Track.album_artist, Track.artist)
    query = select(Track.id, Track.title, artist, Track.album, Track.genre, Track.path).where(_indexed(catalog))
    with catalog.reading() as s:
        return {row[0]: tuple(row[1:]) for row in s.execute(query)}


def _top_styles(catalog: Catalog) -> dict[int, str]:
    """Each tagged track's most probable style label ("Genre---Style" shown as "Genre / Style")."""
    best = (
        select(TrackStyle.track_id, TrackStyle.label, TrackStyle.probability)
        .where(TrackStyle.model == catalog.model)
        .order_by(TrackStyle.track_id, TrackStyle.probability.desc())
    )
    out: dict[int, str] = {}
    with catalog.reading() as s:
        for track_id, label, _ in s.execute(best):
            out.setdefault(track_id, label.replace("---", " / "))
    return out
