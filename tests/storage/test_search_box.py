"""The search box: the database's full-text search, on SQLite (FTS5) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

import numpy as np
import pytest

from storage.read.catalog import Catalog
from storage.write.store import Store
from storage.write.sync import FileState, FolderChanges
from tests.storage.conftest import clustered_vectors, fill_store


@pytest.fixture
def catalog(tmp_path, backend) -> Catalog:
    fill_store(tmp_path / "data", clustered_vectors(24, 8, seed=3))
    return Catalog.open(tmp_path / "data")


def titles(catalog: Catalog, text: str) -> list[str]:
    return [t.title or "" for t in catalog.search_tracks(text)]


def test_every_word_must_match_title_artist_album_or_path(catalog):
    assert titles(catalog, "ann song 12") == ["Song 12"]  # artist + title words
    assert len(titles(catalog, "bob")) == 6 and titles(catalog, "BOB 13") == ["Song 13"]
    assert titles(catalog, "track 007") == ["Song 7"]  # the file name
    assert titles(catalog, "nobody") == []
    ordered = catalog.search_tracks("album")
    assert [(t.artist, t.album) for t in ordered] == sorted((t.artist, t.album) for t in ordered)


LITERAL_TITLES = ["100% Pure", "1000 Days", "snake_case", "snake case", 'So"ng', "Rock AND Roll", "NOT Me",
                  "(Live)", "star*", "a:b", "Don't", "Song"]  # fmt: skip


@pytest.fixture
def literal_catalog(catalog: Catalog, tmp_path) -> Catalog:
    """The catalog with tracks whose titles hold search syntax (SQL wildcards, quotes, FTS operators)."""
    store = Store(tmp_path / "data")
    vector = np.ones(8, np.float32)
    for track_id, title in enumerate(LITERAL_TITLES, 1):
        store.save_embedding(
            track_id, "mule", "rev1", {"title": title, "artist": "X"}, vector, vector[None], np.zeros(1)
        )
    return catalog


@pytest.mark.parametrize(
    "text", ['so"ng', "song AND", "NOT song", "(song", "song*", "a:b", "'", "%", "_", "100%", "snake_case", "(live)"]
)
def test_search_syntax_in_user_text_is_just_text(literal_catalog, text):
    """`%`, `_`, quotes and FTS operators match only tracks that hold them literally: never a wildcard, an
    operator or a syntax error."""
    found = literal_catalog.search_tracks(text)
    for track in found:
        haystack = " ".join(filter(None, [track.title, track.artist, track.album, track.path])).casefold()
        assert all(word.casefold() in haystack for word in text.split()), (text, track.title)
    if text in {"100%", "snake_case", "(live)"}:
        assert [t.title for t in found] == [{"100%": "100% Pure", "snake_case": "snake_case"}.get(text, "(Live)")]
    if text in {"%", "_", "'"}:  # a single character that a LIKE or FTS query would have read as syntax
        assert {t.title for t in found} == {t for t in LITERAL_TITLES if text in t}


def test_tag_changes_are_searchable_and_only_tracks_with_vectors_show(catalog, tmp_path):
    store = Store(tmp_path / "data")
    vector = np.ones(8, np.float32)
    store.save_embedding(3, "mule", "rev1", {"artist": "Beyoncé", "title": "Halo"}, vector, vector[None], [0.0])
    assert titles(catalog, "beyon halo") == ["Halo"]
    assert "Song 2" not in titles(catalog, "song 2")  # its old title is gone from the search
    folder = store.folders()[0]
    store.apply_changes(folder, FolderChanges(new=[FileState("new/Halo live.flac", 1, 0.0, "x")]), "mule")
    assert titles(catalog, "halo") == ["Halo"]  # the new file has no mule vector yet: not offered
    if catalog.sessions().get_bind().dialect.name == "sqlite":
        assert titles(catalog, "beyonce") == ["Halo"]  # diacritics folded
        assert titles(catalog, "hal") == ["Halo"]  # word prefixes
