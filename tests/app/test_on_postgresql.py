"""The page and the HTTP API on a catalog whose metadata lives in PostgreSQL ($SOUNDALIKE_DB_URL), built by
the real indexer: the same answers as the library gives from that database."""

from __future__ import annotations

import pytest
import streamlit as st
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from app.api import api
from app.media import catalog_for
from indexer.build import BuildOptions, build_catalog
from storage.read.catalog import Catalog
from tests.app.conftest import PAGE
from tests.app.test_page import neighbour_ids, pick
from tests.audio_files import tag, write_audio
from tests.fake_embedder import FakeEmbedder
from tests.search_helpers import similar

pytestmark = pytest.mark.parametrize("cli_database", ["postgresql"], indirect=True)


@pytest.fixture
def pg_catalog(cli_database, tmp_path, monkeypatch):
    for i in range(12):
        path = write_audio(tmp_path / "music" / f"{i:02d}.flac", 2.0 + i % 4, seed=i)
        tag(path, artist=f"Artist {i % 3}", title=f"Song {i}", album=f"Album {i % 4}")
    build_catalog(tmp_path / "music", tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    assert not (tmp_path / "data" / "soundalike.db").exists()  # the metadata went to PostgreSQL
    monkeypatch.setenv("SOUNDALIKE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr("indexer.models.load_embedder", lambda *args, **kwargs: FakeEmbedder())
    catalog_for.cache_clear()
    st.cache_resource.clear()
    yield Catalog.open(tmp_path / "data")
    catalog_for.cache_clear()
    st.cache_resource.clear()


def test_api_answers_from_postgresql(pg_catalog, monkeypatch):
    monkeypatch.setenv("SOUNDALIKE_API_KEY", "test-key")
    client = TestClient(api, headers={"X-API-Key": "test-key"})
    found = client.get("/v1/tracks", params={"q": "song 7"}).json()
    assert [t["id"] for t in found] == [t.id for t in pg_catalog.search_tracks("song 7")] and found
    answer = client.get("/v1/similar", params={"ids": str(found[0]["id"]), "k": 5}).json()
    assert [n["track"]["id"] for n in answer] == [n.track.id for n in similar(pg_catalog, found[0]["id"], 5)]
    assert client.get(f"/v1/audio/{found[0]['id']}").content[:4] == b"fLaC"


def test_page_answers_from_postgresql(pg_catalog):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception
    for widget in [w for w in at.number_input if w.key in ("max_per_artist", "max_per_album")]:
        widget.set_value(0)
    at = pick(at.run(), "song 3")
    song = pg_catalog.search_tracks("song 3")[0]
    assert neighbour_ids(at) == [n.track.id for n in similar(pg_catalog, song, 10)]
