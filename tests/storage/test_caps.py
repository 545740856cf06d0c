"""Artist and album caps on a catalog built by the real indexer: k results kept, filled from further down."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from indexer.commands.lookup import main as query
from storage.read.catalog import Catalog
from storage.search.caps import Caps, album_key, apply_caps, artist_key
from tests.app.catalog_builder import build_page_catalog
from tests.search_helpers import similar


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("caps")
    return build_page_catalog(root / "music", root / "data")


def test_caps_fill_k_from_further_down(data):
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    plain = similar(catalog, morning, 11)  # every other track, nearest first
    capped = similar(catalog, morning, 3, caps=Caps(per_artist=1))
    assert len(capped) == 3 and len({n.track.artist for n in capped}) == 3
    expected, seen = [], set()
    for n in plain:  # the first track of each artist, in the plain order
        if n.track.artist not in seen:
            seen.add(n.track.artist)
            expected.append(n.track.id)
    assert [n.track.id for n in capped] == expected
    by_album = similar(catalog, morning, 6, caps=Caps(per_album=1))
    assert max(Counter(album_key(n.track) for n in by_album).values()) == 1
    assert len(similar(catalog, morning, 10, caps=Caps(per_artist=1))) == 3  # only three artists: fewer is all


def test_caps_through_the_cli(data, capsys):
    args = ["ana/first/01 morning.flac", "-k", "10", "--max-per-artist", "2", "--max-per-album", "1", "--json"]
    assert query([*args, "--data-dir", str(data)]) == 0
    rows = json.loads(capsys.readouterr().out)["neighbours"]
    assert len(rows) == 4  # Ana: one per album (2), Bo and Cy: their one album each
    assert max(Counter(r["artist"] for r in rows).values()) == 2
    assert max(Counter((r["artist"], r["album"]) for r in rows).values()) == 1
    assert query([*args[:-1], "--max-per-artist", "0", "--data-dir", str(data)]) == 2


def test_keys_ignore_case_and_keep_unknowns_uncapped(data):
    catalog = Catalog.open(data)
    track = catalog.resolve("bo/tides/01 ebb.aiff")
    from dataclasses import replace

    shouted = replace(track, artist="  BO MARSH ", album="TIDES")
    assert artist_key(shouted) == artist_key(track) and album_key(shouted) == album_key(track)
    nobody = replace(track, artist=None, album_artist=None, album=None)
    assert artist_key(nobody) is None and album_key(nobody) is None
    from storage.core.tracks import Neighbour

    many = [Neighbour(replace(nobody, id=i), 0.9) for i in range(5)]
    assert len(apply_caps(many, 5, Caps(per_artist=1, per_album=1))) == 5
