"""Every front end gives the same answer to the same question, because each one asks the one search service:
the CLI (`storage.query --json`), the JSON API, the page (AppTest) and OpenSubsonic, against the service's
own answer, on a catalog built by the real indexer. Questions: by track with each exclusion and cap, several
seeds with exclusions, an upload of a catalog file (its copy left out and said to be in the catalog), and
a passage."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from app.api import api
from app.media import catalog_for
from storage.caps import Caps
from storage.catalog import Catalog
from storage.query import main as query
from storage.search import SearchRequest, SearchService
from tests.fake_embedder import FakeEmbedder

K = 5
MORNING, EBB, NIGHT = "ana/first/01 morning.flac", "bo/tides/01 ebb.aiff", "ana/second/02 night.wav"
# Each way to narrow a question about one track: the request's fields, the CLI's flags, the API's
# parameters and the page's widgets (key, value).
OPTIONS = {
    "plain": ({}, [], {}, []),
    "same artist": (
        {"exclude_same_artist": True},
        ["--exclude-same-artist"],
        {"exclude_same_artist": "true"},
        [("exclude_artist", True)],
    ),
    "same album": (
        {"exclude_same_album": True},
        ["--exclude-same-album"],
        {"exclude_same_album": "true"},
        [("exclude_album", True)],
    ),
    "artist cap": ({"caps": Caps(1, None)}, ["--max-per-artist", "1"], {"max_per_artist": 1}, [("max_per_artist", 1)]),
    "album cap": ({"caps": Caps(None, 1)}, ["--max-per-album", "1"], {"max_per_album": 1}, [("max_per_album", 1)]),
}


@pytest.fixture
def fake(monkeypatch) -> FakeEmbedder:
    """The model the catalog was built with, for uploads; every load counted."""
    model = FakeEmbedder()
    model.loads = 0  # type: ignore[attr-defined]

    def load(*args, **kwargs):
        model.loads += 1
        return model

    monkeypatch.setattr("indexer.models.load_embedder", load)
    return model


@pytest.fixture
def data(built_catalog, monkeypatch):
    monkeypatch.setenv("SOUNDALIKE_DATA", str(built_catalog[1]))
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    monkeypatch.delenv("SOUNDALIKE_API_KEY", raising=False)
    catalog_for.cache_clear()
    return built_catalog[1]


@pytest.fixture
def client(data) -> TestClient:
    return TestClient(api, client=("127.0.0.1", 50000))


@pytest.fixture
def service(data) -> SearchService:
    return SearchService(Catalog.open(data))


def ids_of(result) -> list[int]:
    return [n.track.id for n in result.neighbours]


def cli(*args: str, capsys) -> dict:
    assert query([*args, "--json", "-k", str(K)]) == 0
    return json.loads(capsys.readouterr().out)


def page_answer(page, data, track_id: int, widgets: list[tuple[str, object]]) -> list[int]:
    from tests.app.test_page import neighbour_ids

    at = page(data)
    at.session_state["query_track"], at.session_state["query_source"] = track_id, "track"
    at.slider(key="k").set_value(K)
    for key, value in widgets:
        widget = at.checkbox(key=key) if isinstance(value, bool) else at.number_input(key=key)
        widget.set_value(value)
    at = at.run()
    assert not at.exception, at.exception
    return neighbour_ids(at)


@pytest.mark.parametrize("option", list(OPTIONS))
def test_by_track_with_each_exclusion_and_cap(option, service, client, page, data, capsys):
    fields, flags, params, widgets = OPTIONS[option]
    morning = service.catalog.resolve(MORNING)
    expected = ids_of(service.by_track(morning, SearchRequest(K, allow_stale=True, **fields)))
    assert expected, "the question has an answer"
    if option != "plain":  # each option changes the answer here, so a front end that ignored it would fail
        assert expected != ids_of(service.by_track(morning, SearchRequest(K)))
    assert [n["id"] for n in cli(str(morning.id), *flags, capsys=capsys)["neighbours"]] == expected
    api_ids = [n["track"]["id"] for n in client.get("/v1/similar", params={"ids": morning.id, "k": K} | params).json()]
    assert api_ids == expected
    assert page_answer(page, data, morning.id, widgets) == expected


def test_opensubsonic_answers_as_the_service(service, client):
    morning = service.catalog.resolve(MORNING)
    from starlette.applications import Starlette

    from app import subsonic

    rest = TestClient(Starlette(routes=subsonic.ROUTES), client=("127.0.0.1", 50000))
    reply = rest.get("/rest/getSonicSimilarTracks", params={"id": morning.id, "count": K, "f": "json"}).json()
    matched = [int(m["entry"]["id"]) for m in reply["subsonic-response"]["sonicMatch"]]
    assert matched == ids_of(service.by_track(morning, SearchRequest(K, passages=False)))


def test_several_seeds_with_exclusions(service, client, capsys):
    """The seeds' artists are all left out (the API once ignored the flags with several seeds)."""
    morning, ebb = service.catalog.resolve(MORNING), service.catalog.resolve(EBB)
    request = SearchRequest(K, exclude_same_artist=True, allow_stale=True)
    expected = ids_of(service.by_seeds([morning, ebb], request))
    artists = {service.catalog.track(i).artist for i in expected}
    assert expected and artists == {"Cy Okafor"}  # neither seed's artist
    answer = cli(str(morning.id), str(ebb.id), "--exclude-same-artist", capsys=capsys)
    assert [n["id"] for n in answer["neighbours"]] == expected
    assert [s["id"] for s in answer["query"]["seeds"]] == [morning.id, ebb.id]
    params = {"ids": f"{morning.id},{ebb.id}", "k": K, "exclude_same_artist": "true"}
    assert [n["track"]["id"] for n in client.get("/v1/similar", params=params).json()] == expected


@pytest.fixture
def night_copy(built_catalog, tmp_path):
    """A re-encode of a catalog track: other bytes, the same recording."""
    wave, rate = sf.read(built_catalog[0] / NIGHT)
    path = tmp_path / "night copy.flac"
    sf.write(path, wave, rate, format="FLAC")
    return path


def test_an_upload_of_a_catalog_file(service, client, page, data, fake, night_copy, capsys):
    from indexer.query_audio import catalog_embedder, embed_file
    from tests.app.test_page import messages, neighbour_ids

    night = service.catalog.resolve(NIGHT)
    expected = service.by_vector(embed_file(night_copy, catalog_embedder(service.catalog)), SearchRequest(K))
    assert [t.id for t in expected.in_catalog] == [night.id] and night.id not in ids_of(expected)
    answer = cli("--audio", str(night_copy), capsys=capsys)
    assert [t["id"] for t in answer["query"]["in_catalog"]] == [night.id]
    assert [n["id"] for n in answer["neighbours"]] == ids_of(expected)
    with night_copy.open("rb") as f:
        reply = client.post("/v1/similar/audio", params={"k": K}, files={"file": ("night copy.flac", f)}).json()
    assert [t["id"] for t in reply["in_catalog"]] == [night.id]
    assert [n["track"]["id"] for n in reply["neighbours"]] == ids_of(expected)
    at = page(data)
    at.slider(key="k").set_value(K)
    at = at.file_uploader(key="upload_file").upload("night copy.flac", night_copy.read_bytes(), "audio/flac").run()
    assert "This is “Ana Lune – Night” in your catalog" in messages(at)
    assert neighbour_ids(at) == ids_of(expected)


def test_by_passage(service, client, page, data, capsys):
    from tests.app.test_page import neighbour_ids

    morning = service.catalog.resolve(MORNING)
    expected = ids_of(service.by_passage(morning, 1.0, 3.0, SearchRequest(K, allow_stale=True)))
    assert expected and morning.id not in expected
    answer = cli(str(morning.id), "--passage", "1:3", capsys=capsys)
    assert [n["id"] for n in answer["neighbours"]] == expected
    params = {"id": morning.id, "start": 1.0, "length": 2.0, "k": K}
    assert [n["track"]["id"] for n in client.get("/v1/passages", params=params).json()] == expected
    at = page(data)
    at.session_state["query_track"], at.session_state["query_source"] = morning.id, "track"
    at.slider(key="k").set_value(K)
    at = at.run().toggle(key="by_passage").set_value(True).run()
    at = at.slider(key=f"region-track-{morning.id}").set_value((1, 3)).run()
    assert neighbour_ids(at) == expected


def test_the_api_loads_the_model_once_for_two_uploads(client, fake, night_copy, built_catalog):
    """Uploads share the process's one model (indexer.query_audio), as the page's do."""
    other = built_catalog[0] / MORNING
    for path in (night_copy, other):
        with path.open("rb") as f:
            assert client.post("/v1/similar/audio", files={"file": (path.name, f)}).status_code == 200
    assert fake.loads == 1
