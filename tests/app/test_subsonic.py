"""OpenSubsonic sonic similarity: responses valid against the spec's schemas (tests/fixtures/opensubsonic),
Subsonic authentication and error codes, XML and JSON, a song path that goes where it should, and a real
client library (py-opensonic) reading the results from a running server."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app import subsonic
from app.media import catalog_for
from storage.read.catalog import Catalog
from storage.search.service import SearchService
from tests.search_helpers import similar

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "opensubsonic" / "openapi"
USER, PASSWORD = "listener", "s3cret"


def validate(payload: dict, schema_path: Path) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def retrieve(uri: str) -> Resource:
        contents = json.loads(Path(uri.removeprefix("file://")).read_text())
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    schema = json.loads(schema_path.read_text())
    registry = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    validator = Draft202012Validator({"$id": schema_path.as_uri(), **schema}, registry=registry)
    validator.validate(payload)


@pytest.fixture
def client(built_catalog, monkeypatch) -> TestClient:
    _, data = built_catalog
    monkeypatch.setenv("SOUNDALIKE_DATA", str(data))
    monkeypatch.setenv("SOUNDALIKE_SUBSONIC_USER", USER)
    monkeypatch.setenv("SOUNDALIKE_SUBSONIC_PASSWORD", PASSWORD)
    monkeypatch.delenv("SOUNDALIKE_API_KEY", raising=False)
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    catalog_for.cache_clear()
    return TestClient(Starlette(routes=subsonic.ROUTES))


def auth(**params: object) -> dict[str, object]:
    salt = "c19b2d"
    token = hashlib.md5((PASSWORD + salt).encode()).hexdigest()
    return {"u": USER, "t": token, "s": salt, "v": "1.16.1", "c": "test", "f": "json"} | params


def test_similar_tracks_are_valid_and_equal_the_library(client, built_catalog):
    _, data = built_catalog
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    reply = client.get("/rest/getSonicSimilarTracks.view", params=auth(id=morning.id, count=5))
    payload = reply.json()
    validate(payload, SCHEMAS / "endpoints/getSonicSimilarTracks/GetSonicSimilarTracksResponse.json")
    body = payload["subsonic-response"]
    assert body["status"] == "ok" and body["openSubsonic"] is True
    expected = similar(catalog, morning, 5)
    assert [m["entry"]["id"] for m in body["sonicMatch"]] == [str(n.track.id) for n in expected]
    got = [m["similarity"] for m in body["sonicMatch"]]
    assert all(n.closeness is not None for n in expected)
    assert got == pytest.approx([n.closeness / 100 for n in expected], abs=1e-6)
    by_path = client.post("/rest/getSonicSimilarTracks", data=auth(id="ana/first/01 morning.flac", count=5))
    assert by_path.json()["subsonic-response"]["sonicMatch"] == body["sonicMatch"]  # a media server's path


def test_sonic_path_starts_and_ends_right_and_steps_smoothly(client, built_catalog):
    _, data = built_catalog
    catalog = Catalog.open(data)
    start, end = catalog.resolve("ana/first/01 morning.flac"), catalog.resolve("cy/solo/05 five.flac")
    reply = client.get("/rest/findSonicPath", params=auth(startSongId=start.id, endSongId=end.id, count=6))
    payload = reply.json()
    validate(payload, SCHEMAS / "endpoints/findSonicPath/FindSonicPathResponse.json")
    ids = [int(m["entry"]["id"]) for m in payload["subsonic-response"]["sonicMatch"]]
    assert ids[0] == start.id and ids[-1] == end.id and len(ids) == 6 == len(set(ids))
    index = catalog.index()
    vectors = np.asarray(index.vectors)[index.rows(np.array(ids))]
    steps = 1 - np.einsum("ij,ij->i", vectors[:-1], vectors[1:])
    assert steps.max() <= 1 - float(vectors[0] @ vectors[-1])  # no step longer than the direct jump
    relative = [m["similarity"] for m in payload["subsonic-response"]["sonicMatch"]]
    cosines = vectors @ vectors[0]
    # Relative to the start song, as the spec asks. On so small a catalog each pair is a step of the pair
    # sample: a cosine computed in another order can round to the pair's other side, one step away.
    step = 1 / (index.meta.count * (index.meta.count - 1) / 2)
    assert relative[0] == 1.0 and relative[1:] == pytest.approx(
        [c / 100 for c in SearchService(catalog).closeness(cosines[1:].tolist())], abs=step + 1e-6
    )


def test_similarity_is_normalised_as_the_spec_defines_it():
    """1.0 the same song, 0.0 the most different, never negative (-1 means "not supported"): the catalog
    closeness, or the cosine mapped onto [0, 1] for a build without pair cosines."""
    assert subsonic.similarity(-0.4, 2.0) == 0.02 and subsonic.similarity(0.9, 99.5) == 0.995
    assert subsonic.similarity(-0.4, None) == pytest.approx(0.3) and subsonic.similarity(-1.0, None) == 0.0
    assert subsonic.similarity(1.0, None) == 1.0 and subsonic.similarity(1.0000001, 100.0) == 1.0


def test_similarities_fall_from_near_to_far_and_stay_in_range(client, built_catalog):
    _, data = built_catalog
    catalog = Catalog.open(data)
    everything = client.get("/rest/getSonicSimilarTracks", params=auth(id=1, count=500)).json()
    found = everything["subsonic-response"]["sonicMatch"]
    assert len(found) == catalog.count_tracks()["indexed"] - 1  # every other song
    got = [m["similarity"] for m in found]
    assert all(0.0 <= g <= 1.0 for g in got) and got == sorted(got, reverse=True)
    assert got[0] > 0.9 and got[-1] < 0.1  # a threshold tells near from far (the raw cosines here: all > 0.96)


def test_extensions_are_public(client, monkeypatch):
    """The spec: getOpenSubsonicExtensions must be publicly accessible, so a client can learn what a server
    offers before it logs in: with credentials configured, without them, with wrong ones, from afar."""
    schema = SCHEMAS / "endpoints/getOpenSubsonicExtensions/GetOpenSubsonicExtensionsResponse.json"
    asked = [{"f": "json"}, auth(), auth(t="0" * 32), {"f": "json", "apiKey": "nope"}]
    monkeypatch.setenv("SOUNDALIKE_API_KEY", "k-123")
    for params in asked:
        payload = client.get("/rest/getOpenSubsonicExtensions", params=params).json()
        validate(payload, schema)
        body = payload["subsonic-response"]
        assert body["status"] == "ok" and {"name": "sonicSimilarity", "versions": [1]} in body["openSubsonicExtensions"]
    for name in ("SOUNDALIKE_API_KEY", "SOUNDALIKE_SUBSONIC_USER", "SOUNDALIKE_SUBSONIC_PASSWORD"):
        monkeypatch.delenv(name)  # loopback-only mode; TestClient is not loopback
    assert client.get("/rest/getOpenSubsonicExtensions.view").text.count('status="ok"') == 1
    assert client.get("/rest/ping", params={"f": "json"}).json()["subsonic-response"]["status"] == "failed"


def test_extensions_ping_and_xml(client):
    payload = client.get("/rest/getOpenSubsonicExtensions", params=auth()).json()
    validate(payload, SCHEMAS / "endpoints/getOpenSubsonicExtensions/GetOpenSubsonicExtensionsResponse.json")
    reply = client.get("/rest/getSonicSimilarTracks.view", params=auth(id=1, count=3, f="xml"))
    root = ET.fromstring(reply.text)
    assert root.tag == "{http://subsonic.org/restapi}subsonic-response" and root.get("status") == "ok"
    found = root.findall("{http://subsonic.org/restapi}sonicMatch")
    assert len(found) == 3 and all(m.find("{http://subsonic.org/restapi}entry") is not None for m in found)
    assert client.get("/rest/ping.view", params=auth()).json()["subsonic-response"]["status"] == "ok"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"id": "999999"}, 70),
        ({"id": "no/such/file.flac"}, 70),
        ({}, 10),
        ({"id": "1", "t": "0" * 32}, 40),
        ({"id": "1", "u": "someone"}, 40),
        ({"id": "1", "apiKey": "nope"}, 43),
        ({"id": "99999999999999999999999"}, 70),
    ],
)
def test_errors_are_subsonic_codes(client, params, code):
    payload = client.get("/rest/getSonicSimilarTracks", params=auth(**params)).json()
    validate(payload, SCHEMAS / "endpoints/getSonicSimilarTracks/GetSonicSimilarTracksResponse.json")
    body = payload["subsonic-response"]
    assert body["status"] == "failed" and body["error"]["code"] == code and body["error"]["message"]


def test_api_keys_and_loopback_only_without_credentials(client, monkeypatch):
    monkeypatch.setenv("SOUNDALIKE_API_KEY", "k-123")
    ok = client.get("/rest/ping", params={"apiKey": "k-123", "f": "json"}).json()["subsonic-response"]
    bad = client.get("/rest/ping", params={"apiKey": "k-999", "f": "json"}).json()["subsonic-response"]
    assert ok["status"] == "ok" and bad["error"]["code"] == 44
    for name in ("SOUNDALIKE_API_KEY", "SOUNDALIKE_SUBSONIC_USER", "SOUNDALIKE_SUBSONIC_PASSWORD"):
        monkeypatch.delenv(name)
    refused = client.get("/rest/ping", params={"f": "json"}).json()["subsonic-response"]  # TestClient: not loopback
    assert refused["error"]["code"] == 40 and "SOUNDALIKE_SUBSONIC_USER" in refused["error"]["message"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_client_library_reads_them(client, built_catalog):
    """py-opensonic, with its own token authentication and form posts, against a running server."""
    import libopensonic
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=subsonic.ROUTES), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        connection = libopensonic.Connection("http://127.0.0.1", USER, PASSWORD, port=port)
        catalog = Catalog.open(built_catalog[1])
        morning = catalog.resolve("ana/first/01 morning.flac")
        matched = connection.get_sonic_similar_tracks(str(morning.id), 4)
        assert [m.entry.id for m in matched] == [str(n.track.id) for n in similar(catalog, morning, 4)]
        five = catalog.resolve("cy/solo/05 five.flac")
        path = connection.find_sonic_path(str(morning.id), str(five.id), 5)
        assert [path[0].entry.id, path[-1].entry.id] == [str(morning.id), str(five.id)] and len(path) == 5
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_id_no_database_integer_holds_is_unknown_not_an_error(built_catalog):
    """The audio route once answered 500 (OverflowError) for /soundalike/audio/99999999999999999999999."""
    from app.errors import AudioUnavailableError
    from app.media import catalog_file

    catalog = Catalog.open(built_catalog[1])
    with pytest.raises(AudioUnavailableError) as info:
        catalog_file(catalog, 99999999999999999999999)
    assert info.value.status == 404


def test_cover_art_by_the_id_each_song_names(client, built_catalog):
    import io

    from PIL import Image

    from tests.app.catalog_builder import EMBEDDED_COVER

    catalog = Catalog.open(built_catalog[1])
    swell = catalog.resolve(EMBEDDED_COVER[0])
    reply = client.get("/rest/getSonicSimilarTracks", params=auth(id=swell.id, count=3)).json()
    entries = reply["subsonic-response"]["sonicMatch"]
    assert all(m["entry"]["coverArt"] == m["entry"]["id"] for m in entries)
    image = client.get("/rest/getCoverArt.view", params=auth(id=swell.id, size=64))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(image.content)) as picture:
        assert max(picture.size) == 64 and picture.getpixel((5, 5))[2] > 200
    plain = client.get("/rest/getCoverArt", params=auth(id=catalog.resolve("cy/solo/01 one.mp3").id))
    assert plain.headers["content-type"].startswith("image/svg+xml")  # no cover: the placeholder
    missing = client.get("/rest/getCoverArt", params=auth(id=999999)).json()["subsonic-response"]
    assert missing["status"] == "failed" and missing["error"]["code"] == 70
    refused = client.get("/rest/getCoverArt", params=auth(id=swell.id) | {"t": "0" * 32}).json()
    assert refused["subsonic-response"]["error"]["code"] == 40
