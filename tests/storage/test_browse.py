"""Ways into the catalog: size, random and recent picks, artists and albums, the map's points."""

from __future__ import annotations

import numpy as np

from storage.read.catalog import Catalog
from storage.search import browse
from tests.storage.conftest import ARTISTS, clustered_vectors, fill_store


def test_summary_picks_and_browsing(tmp_path):
    fill_store(tmp_path / "data", clustered_vectors(24, 8, seed=3))
    catalog = Catalog.open(tmp_path / "data")
    facts = browse.summary(catalog)
    assert (facts.tracks, facts.artists, facts.albums, facts.models) == (24, 4, 12, ["mule"])
    assert facts.hours == sum(30.0 + i for i in range(24)) / 3600

    picks = browse.random_tracks(catalog, 5, np.random.default_rng(1))
    assert len(picks) == 5 and len({t.id for t in picks}) == 5
    assert browse.random_tracks(catalog, 5, np.random.default_rng(2)) != picks
    assert len(browse.random_tracks(catalog, 100)) == 24  # never more than there are

    assert [t.id for t in browse.recent_tracks(catalog, 3)] == [24, 23, 22]

    assert browse.artists(catalog) == [(name, 6) for name in sorted(ARTISTS)]
    albums = browse.albums(catalog, "Ann")
    assert albums == [("Ann album 0", 2), ("Ann album 1", 2), ("Ann album 2", 2)]
    tracks = browse.album_tracks(catalog, "Ann", "Ann album 0")
    assert [t.title for t in tracks] == ["Song 0", "Song 12"]


def test_map_points_follow_the_index_rows(tmp_path):
    fill_store(tmp_path / "data", clustered_vectors(12, 8, seed=4))
    catalog = Catalog.open(tmp_path / "data")
    points = browse.map_points(catalog)
    assert points is not None and points.ids.tolist() == list(range(1, 13))
    assert len(points.x) == len(points.y) == len(points.labels) == 12
    assert points.labels[0] == "Ann – Song 0"
    assert points.groups["artist"][:4] == ARTISTS and points.groups["folder"][1] == "Bob"
    assert points.groups["style"] == [""] * 12  # no model tags styles here
    assert browse.tagging_catalog(catalog) is None
