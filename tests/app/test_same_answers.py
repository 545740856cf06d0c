"""Every front end gives the same answer to the same question, because each one asks the one search service:
the CLI (`storage.query --json`), the JSON API, the page (AppTest and its functions), OpenSubsonic and MPD
radio (a real MPD), against the service's own answer, on catalogs built by the real indexer. Questions: by
track with each exclusion and cap, several seeds with exclusions (one list or repeated), an upload of a
catalog file (its copy left out and said to be in the catalog), a passage, a style filter (a tagging model),
a radio and a song path, and a listener's learned similarity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from app.api import api
from app.media import catalog_for
from indexer.commands.lookup import main as query
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from storage.search.question import Question
from storage.search.request import SearchRequest
from storage.search.service import SearchService
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
    repeated = [("ids", str(morning.id)), ("ids", str(ebb.id)), ("k", str(K)), ("exclude_same_artist", "true")]
    assert [n["track"]["id"] for n in client.get("/v1/similar", params=repeated).json()] == expected  # not one seed


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


def test_a_style_filter(page, page_catalog, tmp_path, monkeypatch, capsys):
    """A tagging model's styles narrow the answer alike everywhere (MAEST, random weights, built beside)."""
    from indexer.models.maest.checkpoint import maest_config
    from indexer.models.maest.testing import write_random_maest
    from tests.app.test_page import build_beside, neighbour_ids, pick

    catalog_dir, data = page_catalog
    monkeypatch.setenv("SOUNDALIKE_DATA", str(data))
    catalog_for.cache_clear()
    labels = [f"Genre{g}---Style{g}.{s}" for g in range(4) for s in range(10)]
    weights = write_random_maest(tmp_path / "maest", maest_config(labels, small=True), 316)
    build_beside(catalog_dir, data, "maest", weights, variant="5s-pw-129e", styles_top="2", styles_min="0.0")
    catalog = Catalog.open(data, "maest")
    counts = dict(catalog.style_counts())
    three = catalog.resolve("cy/solo/03 three.flac")
    genre = min((label for label, n in counts.items() if n >= 3), key=lambda label: (counts[label], label))
    request = SearchRequest(K, styles=(genre,), allow_stale=True)
    expected = ids_of(SearchService(catalog).by_track(three, request))
    assert expected and expected != ids_of(SearchService(catalog).by_track(three, SearchRequest(K)))
    answer = cli(str(three.id), "--model", "maest", "--style", genre, capsys=capsys)
    assert [n["id"] for n in answer["neighbours"]] == expected
    client = TestClient(api, client=("127.0.0.1", 50000))
    params = {"ids": three.id, "k": K, "model": "maest", "style": genre}
    assert [n["track"]["id"] for n in client.get("/v1/similar", params=params).json()] == expected
    at = page(data)
    at.selectbox(key="model").set_value("maest").run()
    at.slider(key="k").set_value(K).run()
    at = pick(at, "three")
    at = at.multiselect(key="styles").set_value([genre]).run()
    assert neighbour_ids(at) == expected


def test_a_radio_and_a_song_path(service, client, data, built_catalog, mpd_server):
    """The radio (API, the page's playlist, MPD radio's chooser on a real MPD) and the song path (API, the
    page, OpenSubsonic, MPD) from the same tracks come out the same, in the same order."""
    from starlette.applications import Starlette

    from app import playlists, subsonic
    from app.mpd_radio import MpdAddress, MpdRadio, TrackMap
    from tests.app.conftest import queue_files

    morning, five = service.catalog.resolve(MORNING), service.catalog.resolve("cy/solo/05 five.flac")
    radio = [t.id for t in service.radio([morning], 6)]
    assert len(radio) == 6 and morning.id not in radio
    api_radio = client.get("/v1/radio", params={"seeds": morning.id, "count": 6}).json()
    assert [t["id"] for t in api_radio] == radio
    assert [t.id for t in playlists._build(service.catalog, morning, ("radio", morning.id))[1][:6]] == radio
    address = MpdAddress("127.0.0.1", mpd_server.port)
    mpd = MpdRadio(service.catalog, address, TrackMap(service.catalog, built_catalog[0].parent))
    queued = mpd.queue_radio(morning, 7)  # the seed, then what the radio picks
    assert [t.id for t in queued] == [morning.id, *radio]
    assert queue_files(mpd_server) == [f"catalog/{service.catalog.track(i).path}" for i in [morning.id, *radio]]

    count = playlists.PATH_LENGTH  # the page's paths are this long
    path = [t.id for t, _ in service.path(morning, five, count)]
    assert path[0] == morning.id and path[-1] == five.id and len(path) == count
    api_path = client.get("/v1/path", params={"start": morning.id, "end": five.id, "count": count}).json()
    assert [s["track"]["id"] for s in api_path] == path
    assert [t.id for t in playlists._build(service.catalog, morning, ("path", morning.id, five.id))[1]] == path
    rest = TestClient(Starlette(routes=subsonic.ROUTES), client=("127.0.0.1", 50000))
    params = {"startSongId": morning.id, "endSongId": five.id, "count": count, "f": "json"}
    reply = rest.get("/rest/findSonicPath", params=params).json()
    assert [int(m["entry"]["id"]) for m in reply["subsonic-response"]["sonicMatch"]] == path
    assert [t.id for t in mpd.queue_path(morning, five, count)] == path


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> Path:
    """A catalog whose listener "ana" taught her ears (50 answers through the page's functions)."""
    import numpy as np

    from app import teach
    from tests.learning_catalog import build, listener_by, write_catalog
    from tests.test_my_ears import answer_through_page, folders

    base = tmp_path_factory.mktemp("ears")
    write_catalog(base / "catalog")
    build(base / "catalog", base / "data")
    catalog = Catalog.open(base / "data")
    answer_through_page(catalog, "ana", listener_by(folders(catalog)), np.random.default_rng(0))
    assert teach.relearn(catalog, "ana").learned
    return base / "data"


def test_by_a_listeners_ears(taught, page, monkeypatch, capsys):
    """metric mine, listener ana: the same ears answer on the CLI, the API and the page ("My ears")."""
    from tests.app.test_page import neighbour_ids

    monkeypatch.setenv("SOUNDALIKE_DATA", str(taught))
    monkeypatch.delenv("SOUNDALIKE_API_KEY", raising=False)
    catalog_for.cache_clear()
    catalog = Catalog.open(taught)
    track = catalog.all_tracks()[0]
    mine = SearchService(catalog).ask(
        Question(seeds=(track.id,), metric="mine", listener="ana"), SearchRequest(K, allow_stale=True)
    )
    expected = ids_of(mine)
    assert expected != ids_of(SearchService(catalog).by_track(track, SearchRequest(K)))  # the ears change it
    answer = cli(str(track.id), "--metric", "mine", "--listener", "ana", capsys=capsys)
    assert [n["id"] for n in answer["neighbours"]] == expected
    client = TestClient(api, client=("127.0.0.1", 50000))
    params = {"ids": track.id, "k": K, "metric": "mine", "listener": "ana"}
    assert [n["track"]["id"] for n in client.get("/v1/similar", params=params).json()] == expected
    at = page(taught)
    at.session_state["listener_name"] = "ana"
    at.session_state["query_track"], at.session_state["query_source"] = track.id, "track"
    at.slider(key="k").set_value(K).run()
    at = at.toggle(key="my_ears").set_value(True).run()
    assert not at.exception, at.exception
    assert neighbour_ids(at) == expected
